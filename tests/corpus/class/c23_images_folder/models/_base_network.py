""" 		 	  			 	 	  		 
Homework 1 template code: neural networks from scratch on MNIST.

This file is part of the handout. Do not share your completed version
publicly.

-----do not edit anything above this line---
"""

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
        # numerically stable softmax: subtract the row max
        z = scores - np.max(scores, axis=1).reshape((-1, 1))
        numerator = np.exp(z)
        denominator = np.sum(numerator, axis=1).reshape((-1, 1))
        prob = numerator / denominator
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
        # average negative log likelihood of the correct class
        n = x_pred.shape[0]
        loss = -np.sum(np.log(x_pred[np.arange(n), y])) / n
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
        # fraction of rows where the argmax is the label
        acc = np.mean(np.equal(np.argmax(x_pred, axis=1), y))
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
        # stable sigmoid
        out = np.zeros(X.shape)
        pos = X >= 0
        neg = ~pos
        out[pos] = 1.0 / (1.0 + np.exp(-X[pos]))
        out[neg] = np.exp(X[neg]) / (1.0 + np.exp(X[neg]))
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
        # derivative in terms of the sigmoid itself
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
        # max(0, x)
        out = np.maximum(0.0, X)
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
        # 1 for x > 0, 0 otherwise
        out = np.array(X > 0, dtype=np.float64)
        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
        return out
