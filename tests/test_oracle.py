"""The grader's trusted copies equal the reference they stand in for.

probes.py runs in the sandbox with no kit on its path, so it carries its own
trusted softmax, loss, accuracy, activations, SGD step, numeric gradients
and training loop (a model test runs with them in place of helpers whose own
tests failed; the accuracy tests train with the loop). A drift between a
copy and solutions/ would show only as wrong grades: here each copy is held
against its twin on random inputs, in float32 and float64, and the loop
against the reference's own train() on a small seeded problem.
"""
import sys

import numpy as np
import pytest

from helpers import KIT, SOLUTIONS

sys.path.insert(0, str(KIT / 'autograder' / 'grading'))
import probes  # noqa: E402  (the sandbox's file, imported as a plain module)

sys.path.insert(0, str(SOLUTIONS))
import gradcheck  # noqa: E402
import utils  # noqa: E402
from models import SoftmaxRegression, TwoLayerNet, _baseNetwork  # noqa: E402
from optimizer import SGD  # noqa: E402

DTYPES = (np.float32, np.float64)


def _close(got, want, dtype):
    tolerance = 1e-6 if dtype == np.float32 else 1e-12
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape
    scale = max(np.max(np.abs(want)), 1e-300)
    assert np.max(np.abs(got - want)) <= tolerance * scale, np.max(np.abs(got - want)) / scale


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('name', sorted(probes.TRUSTED))
def test_each_trusted_helper_equals_the_reference(name, dtype):
    rng = np.random.default_rng(hash(name) % 2**32)
    net = _baseNetwork()
    if name in ('cross_entropy_loss', 'compute_accuracy'):
        prob = rng.dirichlet(np.ones(10), size=32).astype(dtype)
        y = rng.integers(0, 10, size=32)
        args = (prob, y)
    elif name == 'softmax':
        args = ((rng.normal(scale=5, size=(16, 10)) + rng.normal(scale=300, size=(16, 1)))
                .astype(dtype),)
    else:
        x = rng.normal(scale=4, size=(9, 7)).astype(dtype)
        x.flat[:3] = [0.0, 30.0, -30.0]
        args = (x,)
    _close(probes.TRUSTED[name](net, *args), getattr(net, name)(*args), dtype)


@pytest.mark.parametrize('dtype', DTYPES)
def test_the_trusted_sgd_step_is_the_reference_optimizers(dtype):
    rng = np.random.default_rng(5)

    def model():
        m = TwoLayerNet(input_size=6, num_classes=4, hidden_size=5)
        for name in m.weights:
            m.weights[name] = rng.normal(size=m.weights[name].shape).astype(dtype)
            m.gradients[name] = rng.normal(size=m.weights[name].shape).astype(dtype)
        return m

    ours = model()
    theirs = TwoLayerNet(input_size=6, num_classes=4, hidden_size=5)
    theirs.weights = {k: v.copy() for k, v in ours.weights.items()}
    theirs.gradients = {k: v.copy() for k, v in ours.gradients.items()}
    probes.TrustedSGD(learning_rate=0.1, reg=0.01).update(ours)
    SGD(learning_rate=0.1, reg=0.01).update(theirs)
    for name in ours.weights:
        _close(ours.weights[name], theirs.weights[name], dtype)


def test_the_trusted_numeric_gradients_are_gradchecks():
    rng = np.random.default_rng(2)
    model = SoftmaxRegression(input_size=6, num_classes=4)
    X, y = rng.normal(size=(5, 6)), rng.integers(0, 4, size=5)
    ours = probes._numeric_gradients(model, X, y, 1e-5)['n:W1']
    theirs = gradcheck.numeric_gradient(lambda: model.forward(X, y, mode='valid')[0],
                                        model.weights['W1'])
    _close(ours, theirs, np.float32)


@pytest.mark.parametrize('model_name', ['SoftmaxRegression', 'TwoLayerNet'])
def test_the_trusted_loop_reaches_the_references_weights(model_name):
    """Two epochs on a small seeded problem: the loop's weights are those of the
    reference's own train() fed the same batches."""
    rng = np.random.default_rng(11)
    X = rng.random((300, 784)).astype(np.float32)
    y = (X[:, :10].argmax(axis=1)).astype(np.int64)
    params = {'model': model_name, 'hidden_size': 16, 'batch_size': 32,
              'learning_rate': 0.1, 'reg': 0.001, 'epochs': 2, 'seed': 3}
    cls = TwoLayerNet if model_name == 'TwoLayerNet' else SoftmaxRegression
    kwargs = {'hidden_size': 16} if model_name == 'TwoLayerNet' else {}
    ours = probes.train((lambda **k: cls(**kwargs), None), params,
                        {'images': X, 'labels': y})
    theirs = cls(**kwargs)
    order_rng = np.random.default_rng(params['seed'])
    optimizer = SGD(learning_rate=params['learning_rate'], reg=params['reg'])
    for epoch in range(params['epochs']):
        order = order_rng.permutation(len(X))
        batches = [order[s:s + params['batch_size']] for s in range(0, len(X),
                                                                     params['batch_size'])]
        utils.train(epoch, [X[b] for b in batches], [y[b] for b in batches], theirs, optimizer,
                    debug=False)
    for name in theirs.weights:
        _close(ours[name], theirs.weights[name], np.float32)
