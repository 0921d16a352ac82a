"""Fair grading of course-style submissions (tests/corpus/course): the course's own
scaffold graded at full marks, and every real bug losing exactly the tests that name it.

The corpus is our own code written against the course's published skeleton
(models/__init__.py exporting only the two models, a CSV loader returning
lists, the 4-argument plot_curves drawing two figures, `if seed:` before
stdlib shuffling, configs with an unused momentum key; see
tests/corpus/COURSE_API.md), plus edits that plant each real bug kind seen in
student code. A variant is graded with the tests that can see the files it
edits (catalogue Kind.affected_by); correct/ itself is graded with all of them.
"""
import json
import shutil
import subprocess
import sys

import pytest
import yaml

from autograder.catalogue import load_catalogue
from autograder.course.batch import grade_batch
from helpers import KIT

pytestmark = pytest.mark.usefixtures('mnist')
CORPUS = KIT / 'tests' / 'corpus' / 'course'
CATALOGUE = load_catalogue()
# variant -> {test that must fail: words its feedback must contain}; {} = full marks
EXPECTED = {
    'bias_regularized': {'regularization': 'biases are never regularized'},
    'bias_not_updated': {'sgd.step': 'was not updated'},
    'bias_added_to_weights': {'two_layer.loss': 'relative error',
                              'two_layer.gradients': 'check the forward pass'},
    'softmax_global_max': {'softmax.stability': 'NaN or infinity'},
    'softmax_no_shift': {'softmax.stability': 'NaN or infinity'},
    'log_zero_unclipped': {'loss.zero_probability': 'not finite'},
    'loss_onehot_times_log': {'loss.zero_probability': 'not finite'},
    'grad_accumulate': {'softmax_regression.gradients': 'accumulates across forward() calls',
                        'two_layer.gradients': 'accumulates across forward() calls'},
    'drop_last_batch': {'batching.partial_batch': 'batch sizes'},
    'balanced_batches': {'batching.partial_batch': 'batch sizes'},
    'shuffle_separately': {'batching.shuffle': 'no longer paired'},
    # (1, H) bias gradients: right values, accepted by the gradient tests with a
    # note; the course's in-place SGD step then cannot update a (H,) bias.
    'bias_grad_keepdims': {'accuracy.two_layer': 'non-broadcastable'},
    'loss_log_eps_1e9': {}, 'loss_clip_1e15': {}, 'bias_grad_keepdims_rebinding_sgd': {},
    'softmax_inline': {}, 'prob_modified_in_place': {}, 'two_layer_grads_in_eval_mode': {},
    # Right code in styles the grader once scored wrong: loops (the accuracy
    # tests' CPU budgets), figures saved then cleared or closed, np.eye(10),
    # data/ found from __file__, parameters aliased as attributes.
    'per_example_loops': {}, 'plot_saved_then_cleared': {}, 'one_hot_eye_10': {},
    'data_path_from_file': {}, 'weights_aliased': {}, 'mnist_sizes_written_out': {},
    # One defect, one test, and feedback that names it.
    'reg_without_half': {'regularization': 'added 2 * reg'},
    'relu_dev_at_zero': {'activations.relu_dev': 'X == 0'},
    'accuracy_as_count': {'metrics.accuracy': 'number of correct predictions'},
    'loss_summed': {'loss.cross_entropy': 'sum of the losses'},
    'sigmoid_dev_of_output': {'activations.sigmoid_dev': 'x * (1 - x)'},
    'learning_rate_twice': {'sgd.step': 'learning_rate * its gradient, not learning_rate * gradient'},
    'shuffle_reseeded_separately': {'batching.shuffle': 'no longer paired'},
    'extra_empty_batch': {'batching.partial_batch': 'is empty'},
    'pixels_not_scaled': {'data.split': 'divide by 255'},
    'labels_float': {'data.split': 'must be integers'},
    # The loss test judges forward(mode='valid') when the backward pass raises.
    'backward_raises': {'softmax_regression.gradients': 'ValueError',
                        'softmax_regression.large_logits': 'ValueError',
                        'accuracy.softmax_regression': 'ValueError'},
}

# Tests a variant may fail as well, by the grading secret: X @ (W1 + b1) adds b1
# times each image's pixel sum, and on the secretly rotated training split that
# sum is x . (Q 1), so how much the trained net suffers depends on Q (on some
# secrets it still reaches full credit). When it fails, its feedback names the cause.
MAY_ALSO_FAIL = {
    'bias_added_to_weights': {'accuracy.two_layer': 'fix those first'},
}


def variants():
    return yaml.safe_load((CORPUS / 'bugs.yaml').read_text())['bugs']


def build(dest, edits):
    shutil.copytree(CORPUS / 'correct', dest)
    for edit in edits:
        path = dest / edit['file']
        text = path.read_text()
        assert text.count(edit['old']) == 1, (dest.name, edit['file'])
        path.write_text(text.replace(edit['old'], edit['new']))
    return dest


def test_every_variant_has_an_expected_outcome_and_the_corpus_checks_itself():
    ids = [v['id'] for v in variants()]
    assert sorted(ids) == sorted(EXPECTED)
    for variant in variants():
        assert bool(EXPECTED[variant['id']]) == (not variant['equivalent']), variant['id']
    done = subprocess.run([sys.executable, str(CORPUS / 'check_corpus.py')],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope='module')
def graded(tmp_path_factory):
    """{variant: (results document, summary)}, graded in batches of the same test selection."""
    root = tmp_path_factory.mktemp('corpus')
    groups = {}
    for variant in variants():
        files = sorted({e['file'] for e in variant['edits']})
        only = tuple(t.id for t in CATALOGUE.tests if t.affected_by(files))
        groups.setdefault(only, []).append(variant)
    groups.setdefault(tuple(t.id for t in CATALOGUE.tests), []).append(
        {'id': 'correct', 'edits': []})
    out = {}
    for number, (only, members) in enumerate(groups.items()):
        folder = root / f'group{number}'
        for variant in members:
            build(folder / variant['id'], variant['edits'])
        target = root / f'graded{number}'
        grade_batch(folder, target, jobs=2, only=list(only), progress=False)
        for variant in members:
            results = target / 'submissions' / variant['id']
            out[variant['id']] = (json.loads((results / 'results.json').read_text()),
                                  json.loads((results / 'summary.json').read_text()))
    return out


def test_the_course_style_correct_package_scores_full_marks(graded):
    document, summary = graded['correct']
    assert summary['status'] == 'graded'
    failing = {t['name']: t['output'] for t in document['tests'] if t['status'] != 'passed'}
    assert not failing, failing
    assert document['score'] == CATALOGUE.total


@pytest.mark.parametrize('variant', sorted(EXPECTED))
def test_a_real_bug_loses_exactly_the_tests_that_name_it(graded, variant):
    document, summary = graded[variant]
    assert summary['status'] == 'graded', summary.get('reason')
    failing = {t['name'].split(':', 1)[0]: t['output'] for t in document['tests']
               if t['status'] != 'passed'}
    optional = MAY_ALSO_FAIL.get(variant, {})
    assert sorted(set(failing) - set(optional)) == sorted(EXPECTED[variant]), failing
    for test, words in {**EXPECTED[variant], **optional}.items():
        if test in failing:
            assert words in failing[test], (test, failing[test])
