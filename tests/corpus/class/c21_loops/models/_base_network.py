# Do not use packages that are not in standard distribution of python
import numpy as np


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
        prob = np.zeros_like(scores, dtype=float)
        for i in range(scores.shape[0]):
            row = scores[i] - np.max(scores[i])
            prob[i] = np.exp(row) / np.sum(np.exp(row))
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
        total = 0.0
        for i in range(len(y)):
            total += -np.log(x_pred[i][y[i]])
        loss = total / len(y)
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
        correct = 0
        for i in range(len(y)):
            if np.argmax(x_pred[i]) == y[i]:
                correct += 1
        acc = correct / len(y)
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
        out = np.zeros_like(X, dtype=float)
        for i in range(X.shape[0]):
            # one row at a time; exp of a non-positive number never overflows
            e = np.exp(-np.abs(X[i]))
            out[i] = np.where(X[i] >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
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
        ds = self.sigmoid(x) * (1.0 - self.sigmoid(x))
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
        out = X * (X > 0)
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
        out = np.zeros_like(X, dtype=float)
        out[X > 0] = 1.0
        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        return out
