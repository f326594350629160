"""Checks for the exercises: run a learner's function on generated cases, compare it with the
companion's own implementation, and say in plain words what is wrong, or that it passes.

Each ``check_*`` returns a ``Feedback``: ``.passed`` (bool) and ``.message`` (str); a notebook
displays the message. Mistakes looked for, most specific first:

- softmax: wrong shape; normalised over the wrong axis; overflow (no max subtraction).
- cross-entropy: not one number; not divided by N; not finite at large logits; wrong sign.
- backward: missing or extra keys; transposed or wrong shapes (bias gradients too); not divided
  by the batch size; ReLU mask missing.
- Adam step: no bias correction; betas swapped; wrong values.
- training loop: wrong keys or shapes; parameters changed with ``learning_rate=0``; no learning.
"""

from dataclasses import dataclass

import numpy as np

from companion.backward import backward
from companion.forward import forward, softmax
from companion.init import init_params
from companion.loss import cross_entropy
from companion.optim import Adam
from companion.train import evaluate


@dataclass
class Feedback:
    passed: bool
    message: str

    def __repr__(self):
        return ("PASS: " if self.passed else "NOT YET: ") + self.message


class _UnfinishedError(Exception):
    """The learner's function returned None: its body is not written yet."""


def _safely(check):
    """Turn None or an exception from the learner's function into feedback, not a traceback."""
    def wrapped(fn):
        def guarded(*args):
            out = fn(*args)
            if out is None:
                raise _UnfinishedError
            return out
        try:
            return check(guarded)
        except _UnfinishedError:
            return Feedback(False, "returns None: replace ... with your code and return "
                                   "the result")
        except Exception as err:  # the learner's code may raise anything
            return Feedback(False, f"your function raised {type(err).__name__}: {err}")
    wrapped.__doc__, wrapped.__name__ = check.__doc__, check.__name__
    return wrapped


def _close(a, b, tol=1e-6):
    a = np.asarray(a, dtype=float)
    return a.shape == np.shape(b) and bool(np.allclose(a, b, rtol=tol, atol=tol))


def _case(seed=0, N=6, D=5, H=4, C=3):
    """A small float64 network and batch, with no ``Z1`` entry near the ReLU kink."""
    rng = np.random.default_rng(seed)
    params = init_params(rng, D, H, C, dtype=np.float64)
    params["b1"] += 0.1
    X, y = rng.normal(size=(N, D)), rng.integers(0, C, N)
    return params, X, y


@_safely
def check_softmax(fn):
    """Check ``fn(Z)``: row-wise softmax of Z ``(N, C)``."""
    Z = np.random.default_rng(0).normal(size=(4, 3)) * 3
    out = np.asarray(fn(Z.copy()))
    if out.shape != Z.shape:
        return Feedback(False, f"returns shape {out.shape}, expected {Z.shape}, like Z")
    if _close(out, np.exp(Z) / np.exp(Z).sum(axis=0)):
        return Feedback(False, "normalises over axis 0 (columns); each row is one sample and "
                               "must sum to 1: use axis=1 and keepdims=True")
    if not _close(out, softmax(Z)):
        return Feedback(False, "values differ from exp(Z) / sum(exp(Z)) row by row")
    with np.errstate(all="ignore"):
        big = np.asarray(fn(np.array([[1000.0, 0.0, -1000.0]])))
    if not np.isfinite(big).all():
        return Feedback(False, "overflows at logits like 1000 (exp(1000) is inf): subtract "
                               "each row's maximum before exp")
    return Feedback(True, "softmax is right, rows sum to 1, and large logits are safe")


@_safely
def check_cross_entropy(fn):
    """Check ``fn(Z2, y)``: mean cross-entropy of logits Z2 ``(N, C)`` and labels y ``(N,)``."""
    _, _, y = _case()
    Z2 = np.random.default_rng(1).normal(size=(len(y), 3))
    ref = cross_entropy(Z2, y)
    out = np.asarray(fn(Z2.copy(), y.copy()), dtype=float)
    if out.shape != ():
        return Feedback(False, f"returns shape {out.shape}; the loss is one number, the mean "
                               "over the batch")
    if np.isclose(out, ref * len(y)):
        return Feedback(False, "is the sum over the batch, not the mean: divide by N")
    if np.isclose(out, -ref):
        return Feedback(False, "has the wrong sign: the loss is -log of the probability")
    if not np.isclose(out, ref):
        return Feedback(False, f"gives {float(out):.4f}, expected {ref:.4f}")
    Z_big, y_big = np.array([[1e4, -1e4], [-1e4, 1e4]]), np.array([1, 1])
    with np.errstate(all="ignore"):
        big = float(fn(Z_big, y_big))
    if not np.isclose(big, 1e4):
        return Feedback(False, f"gives {big} at logits of +-1e4 (expected 10000): log(softmax) "
                               "underflows; compute it as logsumexp(Z2) - Z2[n, y]")
    return Feedback(True, "cross-entropy is right and stays finite at large logits")


@_safely
def check_backward(fn):
    """Check ``fn(params, cache, y)``: gradients ``{"W1", "b1", "W2", "b2"}`` like ``backward``."""
    params, X, y = _case()
    cache = forward(params, X)
    ref = backward(params, cache, y)
    out = fn({k: v.copy() for k, v in params.items()}, cache, y)
    if not isinstance(out, dict) or set(out) != set(ref):
        return Feedback(False, f"should return a dict with keys {sorted(ref)}")
    for k in ("W1", "b1", "W2", "b2"):
        got = np.asarray(out[k])
        if got.shape != ref[k].shape:
            msg = f"d{k} has shape {got.shape}, expected {ref[k].shape}, the shape of {k}"
            if got.shape == ref[k].shape[::-1]:
                msg += " (transposed?)"
            if k[0] == "b":
                msg += ": sum over the batch axis (axis=0), without keepdims"
            return Feedback(False, msg)
    if all(_close(out[k], ref[k] * len(y)) for k in ref):
        return Feedback(False, "every gradient is N times too large: divide dZ2 by the batch "
                               "size N (once)")
    dZ1 = (cache["A2"] - np.eye(3)[y]) / len(y) @ params["W2"].T  # no ReLU mask
    if _close(out["W1"], X.T @ dZ1) and not _close(out["W1"], ref["W1"]):
        return Feedback(False, "dW1 ignores the ReLU: multiply dA1 by (Z1 > 0) to get dZ1")
    wrong = [k for k in ("W2", "b2", "W1", "b1") if not _close(out[k], ref[k])]
    if wrong:
        return Feedback(False, f"d{wrong[0]} differs from the reference (start from dZ2 = "
                               "(A2 - Y) / N and follow the chain rule)")
    return Feedback(True, "all four gradients match backpropagation")


def _adam(p, g, steps, beta1=0.9, beta2=0.999, bias_correction=True):
    """A learner's likely variants of Adam, for diagnosis (the reference is ``optim.Adam``)."""
    m = v = 0
    for t in range(1, steps + 1):
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        c1, c2 = (1 - beta1 ** t, 1 - beta2 ** t) if bias_correction else (1, 1)
        p = p - 1e-3 * (m / c1) / (np.sqrt(v / c2) + 1e-8)
    return p


@_safely
def check_adam_step(fn):
    """Check ``fn(p, g, m, v, t, lr, beta1, beta2, eps) -> (p, m, v)``; t counts from 1."""
    rng = np.random.default_rng(0)
    p0, g = rng.normal(size=5), rng.normal(size=5)
    p, m, v = p0.copy(), np.zeros(5), np.zeros(5)
    for t in (1, 2, 3):
        p, m, v = (np.asarray(a, dtype=float) for a in
                   fn(p.copy(), g, m.copy(), v.copy(), t, 1e-3, 0.9, 0.999, 1e-8))
    ref, opt = {"p": p0.copy()}, Adam(1e-3)
    for _ in range(3):
        opt.step(ref, {"p": g})
    if _close(p, ref["p"], 1e-9) and _close(m, opt.m["p"]) and _close(v, opt.v["p"]):
        return Feedback(True, "Adam's step, moments and bias correction are right")
    if _close(p, _adam(p0, g, 3, bias_correction=False), 1e-9):
        return Feedback(False, "no bias correction: divide m by (1 - beta1**t) and v by "
                               "(1 - beta2**t) before the step; the first steps are too small")
    if _close(p, _adam(p0, g, 3, beta1=0.999, beta2=0.9), 1e-9):
        return Feedback(False, "beta1 and beta2 are swapped: m uses beta1 = 0.9, v beta2 = 0.999")
    return Feedback(False, "the parameters after 3 steps differ from Adam's (check m, v, the "
                           "bias correction, and where eps goes: sqrt(v_hat) + eps)")


@_safely
def check_training_loop(fn):
    """Check ``fn(params, X, y, learning_rate, epochs, batch_size, seed) -> params``."""
    params, X, y = _case(N=60, D=5, H=16, C=3)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)  # a learnable rule
    copy = {k: v.copy() for k, v in params.items()}
    out = fn(copy, X, y, 0.0, 2, 8, 0)
    if not isinstance(out, dict) or any(np.shape(out.get(k)) != v.shape
                                        for k, v in params.items()):
        return Feedback(False, "should return the parameter dict, same keys and shapes")
    if not all(_close(out[k], params[k], 0) for k in params):
        return Feedback(False, "parameters change with learning_rate=0: the update must be "
                               "p -= learning_rate * gradient")
    out = fn({k: v.copy() for k, v in params.items()}, X, y, 0.05, 30, 8, 0)
    before, after = evaluate(params, X, y)[0], evaluate(out, X, y)[0]
    if not after < 0.7 * before:
        return Feedback(False, f"the loss went from {before:.3f} to {after:.3f} in 30 epochs; "
                               "check forward, backward and the update in each mini-batch")
    return Feedback(True, f"it learns: loss {before:.3f} -> {after:.3f}")
