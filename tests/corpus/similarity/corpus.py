"""The similarity corpus: a class of independent solutions, and disguised copies planted in it.

    from corpus import build
    manifest = build(folder)   # folder/<id>/ for every member and copy

Independent members (no two share code beyond the scaffold they were given):
- tests/corpus/class/*/: the class of independent solutions (course-style
  against the 2021, 2023 and 2025 skeletons, kit-style against the stubs);
- the five kit-style students of kit_members.py;
- the kit's reference solution and the course-style packages of
  tests/corpus/course/ (correct/, correct2025/).

Disguised copies (disguise.py), each of a different source, course-style and
kit-style alike: every KIND of disguise.py but transplant applied to two
sources, and two transplants (one file of a source put into another member,
whose own folder then leaves the class: otherwise own work with one copied
file). manifest['copies'] maps each copy to the member it copies.

Everything is deterministic.
"""
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
KIT = HERE.parents[2]
sys.path.insert(0, str(HERE))

import disguise  # noqa: E402
import kit_members  # noqa: E402

CLASS = KIT / 'tests' / 'corpus' / 'class'
COURSE = KIT / 'tests' / 'corpus' / 'course'
KINDS = ('rename', 'strip', 'reorder', 'respace', 'all', 'utf7')
TRANSPLANT_FILES = ('models/two_layer_nn.py', 'utils.py')


def _package(folder):
    """True for a folder laid out as a submission (models/ and utils.py)."""
    return (folder / 'models').is_dir() and (folder / 'utils.py').is_file()


def independent_sources():
    """{member id: package folder} of every independent member available."""
    members = {}
    if CLASS.is_dir():
        for folder in sorted(CLASS.iterdir()):
            if folder.is_dir() and _package(folder):
                members[f"class-{folder.name}"] = folder
    for name in ('correct', 'correct2025'):
        if _package(COURSE / name):
            members[f"course-{name}"] = COURSE / name
    members['kit-reference'] = KIT / 'solutions'
    return members


def _copy_package(source, target):
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(
        '__pycache__', 'tests', 'data', '*.ipynb', '*.npy', '*.png'))


def write_independent(folder):
    """Write every independent member into folder/<id>/; return the ids."""
    folder = Path(folder)
    ids = []
    for member, source in independent_sources().items():
        _copy_package(source, folder / member)
        ids.append(member)
    for student in sorted(kit_members.STUDENTS):
        kit_members.write(folder / f"kit-{student}", student)
        ids.append(f"kit-{student}")
    return ids


def _style(member):
    return 'kit' if member.startswith('kit-') or '-kit' in member else 'course'


def plan(ids):
    """[(kind, source, into or None)]: which copies to plant, alternating styles."""
    by_style = {'kit': [m for m in ids if _style(m) == 'kit'],
                'course': [m for m in ids if _style(m) == 'course']}
    order = []
    for pair in zip(by_style['course'], by_style['kit']):
        order.extend(pair)
    order += [m for m in ids if m not in order]
    steps, used = [], 0
    for kind in KINDS:
        for _ in range(2):
            steps.append((kind, order[used % len(order)], None))
            used += 1
    # transplants: a file of one member into another of the same style, neither
    # of them copied otherwise (the `into` member leaves the class)
    sources = {source for _, source, _ in steps}
    for style in ('course', 'kit'):
        free = [m for m in by_style[style] or ids if m not in sources]
        steps.append(('transplant', free[-1], free[-2]))
        sources.update(free[-2:])
    return steps


def build(folder, copies=True):
    """The corpus in folder/<id>/; returns {'independent': [ids], 'copies': {copy: source},
    'files': {copy: the transplanted file}}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ids = write_independent(folder)
    manifest = {'independent': list(ids), 'copies': {}, 'files': {}}
    if not copies:
        return manifest
    for number, (kind, source, into) in enumerate(plan(ids)):
        if kind == 'transplant':
            name = f"copy-transplant-{source}-into-{into}"
            rel = TRANSPLANT_FILES[0] if _style(source) == 'course' else TRANSPLANT_FILES[1]
            disguise.transplant(folder / source, folder / into, folder / name, rel)
            shutil.rmtree(folder / into)  # its own work is in the class only with the copy
            manifest['independent'].remove(into)
            manifest['files'][name] = rel
        else:
            name = f"copy-{kind}-{source}"
            disguise.disguise(kind, folder / source, folder / name, seed=number)
        manifest['copies'][name] = source
    return manifest
