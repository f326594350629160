"""Backpropagation: the gradients of the mean cross-entropy, from the forward cache.

    dZ2 = (A2 - Y) / N          (N, C)
    dW2 = A1.T @ dZ2            (H, C)      db2 = sum_n dZ2    (C,)
    dA1 = dZ2 @ W2.T            (N, H)
    dZ1 = dA1 * [Z1 > 0]        (N, H)      ReLU passes the gradient where it was active
    dW1 = X.T @ dZ1             (D, H)      db1 = sum_n dZ1    (H,)
"""

from companion.loss import cross_entropy_grad


def backward(params, cache, y):
    """Gradients ``{"W1", "b1", "W2", "b2"}`` (same keys and shapes as ``params``).

    ``cache`` is what ``forward(params, X)`` returned; ``y`` ``(N,)`` holds int labels.
    """
    dZ2 = cross_entropy_grad(cache["Z2"], y, A2=cache["A2"])
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * (cache["Z1"] > 0)
    return {"W1": cache["X"].T @ dZ1, "b1": dZ1.sum(axis=0),
            "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0)}
