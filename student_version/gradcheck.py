"""Check analytic gradients against central differences.

Typical use, on a small float64 problem:

    >>> from gradcheck import check_model_gradients
    >>> for report in check_model_gradients(model, X, y).values():
    ...     print(report)
    W1: relative error 3.1e-11 (worst entry (3, 1): analytic 0.01234, numeric 0.01234)

A correct float64 implementation gives relative errors below 1e-7; a wrong
one usually gives errors near 1.
"""
from dataclasses import dataclass

import numpy as np


def numeric_gradient(f, x, eps=1e-5):
    """Central-difference gradient of a scalar function with respect to an array.

    Args:
        f: callable with no arguments returning a float; it must read `x`.
        x: float64 ndarray, changed entry by entry in place and restored.
        eps: step size.

    Returns:
        grad: ndarray like x, (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) per entry.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + eps
        plus = f()
        x[index] = saved - eps
        minus = f()
        x[index] = saved
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def relative_error(analytic, numeric):
    """max|a - n| / max(max|a| + max|n|, 1e-12), one number for a whole tensor.

    Scaling by the tensor's largest entries (not entry by entry) keeps tiny
    entries, dominated by rounding, from inflating the error.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    scale = max(np.max(np.abs(analytic), initial=0.0) + np.max(np.abs(numeric), initial=0.0),
                1e-12)
    return float(np.max(np.abs(analytic - numeric), initial=0.0) / scale)


@dataclass
class GradCheck:
    """The comparison of one parameter's analytic and numeric gradients."""
    name: str
    rel_error: float
    worst_index: tuple
    analytic: float
    numeric: float

    def __str__(self):
        return (f"{self.name}: relative error {self.rel_error:.2e} (worst entry "
                f"{self.worst_index}: analytic {self.analytic:.6g}, numeric {self.numeric:.6g})")


def compare(name, analytic, numeric):
    """GradCheck of one parameter; `analytic` and `numeric` have the same shape."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ValueError(f"{name}: analytic gradient has shape {analytic.shape}, "
                         f"the parameter has shape {numeric.shape}")
    if analytic.size == 0:
        return GradCheck(name, 0.0, (), 0.0, 0.0)
    worst = np.unravel_index(np.argmax(np.abs(analytic - numeric)), analytic.shape)
    worst = tuple(int(i) for i in worst)
    return GradCheck(name, relative_error(analytic, numeric), worst,
                     float(analytic[worst]), float(numeric[worst]))


def check_model_gradients(model, X, y, eps=1e-5):
    """Compare every gradient a model computes with central differences of its loss.

    Args:
        model: a model with .weights, .gradients and forward(X, y, mode).
        X: (N, D) float64, y: (N,) int. Keep N and D small: the numeric
            gradient costs two forward passes per parameter entry.
        eps: step size of the central differences.

    Returns:
        dict parameter name -> GradCheck, in the order of model.weights.
    """
    model.forward(X, y, mode='train')
    analytic = {name: np.array(model.gradients[name], dtype=np.float64, copy=True)
                for name in model.weights}

    def loss():
        return model.forward(X, y, mode='valid')[0]

    return {name: compare(name, analytic[name], numeric_gradient(loss, weight, eps))
            for name, weight in model.weights.items()}
