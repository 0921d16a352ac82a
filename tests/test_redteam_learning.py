"""Red team, third pass: accuracy without learning, secret data in feedback, a run slow by itself.

- Weights trained offline in principal-component coordinates, aligned inside
  the sandbox by the split's own principal components (tests/attacks.py):
  under a rotation of the pixels they would earn full credit; on the judge's
  split they earn nothing.
- A training run that puts the secret split into its exception: the
  feedback carries none of it.
- A run that is slow by itself is the student's: it fails its test and is
  graded, whatever its processes do; only other work on the machine makes a
  run 'busy', and even then it is scored.
"""
import re

import numpy as np
import pytest

from autograder.catalogue import load_catalogue, reference
from autograder.catalogue.types import Answer
from autograder.grading import sessions
from autograder.grading.data import GradingData, secret_transform
from autograder.grading.sandbox import Budget, Limits, RunResult, Usage
from autograder.grading.sandbox.load import crowded_out
from attacks import hijack, offline, submission_code
from grading import make_submission, output_of, scores
from helpers import SOLUTIONS

pytestmark = pytest.mark.usefixtures('mnist')
CATALOGUE = load_catalogue()
FULL = {t.id: t.p['bands'][0]['min_accuracy'] for t in CATALOGUE.tests
        if t.spec.kind == 'accuracy'}
MODELS = {t.p['model']: t.id for t in CATALOGUE.tests if t.spec.kind == 'accuracy'}


@pytest.fixture(scope='module')
def grader():
    from autograder.grading.grader import Grader
    with Grader() as instance:
        yield instance


@pytest.fixture(scope='module')
def public():
    import sys
    sys.path.insert(0, str(SOLUTIONS))
    try:
        import utils
        images, labels = utils.load_mnist('train')
    finally:
        sys.path.remove(str(SOLUTIONS))
    return np.asarray(images[:48000], np.float32), np.asarray(labels[:48000])


@pytest.fixture(scope='module')
def shipped(public):
    return offline(*public)


def _haar(seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((784, 784)))
    return q * np.sign(np.diag(r))


@pytest.mark.slow
def test_principal_components_would_undo_a_rotation(public, shipped):
    """The attack has teeth: on a rotated split it earns points for both models (full
    credit for the two-layer net)."""
    images, labels = public
    rotation = _haar(7)
    rotated = (images @ rotation.astype(np.float32))[np.random.default_rng(3).permutation(
        len(images))]
    for model, test in MODELS.items():
        weights = hijack(rotated, shipped.signs, shipped.weights[model])
        weights['W1'] = rotation @ weights['W1']
        accuracy, _ = reference.score(model, 128, weights)
        assert CATALOGUE.by_id[test].credit_for(accuracy) > 0, (model, accuracy)
        if model == 'TwoLayerNet':
            assert accuracy >= FULL[test], (model, accuracy)


@pytest.mark.slow
def test_principal_components_find_nothing_on_the_judges_split(grader, tmp_path, shipped):
    """The same code in a submission, on the judge's split: no accuracy point."""
    attacks = {'models/softmax_regression.py': [('forward', submission_code(
                   'SoftmaxRegression', shipped))],
               'models/two_layer_nn.py': [('forward', submission_code('TwoLayerNet', shipped))]}
    folder = make_submission(tmp_path / 'pkg', attacks=attacks)
    document, summary = grader.grade(folder, tmp_path / 'out', only=['accuracy.*'])
    assert summary['status'] == 'graded'
    for test in MODELS.values():
        assert scores(document)[test] == 0.0, output_of(document, test)


def test_the_transform_is_secret_invertible_and_no_rotation():
    """Different secrets draw different transforms; none is orthogonal; A W1' maps back."""
    A = secret_transform(b'test')
    assert not np.allclose(A, secret_transform(b'other'))
    singular = np.linalg.svd(A, compute_uv=False)
    assert singular.max() / singular.min() > 2.5      # spread over [1/2, 2]: not a rotation
    rng = np.random.default_rng(0)
    X, W = rng.random((5, 784)), rng.standard_normal((784, 10))
    assert np.allclose((X @ A) @ np.linalg.solve(A, W), X @ W)


@pytest.mark.slow
def test_the_split_is_noisy_and_keeps_every_class_of_the_reference(tmp_path):
    """No row of the split is a public image times A, and the selection kept a split on
    which the reference's softmax regression predicts every class."""
    from autograder.grading.grader import selections
    data = GradingData(tmp_path, b'redteam-split', selections(CATALOGUE))
    folder = data.train()
    images = np.load(folder / 'images.npy', mmap_mode='r')
    assert images.shape == (48000, 784) and images.dtype == np.float32
    back = np.linalg.solve(data.transform.T, np.asarray(images[:200], np.float64).T).T
    # Undoing A leaves pixels plus noise: nothing sits exactly on the 256 pixel levels.
    levels = np.abs(back * 255 - np.rint(back * 255))
    assert np.mean(levels > 0.05) > 0.5
    # The reference, trained on it from the given weights, reaches the selection's
    # accuracy, every class predicted.
    test = CATALOGUE.by_id[MODELS['SoftmaxRegression']]
    run = data.reference_run('SoftmaxRegression', dict(test.selection_params()))
    best = int(np.argmax(run.accuracies))
    assert run.accuracies[best] >= test.p['select_accuracy'], run.accuracies
    assert run.recalls[best].min() > 0.3, run.recalls[best]


@pytest.mark.slow
def test_a_secret_whose_row_order_killed_a_class_under_every_transform_gets_a_split(tmp_path):
    """A machine's random secret on which the old selection (one row order per secret,
    128 transforms) found no split: the reference stayed at 0.55-0.66 with classes
    never predicted, and nothing could be graded. Each candidate now draws its own
    order of the rows too."""
    from autograder.grading.grader import selections
    secret = bytes.fromhex('2a76e229c6c4c99e6c500c16062d24c54ea3aee7e508827e61ca7ae93da3238e')
    data = GradingData(tmp_path, secret, selections(CATALOGUE))
    test = CATALOGUE.by_id[MODELS['SoftmaxRegression']]
    run = data.reference_run('SoftmaxRegression', dict(test.selection_params()))
    assert max(run.accuracies) >= test.p['select_accuracy'], run.accuracies


@pytest.mark.slow
def test_feedback_of_the_training_run_carries_none_of_the_secret_split(grader, tmp_path):
    """An exception made of the split's bytes, raised from a class named at run time."""
    code = ("import base64, os\n"
            "X = np.load(os.path.join(os.environ['PROBE_TRAIN_DIR'], 'images.npy'))\n"
            "blob = base64.b64encode(X[:4].tobytes()).decode()\n"
            "Leak = type('L' + blob[:40].replace('+', '_').replace('/', '_'), (ValueError,), {})\n"
            "raise Leak(blob[:5000])")
    folder = make_submission(tmp_path / 'pkg', attacks={
        'models/softmax_regression.py': [('forward', code)]})
    document, summary = grader.grade(folder, tmp_path / 'out',
                                     only=['accuracy.softmax_regression'])
    text = output_of(document, 'accuracy.softmax_regression')
    assert summary['status'] == 'graded'
    assert 'not shown' in text and "code's own class" in text, text
    # Nothing base64-like survives: no run of 16 characters of that alphabet.
    assert not re.search(r'[A-Za-z0-9+/=]{16,}', text), text


def _usage(cpu, wall, others):
    return Usage(cpu=cpu, wall=wall, wait=wall - cpu, others=others)


class _Box:
    limits = Limits(cpu_cores=1.0)


def _wall_result(usage):
    result = RunResult(limit='wall')
    result.usage = [usage]
    return result


def test_a_run_slow_by_itself_fails_and_is_never_called_starved():
    """Much waiting for a CPU (a herd of its own processes) but a quiet machine: the
    student's own time, scored as a failure, no retry."""
    job = sessions.Job('request.json', Budget(10, 100), 2**20)
    answer, retry = sessions._failure(_wall_result(_usage(2.0, 100.0, others=5.0)), job,
                                      _Box(), 0)
    assert not retry and answer.cause == 'student'
    assert 'the machine was not busy' in answer.error


def test_a_run_crowded_out_by_other_work_is_retried_then_scored_with_a_note():
    usage = _usage(2.0, 100.0, others=2 * 100.0)   # two other CPU-bound processes, 2 cores
    job = sessions.Job('request.json', Budget(10, 100), 2**20)
    import autograder.grading.sessions as module
    cores = module.usable_cores
    module.usable_cores = lambda: 2
    try:
        answer, retry = sessions._failure(_wall_result(usage), job, _Box(), 0)
        assert retry and answer.cause == 'busy'
        answer, retry = sessions._failure(_wall_result(usage), job, _Box(),
                                          sessions.MAX_RETRIES)
        assert not retry and answer.cause == 'busy'
        assert 'counts as failed' in answer.error
    finally:
        module.usable_cores = cores
    assert sessions._patient(Budget(10, 100), 2).wall > 100


def test_crowded_out_needs_the_others_to_take_the_runs_share():
    assert not crowded_out(others=50.0, wall=100.0, cores=2, share=1)     # one other half busy
    assert not crowded_out(others=100.0, wall=100.0, cores=2, share=1)    # -j 2's neighbour
    assert crowded_out(others=190.0, wall=100.0, cores=2, share=1)        # two spinners
    assert not crowded_out(others=None, wall=100.0, cores=2, share=1)     # no evidence


def test_the_judge_scores_a_busy_answer_as_failed_and_reports_it():
    from autograder.grading.judge import Judge, Outcome
    outcome = Outcome()
    test = next(t for t in CATALOGUE.tests if t.id == 'activations.relu')

    class Fake:
        ctx = type('C', (), {'verdicts': {}, 'scaffold': None})()

    answer = Answer(error="not finished in time after 3 tries: busy", cause='busy')
    judge = Judge.__new__(Judge)
    judge.ctx = Fake.ctx
    judge.ctx.verdicts = {}
    result = judge._judge(test, [sessions.Outcome(answer)], [], outcome)
    assert result.graded and result.score == 0.0
    assert outcome.busy and 'activations.relu' in outcome.busy[0]
    assert not outcome.not_graded
