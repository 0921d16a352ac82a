# Plain SGD, Fall 2025 layout (typed, absolute import of the base network).
from ._base_optimizer import _BaseOptimizer
from models._base_network import _baseNetwork


class SGD(_BaseOptimizer):
    def __init__(self, learning_rate=1e-4, reg=1e-3):
        super().__init__(learning_rate, reg)

    def update(self, model: _baseNetwork) -> None:
        """
        1) add the L2 term to the gradients
        2) step every parameter against its gradient, scaled by the learning rate

        :param model: the model to update
        :return: None; model.weights is updated
        """
        ### TODO: BEGIN SOLUTION ###
        raise NotImplementedError('TODO: Implement this function')
        ### END SOLUTION ###
