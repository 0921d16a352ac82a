# Do not use packages that are not in standard distribution of python
import numpy as np

from ._base_network import _baseNetwork


class SoftmaxRegression(_baseNetwork):
    def __init__(self, input_size=28 * 28, num_classes=10):
        """
        A single layer softmax regression: a linear layer without bias, then
        ReLU, then softmax.

        :param input_size: the input dimension
        :param num_classes: the number of classes in total
        """
        super().__init__(input_size, num_classes)
        self._weight_init()

    def _weight_init(self):
        """
        Initialise the weights of the linear layer (no bias).
        - W1: weights of shape (input_size, num_classes)
        - its gradient starts at zero

        :return: None
        """
        np.random.seed(1024)
        self.weights['W1'] = 0.001 * np.random.randn(self.input_size, self.num_classes)
        self.gradients['W1'] = np.zeros((self.input_size, self.num_classes))

    def forward(self, X, y, mode='train'):
        """
        Loss, accuracy and (in training mode) the gradient of one batch.
            1) Forward pass: linear layer, ReLU, softmax, cross-entropy loss
            2) Backward pass: the gradient of the loss w.r.t. W1

        :param X: a batch of images (N, input_size)
        :param y: labels of the images in the batch (N,)
        :param mode: 'train' or 'valid'
        :return:
            loss: the loss of the batch
            accuracy: the accuracy of the batch
        """
        loss = None
        gradient = None
        accuracy = None
        #############################################################################
        # TODO:                                                                     #
        #    1) Implement the forward pass and compute the loss and accuracy        #
        #       Hint: keep the output of the linear layer before ReLU for the       #
        #       backward pass                                                       #
        #############################################################################


        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        if mode != 'train':
            return loss, accuracy

        #############################################################################
        # TODO:                                                                     #
        #    1) Implement the backward pass: compute the gradient of the loss       #
        #       w.r.t. W1 and store it in self.gradients                            #
        #############################################################################


        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        return loss, accuracy
