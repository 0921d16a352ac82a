# Shared building blocks of the two MNIST classifiers (numpy only).
import numpy as np

# Smallest positive normal double: the floor a probability is raised to before
# its log is taken, so a probability that underflowed to 0 gives a finite loss.
_PROB_FLOOR = np.finfo(np.float64).tiny


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
        Row-wise softmax of raw scores.
        :param scores: raw scores from the model (N, num_classes)
        :return: prob: softmax probabilities (N, num_classes), each row sums to 1
        """
        # Each row is shifted by its own maximum: the result is unchanged and
        # the largest exponent in every row is exp(0) = 1, so nothing overflows.
        row_max = np.max(scores, axis=1, keepdims=True)
        exp_scores = np.exp(scores - row_max)
        prob = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        return prob

    def cross_entropy_loss(self, x_pred, y):
        """
        Mean negative log-likelihood of the true classes.
        :param x_pred: probabilities (N, num_classes)
        :param y: integer labels (N,)
        :return: the average cross-entropy over the batch
        """
        n = x_pred.shape[0]
        p_true = x_pred[np.arange(n), y]
        p_true = np.maximum(p_true, _PROB_FLOOR)
        loss = -np.mean(np.log(p_true))
        return loss

    def compute_accuracy(self, x_pred, y):
        """
        Fraction of rows whose arg-max matches the label.
        :param x_pred: probabilities or scores (N, num_classes)
        :param y: integer labels (N,)
        :return: accuracy in [0, 1]
        """
        predicted = np.argmax(x_pred, axis=1)
        acc = np.mean(predicted == y)
        return acc

    def sigmoid(self, X):
        """
        Logistic function, element-wise.
        :param X: any array
        :return: out: 1 / (1 + exp(-X)), same shape as X
        """
        # 0.5 * (1 + tanh(x / 2)) is the same function and never overflows.
        out = 0.5 * (1.0 + np.tanh(0.5 * X))
        return out

    def sigmoid_dev(self, x):
        """
        Derivative of the logistic function at x.
        :param x: any array
        :return: ds: sigmoid(x) * (1 - sigmoid(x))
        """
        s = self.sigmoid(x)
        ds = s * (1.0 - s)
        return ds

    def ReLU(self, X):
        """
        Rectified linear unit, element-wise.
        :param X: any array
        :return: out: max(X, 0)
        """
        out = np.maximum(X, 0)
        return out

    def ReLU_dev(self, X):
        """
        Derivative of ReLU: 1 where X > 0, else 0 (0 is used at X == 0).
        :param X: any array
        :return: out: array of 0.0 / 1.0, same shape as X
        """
        out = (X > 0).astype(np.float64)
        return out
