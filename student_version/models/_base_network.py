"""Pieces every model shares: activations, softmax, cross-entropy loss, accuracy.

Shapes used throughout: N examples per batch, D input features (784 for MNIST),
H hidden units, C classes (10 for MNIST). Functions keep the floating dtype of
their input (float32 in, float32 out; float64 in, float64 out).
"""
import numpy as np


class _baseNetwork:
    """Base class of the models.

    Attributes:
        input_size: int, D, features per example.
        num_classes: int, C.
        weights: dict name -> ndarray, the learnable parameters.
        gradients: dict name -> ndarray, d(loss)/d(parameter) from the last
            forward pass in 'train' mode; same names and shapes as `weights`.
    """

    def __init__(self, input_size=28 * 28, num_classes=10):
        self.input_size = input_size
        self.num_classes = num_classes
        self.weights = dict()
        self.gradients = dict()

    def _weight_init(self):
        pass

    def forward(self, X, y, mode='train'):
        """Loss and accuracy of a batch; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def softmax(self, scores):
        """Row-wise softmax.

        Args:
            scores: (N, C) float, one row of logits per example.

        Returns:
            prob: (N, C) float, same dtype; every row is a probability
                distribution. Finite even for logits of +-1e4.
        """
        #----------------------------------------------------------------------------
        # TODO: Turn each row of logits into probabilities: exp(s_j) / sum_k exp(s_k).
        #   exp overflows for logits above ~709 (float64) or ~88 (float32): subtract
        #   each row's maximum first. The result is unchanged, since softmax(s) equals
        #   softmax(s - c) for any constant c added to a whole row.
        #----------------------------------------------------------------------------
        raise NotImplementedError(
            "_baseNetwork.softmax is not implemented yet: see the TODO in models/_base_network.py")
        return prob

    def cross_entropy_loss(self, x_pred, y):
        """Mean negative log-likelihood of the true classes.

        Args:
            x_pred: (N, C) float, predicted probabilities (rows sum to 1).
            y: (N,) int, true class of each example, in [0, C).

        Returns:
            loss: float, mean over the batch of -log x_pred[i, y[i]]. Finite when
                a predicted probability is exactly 0.
        """
        #----------------------------------------------------------------------------
        # TODO: Pick each example's probability of its true class, take -log, average
        #   over the batch. log(0) is -inf: clip the probabilities from below by a tiny
        #   positive number (np.finfo(dtype).tiny) so the loss stays finite.
        #----------------------------------------------------------------------------
        raise NotImplementedError(
            "_baseNetwork.cross_entropy_loss is not implemented yet: see the TODO in models/_base_network.py")
        return loss

    def compute_accuracy(self, x_pred, y):
        """Fraction of examples whose highest-scoring class is the true one.

        Args:
            x_pred: (N, C) float, probabilities or scores.
            y: (N,) int, true classes.

        Returns:
            acc: float in [0, 1].
        """
        #----------------------------------------------------------------------------
        # TODO: The prediction is the argmax of each row; compare it with y and average.
        #----------------------------------------------------------------------------
        raise NotImplementedError(
            "_baseNetwork.compute_accuracy is not implemented yet: see the TODO in models/_base_network.py")
        return acc

    def sigmoid(self, X):
        """Logistic function 1 / (1 + exp(-X)), elementwise.

        Args:
            X: ndarray of any shape, float.

        Returns:
            out: same shape and dtype, values in [0, 1]; no overflow warning for
                large |X|.
        """
        #----------------------------------------------------------------------------
        # TODO: Compute 1 / (1 + exp(-X)) without an overflow warning: exp(-X) is inf
        #   for very negative X (below about -709 in float64, -88 in float32). The
        #   formula still gives the right answer there, 1 / (1 + inf) = 0, so it is
        #   enough to silence the warning with np.errstate(over='ignore'). (The
        #   identity sigmoid(x) = (1 + tanh(x/2)) / 2 also works, but tanh is slower.)
        #----------------------------------------------------------------------------
        raise NotImplementedError(
            "_baseNetwork.sigmoid is not implemented yet: see the TODO in models/_base_network.py")
        return out

    def sigmoid_dev(self, x):
        """Derivative of the sigmoid at x: s(x) * (1 - s(x)), elementwise.

        Args:
            x: ndarray of any shape, float, the sigmoid's input (not its output).

        Returns:
            ds: same shape and dtype.
        """
        #----------------------------------------------------------------------------
        # TODO: Differentiate 1 / (1 + exp(-x)) and write the result in terms of
        #   s = sigmoid(x).
        #----------------------------------------------------------------------------
        raise NotImplementedError(
            "_baseNetwork.sigmoid_dev is not implemented yet: see the TODO in models/_base_network.py")
        return ds

    def ReLU(self, X):
        """Rectified linear unit max(X, 0), elementwise.

        Args:
            X: ndarray of any shape, float.

        Returns:
            out: same shape and dtype.
        """
        #----------------------------------------------------------------------------
        # TODO: Keep positive entries, replace the others by 0.
        #----------------------------------------------------------------------------
        raise NotImplementedError(
            "_baseNetwork.ReLU is not implemented yet: see the TODO in models/_base_network.py")
        return out

    def ReLU_dev(self, X):
        """Derivative of ReLU: 1 where X > 0, else 0 (0 at X == 0 by convention).

        Args:
            X: ndarray of any shape, float, the ReLU's input.

        Returns:
            out: same shape and dtype as X, entries 0 or 1.
        """
        #----------------------------------------------------------------------------
        # TODO: 1 where X > 0, 0 elsewhere, in X's dtype.
        #----------------------------------------------------------------------------
        raise NotImplementedError(
            "_baseNetwork.ReLU_dev is not implemented yet: see the TODO in models/_base_network.py")
        return out
