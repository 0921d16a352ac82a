"""Similarity: `autograder similarity` on 500 submissions, and against an archive of 500.

The submissions are generated: each fills every region of the kit's stubs with
the code of one of the corpus's kit-style students (tests/corpus/similarity/
kit_members.py), chosen at random per region, and varies it the way students
vary what they share: the names it assigns get a suffix of the submission's
own, every number and string literal may take another value, and a
statement of its own (a shape check, a print, a temporary) may be added
between two lines. So a pair shares a region's structure about one time in
five, as independent students of one class share idioms, and what they
share is not verbatim. The baseline is the same command on 50 such
submissions, in the same run: its time and memory is what 500 cost beyond it.
"""
import random
import re
import sys
import tempfile
import textwrap
from pathlib import Path

from . import core

SECTION = 'similarity'
sys.path.insert(0, str(core.KIT / 'tests' / 'corpus' / 'similarity'))

FULL = {'small': 50, 'class': 500, 'archive': 500}
QUICK = {'small': 20, 'class': 80, 'archive': 80}
EXTRA_STATEMENTS = (
    "assert {name} is not None",
    "print('checkpoint', {number})",
    "_debug_{number} = {number}",
    "if False:\n    print({number})",
)
_LITERAL = re.compile(r"(?<![\w.])(\d+\.\d+|\d+e-?\d+|'[^'\n]*'|\"[^\"\n]*\")")


_ASSIGNED = re.compile(r"^\s*(?:for\s+)?([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*"
                       r"(?:=[^=]|\s+in\b)", re.M)
_STRINGS = re.compile(r"('[^'\n]*'|\"[^\"\n]*\")")


def _rename(code, rng):
    """`code` with the names it assigns suffixed, outside strings, never after a dot.

    Keyword arguments of the same name are suffixed too: the bench times the
    comparison, it never runs the code.
    """
    suffix = f"_{rng.randrange(100)}"
    names = {name.strip() for group in _ASSIGNED.findall(code) for name in group.split(',')}
    names.discard('self')
    if not names:
        return code
    pattern = re.compile(r"(?<![\w.])(" + '|'.join(sorted(names)) + r")\b")
    parts = _STRINGS.split(code)
    for i in range(0, len(parts), 2):  # even parts are outside string literals
        parts[i] = pattern.sub(lambda m: m.group(1) + suffix, parts[i])
    return ''.join(parts)


def _vary(body, rng):
    """A region's code renamed, with some literals changed and some own statements added."""
    lines = _rename(textwrap.dedent(body).strip('\n'), rng).split('\n')
    out = []
    for line in lines:
        if rng.random() < 0.35:
            line = _LITERAL.sub(lambda m: _other_literal(m.group(), rng), line)
        out.append(line)
        stripped = line.strip()
        continuation = stripped.endswith((':', ',', '(', '[', '{', '\\')) or \
            line != line.rstrip() or stripped.startswith(('return', 'raise'))
        if not continuation and rng.random() < 0.15 and not stripped.startswith('#'):
            indent = line[:len(line) - len(line.lstrip())]
            extra = rng.choice(EXTRA_STATEMENTS).format(name='self' if 'self' in body
                                                        else 'None',
                                                        number=rng.randrange(1000))
            out.extend(indent + part for part in extra.split('\n'))
    return '\n'.join(out) + '\n'


def _other_literal(text, rng):
    if text[0] in '\'"':
        return repr(text[1:-1] + rng.choice(['', ' ', '!', ' (run)', '_v2']))
    if 'e' in text:
        return f"1e-{rng.randrange(3, 16)}"
    return str(round(float(text) * rng.choice([0.5, 1, 2, 10]), 6))


def generate(folder, count, seed, prefix='student'):
    """Write `count` package folders into `folder`; return the folder.

    Each region of each submission comes from a random kit-style student of
    the corpus, varied by _vary. Code that no longer compiles after a
    variation (an edit inside a multi-line string) falls back to the
    student's code as written.
    """
    import kit_members

    rng = random.Random(seed)
    folder = Path(folder)
    students = sorted(kit_members.STUDENTS)
    regions = sorted(set().union(*(kit_members.STUDENTS[s] for s in students)))
    for number in range(count):
        bodies = {}
        for region in regions:
            student = rng.choice(students)
            original = kit_members.STUDENTS[student][region]
            varied = _vary(original, rng)
            bodies[region] = varied if _compiles(varied) else original
        try:
            kit_members.write(folder / f"{prefix}{number:04d}", None, bodies)
        except SyntaxError:  # a variation that breaks its file: the plain choice
            kit_members.write(folder / f"{prefix}{number:04d}", None,
                              {r: textwrap.dedent(b) for r, b in bodies.items()})
    return folder


def _compiles(body):
    try:
        compile('def _region():\n' + textwrap.indent(body, '    '), 'region', 'exec')
        return True
    except SyntaxError:
        return False


def _similarity(subs, out, archive=None, timeout=3600):
    """Run `autograder similarity` in a child process; (seconds, peak RSS bytes, pairs)."""
    argv = [sys.executable, '-m', 'autograder', 'similarity', str(subs), '--out', str(out),
            '-q']
    if archive:
        argv += ['--against', str(archive)]
    child = core.run_child(argv, env=core.child_env(), timeout=timeout)
    if child.returncode != 0:
        raise RuntimeError(f"autograder similarity exited {child.returncode}: "
                           f"{child.stderr[-800:]}")
    import json
    document = json.loads((Path(out) / 'similarity.json').read_text())
    return child.seconds, child.max_rss, document['pair_count'], document['flagged']


def run(settings):
    sizes = QUICK if settings.quick else FULL
    rounds = 1 if settings.quick else settings.rounds
    with tempfile.TemporaryDirectory(prefix='bench-similarity-') as tmp:
        tmp = Path(tmp)
        settings.say(f"similarity: generating {sizes['class']} + {sizes['archive']} "
                     f"submissions")
        generate(tmp / 'class', sizes['class'], seed=1)
        generate(tmp / 'archive', sizes['archive'], seed=2, prefix='old')
        generate(tmp / 'small', sizes['small'], seed=3)
        small, large, against = [], [], []
        for r in range(rounds):
            settings.say(f"similarity: round {r + 1}/{rounds}")
            for name, subs, archive, into in (
                    ('small', tmp / 'small', None, small),
                    ('class', tmp / 'class', None, large),
                    ('against', tmp / 'class', tmp / 'archive', against)):
                into.append(_similarity(subs, tmp / f'out-{name}-{r}', archive))
    return _rows(sizes, small, large, against)


def _rows(sizes, small, large, against):
    seconds = lambda runs: core.summary([r[0] for r in runs])  # noqa: E731
    mib = lambda runs: core.summary([r[1] / 2**20 for r in runs])  # noqa: E731
    pairs = {'small': small[0][2], 'class': large[0][2], 'against': against[0][2]}
    per_pair = lambda runs, n: core.summary([r[0] / n * 1e6 for r in runs])  # noqa: E731
    flagged = f"Flagged pairs: {large[0][3]:,} of {pairs['class']:,} (the class), " \
              f"{against[0][3]:,} of {pairs['against']:,} (with the archive): generated " \
              f"submissions that took many regions from the same students"
    command = "`autograder similarity SUBS --out OUT -q` in a child process (start-up, " \
              "reading every submission through intake, tokenizing, the index, the report)"
    n, m, s = sizes['class'], sizes['archive'], sizes['small']
    return [
        core.row(SECTION, f"{n} submissions compared", 's', seconds(large), seconds(small),
                 f"{s} submissions, same command", note=f"{command}; {pairs['class']:,} pairs "
                 f"vs {pairs['small']:,} ({pairs['class'] / pairs['small']:.0f}x). "
                 f"Generated submissions (bench/similarity.py). {flagged}."),
        core.row(SECTION, f"{n} submissions compared, per pair", 'us', per_pair(
                 large, pairs['class']), per_pair(small, pairs['small']),
                 f"{s} submissions, per pair", target=('<=', 1.0, 'no dearer per pair than '
                                                       f'{s} submissions'),
                 note="Microseconds of the whole command per pair compared: below 1, the "
                      "fixed and per-submission costs (start-up, reading, tokenizing) "
                      "spread over more pairs than the pairwise work adds."),
        core.row(SECTION, f"{n} submissions against an archive of {m}", 's', seconds(against),
                 seconds(large), f"{n} submissions alone", note=f"`--against ARCHIVE`: "
                 f"{pairs['against']:,} pairs (this class's and class x archive; never archive "
                 f"with archive)."),
        core.row(SECTION, f"peak memory, {n} submissions against an archive of {m}", 'MiB',
                 mib(against), mib(small), f"{s} submissions", note="ru_maxrss of the "
                 "command (wait4): tokens and k-gram hashes of every file, the (files x "
                 "submissions) table of shares, the report."),
    ]
