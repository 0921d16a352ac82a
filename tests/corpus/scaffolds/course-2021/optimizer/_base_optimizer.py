class _BaseOptimizer:
    def __init__(self, learning_rate=1e-4, reg=1e-3):
        self.learning_rate = learning_rate
        self.reg = reg

    def update(self, model):
        pass

    def apply_regularization(self, model):
        """
        Apply the L2 penalty to the weights of the model (not to the biases).

        :param model: a model with weights and gradients
        :return: None, but the gradient dictionary of the model is updated
        """
        #############################################################################
        # TODO:                                                                     #
        #    1) Add the gradient of the L2 penalty to the weight gradients          #
        #############################################################################


        #############################################################################
        #                              END OF YOUR CODE                             #
        #############################################################################
