"""Softmax regression: one linear layer, a ReLU, then softmax and cross-entropy."""
import numpy as np

from ._base_network import _baseNetwork


class SoftmaxRegression(_baseNetwork):
    """Scores X W1 -> ReLU -> softmax -> cross-entropy. One weight matrix, no bias.

    weights['W1']: (D, C) float64, initialised as 0.001 * N(0, 1) after
    np.random.seed(1024), so every run starts from the same point.
    """

    def __init__(self, input_size=28 * 28, num_classes=10):
        super().__init__(input_size, num_classes)
        self._weight_init()

    def _weight_init(self):
        np.random.seed(1024)
        self.weights['W1'] = 0.001 * np.random.randn(self.input_size, self.num_classes)
        self.gradients['W1'] = np.zeros((self.input_size, self.num_classes))

    def forward(self, X, y, mode='train'):
        """Loss and accuracy of one batch; in 'train' mode also the gradient.

        Args:
            X: (N, D) float, one example per row.
            y: (N,) int, true classes in [0, C).
            mode: 'train' fills self.gradients['W1'] with d(loss)/d(W1), (D, C),
                averaged over the batch; any other mode leaves gradients alone.

        Returns:
            loss: float, mean cross-entropy over the batch.
            accuracy: float in [0, 1].
        """
        # BEGIN SOLUTION
        # TODO: Forward pass: the scores X W1 (N, C), their ReLU, and the softmax of
        #   that (N, C); then the loss (mean cross-entropy over the batch) and the
        #   accuracy, with the methods of _baseNetwork.
        #   Backward pass, in 'train' mode only: the gradient of that loss with
        #   respect to W1, shape (D, C), averaged over the batch. ASSIGN it to
        #   self.gradients['W1'] on every call (never add to the old value). Leave the
        #   L2 penalty out: the optimizer adds it. Derive it with the chain rule,
        #   from the loss back through the softmax (your written problem 2.4) and
        #   then through the ReLU, and test it with gradcheck.check_model_gradients.
        X = np.asarray(X)
        # Compute in the input's precision: float32 data trains at float32 speed,
        # float64 data (gradient checks) stays exact.
        dtype = np.result_type(X.dtype, np.float32)
        W1 = self.weights['W1'].astype(dtype, copy=False)
        Z = X @ W1
        P = self.softmax(self.ReLU(Z))
        loss = self.cross_entropy_loss(P, y)
        accuracy = self.compute_accuracy(P, y)
        if mode != 'train':
            return loss, accuracy
        n = X.shape[0]
        dA = P
        dA[np.arange(n), y] -= 1
        dA /= n
        dA *= self.ReLU_dev(Z)
        self.gradients['W1'] = X.T @ dA
        # END SOLUTION
        return loss, accuracy
