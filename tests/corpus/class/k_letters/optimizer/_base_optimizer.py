"""What every optimizer shares: its hyper-parameters and L2 regularization."""


class _BaseOptimizer:
    """Base class of the optimizers.

    Args:
        learning_rate: float > 0, step size.
        reg: float >= 0, strength of the L2 penalty reg/2 * sum(W**2) over every
            weight matrix. The penalty shapes the gradient only; the loss that
            models report leaves it out.
    """

    def __init__(self, learning_rate=1e-4, reg=1e-3):
        self.learning_rate = learning_rate
        self.reg = reg

    def update(self, model):
        """One optimization step on `model`; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement update")

    def apply_regularization(self, model):
        """Add the L2 penalty's gradient, reg * W, to every weight matrix's gradient.

        Weight matrices are the parameters whose names start with 'W' ('W1',
        'W2'); biases ('b1', 'b2') are never regularized. Changes
        model.gradients in place.

        Args:
            model: a model whose .weights and .gradients dicts are filled, e.g.
                after model.forward(X, y, mode='train').
        """
        #----------------------------------------------------------------------------
        # TODO: The penalty is reg/2 * sum(W**2), summed over the weight matrices
        #   only (names starting with 'W'); biases ('b...') are never regularized.
        #   Add its gradient with respect to each weight matrix to
        #   model.gradients[name], in place, and leave the biases' gradients as
        #   they are.
        #----------------------------------------------------------------------------
        for k, W in model.weights.items():
            if k[0] == 'W':
                model.gradients[k] += self.reg * W
        #----------------------------- END OF YOUR CODE -----------------------------
