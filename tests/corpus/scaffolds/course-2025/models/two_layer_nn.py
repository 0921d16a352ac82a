# Two-layer perceptron, Fall 2025 layout (typed forward, TODO markers).
from ._base_network import _baseNetwork
import numpy as np
from jaxtyping import Float, Int  # type: ignore

np.random.seed(1024)


class TwoLayerNet(_baseNetwork):
    def __init__(self, input_size=28 * 28, num_classes=10, hidden_size=128):
        super().__init__(input_size, num_classes)

        self.hidden_size = hidden_size
        self._weight_init()

    def _weight_init(self):
        """
        Biases b1 (hidden_size,), b2 (num_classes,) start at zero; W1
        (input_size, hidden_size) and W2 (hidden_size, num_classes) are
        0.001 * N(0, 1), numpy being seeded with 1024 before each.

        :return: None; self.weights and self.gradients are filled
        """
        self.weights["b1"] = np.zeros(self.hidden_size)
        self.weights["b2"] = np.zeros(self.num_classes)
        np.random.seed(1024)
        self.weights["W1"] = 0.001 * np.random.randn(self.input_size, self.hidden_size)
        np.random.seed(1024)
        self.weights["W2"] = 0.001 * np.random.randn(self.hidden_size, self.num_classes)

        self.gradients["W1"] = np.zeros((self.input_size, self.hidden_size))
        self.gradients["b1"] = np.zeros(self.hidden_size)
        self.gradients["W2"] = np.zeros((self.hidden_size, self.num_classes))
        self.gradients["b2"] = np.zeros(self.num_classes)

    def forward(
        self,
        X: Float[np.ndarray, "batch_size input_size"],
        y: Int[np.ndarray, "batch_size"],
        mode: str = "train",
    ) -> tuple[float, float]:
        """
        Linear (input_size -> hidden_size), sigmoid, linear (hidden_size ->
        num_classes), softmax, cross-entropy. In train mode the gradients of
        every weight and bias go to self.gradients, computed backwards from
        the loss.

        :param X: a batch of images (N, input_size)
        :param y: labels of the batch (N,)
        :param mode: 'train' computes gradients; anything else only evaluates
        :return:
            loss: the loss of the batch
            accuracy: the accuracy of the batch
        """
        loss = None
        accuracy = None

        # Forward Pass
        ### TODO: BEGIN SOLUTION ###
        raise NotImplementedError('TODO: Implement this function')
        ### END SOLUTION ###
        if mode != "train":
            return loss, accuracy

        # Backward Pass
        ### TODO: BEGIN SOLUTION ###
        raise NotImplementedError('TODO: Implement this function')
        ### END SOLUTION ###

        return loss, accuracy
