"""Forward propagation, samples in rows.

    Z1 = X @ W1 + b1      (N, H)
    A1 = relu(Z1)         (N, H)
    Z2 = A1 @ W2 + b2     (N, C)   the logits
    A2 = softmax(Z2)      (N, C)   class probabilities, each row sums to 1

The column form of some courses, Z1 = W1 X + b1 with X of shape (D, N), is the same
computation transposed.
"""

import numpy as np


def affine(X, W, b):
    """``X @ W + b``: X ``(N, D)``, W ``(D, M)``, b ``(M,)`` -> ``(N, M)``, dtype of X and W.

    The bias is added in place (broadcast over the N rows) to the product's fresh array, so
    one ``(N, M)`` array is allocated, not two.
    """
    Z = X @ W
    Z += b
    return Z


def relu(Z):
    """``max(Z, 0)`` elementwise, any shape."""
    return np.maximum(Z, 0)


def softmax(Z):
    """Row-wise softmax of Z ``(N, C)``: ``exp(Z - max) / sum(exp(Z - max))``.

    Subtracting each row's maximum changes nothing mathematically and keeps ``exp`` from
    overflowing: the largest exponent is ``exp(0) = 1``. The exponent and the division work in
    place on one new array; Z itself is not changed.
    """
    E = Z - Z.max(axis=1, keepdims=True)
    np.exp(E, out=E)
    E /= E.sum(axis=1, keepdims=True)
    return E


def forward(params, X):
    """Run the network on X ``(N, D)``; return the cache ``{"X", "Z1", "A1", "Z2", "A2"}``."""
    if X.ndim != 2 or X.shape[1] != params["W1"].shape[0]:
        raise ValueError(f"X must have shape (N, {params['W1'].shape[0]}), got {X.shape}")
    Z1 = affine(X, params["W1"], params["b1"])
    A1 = relu(Z1)
    Z2 = affine(A1, params["W2"], params["b2"])
    return {"X": X, "Z1": Z1, "A1": A1, "Z2": Z2, "A2": softmax(Z2)}


def predict(params, X):
    """Predicted class of each row of X ``(N, D)``: ``argmax(Z2)``, int64 ``(N,)``."""
    return forward(params, X)["Z2"].argmax(axis=1)
