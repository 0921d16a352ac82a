"""The Gradescope bundle: setup.sh and run_autograder against a fake /autograder tree."""
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from autograder.catalogue import load_catalogue
from grading import collect, make_submission
from helpers import STUDENT, run

pytestmark = pytest.mark.usefixtures('mnist')


@pytest.fixture(scope='module')
def autograder_root(tmp_path_factory):
    """A fake /autograder after Gradescope's image build: bundle unpacked, setup.sh run."""
    tmp = tmp_path_factory.mktemp('gradescope')
    bundle = tmp / 'autograder.zip'
    result = run([sys.executable, '-m', 'autograder', 'gradescope-bundle', '--out', str(bundle),
                  '--with-data'])
    assert result.returncode == 0, result.stderr
    root = tmp / 'autograder'
    (root / 'source').mkdir(parents=True)
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert {'setup.sh', 'run_autograder', 'autograder/rubric.yaml',
                'solutions/models/two_layer_nn.py', 'mnist/t10k-labels-idx1-ubyte.gz'} <= set(names)
        assert not any(n.startswith(('tests/', 'written/', 'data/')) for n in names)
        archive.extractall(root / 'source')
    for script in ('setup.sh', 'run_autograder'):
        shutil.copy(root / 'source' / script, root / script)
        os.chmod(root / script, 0o755)
    # As in a fresh image: setup.sh makes a clean venv (none of this machine's
    # site packages) and installs the kit into it from the package index; pip's
    # wheel cache keeps that to seconds after the first time.
    setup = subprocess.run(['bash', str(root / 'setup.sh')], capture_output=True, text=True,
                           env=dict(os.environ, AUTOGRADER_ROOT=str(root)), timeout=1200)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert 'reference solution 100.0/100.0, autograder ready' in setup.stdout
    venv_python = root / 'venv' / 'bin' / 'python'
    isolated = subprocess.run(
        [str(venv_python), '-c', 'import sys, numpy; '
         'print(sys.prefix != sys.base_prefix, numpy.__file__.startswith(sys.prefix))'],
        capture_output=True, text=True, timeout=120)
    assert isolated.stdout.split() == ['True', 'True'], isolated.stdout + isolated.stderr
    config = (root / 'venv' / 'pyvenv.cfg').read_text()
    assert 'include-system-site-packages = false' in config, config
    return root


def submit(root, zip_path):
    """Gradescope unpacks the uploaded zip into /autograder/submission, then grades."""
    submission, results = root / 'submission', root / 'results'
    for folder in (submission, results):
        shutil.rmtree(folder, ignore_errors=True)
    submission.mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(submission)
    result = subprocess.run([str(root / 'run_autograder')], capture_output=True, text=True,
                            env=dict(os.environ, AUTOGRADER_ROOT=str(root)), timeout=900)
    assert result.returncode == 0, result.stderr
    return json.loads((results / 'results.json').read_text())


CATALOGUE = load_catalogue()
TOTAL, COUNT = CATALOGUE.total, len(CATALOGUE.tests)


@pytest.mark.slow
def test_correct_broken_and_malicious_submissions(autograder_root, tmp_path):
    correct = make_submission(tmp_path / 'correct')
    assert collect(correct, tmp_path / 'correct.zip').returncode == 0
    document = submit(autograder_root, tmp_path / 'correct.zip')
    assert document['score'] == TOTAL and len(document['tests']) == COUNT
    assert {e['name'] for e in document['leaderboard']} == set(CATALOGUE.leaderboard().values())

    assert collect(STUDENT, tmp_path / 'stubs.zip').returncode == 0
    document = submit(autograder_root, tmp_path / 'stubs.zip')
    assert document['score'] == 0 and len(document['tests']) == COUNT

    results_file = autograder_root / 'results' / 'results.json'
    evil = make_submission(tmp_path / 'evil', attacks={'models/_base_network.py': [(
        'ReLU', f'open({str(results_file)!r}, "w").write(\'{{"score": 1000, "tests": []}}\')\n'
                f'import sys; sys.exit(0)')]})
    assert collect(evil, tmp_path / 'evil.zip').returncode == 0
    document = submit(autograder_root, tmp_path / 'evil.zip')
    scores = {t['name'].split(':')[0]: t['score'] for t in document['tests']}
    assert scores['activations.relu'] == 0 and len(scores) == COUNT
    # ReLU is used by SoftmaxRegression, but its model tests run with a trusted ReLU in
    # place of one whose own test failed (grading/probes.py): only that test is lost.
    assert {k for k, v in scores.items() if v == 0} == {'activations.relu'}
    assert document['score'] < TOTAL


@pytest.mark.parametrize('memory, container, expected', [
    (None, '600M', "Choose a container with at least 768 MB"),
    (None, '768000000', "rebuild this bundle with `autograder gradescope-bundle --memory 448M`"),
    ('1.5G', '1G', "rebuild this bundle with `autograder gradescope-bundle --memory 768M`"),
])
def test_setup_refuses_a_container_too_small_for_the_per_run_limit(tmp_path, memory,
                                                                   container, expected):
    """setup.sh checks the container's memory before installing anything, and names the
    settings that would work: a bigger container, or a smaller --memory."""
    bundle = tmp_path / 'autograder.zip'
    result = run([sys.executable, '-m', 'autograder', 'gradescope-bundle', '--out', str(bundle)]
                 + (['--memory', memory] if memory else []))
    assert result.returncode == 0, result.stderr
    root = tmp_path / 'autograder'
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / 'source')
    setup = subprocess.run(['bash', str(root / 'source' / 'setup.sh')], capture_output=True,
                           text=True, timeout=120,
                           env=dict(os.environ, AUTOGRADER_ROOT=str(root),
                                    AUTOGRADER_CONTAINER_MEMORY=container))
    assert setup.returncode != 0
    assert expected in setup.stderr, setup.stderr
    assert not (root / 'venv').exists(), "the check must come before the installation"
