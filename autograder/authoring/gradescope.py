"""Build the zip that Gradescope's autograder takes.

Gradescope unpacks the zip into /autograder/source, runs setup.sh once (as
root, while building the image) and runs /autograder/run_autograder for
every submission, with the student's files in /autograder/submission; the
results must end up in /autograder/results/results.json. Both scripts take
AUTOGRADER_ROOT (default /autograder) so a kit test can run them against a
fake tree.

The bundle holds the kit's grading parts only: the autograder package, the
reference solution, the student scaffold, get_data.sh and pyproject.toml, and
with --with-data the four MNIST files (otherwise setup.sh downloads them).
"""
from .. import paths
from ..grading.grader import GRADESCOPE_TIMEOUT, TIME_LIMIT  # noqa: F401  (the bundle's)
from .archive import write_zip

# The per-run memory limit built into the bundle (--memory), and what the grader
# needs beside one sandboxed run: its own process (about 40 MB resident while runs
# are going), the reference run it starts beside the student's (up to about 150
# MB more) and page cache (the training split the runs map, 150 MB; reclaimable).
# Measured in Gradescope's default container (768 MB, taken as 768 MiB) simulated
# by `python -m bench --only gradescope`: up to 195 MB beside a run, 334 MB at the
# grader's own peak (between runs). 512 MiB + 256 MiB = 768 MiB, so a run that
# outgrows its limit gets a MemoryError or "exceeded the memory limit" instead of
# the container's OOM killer picking a process (maybe the grader). The reference
# needs 334 MB of address space in its function-test run (the rlimit is 5/6 of
# --memory: 427 MB at 512M); at 448M it lost data.split once, at 320M its
# accuracy tests too.
DEFAULT_MEMORY = '512M'
MIN_MEMORY_MIB = 448
RESERVE_MIB = 256
# The grading's time limit under Gradescope's timeout: grading/grader.py.
DEFAULT_TIME_LIMIT = TIME_LIMIT

SETUP = r'''#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
ROOT=${AUTOGRADER_ROOT:-/autograder}
SRC=$ROOT/source
# Gradescope's image (Ubuntu 22.04) has python3 but not its venv module
# (Debian and Ubuntu ship ensurepip in python3-venv); nothing else is needed
# from apt, and recommends would bring a compiler.
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-venv
fi
# The container must hold one sandboxed run at its limit (--memory __MEMORY__) and
# the grader beside it (__RESERVE__ MiB): otherwise the kernel, not the grader,
# decides which process dies when a submission uses too much memory.
python3 - <<'PY'
import os, sys
from pathlib import Path

def read(path):
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ''

def size(text):
    units = {'K': 2**10, 'M': 2**20, 'G': 2**30}
    text = text.strip().upper().rstrip('B')
    return int(float(text[:-1]) * units[text[-1]]) if text[-1:] in units else int(text)

limits = []
if os.environ.get('AUTOGRADER_CONTAINER_MEMORY'):  # for testing this check
    limits.append(size(os.environ['AUTOGRADER_CONTAINER_MEMORY']))
for path in ('/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'):
    value = read(path)
    if value.isdigit() and int(value) < 2**60:
        limits.append(int(value))
for line in read('/proc/meminfo').splitlines():
    if line.startswith('MemTotal:'):
        limits.append(int(line.split()[1]) * 1024)
have = min(limits) if limits else None
MiB = 2**20
run, reserve = size('__MEMORY__'), __RESERVE__ * MiB
if have is not None and have < run + reserve:
    fits = (have - reserve) // (64 * MiB) * 64
    rebuild = (f", or rebuild this bundle with `autograder gradescope-bundle --memory {fits}M` "
               f"(each sandboxed run then gets {fits} MB"
               + (", barely enough for the reference solution" if fits < 512 else "") + ")"
               if fits >= __MIN_MEMORY__ else
               " (a smaller --memory will not do: the reference solution needs about "
               "__MIN_MEMORY__ MB per sandboxed run)")
    sys.exit(f"setup.sh: this container has {have // MiB} MB of memory, but the bundle's "
             f"per-run limit (--memory __MEMORY__) needs {(run + reserve) // MiB} MB: "
             f"{run // MiB} MB for one sandboxed run and __RESERVE__ MB for the grader and "
             f"the reference run beside it. Choose a container with at least "
             f"{(run + reserve) // MiB} MB in the assignment's autograder settings{rebuild}.")
print(f"setup.sh: memory: {have // MiB if have else '?'} MB in this container, "
      f"{run // MiB} MB per sandboxed run + __RESERVE__ MB for the grader")
PY
# A virtual environment outside the kit folder: the sandbox must be able to run
# its Python while the kit itself stays out of reach. Its own pip, upgraded:
# the system pip may be too old for an editable pyproject-only install, or
# refuse to touch the system Python (PEP 668).
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install -q --upgrade pip
# Editable: the autograder runs from $SRC, beside its rubric, reference and scaffold.
"$ROOT/venv/bin/python" -m pip install -q -e "$SRC"
if [ -d "$SRC/mnist" ]; then
  bash "$SRC/get_data.sh" --quiet --source "$SRC/mnist" --dest "$SRC/data/mnist"
else
  bash "$SRC/get_data.sh" --quiet --dest "$SRC/data/mnist"
fi
# Grade the reference once: checks the sandbox works in this image and fills
# the grader's cache (the course's CSV files, the font cache), so student runs
# start faster.
AUTOGRADER_KIT="$SRC" "$ROOT/venv/bin/python" -m autograder grade "$SRC/solutions" \
  --out "$SRC/build/setup-check" --memory __MEMORY__ -q || true  # judged just below
"$ROOT/venv/bin/python" - "$SRC/build/setup-check" <<'PY'
import json, sys
folder = sys.argv[1]
document = json.load(open(folder + '/results.json'))
summary = json.load(open(folder + '/summary.json'))
possible = sum(t['max_score'] for t in document['tests'])
if summary.get('status') != 'graded' or not document['tests'] or document['score'] != possible:
    lines = [f"setup.sh: the reference solution scored {document['score']}/{possible} "
             f"({summary.get('status')}; {summary.get('reason') or 'see below'}):"]
    for test in document['tests']:
        if test['status'] != 'passed':
            lines.append(f"  {test['name']}: {test['score']}/{test['max_score']}: "
                         f"{test['output']}")
    lines += [document['output']] + summary.get('protections', [])
    sys.exit('\n'.join(lines))
print(f"setup.sh: reference solution {document['score']}/{possible}, autograder ready")
PY
'''

RUN = r'''#!/usr/bin/env bash
# Gradescope runs this for every submission.
ROOT=${AUTOGRADER_ROOT:-/autograder}
export AUTOGRADER_KIT=$ROOT/source
mkdir -p "$ROOT/results"
# The table goes to stdout: Gradescope shows it to instructors, never to students.
"$ROOT/venv/bin/python" -m autograder grade "$ROOT/submission" \
  --out "$ROOT/results" --memory __MEMORY__ --time-limit __TIME_LIMIT____SCAFFOLD__
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
  # The grader could not even start: still leave valid JSON for Gradescope.
  printf '{"score": 0, "output": "The autograder failed to run (exit %s); please tell the course staff.", "tests": []}\n' "$status" > "$ROOT/results/results.json"
fi
exit 0
'''

TOP_FILES = ('pyproject.toml', 'README.md', 'get_data.sh')
PACKAGES = ('solutions', 'student_version')


def _members(with_data):
    """(path in the zip, bytes, executable) of everything the bundle holds."""
    kit = paths.kit_root()
    for name in TOP_FILES:
        yield name, (kit / name).read_bytes(), name.endswith('.sh')
    for path in sorted(paths.PACKAGE.rglob('*')):
        if path.is_file() and path.suffix in ('.py', '.yaml', '.html', '.md') \
                and '__pycache__' not in path.parts:
            yield (f'autograder/{path.relative_to(paths.PACKAGE).as_posix()}', path.read_bytes(),
                   False)
    for package in PACKAGES:
        root = kit / package
        for rel in paths.package_files(root):
            yield f'{package}/{rel.as_posix()}', (root / rel).read_bytes(), False
    if with_data:
        utils = paths.solution_module('utils')
        for names in utils.MNIST_FILES.values():
            for name in names:
                source = utils.mnist_dir() / name
                if not source.is_file():
                    raise FileNotFoundError(f"{source} missing: run ./get_data.sh first, or "
                                            f"build without --with-data")
                yield f'mnist/{name}', source.read_bytes(), False


def build_bundle(out_zip, with_data=False, memory=DEFAULT_MEMORY, time_limit=DEFAULT_TIME_LIMIT,
                 scaffold=None):
    """Write the Gradescope autograder zip; return (path, number of files).

    time_limit: seconds, or None for no limit; scaffold: a name every
    submission is graded by (None: detected per submission).

    memory is the per-run limit (e.g. '512M'); setup.sh checks at build time
    that the container has that much and RESERVE_MIB more. time_limit is the
    grading's wall-clock limit in seconds (run_autograder's --time-limit).
    """
    setup = SETUP.replace('__MEMORY__', memory).replace('__RESERVE__', str(RESERVE_MIB)) \
        .replace('__MIN_MEMORY__', str(MIN_MEMORY_MIB))
    files = [('setup.sh', setup.encode(), True),
             ('run_autograder', RUN.replace('__MEMORY__', memory)
              .replace('__TIME_LIMIT__', 'none' if time_limit is None else f'{time_limit:g}')
              .replace('__SCAFFOLD__', f' --scaffold {scaffold}' if scaffold else '')
              .encode(), True),
             *_members(with_data)]
    return write_zip(out_zip, files), len(files)
