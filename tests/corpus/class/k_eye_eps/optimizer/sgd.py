"""Plain stochastic gradient descent."""
from ._base_optimizer import _BaseOptimizer


class SGD(_BaseOptimizer):
    """w <- w - learning_rate * (dL/dw + reg * w for weight matrices)."""

    def __init__(self, learning_rate=1e-4, reg=1e-3):
        super().__init__(learning_rate, reg)

    def update(self, model):
        """One SGD step on every parameter of `model`, in place.

        Args:
            model: a model whose .gradients were just filled by a forward pass
                in 'train' mode.
        """
        #----------------------------------------------------------------------------
        # TODO: First self.apply_regularization(model); then move every parameter
        #   against its gradient: w = w - learning_rate * dL/dw, for every name in
        #   model.weights (weights and biases).
        #----------------------------------------------------------------------------
        self.apply_regularization(model)
        model.weights.update({name: w - self.learning_rate * model.gradients[name]
                              for name, w in model.weights.items()})
        #----------------------------- END OF YOUR CODE -----------------------------
