# Shared building blocks of the two MNIST classifiers, Fall 2025 layout:
# shapes are written as jaxtyping annotations.
import numpy as np
from jaxtyping import Float, Int  # type: ignore


class _baseNetwork:
    def __init__(self, input_size=28 * 28, num_classes=10):
        self.input_size = input_size
        self.num_classes = num_classes

        self.weights = dict()
        self.gradients = dict()

    def _weight_init(self):
        pass

    def forward(self, X, y, mode="train") -> tuple[float, float]:
        raise NotImplementedError("forward is defined by each model")

    def softmax(
        self, scores: Float[np.ndarray, "batch_size num_classes"]
    ) -> Float[np.ndarray, "batch_size num_classes"]:
        """
        Softmax of the raw scores, one row per example, computed in the
        numerically stable way.

        :param scores: raw scores (batch_size, num_classes)
        :return:
            prob: probabilities (batch_size, num_classes)
        """
        prob = None
        ### TODO: BEGIN SOLUTION ###
        raise NotImplementedError('TODO: Implement this function')
        ### END SOLUTION ###
        return prob

    def cross_entropy_loss(
        self,
        probs: Float[np.ndarray, "batch_size num_classes"],
        y: Int[np.ndarray, "batch_size"],
    ) -> float:
        """
        Cross-entropy of the predicted probabilities against the labels,
        averaged over the batch. The input is probabilities, not logits.

        :param probs: predicted probabilities (batch_size, num_classes)
        :param y: labels (batch_size,)
        :return: the mean loss of the batch
        """
        loss = None
        ### TODO: BEGIN SOLUTION ###
        raise NotImplementedError('TODO: Implement this function')
        ### END SOLUTION ###
        return loss

    def compute_accuracy(
        self, probs: Float[np.ndarray, "N num_classes"], y: Int[np.ndarray, "N"]
    ) -> float:
        """
        Fraction of the batch whose most probable class is the label.

        :param probs: predicted probabilities (N, num_classes)
        :param y: labels (N,)
        :return: the accuracy of the batch
        """
        accuracy = None
        ### TODO: BEGIN SOLUTION ###
        raise NotImplementedError('TODO: Implement this function')
        ### END SOLUTION ###
        return accuracy

    def sigmoid(self, x: Float[np.ndarray, "..."]) -> Float[np.ndarray, "..."]:
        """
        Logistic function of every entry.

        :param x: an array of any shape
        :return:
            out: sigmoid(x), the shape of x
        """
        out = None
        ### TODO: BEGIN SOLUTION ###
        raise NotImplementedError('TODO: Implement this function')
        ### END SOLUTION ###
        return out

    def sigmoid_dev(self, x: Float[np.ndarray, "..."]) -> Float[np.ndarray, "..."]:
        """
        Derivative of the logistic function at x.

        :param x: an array of any shape
        :return: sigmoid'(x), the shape of x
        """
        out = None
        ### TODO: BEGIN SOLUTION ###
        raise NotImplementedError('TODO: Implement this function')
        ### END SOLUTION ###
        return out

    def ReLU(self, x: Float[np.ndarray, "..."]) -> Float[np.ndarray, "..."]:
        """
        Rectified linear unit of every entry.

        :param x: an array of any shape
        :return:
            out: max(x, 0), the shape of x
        """
        out = None
        ### TODO: BEGIN SOLUTION ###
        raise NotImplementedError('TODO: Implement this function')
        ### END SOLUTION ###
        return out

    def ReLU_dev(self, x: Float[np.ndarray, "..."]) -> Float[np.ndarray, "..."]:
        """
        Derivative of the rectified linear unit.

        :param x: an array of any shape
        :return:
            out: 1 where x > 0, else 0, the shape of x
        """
        out = None
        ### TODO: BEGIN SOLUTION ###
        raise NotImplementedError('TODO: Implement this function')
        ### END SOLUTION ###
        return out
