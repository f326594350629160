"""Gradient checking: compare backprop's gradients with central differences.

    df/dx  ~  (f(x + h) - f(x - h)) / (2h)        error O(h^2)
    relative error = ||a - b|| / (||a|| + ||b||)      (Euclidean norms over all entries)

Use float64: in float32 the rounding error of f swamps the difference for small h.
"""

import numpy as np

from companion.backward import backward
from companion.forward import forward
from companion.loss import cross_entropy


def numerical_gradient(f, x, h=1e-5):
    """Central-difference gradient of the scalar function ``f()`` with respect to array x.

    ``x`` is changed in place, one entry at a time, and restored.
    """
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a, b):
    """``||a - b|| / (||a|| + ||b||)``, 0 when both are 0.

    Norms over the whole array, not entry by entry: an entry near 0 would make an elementwise
    ratio huge from rounding noise alone.
    """
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / den) if den > 0 else 0.0


def check_gradients(params, X, y, h=1e-5):
    """Relative error of each backprop gradient against central differences, as a dict.

    Keep X small (a few rows): every entry costs two forward passes. ReLU has a kink at 0;
    if some ``|Z1|`` is below ``h`` a difference can straddle it, so choose data away from it.
    """
    def loss():
        return cross_entropy(forward(params, X)["Z2"], y)

    grads = backward(params, forward(params, X), y)
    return {k: relative_error(grads[k], numerical_gradient(loss, params[k], h)) for k in params}
