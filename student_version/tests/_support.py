"""Shared set-up of the visible tests: import path and small random problems."""
import sys
from pathlib import Path

import numpy as np

# The package folder (models/, optimizer/, utils.py) must be importable however
# the tests are started: pytest, unittest, or a single file.
PACKAGE = Path(__file__).resolve().parent.parent
if str(PACKAGE) not in sys.path:
    sys.path.insert(0, str(PACKAGE))

# Gradient checks run in float64 and must agree to this relative error.
GRAD_TOLERANCE = 1e-7


def small_problem(seed=0, n=8, d=12, c=5):
    """A random float64 batch: X (n, d), y (n,) int in [0, c)."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, c, size=n)


def randomize_weights(model, seed=0, scale=0.5):
    """Replace every parameter by float64 N(0, scale^2) values of the same shape.

    The default 0.001-scale initialisation makes gradients so small that
    rounding dominates a numeric check; larger weights test the math itself.
    """
    rng = np.random.default_rng(seed)
    for name, value in model.weights.items():
        model.weights[name] = rng.normal(scale=scale, size=np.shape(value))
