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

    def _one_hot(self, y, num_classes):
        # I added this helper myself: both models need the one-hot labels for
        # the softmax/cross-entropy gradient, so it lives in the base class.
        encoded = np.zeros((len(y), num_classes))
        encoded[np.arange(len(y)), y] = 1.0
        return encoded

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
        # First I subtract the biggest score of each row. Softmax does not change
        # when every score of a row moves by the same amount, and this way the
        # biggest exponent is exp(0) = 1, so nothing can overflow to inf.
        biggest = np.max(scores, axis=1, keepdims=True)
        exponentials = np.exp(scores - biggest)
        # Then I divide by the row sums so that every row adds up to 1.
        prob = exponentials / np.sum(exponentials, axis=1, keepdims=True)
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
        # I only need the probability of the correct class in every row. If one
        # of them is exactly 0 the log would be -inf, so I put a very small floor
        # under them before taking the log.
        rows = np.arange(x_pred.shape[0])
        correct_class_probs = np.maximum(x_pred[rows, y], 1e-16)
        # The loss is the mean of the negative logs (mean, not sum!).
        loss = float(np.mean(-np.log(correct_class_probs)))
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
        # The prediction is the class with the highest probability; the accuracy
        # is the fraction of predictions that equal the label.
        predictions = np.argmax(x_pred, axis=1)
        acc = float(np.mean(predictions == y))
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
        # For big negative X, exp(-X) overflows. I use the tanh form instead:
        # sigmoid(x) = (1 + tanh(x / 2)) / 2, which is the same function and never
        # overflows (tanh saturates at +-1).
        out = (1.0 + np.tanh(X / 2.0)) / 2.0
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
        # The derivative of the sigmoid is s * (1 - s) where s = sigmoid(x).
        s = self.sigmoid(x)
        ds = s * (1.0 - s)
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
        # ReLU keeps positive values and turns negative ones into zeros.
        out = np.maximum(X, 0)
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
        # The slope of ReLU is 1 for positive inputs and 0 for the rest (I use 0
        # at exactly 0, as the docstring says).
        out = np.zeros_like(X)
        out[X > 0] = 1
        #----------------------------- END OF YOUR CODE -----------------------------
        return out
