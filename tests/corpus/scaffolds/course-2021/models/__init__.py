from .softmax_regression import SoftmaxRegression
from .two_layer_nn import TwoLayerNet
