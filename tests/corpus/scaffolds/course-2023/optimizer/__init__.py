""" 		 	  			 	 	  		 
Homework 1 template code: neural networks from scratch on MNIST.

This file is part of the handout. Do not share your completed version
publicly.

-----do not edit anything above this line---
"""

from .sgd import SGD
