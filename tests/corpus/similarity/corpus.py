"""The similarity corpus: a class of independent solutions, and disguised copies planted in it.

    from corpus import build
    manifest = build(folder)   # folder/<id>/ for every member and copy

Independent members (no two share code beyond the scaffold they were given):
- tests/corpus/class/*/: the class of independent solutions (course-style
  against the 2021, 2023 and 2025 handouts of tests/corpus/scaffolds/,
  kit-style against the stubs; class.yaml says which);
- the five kit-style students of kit_members.py;
- the kit's reference solution.
(tests/corpus/course/correct*/ stay out: they follow handout text of their
own, which no scaffold folder holds.)

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
SCAFFOLDS = KIT / 'tests' / 'corpus' / 'scaffolds'  # the course handouts the class used
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


def _class_scaffolds():
    """{class member id: its scaffold} from tests/corpus/class/class.yaml."""
    import yaml

    listing = CLASS / 'class.yaml'
    if not listing.is_file():
        return {}
    members = yaml.safe_load(listing.read_text()).get('members', [])
    return {f"class-{m['id']}": m.get('scaffold', '') for m in members}


def _style(member):
    """'kit' for a member written against the kit's stubs, else 'course'."""
    if member.startswith('kit-'):
        return 'kit'
    return 'kit' if _class_scaffolds().get(member) == 'kit' else 'course'


def plan(ids):
    """[(kind, source, into or None)]: which copies to plant.

    The last two members of each style are kept for the transplants (the
    `into` member leaves the class, so it must not be copied otherwise);
    the disguises take the other members in turn, the styles alternating.
    """
    styles = {style: [m for m in ids if _style(m) == style] for style in ('course', 'kit')}
    reserved = {style: members[-2:] for style, members in styles.items()}
    free = {style: [m for m in members if m not in reserved[style]]
            for style, members in styles.items()}
    order = [m for pair in zip(free['course'], free['kit']) for m in pair]
    order += [m for m in free['course'] + free['kit'] if m not in order]
    steps = [(kind, order[(2 * number + second) % len(order)], None)
             for number, kind in enumerate(KINDS) for second in (0, 1)]
    for style in ('course', 'kit'):
        if len(reserved[style]) == 2:
            into, source = reserved[style]
            steps.append(('transplant', source, into))
    return steps


def plant_copies(folder, ids):
    """Write the planned copies of members `ids` into folder; return the manifest."""
    manifest = {'independent': list(ids), 'copies': {}, 'files': {}}
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


def build(folder, copies=True):
    """The corpus in folder/<id>/; returns {'independent': [ids], 'copies': {copy: source},
    'files': {transplant copy: the file it took}}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ids = write_independent(folder)
    if not copies:
        return {'independent': ids, 'copies': {}, 'files': {}}
    return plant_copies(folder, ids)


def plant(source, folder):
    """A copy of the class folder `source` (one package folder per student) with copies planted."""
    folder = Path(folder)
    ids = []
    for member in sorted(Path(source).iterdir()):
        if member.is_dir() and not member.name.startswith('.'):
            _copy_package(member, folder / member.name)
            ids.append(member.name)
    return plant_copies(folder, ids)
