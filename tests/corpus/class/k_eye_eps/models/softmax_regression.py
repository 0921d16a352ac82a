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
        loss = None
        accuracy = None
        #----------------------------------------------------------------------------
        # TODO: Forward pass: the scores X W1 (N, C), their ReLU, and the softmax of
        #   that (N, C); then the loss (mean cross-entropy over the batch) and the
        #   accuracy, with the methods of _baseNetwork.
        #   Backward pass, in 'train' mode only: the gradient of that loss with
        #   respect to W1, shape (D, C), averaged over the batch. ASSIGN it to
        #   self.gradients['W1'] on every call (never add to the old value). Leave the
        #   L2 penalty out: the optimizer adds it. Derive it with the chain rule,
        #   from the loss back through the softmax (your written problem 2.4) and
        #   then through the ReLU, and test it with gradcheck.check_model_gradients.
        #----------------------------------------------------------------------------
        assert X.shape[1] == self.weights['W1'].shape[0]
        scores = X @ self.weights['W1']
        prob = self.softmax(self.ReLU(scores))
        loss = self.cross_entropy_loss(prob, y)
        accuracy = self.compute_accuracy(prob, y)
        if mode == 'train':
            targets = np.eye(self.num_classes)[y]
            d_scores = (prob - targets) / len(y) * self.ReLU_dev(scores)
            self.gradients['W1'] = X.T @ d_scores
            assert self.gradients['W1'].shape == self.weights['W1'].shape
        #----------------------------- END OF YOUR CODE -----------------------------
        return loss, accuracy
