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


        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################

        #############################################################################
        # TODO:                                                                     #
        #    1) Implement the backward pass: the gradients of W2 and b2 first,      #
        #       then of W1 and b1; store them in self.gradients                     #
        #############################################################################


        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        return loss, accuracy
