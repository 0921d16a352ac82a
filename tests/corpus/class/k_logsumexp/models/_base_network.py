"""Pieces every model shares: activations, softmax, cross-entropy loss, accuracy.

Shapes used throughout: N examples per batch, D input features (784 for MNIST),
H hidden units, C classes (10 for MNIST). Functions keep the floating dtype of
their input (float32 in, float32 out; float64 in, float64 out).
"""
import numpy as np


def logsumexp_rows(a):
    """log(sum(exp(a), axis=1)) for each row of a (N, C), keepdims, without overflow."""
    top = a.max(axis=1, keepdims=True)
    return top + np.log(np.exp(a - top).sum(axis=1, keepdims=True))


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
        prob = None
        #----------------------------------------------------------------------------
        # TODO: Turn each row of logits into a probability distribution,
        #   prob[i, j] = exp(scores[i, j]) / sum_k exp(scores[i, k]); shape (N, C),
        #   the dtype of scores.
        #   Pitfall: exp overflows to inf above about 709 in float64 (88 in float32),
        #   and inf / inf is nan. The rows must stay finite and sum to 1 for logits
        #   of +-1e4, so the formula cannot be evaluated as it is written here.
        #----------------------------------------------------------------------------
        prob = np.exp(scores - logsumexp_rows(scores))
        #----------------------------- END OF YOUR CODE -----------------------------
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
        loss = None
        #----------------------------------------------------------------------------
        # TODO: The loss is the mean over the batch of -log x_pred[i, y[i]], the
        #   probability predicted for each example's true class; return a float.
        #   Pitfall: a predicted probability can be exactly 0 (exp underflows in the
        #   softmax), and log(0) is -inf. The loss must stay finite (large, but a
        #   number) when that happens.
        #----------------------------------------------------------------------------
        picked = x_pred[np.arange(len(x_pred)), y]
        smallest = np.finfo(picked.dtype).tiny
        loss = float(np.mean(-np.log(np.maximum(picked, smallest))))
        #----------------------------- END OF YOUR CODE -----------------------------
        return loss

    def compute_accuracy(self, x_pred, y):
        """Fraction of examples whose highest-scoring class is the true one.

        Args:
            x_pred: (N, C) float, probabilities or scores.
            y: (N,) int, true classes.

        Returns:
            acc: float in [0, 1].
        """
        acc = None
        #----------------------------------------------------------------------------
        # TODO: The prediction is the argmax of each row; compare it with y and average.
        #----------------------------------------------------------------------------
        acc = np.sum(x_pred.argmax(axis=1) == y) / y.shape[0]
        #----------------------------- END OF YOUR CODE -----------------------------
        return acc

    def sigmoid(self, X):
        """Logistic function 1 / (1 + exp(-X)), elementwise.

        Args:
            X: ndarray of any shape, float.

        Returns:
            out: same shape and dtype, values in [0, 1]; no overflow warning for
                large |X|.
        """
        out = None
        #----------------------------------------------------------------------------
        # TODO: Compute 1 / (1 + exp(-X)) elementwise; same shape and dtype as X.
        #   Pitfall: exp(-X) overflows for very negative X (below about -709 in
        #   float64, -88 in float32). The result must still be right there (values
        #   near 0, never nan) and numpy must print no overflow warning.
        #----------------------------------------------------------------------------
        # exp(-log(1 + exp(-x))): logaddexp never overflows
        out = np.exp(-np.logaddexp(0, -X)).astype(X.dtype, copy=False)
        #----------------------------- END OF YOUR CODE -----------------------------
        return out

    def sigmoid_dev(self, x):
        """Derivative of the sigmoid at x: s(x) * (1 - s(x)), elementwise.

        Args:
            x: ndarray of any shape, float, the sigmoid's input (not its output).

        Returns:
            ds: same shape and dtype.
        """
        ds = None
        #----------------------------------------------------------------------------
        # TODO: Differentiate 1 / (1 + exp(-x)) and write the result in terms of
        #   s = sigmoid(x).
        #----------------------------------------------------------------------------
        sig = self.sigmoid(x)
        ds = sig * (1.0 - sig)
        #----------------------------- END OF YOUR CODE -----------------------------
        return ds

    def ReLU(self, X):
        """Rectified linear unit max(X, 0), elementwise.

        Args:
            X: ndarray of any shape, float.

        Returns:
            out: same shape and dtype.
        """
        out = None
        #----------------------------------------------------------------------------
        # TODO: Keep positive entries, replace the others by 0.
        #----------------------------------------------------------------------------
        out = np.fmax(X, 0)
        #----------------------------- END OF YOUR CODE -----------------------------
        return out

    def ReLU_dev(self, X):
        """Derivative of ReLU: 1 where X > 0, 0 where X < 0.

        At X == 0 the ReLU has no derivative; 0 and 1 are both subgradients and
        either is accepted (this reference returns 0).

        Args:
            X: ndarray of any shape, float, the ReLU's input.

        Returns:
            out: same shape and dtype as X, entries 0 or 1.
        """
        out = None
        #----------------------------------------------------------------------------
        # TODO: 1 where X > 0, 0 where X < 0 (at X == 0 pick 0 or 1), in X's dtype.
        #----------------------------------------------------------------------------
        out = np.greater(X, 0).astype(X.dtype)
        #----------------------------- END OF YOUR CODE -----------------------------
        return out
