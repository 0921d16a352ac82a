# Base class of the optimizers: holds the step size and the L2 coefficient.


class _BaseOptimizer:
    def __init__(self, learning_rate=1e-4, reg=1e-3):
        self.learning_rate = learning_rate
        self.reg = reg

    def update(self, model):
        pass

    def apply_regularization(self, model):
        """
        Add the gradient of the L2 penalty (reg / 2) * ||W||^2, that is
        reg * W, to the gradient of every weight matrix. Biases are left alone.
        :param model: a model with .weights and .gradients dictionaries
        :return: None; model.gradients is updated
        """
        for name in model.weights:
            if name.startswith('b'):
                continue  # biases carry no L2 penalty
            model.gradients[name] = model.gradients[name] + self.reg * model.weights[name]
