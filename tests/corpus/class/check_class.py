#!/usr/bin/env python3
"""Self-check of the class corpus: independent right solutions (no MNIST, no grader).

    python tests/corpus/class/check_class.py [-v] [MEMBER ...]

For every member of class.yaml (or those named):
1. the manifest and the folders agree, the member is a package of its
   scaffold's files, under the grader's size limits
   (student_version/submission_files.txt), with no data files;
2. its scaffold's text is all there: every line of the scaffold outside the
   TODO regions appears in the member, in order (a student fills the regions
   and may add helpers and imports around them, but keeps the handout), and
   the default configs are the handout's;
3. it is right: course/probe.py's selfcheck in the member's API style
   (numeric gradient checks, exact SGD steps, descent, loading, batching,
   plotting; see course/check_corpus.py, whose probe runner this reuses).

Exit status 0 when every member passes, 1 otherwise (each failure printed).
"""
import importlib.util
import re
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
KIT = HERE.parent.parent.parent
MANIFEST = HERE / 'class.yaml'
SCAFFOLDS = {'kit': KIT / 'student_version',
             'course-2021': HERE.parent / 'scaffolds' / 'course-2021',
             'course-2023': HERE.parent / 'scaffolds' / 'course-2023',
             'course-2025': HERE.parent / 'scaffolds' / 'course-2025'}
MEMBER_KEYS = {'id', 'scaffold', 'style', 'expect', 'notes'}
DATA_SUFFIXES = ('.csv', '.gz', '.npy', '.npz', '.pkl', '.pickle', '.idx', '-ubyte', '.png')
# The handout's training settings: the accuracy tests train with these.
DEFAULT_CONFIGS = ('configs/config_softmax.yaml', 'configs/config_twolayer.yaml')


def _check_corpus():
    """course/check_corpus.py as a module (its build and probe runner serve both corpora)."""
    keep, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec = importlib.util.spec_from_file_location(
            'check_corpus', HERE.parent / 'course' / 'check_corpus.py')
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = keep
    return module


def api_style(scaffold):
    """The probe style of a scaffold: 'kit' or 'course'."""
    return 'kit' if scaffold == 'kit' else 'course'


# --------------------------------------------------------------------------
# TODO regions of the three handout styles
# --------------------------------------------------------------------------
_RULE = re.compile(r'^#(-{10,}|#{10,})$')


def regions(lines):
    """[(first, end)] line ranges a student fills, in order (end excluded).

    Handout styles: `### TODO: BEGIN SOLUTION ###` ... `### END SOLUTION ###`
    (2025); a `# TODO:` comment block closed by a rule of dashes or hashes,
    then the region, then an `END OF YOUR CODE` line (the kit) or box (the
    course, 2021-2024).
    """
    found, i = [], 0
    stripped = [line.strip() for line in lines]
    while i < len(lines):
        if stripped[i] == '### TODO: BEGIN SOLUTION ###':
            end = stripped.index('### END SOLUTION ###', i + 1)
            found.append((i + 1, end))
            i = end + 1
        elif re.match(r'^# TODO\b', stripped[i]):
            first = next(j for j in range(i + 1, len(lines)) if _RULE.match(stripped[j])) + 1
            end = next(j for j in range(first, len(lines)) if 'END OF YOUR CODE' in stripped[j])
            if _RULE.match(stripped[end - 1]) and stripped[end - 1].startswith('##'):
                end -= 1   # the course's END box opens with a rule of hashes
            found.append((first, end))
            i = end + 1
        else:
            i += 1
    return found


def handout_lines(text):
    """The lines of a file outside its TODO regions."""
    lines = text.split('\n')
    inside = {i for first, end in regions(lines) for i in range(first, end)}
    return [line for i, line in enumerate(lines) if i not in inside]


def is_subsequence(small, big):
    it = iter(big)
    return all(any(line == other for other in it) for line in small)


def scaffold_files(scaffold):
    """The handout files of a scaffold that a submission holds (relative paths)."""
    root = SCAFFOLDS[scaffold]
    files = sorted(str(p.relative_to(root)) for p in root.rglob('*')
                   if p.is_file() and (p.suffix in ('.py', '.yaml')) and '__pycache__' not in p.parts)
    if scaffold == 'kit':  # what submission_files.txt names; the rest is the kit's own
        files = [f for f in files if f == 'utils.py' or f.split('/')[0] in ('models', 'optimizer', 'configs')]
    return files


# --------------------------------------------------------------------------
# limits of a submission
# --------------------------------------------------------------------------
def size_limits():
    """(bytes per file, bytes in all) from student_version/submission_files.txt."""
    limits = {}
    for line in (KIT / 'student_version' / 'submission_files.txt').read_text().splitlines():
        words = line.split('#')[0].split()
        if len(words) == 3 and words[0] == 'limit':
            limits[words[1]] = int(words[2])
    return limits['file-bytes'], limits['total-bytes']


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------
def load_manifest():
    """The members of class.yaml, every key checked; raises AssertionError."""
    members = yaml.safe_load(MANIFEST.read_text())['members']
    ids = [m['id'] for m in members]
    assert len(ids) == len(set(ids)), 'class.yaml: duplicate ids'
    for m in members:
        assert set(m) <= MEMBER_KEYS and {'id', 'scaffold', 'style', 'expect'} <= set(m), m
        assert m['scaffold'] in SCAFFOLDS, '%s: unknown scaffold %s' % (m['id'], m['scaffold'])
        for key in ('expect', 'notes'):
            value = m.get(key, {})
            assert isinstance(value, dict) and all(isinstance(v, str) and v for v in value.values()), (m['id'], key)
    return members


def static_problems(member, folder=None):
    """What is wrong with a member's files (list of strings, empty when none).

    folder: where the member's package is (default: its folder beside this file).
    """
    folder, scaffold = Path(folder or HERE / member['id']), member['scaffold']
    problems = []
    if not folder.is_dir():
        return ['no folder %s' % folder.name]
    per_file, total = size_limits()
    files = [p for p in folder.rglob('*') if p.is_file()]
    for p in files:
        rel = str(p.relative_to(folder))
        if p.stat().st_size > per_file:
            problems.append('%s: %d bytes, over the %d limit' % (rel, p.stat().st_size, per_file))
        if p.name.endswith(DATA_SUFFIXES) or '__pycache__' in p.parts:
            problems.append('%s: data or cache file' % rel)
    if sum(p.stat().st_size for p in files) > total:
        problems.append('%d bytes in all, over the %d limit' % (sum(p.stat().st_size for p in files), total))
    for rel in scaffold_files(scaffold):
        mine, theirs = folder / rel, SCAFFOLDS[scaffold] / rel
        if not mine.is_file():
            problems.append('%s: missing' % rel)
            continue
        if rel in DEFAULT_CONFIGS and mine.read_bytes() != theirs.read_bytes():
            problems.append('%s: not the handout\'s default config' % rel)
        if rel.endswith('.py'):
            want, got = theirs.read_text(), mine.read_text()
            if len(regions(want.split('\n'))) != len(regions(got.split('\n'))):
                problems.append('%s: %d TODO regions, the handout has %d' % (
                    rel, len(regions(got.split('\n'))), len(regions(want.split('\n')))))
            elif not is_subsequence(handout_lines(want), handout_lines(got)):
                problems.append('%s: handout text outside the TODO regions was changed' % rel)
    return problems


def main(argv):
    verbose = '-v' in argv
    chosen = [a for a in argv if not a.startswith('-')]
    members = load_manifest()
    folders = sorted(p.name for p in HERE.iterdir() if p.is_dir() and p.name != '__pycache__')
    failures = []
    if sorted(m['id'] for m in members) != folders:
        failures.append('class.yaml lists %s; folders are %s' % (sorted(m['id'] for m in members), folders))
    if chosen:
        members = [m for m in members if m['id'] in chosen]
    corpus = _check_corpus()
    with tempfile.TemporaryDirectory(prefix='class_corpus_') as tmp:
        for member in members:
            problems = static_problems(member)
            checks = 0
            if not problems:
                dest = Path(tmp) / member['id']
                try:
                    corpus.build(dest, HERE / member['id'])
                    report = corpus.run_probe(dest, api_style(member['scaffold']), selfcheck=True)
                    checks = len(report['checks'])
                except AssertionError as exc:
                    problems.append(str(exc)[-2000:])
            print('%s  %-22s %-12s %s' % ('ok  ' if not problems else 'FAIL', member['id'],
                                          member['scaffold'],
                                          '%d checks passed' % checks if not problems else problems[0][:300]))
            if verbose and problems:
                print('\n'.join('      ' + p for p in problems))
            failures += ['%s: %s' % (member['id'], p) for p in problems]
    if failures:
        print('\n%d problem(s):\n  %s' % (len(failures), '\n  '.join(f[:500] for f in failures)))
        return 1
    print('all %d members pass' % len(members))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
