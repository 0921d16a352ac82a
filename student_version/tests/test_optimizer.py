"""L2 regularization and the SGD step (optimizer/)."""
import unittest

import numpy as np

import _support  # noqa: F401
from models import TwoLayerNet
from optimizer import SGD


def model_with_gradients():
    """A small TwoLayerNet with random weights and random gradients."""
    rng = np.random.default_rng(0)
    model = TwoLayerNet(input_size=6, num_classes=3, hidden_size=4)
    for name, value in model.weights.items():
        model.weights[name] = rng.normal(size=value.shape)
        model.gradients[name] = rng.normal(size=value.shape)
    return model


class TestRegularization(unittest.TestCase):
    def test_adds_reg_times_weight_to_weight_matrices_only(self):
        model = model_with_gradients()
        before = {k: v.copy() for k, v in model.gradients.items()}
        SGD(learning_rate=0.1, reg=0.01).apply_regularization(model)
        for name in ('W1', 'W2'):
            np.testing.assert_allclose(model.gradients[name],
                                       before[name] + 0.01 * model.weights[name], rtol=1e-12,
                                       err_msg=f"gradients['{name}'] should gain reg * {name}")
        for name in ('b1', 'b2'):
            np.testing.assert_array_equal(model.gradients[name], before[name],
                                          err_msg=f"biases are not regularized: "
                                                  f"gradients['{name}'] must not change")


class TestSGD(unittest.TestCase):
    def test_one_step(self):
        model = model_with_gradients()
        weights = {k: v.copy() for k, v in model.weights.items()}
        grads = {k: v.copy() for k, v in model.gradients.items()}
        lr, reg = 0.1, 0.01
        SGD(learning_rate=lr, reg=reg).update(model)
        for name in weights:
            step = grads[name] + (reg * weights[name] if name.startswith('W') else 0)
            np.testing.assert_allclose(model.weights[name], weights[name] - lr * step,
                                       rtol=1e-12, err_msg=f"SGD step on {name}")


if __name__ == '__main__':
    unittest.main()
