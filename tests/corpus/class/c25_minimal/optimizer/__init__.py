from .sgd import SGD
