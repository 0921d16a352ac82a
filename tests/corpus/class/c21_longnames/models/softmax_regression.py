# Do not use packages that are not in standard distribution of python
import numpy as np

from ._base_network import _baseNetwork


def one_hot_encode(labels, number_of_classes):
    """A (len(labels), number_of_classes) matrix with a single 1 per row."""
    encoded_labels = np.zeros((len(labels), number_of_classes))
    encoded_labels[np.arange(len(labels)), labels] = 1.0
    return encoded_labels


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
        # linear layer (no bias) -> ReLU -> softmax
        linear_layer_output = np.matmul(X, self.weights['W1'])
        relu_output = self.ReLU(linear_layer_output)
        predicted_probabilities = self.softmax(relu_output)
        loss = self.cross_entropy_loss(predicted_probabilities, y)
        accuracy = self.compute_accuracy(predicted_probabilities, y)
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
        # Gradient of the mean cross-entropy w.r.t. the softmax input is
        # (probabilities - one hot labels) / batch size; the ReLU lets it through
        # only where the linear output was positive.
        batch_size = X.shape[0]
        gradient_wrt_relu_output = (predicted_probabilities - one_hot_encode(y, self.num_classes)) / batch_size
        gradient_wrt_linear_output = gradient_wrt_relu_output * self.ReLU_dev(linear_layer_output)
        self.gradients['W1'] = np.matmul(X.T, gradient_wrt_linear_output)
        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        return loss, accuracy
