""" 		 	  			 	 	  		 
Homework 1 template code: neural networks from scratch on MNIST.

This file is part of the handout. Do not share your completed version
publicly.

-----do not edit anything above this line---
"""

from .softmax_regression import SoftmaxRegression
from .two_layer_nn import TwoLayerNet
