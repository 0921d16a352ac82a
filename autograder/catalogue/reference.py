"""The reference solution's models, run by the judge itself: trusted code, never student code.

The accuracy tests need the reference in the judge's own process: to draw the
assignment's given initial weights (the models' `_weight_init`, seeded with
1024 in both scaffolds), and to score trained weights on the MNIST test set
after every epoch, fast enough to stop training once a verdict is decided.
The reference package (solutions/models) is imported under a private name, so
it can never be confused with a package called `models` elsewhere.

    given_weights(model, hidden)          {name: float64 array} the models start from
    score(model, hidden, weights)         (test accuracy, recall per class)
"""
import importlib.util
import sys

import numpy as np

from .. import paths

_PACKAGE = '_kit_reference_models'
_TEST_SET = {}


def model_class(name):
    """The reference's SoftmaxRegression or TwoLayerNet class."""
    if _PACKAGE not in sys.modules:
        folder = paths.solutions_dir() / 'models'
        spec = importlib.util.spec_from_file_location(
            _PACKAGE, folder / '__init__.py', submodule_search_locations=[str(folder)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[_PACKAGE] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[_PACKAGE]
            raise
    return getattr(sys.modules[_PACKAGE], name)


def build(model, hidden):
    """A fresh reference model (its weights are the given initialisation)."""
    cls = model_class(model)
    return cls(hidden_size=hidden) if model == 'TwoLayerNet' else cls()


def given_weights(model, hidden):
    """{name: (shape) float64} the weights every correct package starts training from.

    The initialisation is given code in both scaffolds (np.random.seed(1024),
    then 0.001 * N(0, 1) weights and zero biases), so the judge can hand the
    same starting point to every submission: a correct model then follows the
    reference's own trajectory.
    """
    return {name: np.array(value, dtype=np.float64)
            for name, value in build(model, hidden).weights.items()}


def test_set():
    """[(images (n_d, 784) float32, labels (n_d,) int64) for digit d = 0..9]: the MNIST
    test set by digit, read once per process."""
    if not _TEST_SET:
        images, labels = paths.solution_module('utils').load_mnist('test')
        labels = np.asarray(labels, dtype=np.int64)
        _TEST_SET['by_digit'] = [
            (np.ascontiguousarray(images[labels == d], dtype=np.float32), labels[labels == d])
            for d in range(10)]
    return _TEST_SET['by_digit']


def score(model, hidden, weights):
    """The reference's test accuracy of `weights`, and each class's recall.

    Args:
        model: 'SoftmaxRegression' or 'TwoLayerNet'.
        hidden: the two-layer net's hidden size (ignored for softmax regression).
        weights: {name: array} in pixel coordinates, shapes checked by the caller.

    Returns:
        (accuracy float, recall (10,) float64): recall[d] is the accuracy on
        the test images of digit d.
    """
    net = build(model, hidden)
    for name, value in weights.items():
        net.weights[name] = np.asarray(value, dtype=np.float32)
    # The reference's own forward pass, one digit at a time: its accuracy on
    # the images of one digit is that digit's recall.
    by_digit = test_set()
    recall = np.array([net.forward(images, labels, mode='valid')[1] if len(labels) else 0.0
                       for images, labels in by_digit])
    counts = np.array([len(labels) for _, labels in by_digit])
    return float((recall * counts).sum() / counts.sum()), recall
