# Softmax regression, Fall 2025 layout (typed forward, TODO markers).
import numpy as np
from jaxtyping import Float, Int  # type: ignore
from ._base_network import _baseNetwork


class SoftmaxRegression(_baseNetwork):
    def __init__(self, input_size=28 * 28, num_classes=10):
        """
        One linear layer without bias, then ReLU, then softmax.

        :param input_size: the input dimension
        :param num_classes: the number of classes
        """
        super().__init__(input_size, num_classes)
        self._weight_init()

    def _weight_init(self) -> None:
        """
        W1 (input_size, num_classes) drawn as 0.001 * N(0, 1) after seeding
        numpy with 1024; its gradient starts at zero. No bias.

        :return: None
        """
        np.random.seed(1024)
        self.weights["W1"] = 0.001 * np.random.randn(self.input_size, self.num_classes)
        self.gradients["W1"] = np.zeros((self.input_size, self.num_classes))

    def forward(
        self,
        X: Float[np.ndarray, "batch_size input_size"],
        y: Int[np.ndarray, "batch_size"],
        mode: str = "train",
    ) -> tuple[float, float]:
        """
        Loss and accuracy of a batch, vectorised; gradients in train mode.
            1) forward: linear (no bias) -> ReLU -> softmax -> cross-entropy
            2) backward: the gradient of the loss, stored in self.gradients

        :param X: a batch of images (batch_size, 28x28)
        :param y: labels of the batch (batch_size,)
        :return:
            loss: the loss of the batch
            accuracy: the accuracy of the batch
        """
        loss = None
        accuracy = None
        ### TODO: BEGIN SOLUTION ###
        raise NotImplementedError('TODO: Implement this function')
        ### END SOLUTION ###
        if mode != "train":
            return loss, accuracy

        # Backward pass
        ### TODO: BEGIN SOLUTION ###
        raise NotImplementedError('TODO: Implement this function')
        ### END SOLUTION ###
        return loss, accuracy
