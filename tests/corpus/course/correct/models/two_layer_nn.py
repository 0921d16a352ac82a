# Two-layer perceptron: linear + bias, sigmoid, linear + bias, softmax.
import numpy as np

from ._base_network import _baseNetwork

# The course module seeds numpy's global generator when it is imported.
np.random.seed(1024)


class TwoLayerNet(_baseNetwork):
    def __init__(self, input_size=28 * 28, num_classes=10, hidden_size=128):
        super().__init__(input_size, num_classes)

        self.hidden_size = hidden_size
        self._weight_init()

    def _weight_init(self):
        """
        b1 (hidden_size,) and b2 (num_classes,) start at 0; W1 (input_size,
        hidden_size) and W2 (hidden_size, num_classes) are N(0, 1) draws scaled
        by 0.001, numpy's global generator being re-seeded with 1024 before
        each of them. Every gradient starts at 0.
        """
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
        """
        Loss and accuracy of a batch; in 'train' mode also every gradient.
        :param X: a batch of images (N, input_size)
        :param y: labels of the images (N,)
        :param mode: 'train' stores gradients in self.gradients; anything else
                     only evaluates
        :return: loss, accuracy (gradients go to self.gradients)
        """
        W1, b1 = self.weights['W1'], self.weights['b1']
        W2, b2 = self.weights['W2'], self.weights['b2']

        a1 = X @ W1 + b1                    # (N, H) hidden pre-activation
        h1 = self.sigmoid(a1)               # (N, H)
        scores = h1 @ W2 + b2               # (N, C)
        prob = self.softmax(scores)
        loss = self.cross_entropy_loss(prob, y)
        accuracy = self.compute_accuracy(prob, y)

        if mode != 'train':
            return loss, accuracy

        n = X.shape[0]
        d_scores = prob.copy()              # dL/dscores of the batch-mean loss
        d_scores[np.arange(n), y] -= 1.0
        d_scores /= n

        self.gradients['W2'] = h1.T @ d_scores
        self.gradients['b2'] = d_scores.sum(axis=0)
        d_h1 = d_scores @ W2.T
        d_a1 = d_h1 * self.sigmoid_dev(a1)
        self.gradients['W1'] = X.T @ d_a1
        self.gradients['b1'] = d_a1.sum(axis=0)

        return loss, accuracy
