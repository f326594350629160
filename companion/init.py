"""Initial parameters: He (default), Xavier/Glorot, and the original notebook's uniform.

Shapes, samples in rows: ``W1`` ``(D, H)``, ``b1`` ``(H,)``, ``W2`` ``(H, C)``, ``b2`` ``(C,)``.
"""

import numpy as np

METHODS = ("he", "xavier", "uniform")


def init_params(rng, D=784, H=64, C=10, method="he", dtype=np.float32):
    """Return a dict ``{"W1", "b1", "W2", "b2"}`` of fresh parameters.

    he:      W ~ N(0, 2 / fan_in), b = 0        (He et al. 2015, for ReLU layers)
    xavier:  W ~ N(0, 2 / (fan_in + fan_out)), b = 0   (Glorot and Bengio 2010)
    uniform: W, b ~ U(-0.5, 0.5)                 (the original notebook's choice)

    ``rng`` is a ``np.random.Generator``; the same seed gives the same parameters, bit for bit.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a np.random.Generator, e.g. np.random.default_rng(0)")
    if not all(isinstance(n, (int, np.integer)) and n > 0 for n in (D, H, C)):
        raise ValueError(f"D, H and C must be positive integers (a layer needs at least one "
                         f"unit), got D={D!r}, H={H!r}, C={C!r}")
    if method not in METHODS:
        raise ValueError(f"unknown init method {method!r}; choose one of {', '.join(METHODS)}")
    params = {}
    for i, (fan_in, fan_out) in enumerate([(D, H), (H, C)], start=1):
        if method == "uniform":
            W = rng.uniform(-0.5, 0.5, (fan_in, fan_out))
            b = rng.uniform(-0.5, 0.5, fan_out)
        else:
            var = 2 / fan_in if method == "he" else 2 / (fan_in + fan_out)
            W = rng.normal(0.0, np.sqrt(var), (fan_in, fan_out))
            b = np.zeros(fan_out)
        params[f"W{i}"], params[f"b{i}"] = W.astype(dtype), b.astype(dtype)
    return params
