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
from .archive import write_zip

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
# the reference cache, so student runs start faster.
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
  --out "$ROOT/results" --memory __MEMORY__
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


def build_bundle(out_zip, with_data=False, memory='1.5G'):
    """Write the Gradescope autograder zip; return (path, number of files)."""
    files = [('setup.sh', SETUP.replace('__MEMORY__', memory).encode(), True),
             ('run_autograder', RUN.replace('__MEMORY__', memory).encode(), True),
             *_members(with_data)]
    return write_zip(out_zip, files), len(files)
