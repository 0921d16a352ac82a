"""Two-layer network: affine, sigmoid, affine, then softmax and cross-entropy."""
import numpy as np

from ._base_network import _baseNetwork


class TwoLayerNet(_baseNetwork):
    """X W1 + b1 -> sigmoid -> (.) W2 + b2 -> softmax -> cross-entropy.

    weights: 'W1' (D, H), 'b1' (H,), 'W2' (H, C), 'b2' (C,), all float64. The
    biases start at zero; W1 and W2 are 0.001 * N(0, 1), each drawn right after
    np.random.seed(1024) so every run starts from the same point.
    """

    def __init__(self, input_size=28 * 28, num_classes=10, hidden_size=128):
        super().__init__(input_size, num_classes)
        self.hidden_size = hidden_size
        self._weight_init()

    def _weight_init(self):
        self.weights['b1'] = np.zeros(self.hidden_size)
        self.weights['b2'] = np.zeros(self.num_classes)
        np.random.seed(1024)
        self.weights['W1'] = 0.001 * np.random.randn(self.input_size, self.hidden_size)
        np.random.seed(1024)
        self.weights['W2'] = 0.001 * np.random.randn(self.hidden_size, self.num_classes)

        self.gradients['W1'] = np.zeros((self.input_size, self.hidden_size))
        self.gradients['b1'] = np.zeros(self.hidden_size)
        self.gradients['W2'] = np.zeros((self.hidden_size, self.num_classes))
        self.gradients['b2'] = np.zeros(self.num_classes)

    def forward(self, X, y, mode='train'):
        """Loss and accuracy of one batch; in 'train' mode also the gradients.

        Args:
            X: (N, D) float, one example per row.
            y: (N,) int, true classes in [0, C).
            mode: 'train' fills self.gradients with d(loss)/d(parameter) for
                'W1' (D, H), 'b1' (H,), 'W2' (H, C), 'b2' (C,), each averaged over
                the batch; any other mode leaves gradients alone.

        Returns:
            loss: float, mean cross-entropy over the batch.
            accuracy: float in [0, 1].
        """
        loss = None
        accuracy = None
        #----------------------------------------------------------------------------
        # TODO: Forward pass: the hidden layer's sigmoid of X W1 + b1 (N, H), the
        #   scores of the output layer from it with W2 and b2 (N, C), and their
        #   softmax; then the loss (mean cross-entropy over the batch) and the
        #   accuracy, with the methods of _baseNetwork.
        #   Backward pass, in 'train' mode only: the gradients of that loss with
        #   respect to W1 (D, H), b1 (H,), W2 (H, C) and b2 (C,), each averaged over
        #   the batch and shaped like its parameter. ASSIGN each to
        #   self.gradients[name] on every call (never add to the old value). Leave
        #   the L2 penalty out: the optimizer adds it. Derive them with the chain
        #   rule, from the loss back through each layer, keeping what the forward
        #   pass computed; test them with gradcheck.check_model_gradients.
        #----------------------------------------------------------------------------
        a = X @ self.weights['W1'] + self.weights['b1']
        h = self.sigmoid(a)
        prob = self.softmax(h @ self.weights['W2'] + self.weights['b2'])
        loss = self.cross_entropy_loss(prob, y)
        accuracy = self.compute_accuracy(prob, y)
        if mode == 'train':
            grads = {name: np.zeros_like(w) for name, w in self.weights.items()}
            slope = self.sigmoid_dev(a)
            for i in range(X.shape[0]):          # one example at a time
                d2 = prob[i].copy()
                d2[y[i]] -= 1
                grads['W2'] += np.outer(h[i], d2)
                grads['b2'] += d2
                d1 = (self.weights['W2'] @ d2) * slope[i]
                grads['W1'] += np.outer(X[i], d1)
                grads['b1'] += d1
            for name in grads:
                self.gradients[name] = grads[name] / X.shape[0]
        #----------------------------- END OF YOUR CODE -----------------------------
        return loss, accuracy
