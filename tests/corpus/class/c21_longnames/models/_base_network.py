# Do not use packages that are not in standard distribution of python
import numpy as np


def exponentials_shifted_by_row_maximum(raw_scores):
    """exp(scores - max of the row): the largest entry of every row becomes exp(0) = 1."""
    row_maximum = np.max(raw_scores, axis=1, keepdims=True)
    return np.exp(raw_scores - row_maximum)


class _baseNetwork:
    def __init__(self, input_size=28 * 28, num_classes=10):

        self.input_size = input_size
        self.num_classes = num_classes

        self.weights = dict()
        self.gradients = dict()

    def _weight_init(self):
        pass

    def forward(self):
        pass

    def softmax(self, scores):
        """
        Softmax probabilities of the raw scores of a batch.

        :param scores: raw scores from the model (N, num_classes)
        :return:
            prob: softmax probabilities (N, num_classes)
        """
        prob = None
        #############################################################################
        # TODO:                                                                     #
        #    1) Turn the scores of each image into probabilities that sum to 1      #
        #############################################################################
        # Shifting every row by its own maximum does not change the softmax but keeps
        # np.exp from overflowing when the scores are large.
        shifted_exponentials = exponentials_shifted_by_row_maximum(scores)
        normalising_constants = np.sum(shifted_exponentials, axis=1, keepdims=True)
        prob = shifted_exponentials / normalising_constants
        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        return prob

    def cross_entropy_loss(self, x_pred, y):
        """
        Cross-entropy loss of the predictions against the labels.

        :param x_pred: probabilities from the model (N, num_classes)
        :param y: labels of the instances in the batch (N,)
        :return: the loss averaged over the batch
        """
        loss = None
        #############################################################################
        # TODO:                                                                     #
        #    1) Compute the cross-entropy loss of each image, then average them     #
        #############################################################################
        # Pick the probability that the model gave to the correct class of each
        # image, take the negative log of it, and average over the batch. The tiny
        # floor keeps the log finite if a probability underflowed to zero.
        number_of_images = x_pred.shape[0]
        probability_of_correct_class = x_pred[np.arange(number_of_images), y]
        loss = -np.mean(np.log(np.maximum(probability_of_correct_class, 1e-300)))
        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        return loss

    def compute_accuracy(self, x_pred, y):
        """
        Accuracy of the predictions on the batch.

        :param x_pred: probabilities from the model (N, num_classes)
        :param y: labels of the instances in the batch (N,)
        :return: the accuracy of the batch
        """
        acc = None
        #############################################################################
        # TODO:                                                                     #
        #    1) Compare the predicted class of each image with its label            #
        #############################################################################
        # The predicted class is the column with the highest probability.
        predicted_classes = np.argmax(x_pred, axis=1)
        acc = np.sum(predicted_classes == y) / len(y)
        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        return acc

    def sigmoid(self, X):
        """
        Sigmoid of every entry of X.

        :param X: an input array of any shape
        :return:
            out: sigmoid(X), the same shape as X
        """
        out = None
        #############################################################################
        # TODO:                                                                     #
        #    Compute the sigmoid                                                    #
        #############################################################################
        # exp(-logaddexp(0, -X)) is 1 / (1 + exp(-X)) without any overflow.
        out = np.exp(-np.logaddexp(0, -X))
        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        return out

    def sigmoid_dev(self, x):
        """
        Derivative of the sigmoid at x.

        :param x: an input array of any shape
        :return: the derivative of sigmoid(x), the same shape as x
        """
        ds = None
        #############################################################################
        # TODO:                                                                     #
        #    Compute the derivative of the sigmoid                                  #
        #############################################################################
        # d/dx sigmoid(x) = sigmoid(x) * (1 - sigmoid(x))
        sigmoid_of_x = self.sigmoid(x)
        ds = sigmoid_of_x * (1 - sigmoid_of_x)
        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        return ds

    def ReLU(self, X):
        """
        Rectified linear unit of every entry of X.

        :param X: an input array of any shape
        :return:
            out: ReLU(X), the same shape as X
        """
        out = None
        #############################################################################
        # TODO:                                                                     #
        #    Compute the ReLU                                                       #
        #############################################################################
        # Negative entries become zero, positive entries stay as they are.
        out = np.where(X > 0, X, 0.0)
        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        return out

    def ReLU_dev(self, X):
        """
        Derivative of the rectified linear unit at X.

        :param X: an input array of any shape
        :return:
            out: the derivative of ReLU(X), the same shape as X
        """
        out = None
        #############################################################################
        # TODO:                                                                     #
        #    Compute the derivative of the ReLU                                     #
        #############################################################################
        # The slope is 1 where the input is positive and 0 elsewhere.
        out = np.where(X > 0, 1.0, 0.0)
        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        return out
