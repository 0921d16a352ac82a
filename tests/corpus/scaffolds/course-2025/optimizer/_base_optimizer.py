# Base class of the optimizers, Fall 2025 layout (typed, absolute import).
from models._base_network import _baseNetwork


class _BaseOptimizer:
    def __init__(self, learning_rate=1e-4, reg=1e-3):
        self.learning_rate = learning_rate
        self.reg = reg

    def update(self, model: _baseNetwork) -> None:
        pass

    def apply_regularization(self, model: _baseNetwork) -> None:
        """
        Add the L2 penalty's gradient, reg * W, to the gradient of every
        weight; biases are not regularized.

        :param model: a model whose gradients were just computed
        :return: None; model.gradients is updated
        """
        ### TODO: BEGIN SOLUTION ###
        raise NotImplementedError('TODO: Implement this function')
        ### END SOLUTION ###
