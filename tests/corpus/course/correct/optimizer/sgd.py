# Plain stochastic gradient descent.
from ._base_optimizer import _BaseOptimizer


class SGD(_BaseOptimizer):
    def __init__(self, learning_rate=1e-4, reg=1e-3):
        super().__init__(learning_rate, reg)

    def update(self, model):
        """
        One step theta <- theta - learning_rate * grad for every parameter,
        after the L2 term has been added to the weight gradients.
        :param model: the model to update in place
        :return: None
        """
        self.apply_regularization(model)
        for name in model.weights:
            model.weights[name] -= self.learning_rate * model.gradients[name]
