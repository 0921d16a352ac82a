"""SoftmaxRegression and TwoLayerNet: initialisation, loss, gradients."""
import unittest

import numpy as np

import _support
from gradcheck import check_model_gradients
from models import SoftmaxRegression, TwoLayerNet

MODELS = {
    'SoftmaxRegression': lambda: SoftmaxRegression(input_size=12, num_classes=5),
    'TwoLayerNet': lambda: TwoLayerNet(input_size=12, num_classes=5, hidden_size=6),
}
# Losses and accuracies of the reference implementation on
# _support.small_problem(seed=3) with _support.randomize_weights(model, seed=4).
EXPECTED = {
    'SoftmaxRegression': (1.9635382239749544, 0.375),
    'TwoLayerNet': (2.0831225206385264, 0.25),
}


class TestInitialisation(unittest.TestCase):
    def test_softmax_regression_weights(self):
        model = SoftmaxRegression()
        np.random.seed(1024)
        expected = 0.001 * np.random.randn(784, 10)
        self.assertEqual(set(model.weights), {'W1'})
        np.testing.assert_array_equal(model.weights['W1'], expected)

    def test_two_layer_net_weights(self):
        model = TwoLayerNet(hidden_size=32)
        self.assertEqual(set(model.weights), {'W1', 'b1', 'W2', 'b2'})
        np.random.seed(1024)
        np.testing.assert_array_equal(model.weights['W1'], 0.001 * np.random.randn(784, 32))
        np.random.seed(1024)
        np.testing.assert_array_equal(model.weights['W2'], 0.001 * np.random.randn(32, 10))
        np.testing.assert_array_equal(model.weights['b1'], np.zeros(32))
        np.testing.assert_array_equal(model.weights['b2'], np.zeros(10))


class TestForward(unittest.TestCase):
    def test_initial_loss_is_log_num_classes(self):
        # Tiny initial weights make every class about equally likely.
        X, y = _support.small_problem(seed=1, d=784, c=10)
        for name, model in (('SoftmaxRegression', SoftmaxRegression()),
                            ('TwoLayerNet', TwoLayerNet())):
            with self.subTest(model=name):
                loss, _ = model.forward(X, y, mode='valid')
                self.assertAlmostEqual(loss, np.log(10), delta=0.05,
                                       msg=f"{name}: initial loss should be near log(10)")

    def test_loss_and_accuracy(self):
        X, y = _support.small_problem(seed=3)
        for name, make in MODELS.items():
            with self.subTest(model=name):
                model = make()
                _support.randomize_weights(model, seed=4)
                loss, accuracy = model.forward(X, y, mode='valid')
                self.assertAlmostEqual(loss, EXPECTED[name][0], places=10)
                self.assertAlmostEqual(accuracy, EXPECTED[name][1], places=12)

    def test_only_train_mode_fills_gradients(self):
        X, y = _support.small_problem(seed=5)
        for name, make in MODELS.items():
            with self.subTest(model=name):
                model = make()
                _support.randomize_weights(model, seed=6)
                marker = {k: np.full(np.shape(v), 7.0) for k, v in model.weights.items()}
                model.gradients = {k: v.copy() for k, v in marker.items()}
                model.forward(X, y, mode='valid')
                for k in marker:
                    np.testing.assert_array_equal(
                        model.gradients[k], marker[k],
                        err_msg=f"{name}: forward(mode='valid') changed gradients['{k}']")
                model.forward(X, y, mode='train')
                for k in marker:
                    self.assertFalse(np.array_equal(model.gradients[k], marker[k]),
                                     f"{name}: forward(mode='train') did not set "
                                     f"gradients['{k}']")


class TestGradients(unittest.TestCase):
    def test_gradients_match_central_differences(self):
        X, y = _support.small_problem(seed=7)
        for name, make in MODELS.items():
            model = make()
            _support.randomize_weights(model, seed=8)
            for report in check_model_gradients(model, X, y).values():
                with self.subTest(model=name, parameter=report.name):
                    self.assertLess(report.rel_error, _support.GRAD_TOLERANCE,
                                    f"{name}: {report}")

    def test_gradients_are_averaged_over_the_batch(self):
        # The same examples twice: the mean loss, hence its gradient, is unchanged.
        X, y = _support.small_problem(seed=9)
        for name, make in MODELS.items():
            with self.subTest(model=name):
                model = make()
                _support.randomize_weights(model, seed=10)
                model.forward(X, y, mode='train')
                once = {k: np.copy(v) for k, v in model.gradients.items()}
                model.forward(np.concatenate([X, X]), np.concatenate([y, y]), mode='train')
                for k, v in once.items():
                    np.testing.assert_allclose(
                        model.gradients[k], v, rtol=1e-10, atol=1e-14,
                        err_msg=f"{name}: gradients['{k}'] changed when the batch was "
                                f"doubled; divide by the batch size")


if __name__ == '__main__':
    unittest.main()
