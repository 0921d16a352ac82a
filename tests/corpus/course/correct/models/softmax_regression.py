# Softmax regression: a bias-free linear layer, then ReLU, then softmax.
import numpy as np

from ._base_network import _baseNetwork


class SoftmaxRegression(_baseNetwork):
    def __init__(self, input_size=28 * 28, num_classes=10):
        """
        One linear layer without bias => ReLU => softmax.
        :param input_size: the input dimension
        :param num_classes: the number of classes in total
        """
        super().__init__(input_size, num_classes)
        self._weight_init()

    def _weight_init(self):
        """
        W1 (input_size, num_classes): N(0, 1) draws scaled by 0.001 after
        seeding numpy's global generator with 1024; its gradient starts at 0.
        """
        shape = (self.input_size, self.num_classes)
        np.random.seed(1024)
        self.weights['W1'] = 0.001 * np.random.randn(*shape)
        self.gradients['W1'] = np.zeros(shape)

    def forward(self, X, y, mode='train'):
        """
        Loss and accuracy of a batch; in 'train' mode also the gradient of W1.
        :param X: a batch of images (N, input_size)
        :param y: labels of the images (N,)
        :param mode: 'train' stores gradients in self.gradients; anything else
                     only evaluates
        :return: loss, accuracy
        """
        z = X @ self.weights['W1']          # (N, C) linear scores
        h = self.ReLU(z)                    # (N, C) rectified scores
        prob = self.softmax(h)
        loss = self.cross_entropy_loss(prob, y)
        accuracy = self.compute_accuracy(prob, y)

        if mode != 'train':
            return loss, accuracy

        n = X.shape[0]
        d_h = prob.copy()                   # dL/dh of the batch-mean loss
        d_h[np.arange(n), y] -= 1.0
        d_h /= n
        d_z = d_h * self.ReLU_dev(z)
        self.gradients['W1'] = X.T @ d_z

        return loss, accuracy
