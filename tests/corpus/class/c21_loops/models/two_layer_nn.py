# Do not use packages that are not in standard distribution of python
import numpy as np

np.random.seed(1024)
from ._base_network import _baseNetwork


class TwoLayerNet(_baseNetwork):
    def __init__(self, input_size=28 * 28, num_classes=10, hidden_size=128):
        super().__init__(input_size, num_classes)

        self.hidden_size = hidden_size
        self._weight_init()

    def _weight_init(self):
        """
        Initialise the weights of the network.
        - W1: (input_size, hidden_size), b1: (hidden_size,)
        - W2: (hidden_size, num_classes), b2: (num_classes,)

        :return: None; self.weights and self.gradients are filled
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
        The forward pass of the two-layer net: a linear layer, a sigmoid, a
        second linear layer and a softmax, then the cross-entropy loss.
        In training mode, also the gradients of every weight and bias.

        :param X: a batch of images (N, input_size)
        :param y: labels of the images in the batch (N,)
        :param mode: if mode is training, compute and store the gradients;
                     else, just return the loss and accuracy
        :return:
            loss: the loss of the batch
            accuracy: the accuracy of the batch
            (the gradients are stored in self.gradients, not returned)
        """
        loss = None
        accuracy = None
        #############################################################################
        # TODO:                                                                     #
        #    1) Implement the forward pass and compute the loss and accuracy        #
        #############################################################################
        hidden_in = np.dot(X, self.weights['W1']) + self.weights['b1']
        hidden = self.sigmoid(hidden_in)
        scores = np.dot(hidden, self.weights['W2']) + self.weights['b2']
        probs = self.softmax(scores)
        loss = self.cross_entropy_loss(probs, y)
        accuracy = self.compute_accuracy(probs, y)
        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################

        #############################################################################
        # TODO:                                                                     #
        #    1) Implement the backward pass: the gradients of W2 and b2 first,      #
        #       then of W1 and b1; store them in self.gradients                     #
        #############################################################################
        # one image at a time, then the average over the batch
        n = X.shape[0]
        gW1 = np.zeros_like(self.weights['W1'])
        gb1 = np.zeros_like(self.weights['b1'])
        gW2 = np.zeros_like(self.weights['W2'])
        gb2 = np.zeros_like(self.weights['b2'])
        slopes = self.sigmoid_dev(hidden_in)   # sigmoid'(hidden_in) of every image at once
        for i in range(n):
            d_scores = probs[i].copy()
            d_scores[y[i]] -= 1
            gW2 += np.outer(hidden[i], d_scores)
            gb2 += d_scores
            d_hidden = np.dot(self.weights['W2'], d_scores) * slopes[i]
            gW1 += np.outer(X[i], d_hidden)
            gb1 += d_hidden
        self.gradients['W1'] = gW1 / n
        self.gradients['b1'] = gb1 / n
        self.gradients['W2'] = gW2 / n
        self.gradients['b2'] = gb2 / n
        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        return loss, accuracy
