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


# Every model is tested on its own (no subTest): under pytest a test whose
# subtests all fail still counts as passed.


class TestInitialisation(unittest.TestCase):
    """The given initialisation, and the loss your forward pass gives with it."""

    def test_softmax_regression_starts_seeded_at_loss_log_10(self):
        model = SoftmaxRegression()
        np.random.seed(1024)
        expected = 0.001 * np.random.randn(784, 10)
        self.assertEqual(set(model.weights), {'W1'})
        np.testing.assert_array_equal(model.weights['W1'], expected)
        check_initial_loss(self, 'SoftmaxRegression', model)

    def test_two_layer_net_starts_seeded_at_loss_log_10(self):
        model = TwoLayerNet(hidden_size=32)
        self.assertEqual(set(model.weights), {'W1', 'b1', 'W2', 'b2'})
        np.random.seed(1024)
        np.testing.assert_array_equal(model.weights['W1'], 0.001 * np.random.randn(784, 32))
        np.random.seed(1024)
        np.testing.assert_array_equal(model.weights['W2'], 0.001 * np.random.randn(32, 10))
        np.testing.assert_array_equal(model.weights['b1'], np.zeros(32))
        np.testing.assert_array_equal(model.weights['b2'], np.zeros(10))
        check_initial_loss(self, 'TwoLayerNet', model)


def check_initial_loss(test, name, model):
    # Tiny initial weights make every class about equally likely.
    X, y = _support.small_problem(seed=1, d=784, c=10)
    loss, _ = model.forward(X, y, mode='valid')
    test.assertAlmostEqual(loss, np.log(10), delta=0.05,
                           msg=f"{name}: initial loss should be near log(10)")


class TestForward(unittest.TestCase):
    def check_loss_and_accuracy(self, name):
        X, y = _support.small_problem(seed=3)
        model = MODELS[name]()
        _support.randomize_weights(model, seed=4)
        loss, accuracy = model.forward(X, y, mode='valid')
        self.assertAlmostEqual(loss, EXPECTED[name][0], places=10, msg=f"{name}: loss")
        self.assertAlmostEqual(accuracy, EXPECTED[name][1], places=12, msg=f"{name}: accuracy")

    def test_loss_and_accuracy_softmax_regression(self):
        self.check_loss_and_accuracy('SoftmaxRegression')

    def test_loss_and_accuracy_two_layer_net(self):
        self.check_loss_and_accuracy('TwoLayerNet')

    def check_only_train_mode_fills_gradients(self, name):
        X, y = _support.small_problem(seed=5)
        model = MODELS[name]()
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
                             f"{name}: forward(mode='train') did not set gradients['{k}']")

    def test_only_train_mode_fills_gradients_softmax_regression(self):
        self.check_only_train_mode_fills_gradients('SoftmaxRegression')

    def test_only_train_mode_fills_gradients_two_layer_net(self):
        self.check_only_train_mode_fills_gradients('TwoLayerNet')


class TestGradients(unittest.TestCase):
    def check_central_differences(self, name):
        X, y = _support.small_problem(seed=7)
        model = MODELS[name]()
        _support.randomize_weights(model, seed=8)
        reports = check_model_gradients(model, X, y).values()
        wrong = [f"{name}: {report}" for report in reports
                 if not report.rel_error < _support.GRAD_TOLERANCE]
        if wrong:
            self.fail(f"gradients off by more than {_support.GRAD_TOLERANCE} (relative):\n"
                      + "\n".join(wrong))

    def test_gradients_match_central_differences_softmax_regression(self):
        self.check_central_differences('SoftmaxRegression')

    def test_gradients_match_central_differences_two_layer_net(self):
        self.check_central_differences('TwoLayerNet')

    def check_averaged_over_the_batch(self, name):
        # The same examples twice: the mean loss, hence its gradient, is unchanged.
        X, y = _support.small_problem(seed=9)
        model = MODELS[name]()
        _support.randomize_weights(model, seed=10)
        model.forward(X, y, mode='train')
        once = {k: np.copy(v) for k, v in model.gradients.items()}
        model.forward(np.concatenate([X, X]), np.concatenate([y, y]), mode='train')
        for k, v in once.items():
            np.testing.assert_allclose(
                model.gradients[k], v, rtol=1e-10, atol=1e-14,
                err_msg=f"{name}: gradients['{k}'] changed when the batch was "
                        f"doubled; divide by the batch size")

    def test_gradients_are_averaged_over_the_batch_softmax_regression(self):
        self.check_averaged_over_the_batch('SoftmaxRegression')

    def test_gradients_are_averaged_over_the_batch_two_layer_net(self):
        self.check_averaged_over_the_batch('TwoLayerNet')


if __name__ == '__main__':
    unittest.main()
