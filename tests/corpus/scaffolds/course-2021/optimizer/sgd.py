from ._base_optimizer import _BaseOptimizer


class SGD(_BaseOptimizer):
    def __init__(self, learning_rate=1e-4, reg=1e-3):
        super().__init__(learning_rate, reg)

    def update(self, model):
        """
        One step of stochastic gradient descent on every weight and bias.

        :param model: the model to update
        :return: None
        """
        self.apply_regularization(model)
        #############################################################################
        # TODO:                                                                     #
        #    1) Update every weight and bias of the model with its gradient         #
        #############################################################################


        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
