"""The optimizers of this assignment: `from optimizer import SGD`."""
from ._base_optimizer import _BaseOptimizer
from .sgd import SGD

__all__ = ['_BaseOptimizer', 'SGD']
