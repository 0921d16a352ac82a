"""The grader in a Docker-default container: no namespaces, no writable cgroups, root.

Docker's default capabilities lack CAP_SYS_ADMIN, so every unshare() is refused
(EPERM), and its cgroup filesystem is read-only. Here the same is made with
capsh (CAP_SYS_ADMIN dropped from the bounding set) and
AUTOGRADER_SANDBOX_DISABLE=cgroup; the grader then runs student code under
what remains (an unprivileged uid, rlimits, no_new_privs, the seccomp filter
with local sockets only, the kit's hidden parts closed to other users) and
must still grade the reference at full marks.

Without a private filesystem view the sandbox user runs the grader's Python
from where it is installed, so the Python must be readable by other users: a
venv of Debian's /usr/bin/python3 is built for the test (the build machines'
own Python lives under /root).
"""
import contextlib
import json
import os
import shlex
import shutil
import stat
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path

import pytest

from autograder.grading.sandbox import hidden_paths
from helpers import KIT, SOLUTIONS

pytestmark = [pytest.mark.usefixtures('mnist'), pytest.mark.root, pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="the fallback is for root graders")]
# The grader's own dependencies, as the installed kit declares them (pyproject.toml).
DEPENDENCIES = [r for r in metadata.requires('dl-homework-kit') if 'extra ==' not in r]


@contextlib.contextmanager
def build_open_python():
    """A venv any user can run (Debian's python3 and the grader's dependencies).

    Yields the venv's python; the venv goes afterwards.
    """
    base = Path('/usr/bin/python3')
    capsh = shutil.which('capsh')
    if not base.is_file() or not capsh:
        pytest.fail("needs Debian's python3, python3-venv and capsh (libcap2-bin): "
                    "apt-get install python3-venv libcap2-bin")
    root = Path(tempfile.mkdtemp(prefix='open-python-', dir='/tmp'))
    os.chmod(root, 0o755)
    try:
        subprocess.run([str(base), '-m', 'venv', str(root / 'venv')], check=True,
                       capture_output=True, timeout=300)
        subprocess.run([str(root / 'venv' / 'bin' / 'python'), '-m', 'pip', 'install', '-q',
                        *DEPENDENCIES], check=True, capture_output=True, timeout=900)
        for path in [root, *root.rglob('*')]:
            if not path.is_symlink():
                mode = path.stat().st_mode
                os.chmod(path, mode | (0o755 if stat.S_ISDIR(mode) else 0o644))
        yield root / 'venv' / 'bin' / 'python'
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope='module')
def open_python():
    with build_open_python() as python:
        yield python


def run_like_docker(python, *args, env=None, timeout=1800):
    """`python -m autograder ARGS` without CAP_SYS_ADMIN and without cgroups, as in Docker.

    Returns (CompletedProcess, {hidden part: its mode bits for others during the
    run}); the parts' modes are restored afterwards.
    """
    parts = [path for path in hidden_paths() if path.exists()]
    modes = {path: path.stat().st_mode for path in parts}
    full_env = dict(os.environ, PYTHONPATH=str(KIT), AUTOGRADER_KIT=str(KIT),
                    AUTOGRADER_SANDBOX_DISABLE='cgroup', AUTOGRADER_SANDBOX_UID='63700')
    full_env.update(env or {})
    command = f"exec {python} -m autograder " + ' '.join(shlex.quote(str(a)) for a in args)
    try:
        result = subprocess.run(['capsh', '--drop=cap_sys_admin', '--', '-c', command],
                                env=full_env, capture_output=True, text=True, timeout=timeout)
        closed = {path: path.stat().st_mode & 0o007 for path in parts}
    finally:
        for path, mode in modes.items():
            os.chmod(path, mode)
    return result, closed


def grade_like_docker(python, submission, out, *options):
    """`autograder grade SUBMISSION --out OUT -q OPTIONS` as in Docker (run_like_docker)."""
    return run_like_docker(python, 'grade', submission, '--out', out, '-q', *options)


def test_the_reference_scores_full_marks_without_namespaces_or_cgroups(open_python, tmp_path):
    out = tmp_path / 'out'
    result, closed = grade_like_docker(open_python, SOLUTIONS, out)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((out / 'summary.json').read_text())
    document = json.loads((out / 'results.json').read_text())
    failing = [(t['name'], t['output']) for t in document['tests'] if t['status'] != 'passed']
    assert not failing and summary['status'] == 'graded', failing
    protections = '\n'.join(summary['protections'])
    for step in ('unprivileged user', 'rlimits', 'no_new_privs', 'seccomp filter',
                 "the kit's hidden parts closed"):
        assert f'in force: {step}' in protections, protections
    for step in ('no network', 'private PID namespace', 'private filesystem view'):
        assert f'not available: {step}' in protections, protections
    assert all(mode == 0 for mode in closed.values()), closed  # others could not read them


def test_without_namespaces_student_code_cannot_read_the_kit_or_the_network(open_python,
                                                                           tmp_path):
    from grading import make_submission
    secrets = [str(KIT / 'autograder' / 'rubric.yaml'), str(SOLUTIONS / 'utils.py'),
               str(KIT / 'data' / 'mnist' / 't10k-labels-idx1-ubyte.gz')]
    probe = (f"found = []\nfor p in {secrets!r}:\n"
             "    try: found.append(open(p, 'rb').read(10))\n"
             "    except OSError: found.append('BLOCKED')\n"
             "import socket\n"
             "try:\n    socket.socket(socket.AF_INET); found.append('SOCKET')\n"
             "except OSError as e: found.append(type(e).__name__)\n"
             "raise RuntimeError(repr(found))")
    folder = make_submission(tmp_path / 'pkg', attacks={'optimizer/sgd.py': [('update', probe)]})
    out = tmp_path / 'out'
    result, _ = grade_like_docker(open_python, folder, out, '--only', 'sgd.step')
    assert result.returncode == 0, result.stderr[-3000:]
    output = json.loads((out / 'results.json').read_text())['tests'][0]['output']
    assert "'BLOCKED', 'BLOCKED', 'BLOCKED', 'PermissionError'" in output, output


def test_without_a_private_root_the_accuracy_run_cannot_reach_the_public_images(open_python,
                                                                               tmp_path):
    # With the public training images at hand, the accuracy run could attack the
    # secret transform of its training split and put pretrained weights in place of
    # training. Its feedback shows no words of the code (it saw the secret split),
    # but Python's own exception types: the probe answers through them.
    from grading import make_submission
    probe = ("import glob, os\n"
             "train = os.environ.get('PROBE_TRAIN_DIR')\n"
             "if train:\n"
             "    root, found = os.path.dirname(train), []\n"
             "    try: os.listdir(root); found.append('LISTED')\n"
             "    except OSError: found.append('UNLISTABLE')\n"
             "    guesses = [root + '/public/csv/mnist_train.csv', root + '/public/mnist']\n"
             "    guesses += glob.glob('/tmp/*/public*/csv/mnist_train.csv')\n"
             "    guesses += glob.glob(root + '/public*/csv/mnist_train.csv')\n"
             "    for path in guesses:\n"
             "        try: os.listdir(path) if path.endswith('mnist') else open(path).read(1)\n"
             "        except OSError: continue\n"
             "        found.append('REACHED')\n"
             "    if 'REACHED' in found: raise ValueError()\n"
             "    if 'LISTED' in found: raise KeyError()\n"
             "    raise FileNotFoundError()")
    folder = make_submission(tmp_path / 'pkg', attacks={'optimizer/sgd.py': [('update', probe)]})
    out = tmp_path / 'out'
    result, _ = grade_like_docker(open_python, folder, out, '--only', 'data.split',
                                   '--only', 'accuracy.softmax_regression')
    assert result.returncode == 0, result.stderr[-3000:]
    tests = {t['name']: t for t in json.loads((out / 'results.json').read_text())['tests']}
    split, accuracy = (next(t for n, t in tests.items() if n.startswith(part))
                       for part in ('data.split', 'accuracy.softmax_regression'))
    assert split['status'] == 'passed', split  # the public folder was built and used
    # FileNotFoundError: the folder was unlistable and no public image was reached.
    assert 'FileNotFoundError raised' in accuracy['output'], accuracy
