"""The models of this assignment: `from models import SoftmaxRegression, TwoLayerNet`."""
from ._base_network import _baseNetwork
from .softmax_regression import SoftmaxRegression
from .two_layer_nn import TwoLayerNet

__all__ = ['_baseNetwork', 'SoftmaxRegression', 'TwoLayerNet']
