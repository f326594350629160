"""Checks for the exercises: run a learner's function on cases chosen to reveal the usual
mistakes, and say in plain words which mistake it made, or that it passes.

Each ``check_*(fn)`` returns a ``Feedback``: ``.passed`` (bool) and ``.message`` (str); a notebook
displays it as ``PASS: ...`` or ``NOT YET: ...``. A check never raises and never hangs:

- the learner's function may not call the companion's version of what it re-implements: while
  it runs, that version is replaced, in the companion's modules and in the learner's own
  namespace, by a stand-in that raises, and the message says so (everything is restored
  afterwards, even when the learner's code raises);
- a function that raises, returns None (an unfinished stub) or runs longer than
  ``time_limit`` seconds (an endless loop) gets feedback, not a traceback;
- a function that changes its caller's arrays in place gets told, where that loses the
  caller's data (logits, a cache, the training set).

The references are computed with the companion's functions as they were when this module was
imported, or with the formulas written out below, never through the names a check replaces.
``seed`` draws other cases of the same kinds (the otter assignments' hidden tests use it).
"""

import contextlib
import functools
import signal
import sys
import threading
from dataclasses import dataclass

import numpy as np

from companion import backward as _backward_module
from companion import forward as _forward_module
from companion import gradcheck, init, loss, metrics, optim, train

TIME_LIMIT = 10.0  # seconds a learner's function may run, per call

# The companion's own versions, kept here: a check replaces the public names while it runs.
_softmax = _forward_module.softmax
_forward = _forward_module.forward
_backward = _backward_module.backward
_cross_entropy = loss.cross_entropy
_numerical_gradient = gradcheck.numerical_gradient
_EarlyStopping = train.EarlyStopping


@dataclass
class Feedback:
    passed: bool
    message: str

    def __repr__(self):
        return ("PASS: " if self.passed else "NOT YET: ") + self.message


def _fail(message):
    return Feedback(False, message)


# --- running the learner's function -----------------------------------------------------------

class _UnfinishedError(Exception):
    """The learner's function returned None: its body is not written yet."""


class _RaisedError(Exception):
    """The learner's function raised ``error``."""

    def __init__(self, error):
        self.error = error


class _TimeUp(BaseException):
    """The learner's function ran past the time limit. A BaseException, so that a learner's
    ``except Exception`` cannot swallow it."""


class _ForbiddenCall(BaseException):
    """The learner's function called the companion's version of the exercise (the _Learner
    notes which)."""


@contextlib.contextmanager
def _time_limit(seconds):
    """Raise _TimeUp in the running code after ``seconds`` (and every half second after that,
    should the code catch it). Works in the main thread, where Jupyter runs cells; elsewhere
    (a thread, or a system without SIGALRM) the code runs without a limit."""
    if (seconds is None or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def time_up(signum, frame):
        raise _TimeUp

    previous = signal.signal(signal.SIGALRM, time_up)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _namespaces(fn):
    """The dicts in which the learner's function may find the companion's functions: every
    companion module but this one (and the dicts they hold, such as ``optim.OPTIMIZERS``), and
    the globals of the learner's function."""
    spaces = []
    for name, module in list(sys.modules.items()):
        if name.startswith("companion.") and name != __name__:  # the package holds no functions
            spaces.append(vars(module))
            spaces += [v for v in vars(module).values() if isinstance(v, dict)]
    spaces.append(getattr(fn, "__globals__", {}))
    return spaces


@contextlib.contextmanager
def _substituted(fn, substitutes):
    """Replace every reference to each key of ``substitutes`` by its value, in the companion's
    modules, the learner's globals and the learner's closure; restore them all afterwards."""
    undo = []
    try:
        for space in _namespaces(fn):
            for key, value in list(space.items()):
                for original, new in substitutes.items():
                    if value is original:
                        space[key] = new
                        undo.append((space.__setitem__, key, value))
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            for original, new in substitutes.items():
                if contents is original:
                    cell.cell_contents = new
                    undo.append((lambda _k, v, c=cell: setattr(c, "cell_contents", v), None,
                                 contents))
        yield
    finally:
        for restore, key, value in reversed(undo):
            restore(key, value)


def _snapshot(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    return None


def _same(before, after):
    if isinstance(before, np.ndarray):
        return (isinstance(after, np.ndarray) and before.shape == after.shape
                and np.array_equal(before, after, equal_nan=True))
    if isinstance(before, dict):
        return isinstance(after, dict) and set(before) == set(after) and all(
            _same(before[k], after[k]) for k in before)
    return True


class _Learner:
    """Calls the learner's function under the time limit, with the companion's versions of the
    exercise replaced by stand-ins that raise; records which arguments it changed in place."""

    def __init__(self, fn, forbidden, time_limit):
        self.fn, self.time_limit = fn, time_limit
        self.forbidden_calls = []
        self.substitutes = {}
        for module, attribute in forbidden:
            original = getattr(module, attribute)
            self.substitutes[original] = self._stand_in(
                f"{module.__name__.removeprefix('companion.')}.{attribute}")
        self.changed = []  # positions of the arguments the last call changed

    def _stand_in(self, name):
        def forbidden(*args, **kwargs):
            self.forbidden_calls.append(name)
            raise _ForbiddenCall
        return forbidden

    def __call__(self, *args, substitutes=None, allow_none=False):
        before = [_snapshot(a) for a in args]
        try:
            with _substituted(self.fn, {**self.substitutes, **(substitutes or {})}), \
                    _time_limit(self.time_limit):
                out = self.substitutes.get(self.fn, self.fn)(*args)
        except (_TimeUp, _ForbiddenCall):
            raise
        except Exception as error:  # the learner's code may raise anything
            raise _RaisedError(error) from error
        self.changed = [i for i, (b, a) in enumerate(zip(before, args)) if not _same(b, a)]
        if out is None and not allow_none:
            raise _UnfinishedError
        return out


def _hint(error):
    text = str(error)
    if isinstance(error, ValueError) and "broadcast" in text:
        return (" (shapes that do not line up: a sum or max over axis=1 has shape (N,); "
                "keepdims=True keeps it a column, (N, 1), which lines up with the rows)")
    if "matmul" in text or "not aligned" in text:
        return (" (a matrix product whose inner sizes differ: write each array's shape next "
                "to the formula; a gradient has the shape of its variable)")
    if isinstance(error, NameError):
        return " (a name your function uses is not defined: a typo, or a cell not run yet?)"
    if isinstance(error, ZeroDivisionError):
        return " (a division by zero)"
    return ""


def _grader(*forbidden):
    """Make ``check(run, **options)`` a grader ``check(fn, time_limit=..., **options)``:
    ``run`` calls the learner's ``fn`` safely, and whatever goes wrong becomes feedback."""
    def decorate(check):
        @functools.wraps(check)
        def grade(fn, *, time_limit=TIME_LIMIT, **options):
            if fn is None:
                return _fail("got None instead of your function: is it defined, under the name "
                             "the exercise gives, and has its cell run?")
            if not callable(fn):
                return _fail(f"expects your function, got {type(fn).__name__}: pass the "
                             "function itself, without calling it (no parentheses)")
            run = _Learner(fn, forbidden, time_limit)
            try:
                feedback = check(run, **options)
            except _UnfinishedError:
                feedback = _fail("returns None: replace ... with your code and return the "
                                 "result")
            except _TimeUp:
                feedback = _fail(f"did not finish within {time_limit:g} s: an endless loop? "
                                 "(the check stopped it)")
            except _ForbiddenCall:
                feedback = None  # reported below
            except _RaisedError as raised:
                error = raised.error
                feedback = _fail(f"your function raised {type(error).__name__}: {error}"
                                 + _hint(error))
            except Exception as error:  # the output could not be compared
                feedback = _fail(f"returned something the check cannot use "
                                 f"({type(error).__name__}: {error})")
            if run.forbidden_calls:
                name = run.forbidden_calls[0]
                feedback = _fail(
                    f"calls the companion's {name}, which this exercise asks you to write "
                    f"yourself: while the check runs, {name} is replaced by a stand-in that "
                    "raises. Write it yourself")
            return feedback
        return grade
    return decorate


def _close(a, b, tol=1e-6):
    """Same shape and values within ``tol``, relative and absolute; False for non-numbers."""
    try:
        a = np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == np.shape(b) and bool(np.allclose(a, b, rtol=tol, atol=tol))


def _array(out, what):
    """The learner's output as a float array, or ValueError naming ``what`` it should be."""
    try:
        return np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what} should be an array of numbers, got {type(out).__name__}"
                         ) from None


def _case(seed, N, D=5, H=4, C=3):
    """A small float64 network and batch of every class, with no ``Z1`` entry near the ReLU
    kink."""
    rng = np.random.default_rng(seed)
    params = init.init_params(rng, D, H, C, dtype=np.float64)
    params["b1"] += 0.1
    X, y = rng.normal(size=(N, D)), rng.permutation(np.arange(N) % C)  # every class, N >= C
    cache = _forward(params, X)
    while np.abs(cache["Z1"]).min() < 1e-3:  # redraw an input that sits on the kink
        X = rng.normal(size=(N, D))
        cache = _forward(params, X)
    return params, X, y


def _rows(E):
    return E / E.sum(axis=1, keepdims=True)


# --- chapter 2: He initialization --------------------------------------------------------------

@_grader((init, "init_params"))
def check_he_init(run, fan_in=1000, fan_out=200, seed=0):
    """Check ``fn(rng, fan_in, fan_out)``, which returns the pair (W, b) of one layer: W of
    shape ``(fan_in, fan_out)`` drawn from N(0, 2 / fan_in) with ``rng``, b of shape
    ``(fan_out,)``, zeros, both float32."""
    fan_in, fan_out = fan_in + 100 * seed, fan_out + 50 * seed
    target = np.sqrt(2 / fan_in)
    out = run(np.random.default_rng(seed), fan_in, fan_out)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return _fail("should return the pair (W, b): end with return W, b")
    W, b = (np.asarray(a) for a in out)
    if W.shape != (fan_in, fan_out):
        if W.shape == (fan_out, fan_in):
            return _fail(f"W has shape {W.shape}: transposed; with samples in rows a layer's W "
                         f"is (fan_in, fan_out) = {(fan_in, fan_out)}")
        return _fail(f"W has shape {W.shape}, expected (fan_in, fan_out) = {(fan_in, fan_out)}")
    if b.shape != (fan_out,):
        return _fail(f"b has shape {b.shape}, expected (fan_out,) = {(fan_out,)}: one bias per "
                     "unit, a 1-D array (np.zeros(fan_out))")
    if W.dtype != np.float32 or b.dtype != np.float32:
        return _fail(f"W is {W.dtype} and b {b.dtype}; both should be float32, like the "
                     "companion's parameters (.astype(np.float32))")
    if b.any():
        return _fail("b should be all zeros: the random W already breaks the symmetry")
    std, mean = float(W.std()), float(W.mean())
    if np.isclose(std, 2 / fan_in, rtol=0.05):
        return _fail("the std of W is 2 / fan_in, the variance: rng.normal takes the standard "
                     "deviation, its square root")
    if np.isclose(std, np.sqrt(2 / fan_out), rtol=0.05):
        return _fail("the std of W is sqrt(2 / fan_out): He uses fan_in, the number of inputs")
    if np.isclose(std, np.sqrt(2 / (fan_in + fan_out)), rtol=0.01):
        return _fail("the std of W is sqrt(2 / (fan_in + fan_out)), Xavier's: He's is "
                     "sqrt(2 / fan_in)")
    if abs(mean) > 0.01 * target:
        return _fail(f"W has mean {mean:.4f}: He's weights have mean 0 (rng.normal(0.0, std, "
                     "size))")
    if not np.isclose(std, target, rtol=0.01):
        return _fail(f"the std of W is {std:.4f}, expected sqrt(2 / fan_in) = {target:.4f}")
    kurtosis = float(np.mean((W - mean) ** 4) / std ** 4)
    if abs(kurtosis - 3) > 0.1:  # a normal's is 3, a uniform's 1.8
        return _fail("W has the right std but not a normal distribution (a uniform one?): He "
                     "draws from N(0, 2 / fan_in), rng.normal")
    W_again = np.asarray(run(np.random.default_rng(seed), fan_in, fan_out)[0])
    if not np.array_equal(W, W_again):
        return _fail("the same seed gave different weights: draw them with the rng passed in, "
                     "not np.random")
    W_other = np.asarray(run(np.random.default_rng(seed + 1), fan_in, fan_out)[0])
    if np.array_equal(W, W_other):
        return _fail("another rng gave the same weights: draw them with the rng passed in, not "
                     "a generator of your own")
    return Feedback(True, "shapes, float32, zero biases, W drawn with rng from N(0, 2 / fan_in)")


# --- chapter 3: softmax ------------------------------------------------------------------------

def _softmax_mistake(out, Z):
    """Name the mistake that turns Z into ``out``, or None."""
    E, m_row = np.exp(Z), Z.max(axis=1, keepdims=True)
    if _close(out, _softmax(Z.T).T):  # exp(Z) / E.sum(axis=0), with or without a shift
        return ("normalises over axis 0 (the columns); each row is one sample and must sum to "
                "1: use axis=1")
    if out.any(axis=1).all() and _close(out, out.sum(axis=1, keepdims=True) * _softmax(Z)):
        whole = " (divides by the sum of the whole array?)" if np.isclose(out.sum(), 1) else ""
        return (f"the rows do not sum to 1{whole}: divide each row by its own sum, "
                "E.sum(axis=1, keepdims=True)")
    if _close(out, _rows(np.exp(Z - Z.max(axis=0)))):
        return ("subtracts each column's maximum (axis=0): the shift must be the same for every "
                "entry of a row, the row's own maximum (axis=1)")
    if Z.shape[0] == Z.shape[1]:  # a square Z lets a missing keepdims through without an error
        flat_max, shifted = Z.max(axis=1), np.exp(Z - m_row)
        no_keepdims = [_rows(np.exp(Z - flat_max)), shifted / shifted.sum(axis=1),
                       np.exp(Z - flat_max) / np.exp(Z - flat_max).sum(axis=1),
                       E / E.sum(axis=1)]
        if any(_close(out, wrong) for wrong in no_keepdims):
            return ("uses a row max or row sum without keepdims=True: its shape (N,) lines up "
                    "with the columns, not the rows, so row n is divided by the sum of another "
                    "row. keepdims=True keeps it a column (N, 1)")
    if _close(out, _rows(Z - Z.min(axis=1, keepdims=True))) or _close(out, _rows(Z)):
        return "forgets the exponential: softmax divides exp(Z) by the row sums of exp(Z)"
    return None


@_grader((_forward_module, "softmax"))
def check_softmax(run, seed=0):
    """Check ``fn(Z)``: row-wise softmax of Z ``(N, C)``, finite for large logits."""
    rng = np.random.default_rng(seed)
    for Z in (rng.normal(size=(3, 3)) * 3,               # square: a missing keepdims shows
              rng.normal(size=(4 + seed, 3 + seed)) * 3):  # N != C
        out = run(Z.copy())
        if np.shape(out) != Z.shape:
            return _fail(f"returns shape {np.shape(out)}, expected {Z.shape}, the shape of Z: "
                         "one probability per logit")
        out = _array(out, "the result")
        if not _close(out, _softmax(Z)):
            return _fail(_softmax_mistake(out, Z) or "the values differ from softmax: row n "
                         "should be exp(Z[n]) / sum(exp(Z[n]))")
        if run.changed:
            return _fail("changes Z in place (Z -= ... or np.exp(Z, out=Z)): the caller's "
                         "logits are lost; compute on a new array (Z - Z.max(...) makes one)")
    with np.errstate(all="ignore"):
        big = _array(run(np.array([[1000.0, 0.0, -1000.0]])), "the result")
        if not np.isfinite(big).all():
            return _fail("overflows at logits like 1000 (exp(1000) is inf, and inf / inf is "
                         "nan): subtract each row's maximum before exp")
        apart = np.array([[1000.0, 999.0, 998.0], [-1000.0, -999.0, -998.0]])
        far = _array(run(apart.copy()), "the result")
    if not np.isfinite(far).all() or not _close(far, _softmax(apart)):
        return _fail("subtracts one maximum for the whole array (Z.max()), not each row's: a "
                     "row far below the largest logit underflows to 0 / 0 = nan. Use "
                     "Z.max(axis=1, keepdims=True)")
    Z32 = rng.normal(size=(5, 4)).astype(np.float32) * 3
    if not _close(run(Z32.copy()), _softmax(Z32.astype(float)), 1e-5):
        return _fail("gives wrong values for float32 logits")
    return Feedback(True, "softmax is right, rows sum to 1, and large logits are safe")


# --- chapter 4: cross-entropy ------------------------------------------------------------------

def _cross_entropy_mistake(out, Z2, y):
    ref, N, C = _cross_entropy(Z2, y), len(y), Z2.shape[1]
    m = Z2.max(axis=1, keepdims=True)
    shifted_lse = np.log(np.exp(Z2 - m).sum(axis=1))
    right = Z2[np.arange(N), y]
    lse = m[:, 0] + shifted_lse
    if np.isclose(out, ref * N):
        return "is the sum over the batch, not the mean: divide by N"
    if np.isclose(out, -ref):
        return "has the wrong sign: each image costs -log of its right class's probability"
    if np.isclose(out, ref / C):
        return ("is the mean over all N * C entries (the one-hot form's mean): sum over the "
                "classes, then take the mean over the N images")
    if np.isclose(out, ref / np.log(10)) or np.isclose(out, ref / np.log(2)):
        return "uses log10 or log2: the loss uses the natural logarithm, np.log"
    if np.isclose(out, np.mean(shifted_lse - right)):
        return ("forgets to add the maximum back: lse(z) = m + log(sum(exp(z - m))), with m "
                "the row's largest logit")
    if np.isclose(out, np.mean(lse[:, None] - Z2[:, y])):
        return ("Z2[:, y] picks the columns y for every row, an (N, N) array: pick one entry "
                "per row with Z2[np.arange(N), y]")
    if np.isclose(out, np.mean(lse)):
        return "forgets to subtract the right class's logit Z2[n, y[n]]"
    if np.isclose(out, np.mean(lse - Z2.max(axis=1))):
        return "subtracts the largest logit, not the right class's: Z2[np.arange(N), y]"
    return None


@_grader((loss, "cross_entropy"), (loss, "logsumexp"))
def check_cross_entropy(run, seed=0):
    """Check ``fn(Z2, y)``: mean cross-entropy of logits Z2 ``(N, C)`` and labels y ``(N,)``."""
    rng = np.random.default_rng(seed)
    N, C = 6 + seed, 3 + seed
    Z2, y = rng.normal(size=(N, C)) * 2, rng.integers(0, C, N)
    y[:C] = np.arange(C)  # every class appears
    ref = _cross_entropy(Z2, y)
    out = run(Z2.copy(), y.copy())
    if np.ndim(out) != 0:
        return _fail(f"returns shape {np.shape(out)}; the loss is one number, the mean over the "
                     "batch")
    out = float(_array(out, "the loss"))
    if not np.isclose(out, ref):
        return _fail(_cross_entropy_mistake(out, Z2, y) or
                     f"gives {out:.4f}, expected {ref:.4f}: the mean over n of "
                     "lse(Z2[n]) - Z2[n, y[n]]")
    if run.changed:
        return _fail("changes Z2 (or y) in place: the caller's logits are lost; compute on a "
                     "new array (Z2 - m makes one)")
    with np.errstate(all="ignore"):
        big = float(_array(run(np.array([[1e4, -1e4], [-1e4, 1e4]]), np.array([1, 1])),
                           "the loss"))
        apart = np.array([[1000.0, 999.0, 998.0], [-1000.0, -999.0, -998.0]])
        far = float(_array(run(apart.copy(), np.array([0, 2])), "the loss"))
    if np.isinf(big) and big > 0 and not np.isfinite(far):
        return _fail("overflows at logits of +-1e4 (exp(1e4) is inf): subtract each row's "
                     "maximum before exp, as log-sum-exp does")
    if not np.isclose(big, 1e4):
        return _fail(f"gives {big} at logits of +-1e4 (expected 10000): log(softmax) underflows "
                     "to log(0); compute it from the logits, lse(Z2[n]) - Z2[n, y[n]]")
    if not np.isclose(far, _cross_entropy(apart, np.array([0, 2]))):
        return _fail("subtracts one maximum for the whole array (Z2.max()), not each row's: a "
                     "row far below it underflows to log(0). Use Z2.max(axis=1, keepdims=True)")
    Z32 = Z2.astype(np.float32)
    out32 = float(_array(run(Z32.copy(), y.copy()), "the loss"))
    if not np.isclose(out32, _cross_entropy(Z32.astype(float), y), rtol=1e-5):
        return _fail("gives a wrong loss for float32 logits")
    return Feedback(True, "cross-entropy is right and stays finite at large logits")


# --- chapter 5: backward pass and numerical gradient -------------------------------------------

def _backward_variants(params, cache, y):
    """The gradients a learner gets from the usual mistakes, by name."""
    N, C = cache["A2"].shape
    Y = np.eye(C)[y]
    out = {}

    def grads(dZ2, mask=None, mean_bias=False):
        dZ1 = dZ2 @ params["W2"].T * (cache["A1"] > 0 if mask is None else mask)
        g = {"W1": cache["X"].T @ dZ1, "b1": dZ1.sum(axis=0),
             "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0)}
        if mean_bias:
            g["b1"], g["b2"] = dZ1.mean(axis=0), dZ2.mean(axis=0)
        return g

    dZ2 = (cache["A2"] - Y) / N
    out["sum"] = grads(cache["A2"] - Y)
    out["twice"] = grads(dZ2 / N)
    out["sign"] = grads(-dZ2)
    out["no_mask"] = grads(dZ2, mask=1.0)
    out["A1_mask"] = grads(dZ2, mask=cache["A1"])
    out["mean_bias"] = grads(dZ2, mean_bias=True)
    out["softmax_only"] = grads(cache["A2"] / N)
    return out


_BACKWARD_MISTAKES = {
    "sum": ("every gradient is N times too large: the loss is a mean, so dZ2 = (A2 - Y) / N; "
            "divide by the batch size N (once)"),
    "twice": ("every gradient is N times too small: the 1/N enters once, in dZ2 = "
              "(A2 - Y) / N; do not divide dW or db by N again"),
    "sign": ("every gradient has the opposite sign: dZ2 = (A2 - Y) / N, not (Y - A2) / N"),
    "no_mask": "dW1 and db1 ignore the ReLU: multiply dA1 by the mask (Z1 > 0) to get dZ1",
    "A1_mask": ("dZ1 multiplies dA1 by A1 itself: the ReLU's derivative is the 0/1 mask "
                "(Z1 > 0), not the activation"),
    "mean_bias": ("db1 and db2 take the mean over the batch: dZ already holds the 1/N, so "
                  "sum over axis 0"),
    "softmax_only": "dZ2 forgets to subtract the one-hot labels Y: dZ2 = (A2 - Y) / N",
}


@_grader((_backward_module, "backward"), (loss, "cross_entropy_grad"))
def check_backward(run, seed=0):
    """Check ``fn(params, cache, y)``: gradients ``{"W1", "b1", "W2", "b2"}`` like
    ``backward``."""
    params, X, y = _case(seed, N=6 + seed)
    cache = _forward(params, X)
    ref = _backward(params, cache, y)
    out = run({k: v.copy() for k, v in params.items()},
              {k: v.copy() for k, v in cache.items()}, y.copy())
    if not isinstance(out, dict) or set(out) != set(ref):
        got = sorted(out) if isinstance(out, dict) else type(out).__name__
        return _fail(f"should return a dict with the keys {sorted(ref)}, got {got}")
    for k in ("W1", "b1", "W2", "b2"):
        got = np.shape(out[k])
        if got != ref[k].shape:
            message = f"d{k} has shape {got}, expected {ref[k].shape}, the shape of {k}"
            if got == ref[k].shape[::-1]:
                message += (": transposed (d{0} = {1}.T @ dZ{2}, not dZ{2}.T @ {1})"
                            .format(k, "X" if k == "W1" else "A1", k[1]))
            if k[0] == "b":
                message += ": sum over the batch axis (axis=0), without keepdims"
            return _fail(message)
    if run.changed:
        where = "the cache (cache['A2']?)" if 1 in run.changed else "params"
        return _fail(f"changes {where} in place: dZ2 = cache['A2'] is the same array, not a "
                     "copy, and dZ2[...] -= 1 then changes the cache. Use cache['A2'] - Y or "
                     ".copy()")
    if all(_close(out[k], ref[k]) for k in ref):
        params32 = {k: v.astype(np.float32) for k, v in params.items()}
        cache32 = {k: v.astype(np.float32) for k, v in cache.items()}
        out32 = run(params32, cache32, y.copy())
        if not all(_close(out32[k], ref[k], 1e-4) for k in ref):
            return _fail("gives wrong gradients for a float32 network")
        return Feedback(True, "all four gradients match backpropagation")
    for name, wrong in _backward_variants(params, cache, y).items():
        if all(_close(out[k], wrong[k]) for k in ref) or (
                name in ("no_mask", "A1_mask") and _close(out["W1"], wrong["W1"])):
            return _fail(_BACKWARD_MISTAKES[name])
    first = next(k for k in ("W2", "b2", "W1", "b1") if not _close(out[k], ref[k]))
    return _fail(f"d{first} differs from backpropagation's (start from dZ2 = (A2 - Y) / N and "
                 "follow the chapter's equations, checking each shape)")


def _one_sided(f, x, h):
    grad = np.zeros_like(x)
    base = f()
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f() - base) / h
        x[i] = old
    return grad


@_grader((gradcheck, "numerical_gradient"), (gradcheck, "check_gradients"))
def check_numerical_gradient(run, seed=0):
    """Check ``fn(f, x, h)``: central-difference gradient of the scalar ``f()`` with respect to
    the array x (any shape), each entry nudged in place and restored."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, 4) if seed == 0 else (2, 3, 2))
    a = rng.normal(size=x.shape)

    def f():  # reads x itself, as a loss reads the parameters
        return float(np.sum(a * np.sin(x)) + np.sum(x ** 3) / 3)

    h, original = 1e-5, x.copy()
    want = _numerical_gradient(f, x, h)
    out = run(f, x, h)
    if not np.allclose(x, original, rtol=1e-12, atol=0):
        return _fail("does not restore x: after the check each entry must hold its old value "
                     "again (keep old = x[i] and set x[i] = old at the end)")
    if np.shape(out) != x.shape:
        message = f"returns shape {np.shape(out)}, expected {x.shape}, the shape of x"
        if np.size(out) == x.size:
            message += " (flattened? np.zeros_like(x) keeps the shape)"
        elif np.shape(out) == x.shape[:1]:
            message += (": x[i] is a whole row of a 2-D array; visit every entry with "
                        "np.ndindex(x.shape)")
        return _fail(message)
    out = _array(out, "the gradient")
    if _close(out, want, 1e-7):
        params, X, y = _case(seed, N=4, D=3, H=3, C=2)

        def network_loss():
            return _cross_entropy(_forward(params, X)["Z2"], y)

        got = _array(run(network_loss, params["W2"], 1e-5), "the gradient")
        backprop = _backward(params, _forward(params, X), y)["W2"]
        if gradcheck.relative_error(got, backprop) > 1e-7:
            return _fail("on the network's loss, dL/dW2 differs from backpropagation")
        return Feedback(True, "central differences, every entry, x restored; it agrees with "
                              "backpropagation")
    if not out.any():
        return _fail("every entry is 0: f did not change, so the nudge missed the array f reads. "
                     "Change x itself, in place (x[i] = old + h), not a copy")
    if _close(out, _one_sided(f, x, h), 1e-9):
        return _fail("uses the one-sided difference (f(x + h) - f(x)) / h: its error shrinks "
                     "only like h; the central (f(x + h) - f(x - h)) / (2h) like h**2")
    if _close(out, 2 * want, 1e-7):
        return _fail("is twice the gradient: the central difference divides by 2h, the distance "
                     "between x - h and x + h")
    if _close(out, -want, 1e-7):
        return _fail("has the wrong sign: (f(x + h) - f(x - h)) / (2h)")
    if np.ptp(out) < 1e-6 * np.abs(out).max():
        return _fail("every entry is the same: nudges the whole array at once (x + h) instead "
                     "of one entry at a time")
    if x.ndim > 1 and all(np.ptp(out[i]) < 1e-9 for i in range(len(out))):
        return _fail("each row holds one value: x[i] is a whole row of a 2-D array; visit every "
                     "entry with np.ndindex(x.shape) (or np.nditer)")
    return _fail("differs from the central difference (f(x + h) - f(x - h)) / (2h), entry by "
                 "entry")


# --- chapter 6: momentum and Adam --------------------------------------------------------------

def _momentum(p, g, v, lr, mu):
    v = mu * v + g
    return p - lr * v, v


_MOMENTUM_VARIANTS = {
    "steps with the gradient g, not with v: the step is p - lr * v":
        lambda p, g, v, lr, mu: (p - lr * g, mu * v + g),
    "updates p with the old v: first v = mu * v + g, then p = p - lr * v":
        lambda p, g, v, lr, mu: (p - lr * v, mu * v + g),
    "v = mu * v + (1 - mu) * g is an average; the book's momentum (and PyTorch's) sums: "
    "v = mu * v + g":
        lambda p, g, v, lr, mu: (p - lr * (mu * v + (1 - mu) * g), mu * v + (1 - mu) * g),
    "mu multiplies the gradient: v = mu * v + g, mu on the old v":
        lambda p, g, v, lr, mu: (p - lr * (v + mu * g), v + mu * g),
    "climbs the loss: p = p - lr * v, a minus":
        lambda p, g, v, lr, mu: (p + lr * (mu * v + g), mu * v + g),
    "ignores the v passed in (a fresh v every call): that is plain SGD; the check passes "
    "back the v your last call returned":
        lambda p, g, v, lr, mu: (p - lr * g, g),
    "puts the learning rate into v (v = mu * v + lr * g): the book's v sums gradients and lr "
    "multiplies v in the step; the two agree only while lr never changes":
        lambda p, g, v, lr, mu: (p - (mu * v + lr * g), mu * v + lr * g),
    "takes Nesterov's step (p - lr * (g + mu * v)): the book's momentum steps by lr * v":
        lambda p, g, v, lr, mu: (p - lr * (g + mu * (mu * v + g)), mu * v + g),
    "swaps lr and mu":
        lambda p, g, v, lr, mu: (p - mu * (lr * v + g), lr * v + g),
}


def _steps(step, p, gs, state, *args):
    """Run ``step(p, g, *state, *args) -> (p, *state)`` over the gradients ``gs``."""
    history = []
    for g in gs:
        p, *state = step(p, g, *state, *args)
        history.append((p, *state))
    return history


@_grader((optim, "Momentum"))
def check_momentum_step(run, seed=0):
    """Check ``fn(p, g, v, lr, mu) -> (p, v)``: one step of SGD with momentum, v zeros at the
    start."""
    rng = np.random.default_rng(seed)
    n, lr, mu = 5 + seed, 0.1, 0.9
    p0, gs = rng.normal(size=n), rng.normal(size=(4, n))
    ref = _steps(_momentum, p0, gs, [np.zeros(n)], lr, mu)
    p, v, got, v_kept = p0.copy(), np.zeros(n), [], True
    for g in gs:
        v_in = v.copy()
        out = run(p.copy(), g.copy(), v.copy(), lr, mu)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return _fail("should return the pair (p, v): the new parameters and the new v")
        p, v = (_array(a, "p and v") for a in out)
        if p.shape != p0.shape or v.shape != p0.shape:
            return _fail(f"returns p of shape {p.shape} and v of shape {v.shape}, expected "
                         f"{p0.shape}, the shape of p")
        got.append((p, v))
        v_kept &= np.array_equal(v, v_in)
    if all(_close(a, b, 1e-9) and _close(c, d, 1e-9) for (a, c), (b, d) in zip(got, ref)):
        p32, g32 = p0.astype(np.float32), gs[0].astype(np.float32)
        p1, v1 = run(p32, g32, np.zeros(n, np.float32), lr, mu)
        if not (_close(p1, ref[0][0], 1e-5) and _close(v1, ref[0][1], 1e-5)):
            return _fail("gives a wrong step for float32 arrays")
        return Feedback(True, "v = mu * v + g, then p = p - lr * v, step after step")
    if v_kept:
        return _fail("returns the v it was given, unchanged: return the new v, mu * v + g, "
                     "which the next call receives")
    wrongs = {m: _steps(f, p0, gs, [np.zeros(n)], lr, mu) for m, f in _MOMENTUM_VARIANTS.items()}
    for message, wrong in wrongs.items():  # p and v both as the mistake makes them
        if all(_close(a, b, 1e-9) and _close(c, d, 1e-9) for (a, c), (b, d) in zip(got, wrong)):
            return _fail(message)
    if all(_close(a, b, 1e-9) for (a, _), (b, _) in zip(got, ref)):
        return _fail("p is right but the v you return is not: return the new v, "
                     "mu * v + g, which the next call receives")
    for message, wrong in wrongs.items():
        if all(_close(a, b, 1e-9) for (a, _), (b, _) in zip(got, wrong)):
            return _fail(message)
    return _fail("the parameters after a few steps differ from momentum's: v = mu * v + g, "
                 "then p = p - lr * v")


def _adam(p, g, m, v, t, lr, beta1, beta2, eps, variant=None):
    """One Adam step as the chapter writes it, or as one of the usual mistakes."""
    b1, b2 = (beta2, beta1) if variant == "swapped" else (beta1, beta2)
    m = b1 * m + (g if variant == "no_1-b1" else (1 - b1) * g)
    v = b2 * v + (1 - b2) * (np.abs(g) if variant == "g_not_g2" else g * g)
    t = t + 1 if variant == "t+1" else t
    m_hat = m if variant in ("no_correction", "v_only") else m / (1 - b1 ** t)
    v_hat = v if variant in ("no_correction", "m_only") else v / (1 - b2 ** t)
    if variant == "eps_inside":
        step = m_hat / np.sqrt(v_hat + eps)
    elif variant == "no_sqrt":
        step = m_hat / (v_hat + eps)
    else:
        step = m_hat / (np.sqrt(v_hat) + eps)
    if variant == "returns_hat":
        m, v = m_hat, v_hat
    return (p + lr * step if variant == "uphill" else p - lr * step), m, v


_ADAM_MISTAKES = {
    "no_correction": ("no bias correction: divide m by (1 - beta1**t) and v by (1 - beta2**t) "
                      "before the step; without it the first steps are several times too large"),
    "m_only": "corrects m but not v: v_hat = v / (1 - beta2**t) too",
    "v_only": "corrects v but not m: m_hat = m / (1 - beta1**t) too",
    "swapped": "beta1 and beta2 are swapped: m uses beta1 = 0.9, v uses beta2 = 0.999",
    "eps_inside": ("puts eps inside the square root, sqrt(v_hat + eps): it belongs outside, "
                   "sqrt(v_hat) + eps; the gradients near 0 of this check show the difference"),
    "t+1": ("bias-corrects with t + 1: t already counts from 1 at the first step (the check "
            "calls with t = 1, 2, 3)"),
    "g_not_g2": "v averages |g| or g, not g**2, the squared gradient",
    "no_1-b1": "m = beta1 * m + g forgets the factor (1 - beta1) on g",
    "no_sqrt": "divides by v_hat, not by its square root: sqrt(v_hat) + eps",
    "uphill": "climbs the loss: p = p - lr * m_hat / (sqrt(v_hat) + eps), a minus",
    "returns_hat": ("returns the bias-corrected m_hat and v_hat: return the new m and v, not "
                    "the bias-corrected ones; the next call corrects them again"),
}


@_grader((optim, "Adam"))
def check_adam_step(run, seed=0):
    """Check ``fn(p, g, m, v, t, lr, beta1, beta2, eps) -> (p, m, v)``; t counts from 1."""
    rng = np.random.default_rng(seed)
    n, settings = 6 + seed, (1e-3, 0.9, 0.999, 1e-8)
    p0 = rng.normal(size=n)
    gs = rng.normal(size=(3, n))
    gs[:, :2] = rng.normal(size=(3, 2)) * 1e-9  # gradients near 0: where eps goes shows
    zeros = np.zeros(n)

    def sequence(variant=None):
        p, m, v, out = p0, zeros, zeros, []
        with np.errstate(all="ignore"):
            for t, g in enumerate(gs, start=1):
                p, m, v = _adam(p, g, m, v, t, *settings, variant=variant)
                out.append((p, m, v))
        return out

    ref = sequence()
    p, m, v, got = p0.copy(), zeros.copy(), zeros.copy(), []
    with np.errstate(all="ignore"):
        for t, g in enumerate(gs, start=1):
            out = run(p.copy(), g.copy(), m.copy(), v.copy(), t, *settings)
            if not isinstance(out, (tuple, list)) or len(out) != 3:
                return _fail("should return the triple (p, m, v)")
            p, m, v = (_array(a, "p, m and v") for a in out)
            if not (p.shape == m.shape == v.shape == p0.shape):
                return _fail(f"returns p, m, v of shapes {p.shape}, {m.shape}, {v.shape}; each "
                             f"should have the shape of p, {p0.shape}")
            if t == 1 and not np.isfinite(p).all():
                return _fail("the first step gives inf or nan: at t = 1, 1 - beta**t is 1 - "
                             "beta, not 0; use t as given (it counts from 1), not t - 1")
            got.append((p, m, v))
    if all(all(_close(a, b, 1e-9) for a, b in zip(mine, want)) for mine, want in zip(got, ref)):
        p32 = p0.astype(np.float32)
        g32 = gs[2].astype(np.float32)
        out32 = run(p32, g32, np.zeros(n, np.float32), np.zeros(n, np.float32), 1, *settings)
        want32 = _adam(p0, gs[2], zeros, zeros, 1, *settings)
        if not all(_close(a, b, 1e-5) for a, b in zip(out32, want32)):
            return _fail("gives a wrong step for float32 arrays")
        return Feedback(True, "Adam's step, moments and bias correction are right")
    for variant, message in _ADAM_MISTAKES.items():
        if all(_close(mine[0], want[0], 1e-9) for mine, want in zip(got, sequence(variant))):
            return _fail(message)
    if all(_close(mine[0], want[0], 1e-9) for mine, want in zip(got, ref)):
        return _fail("p is right but m or v is not: return the new m and v, which the next "
                     "call receives")
    return _fail("the parameters after 3 steps differ from Adam's (check m, v, the bias "
                 "correction, and where eps goes: sqrt(v_hat) + eps)")


# --- chapter 7: the training loop, accuracy and the confusion matrix ---------------------------

class _Recorder:
    """Stands in for ``backward.backward`` while a training loop runs: records which images
    (rows of X) and labels each step used, then computes the gradients as ``backward``."""

    def __init__(self, X):
        self.X, self.steps = X, []

    def __call__(self, params, cache, y):
        Xb = np.asarray(cache["X"])
        rows = np.abs(Xb[:, None, :] - self.X[None, :, :]).sum(axis=2).argmin(axis=1)
        self.steps.append((rows, np.asarray(y).copy()))
        return _backward(params, cache, y)


def _epochs(steps, per_epoch):
    return [np.concatenate([rows for rows, _ in steps[e:e + per_epoch]])
            for e in range(0, len(steps), per_epoch)]


def _sgd_replay(params, X, y, steps, learning_rate):
    params = {k: v.copy() for k, v in params.items()}
    for rows, _ in steps:
        grads = _backward(params, _forward(params, X[rows]), y[rows])
        for k in params:
            params[k] -= learning_rate * grads[k]
    return params


@_grader((train, "train"), (train, "train_step"))
def check_training_loop(run, seed=0):
    """Check ``fn(params, X, y, learning_rate, epochs, batch_size, seed) -> params``: SGD on
    mini-batches, shuffled at the start of every epoch."""
    N, batch_size, epochs, lr = 60 + 3 * seed, 8, 3, 0.05
    N += N % batch_size == 0  # a last batch smaller than the others, whatever the seed
    params, X, y = _case(seed, N=N, D=5, H=8, C=3)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)  # a learnable rule
    per_epoch = -(-N // batch_size)
    last = N - (per_epoch - 1) * batch_size

    def train_once(shuffle_seed):
        recorder = _Recorder(X)
        out = run({k: v.copy() for k, v in params.items()}, X.copy(), y.copy(), lr, epochs,
                  batch_size, shuffle_seed, substitutes={_backward: recorder})
        return out, recorder.steps

    out, steps = train_once(0)
    if 1 in run.changed or 2 in run.changed:
        return _fail("changes the caller's X or y in place (rng.shuffle(X)?): index with a "
                     "permutation instead, X[order], which makes a new array")
    if not isinstance(out, dict) or any(np.shape(out.get(k)) != v.shape
                                        for k, v in params.items()):
        return _fail("should return the parameter dict, with the same keys and shapes")
    if not steps:
        return _fail("never calls backward.backward: compute each mini-batch's gradients with "
                     "the companion's forward and backward (the check follows the batches "
                     "through backward)")
    sizes = [len(rows) for rows, _ in steps]
    if all(s == N for s in sizes):
        return _fail(f"ignores batch_size: every step uses all {N} images")
    if max(sizes) != batch_size:
        return _fail(f"ignores batch_size: steps of up to {max(sizes)} images, not batch_size "
                     f"= {batch_size}")
    if sizes == [batch_size] * (N // batch_size) * epochs:
        return _fail(f"drops the last, smaller batch: N = {N} is not a multiple of batch_size "
                     f"= {batch_size}, so each epoch ends with a batch of {last}; "
                     "range(0, N, batch_size) keeps it")
    expected = [batch_size] * (per_epoch - 1) + [last]
    if len(sizes) % per_epoch == 0 and sizes == expected * (len(sizes) // per_epoch) and (
            len(sizes) // per_epoch != epochs):
        ran = len(sizes) // per_epoch
        return _fail(f"runs {ran} epoch{'s' * (ran != 1)}, not epochs = {epochs}")
    if sizes != expected * epochs:
        return _fail(f"the batch sizes are {sizes[:per_epoch + 1]}...; expected {expected} in "
                     f"each of the {epochs} epochs")
    if any(not np.array_equal(labels, y[rows]) for rows, labels in steps):
        return _fail("the labels do not match the images: shuffle X and y with the same order "
                     "(X[batch] and y[batch] with the same indices)")
    orders = _epochs(steps, per_epoch)
    if any(not np.array_equal(np.sort(order), np.arange(N)) for order in orders):
        return _fail("an epoch uses some images twice and others never (sampled with "
                     "replacement?): each epoch goes through a permutation of all N images")
    if np.array_equal(orders[0], np.arange(N)):
        return _fail("never shuffles: every epoch goes through the images in their stored "
                     "order; draw a permutation with np.random.default_rng(seed)")
    if all(np.array_equal(order, orders[0]) for order in orders):
        return _fail("shuffles once, not at the start of every epoch: all epochs see the "
                     "batches in the same order")
    _, steps_again = train_once(0)
    if len(steps_again) != len(steps) or any(
            not np.array_equal(a, b) for (a, _), (b, _) in zip(steps, steps_again)):
        return _fail("not reproducible: the same seed gave other batches. Shuffle with "
                     "rng = np.random.default_rng(seed), not with np.random's global generator")
    _, steps_other = train_once(1)
    if all(np.array_equal(a, b) for (a, _), (b, _) in zip(steps, steps_other)):
        return _fail("ignores seed: another seed gave the same batches. Make the generator "
                     "from it, np.random.default_rng(seed)")
    want = _sgd_replay(params, X, y, steps, lr)
    if all(_close(out[k], want[k], 1e-8) for k in params):
        return Feedback(True, "shuffles every epoch, uses every image once an epoch (the last "
                              "batch smaller), and steps with SGD")
    if all(np.array_equal(out[k], params[k]) for k in params):
        return _fail("returns the parameters unchanged: update them, params[k] -= "
                     "learning_rate * grads[k], and return the dict")
    if all(_close(out[k], _sgd_replay(params, X, y, steps, -lr)[k], 1e-8) for k in params):
        return _fail("climbs the loss: the update is p -= learning_rate * gradient")
    if all(_close(out[k], _sgd_replay(params, X, y, steps, 1.0)[k], 1e-8) for k in params):
        return _fail("ignores learning_rate: the update is p -= learning_rate * gradient")
    return _fail("the parameters after training differ from plain SGD on your own batches: "
                 "after each batch, p -= learning_rate * gradient, with the gradient at the "
                 "current parameters")


@_grader((metrics, "accuracy"))
def check_accuracy(run, seed=0):
    """Check ``fn(y_true, y_pred)``: the fraction of labels predicted right, a float."""
    rng = np.random.default_rng(seed)
    N = 41 + 2 * seed  # an odd N: no accuracy with two decimals only
    y_true = rng.integers(0, 10, N)
    y_pred = np.where(rng.random(N) < 0.7, y_true, rng.integers(0, 10, N))
    right = int((y_true == y_pred).sum())
    out = run(y_true.copy(), y_pred.copy())
    if run.changed:
        return _fail("changes y_true or y_pred in place: the caller's labels are lost")
    if np.ndim(out) != 0:
        return _fail(f"returns shape {np.shape(out)}: one number, the fraction of the N labels "
                     "that match (np.mean of the comparison)")
    out, want = float(_array(out, "the accuracy")), right / N
    if np.isclose(out, want):
        edge = run(np.array([3, 3]), np.array([3, 3]))
        if not np.isclose(float(edge), 1.0):
            return _fail("gives a wrong accuracy when every label is right")
        return Feedback(True, "the fraction of labels predicted right")
    mistakes = {right: "counts the right predictions: divide by N for the fraction",
                100 * want: "returns a percentage: the accuracy is a fraction in [0, 1]",
                1 - want: "returns the error rate: the accuracy is the fraction predicted right",
                right // N: "divides with //, an integer division: use / (or np.mean)",
                (right - (y_true[-1] == y_pred[-1])) / N: "misses the last sample: a loop "
                "over range(len(y) - 1) stops one short",
                (right - (y_true[-1] == y_pred[-1])) / (N - 1): "misses the last sample: a "
                "loop over range(len(y) - 1) stops one short",
                right / 10: "divides by the number of classes, not by the number of samples N",
                round(want, 2): "rounds the accuracy: return it in full and round only when "
                "printing"}
    for value, message in mistakes.items():
        if np.isclose(out, value):
            return _fail(message)
    return _fail(f"gives {out:.4f}, expected {want:.4f}, the fraction of labels predicted right")


@_grader((metrics, "confusion_matrix"))
def check_confusion_matrix(run, seed=0):
    """Check ``fn(y_true, y_pred, C)``: ``(C, C)`` counts, row = true class, column =
    predicted class."""
    rng = np.random.default_rng(seed)
    C, N = 4, 30 + seed
    y_true, y_pred = rng.integers(0, C - 1, N), rng.integers(0, C - 1, N)  # class C-1 absent
    y_true[:3], y_pred[:3] = 0, 1  # a repeated pair
    want = np.zeros((C, C), dtype=int)
    for t, p in zip(y_true, y_pred):
        want[t, p] += 1
    out = run(y_true.copy(), y_pred.copy(), C)
    if run.changed:
        return _fail("changes y_true or y_pred in place: the caller's labels are lost")
    if np.shape(out) != (C, C):
        return _fail(f"returns shape {np.shape(out)}, expected (C, C) = {(C, C)}: take the size "
                     "from C, not from the labels (a class may be missing from a batch)")
    out = _array(out, "the matrix")
    if np.array_equal(out, want):
        ones = run(np.array([2, 2, 2]), np.array([2, 2, 2]), C)
        if np.asarray(ones)[2, 2] != 3:
            return _fail("counts a repeated (true, predicted) pair once")
        return Feedback(True, "counts every (true, predicted) pair, true classes in rows")
    once = np.zeros((C, C))
    once[y_true, y_pred] = 1
    shifted = np.zeros((C, C))
    np.add.at(shifted, (y_true - 1, y_pred - 1), 1)
    mistakes = [
        (want.T, "is transposed: rows are the true classes, columns the predicted ones, "
                 "M[y_true[n], y_pred[n]]"),
        (once, "M[y_true, y_pred] += 1 counts a repeated pair once (NumPy does not add up "
               "repeated indices): loop over the samples, or use np.add.at"),
        (np.zeros((C, C)), "is all zeros: M[y_true][y_pred] += 1 writes into a copy (M[y_true] "
                           "with an array index is a new array); use M[t, p]"),
        (np.diag(np.diag(want)), "counts only the right predictions: every (true, predicted) "
                                 "pair gets a count, the mistakes off the diagonal"),
        (want / np.maximum(want.sum(axis=1, keepdims=True), 1),
         "normalises the rows: the matrix holds counts"),
        (shifted, "treats the labels as 1..C: they run from 0 to C - 1, M[t, p]"),
    ]
    for wrong, message in mistakes:
        if np.array_equal(out, wrong) or _close(out, wrong):
            return _fail(message)
    return _fail("the counts differ: M[i, j] is the number of images of true class i predicted "
                 "as class j")


# --- chapter 8: early stopping -----------------------------------------------------------------

def _kept_and_ran(values, patience):
    """(kept, ran) as ``train`` gets them from ``EarlyStopping``: the epoch kept (from 1) and
    the epochs run."""
    stopper = _EarlyStopping(patience, lambda: None)
    ran = next((epoch for epoch, value in enumerate(values, start=1)
                if stopper.stop(epoch, value)), len(values))
    return stopper.kept_epoch, ran


def _stopping_rule(values, patience, improves=lambda value, best, last: value < best,
                   stops=lambda epoch, kept, since, patience: epoch - kept >= patience,
                   at_end=lambda kept, patience, n: n):
    """The rule written out, with the parts a learner gets wrong as arguments: when an epoch is
    kept, when training stops, and what is returned at the end of the list."""
    best, last, kept, since = np.inf, np.inf, 0, 0
    for epoch, value in enumerate(values, start=1):
        since = 0 if value < last else since + 1  # epochs since the loss last fell
        if improves(value, best, last):
            best, kept = min(value, best), epoch
        last = value
        if stops(epoch, kept, since, patience):
            return kept, epoch
    return kept, at_end(kept, patience, len(values))


_KEPT_EPOCH_MISTAKES = {
    "keeps a later epoch whose loss only equals the lowest: an epoch is kept when its loss is "
    "strictly lower than every loss before it (<, not <=); a tie keeps the earlier epoch":
        lambda v, p: _stopping_rule(v, p, improves=lambda value, best, last: value <= best),
    "stops one epoch late: stop at the first epoch that is patience epochs past the kept one, "
    "epoch - kept >= patience (not >)":
        lambda v, p: _stopping_rule(v, p, stops=lambda e, k, s, p: e - k > p),
    "stops one epoch early: stop at the first epoch that is patience epochs past the kept one, "
    "epoch - kept >= patience":
        lambda v, p: _stopping_rule(v, p, stops=lambda e, k, s, p: e - k >= p - 1),
    "ignores patience: it stops at the first epoch without a lower loss, as if patience were 1":
        lambda v, p: _stopping_rule(v, p, stops=lambda e, k, s, p: e - k >= 1),
    "looks at the whole list (the lowest loss of all the epochs): early stopping cannot see the "
    "losses after it stops; it keeps the lowest loss among the epochs it ran, and stops "
    "patience epochs after it":
        lambda v, p: (int(np.argmin(v)) + 1, len(v)),
    "counts the epochs since the loss last fell from one epoch to the next: patience counts "
    "the epochs since the kept one, whose loss is the lowest so far (epoch - kept)":
        lambda v, p: _stopping_rule(v, p, stops=lambda e, k, s, p: s >= p),
    "keeps the last epoch whose loss fell from the epoch before: keep the epoch whose loss is "
    "lower than every loss before it (compare with the lowest so far, not with the previous "
    "epoch)":
        lambda v, p: _stopping_rule(v, p, improves=lambda value, best, last: value < last),
    "counts epochs past the end of the list (kept + patience): when the list ends first, "
    "training ran len(val_losses) epochs":
        lambda v, p: _stopping_rule(v, p, at_end=lambda k, p, n: k + p),
}


def _loss_curves(seed):
    """Validation-loss curves that reveal the usual mistakes, and random ones with ties."""
    rng = np.random.default_rng(seed)
    curves = [
        [0.9, 0.5, 0.4, 0.45, 0.5, 0.6, 0.7],  # falls, then rises
        [0.9, 0.5, 0.5, 0.5, 0.6, 0.7, 0.8],  # a tie with the lowest loss
        [1.0, 0.8, 0.6, 0.5],  # falls to the end: never stops early
        [0.5, 0.6, 0.7, 0.8, 0.9],  # lowest at the first epoch
        [0.5, 0.9, 0.8, 0.7, 0.6, 0.55, 0.52, 0.4],  # falls again, but stays above the lowest
        [0.6, 0.5, 0.55, 0.6, 0.65, 0.7, 0.3],  # a lower loss after it has stopped
        [0.9, 0.8, 0.7, 0.75],  # ends before patience runs out
    ]
    curves += [(rng.integers(1, 10, rng.integers(6, 15)) / 10).tolist() for _ in range(12)]
    return curves


def _epoch_number(x):
    """An epoch returned by the learner as an int, or None if it is not a whole number."""
    try:
        number = float(x)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


@_grader((train, "EarlyStopping"))
def check_kept_epoch(run, seed=0):
    """Check ``fn(val_losses, patience) -> (kept, ran)``: the epoch early stopping keeps
    (counting from 1) and the epochs it runs, as ``train.EarlyStopping`` decides them, for a
    list of validation losses, epoch 1 first."""
    cases = [(curve, patience) for curve in _loss_curves(seed) for patience in (1, 2, 3)]
    cases.append((_loss_curves(seed)[0], 10))  # patience longer than the list
    got, want = [], []
    for values, patience in cases:
        given = list(values)
        out = run(given, patience)
        if given != values:
            return _fail("changes the list it was given (pop, sort, append, ...): the caller's "
                         "losses are lost; read val_losses without changing it")
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return _fail("should return the pair (kept, ran): end with return kept, ran")
        kept, ran = (_epoch_number(x) for x in out)
        if kept is None and np.isclose(float(out[0]), min(values)):
            return _fail("returns the lowest loss as kept, not its epoch: kept is the number "
                         "of the epoch (1 for the first)")
        if kept is None or ran is None:
            return _fail(f"returned {tuple(out)}: kept and ran are epoch numbers, whole "
                         "numbers counting from 1")
        got.append((kept, ran))
        want.append(_kept_and_ran(values, patience))
    if got == want:
        return Feedback(True, "keeps the first epoch with the lowest loss so far and stops "
                              "patience epochs after it, or at the end of the list")
    wrong = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)
    values, patience = cases[wrong]
    example = (f" (for the losses {values} and patience {patience}: expected "
               f"{want[wrong]}, got {got[wrong]})")
    if all(g == w[::-1] for g, w in zip(got, want)):
        return _fail("returns (ran, kept): the pair is (kept, ran), the kept epoch first")
    if all(g[0] == w[0] - 1 for g, w in zip(got, want)):
        return _fail("counts the epochs from 0: the first epoch is epoch 1 "
                     "(enumerate(val_losses, start=1))" + example)
    for message, mistake in _KEPT_EPOCH_MISTAKES.items():
        if all(g == mistake(list(v), p) for g, (v, p) in zip(got, cases)):
            return _fail(message + example)
    if all(g[0] == w[0] for g, w in zip(got, want)):
        return _fail("keeps the right epoch but runs the wrong number of epochs: training "
                     "stops at the first epoch that is patience epochs past the kept one, or "
                     "at the end of the list" + example)
    return _fail("keeps the wrong epoch: the kept epoch is the first one whose loss is "
                 "strictly lower than every loss before it, among the epochs run" + example)


# --- chapter 9: the weights in the PyTorch twin ------------------------------------------------

def _torch_modules():
    """The twin's module, or None when PyTorch is missing (the check then says so)."""
    try:
        from companion import twin
    except ModuleNotFoundError:
        return None
    return twin


def check_to_torch(fn, *, time_limit=TIME_LIMIT, seed=0):
    """Check ``fn(params)``: an ``nn.Sequential(Linear(D, H), ReLU(), Linear(H, C))`` holding a
    copy of ``params`` (weights transposed, same dtype), on the CPU."""
    twin = _torch_modules()
    if twin is None:
        return _fail("needs PyTorch, which is not installed here: pip install torch")
    return _grader((twin, "to_torch"))(_check_to_torch)(fn, time_limit=time_limit, seed=seed)


def _check_to_torch(run, seed):
    import torch
    from torch import nn

    params, X, _ = _case(seed, N=5, D=6 + seed)
    for dtype in (np.float32, np.float64):
        p = {k: v.astype(dtype) for k, v in params.items()}
        kept = {k: v.copy() for k, v in p.items()}
        model = run(p)
        if not isinstance(model, nn.Module):
            return _fail(f"returns {type(model).__name__}: return the model, an nn.Sequential")
        if any(not np.array_equal(p[k], kept[k]) for k in p) or set(p) != set(kept):
            return _fail("changes params (the caller's NumPy arrays): leave them as they are and "
                         "copy them into the model")
        layers = list(model.children())
        kinds = [type(layer).__name__ for layer in layers]
        if kinds[-1:] in (["Softmax"], ["LogSoftmax"]):
            return _fail("ends with a softmax: the twin ends at the logits Z2, since "
                         "nn.CrossEntropyLoss applies log-softmax itself (twice, then)")
        if kinds == ["Linear", "Linear"]:
            return _fail("has no ReLU between the two layers: Linear, ReLU, Linear")
        if kinds != ["Linear", "ReLU", "Linear"]:
            return _fail(f"has the layers {kinds}; the twin is Linear(D, H), ReLU(), Linear(H, C)")
        first, second = layers[0], layers[2]
        for i, layer in ((1, first), (2, second)):
            W, b = p[f"W{i}"], p[f"b{i}"]
            weight = layer.weight
            if tuple(weight.shape) == W.shape and W.shape[0] != W.shape[1]:
                return _fail(f"layer {i}'s weight has the shape of W{i}, {W.shape}: nn.Linear "
                             f"stores (out_features, in_features), so its weight is W{i}.T")
            if tuple(weight.shape) != W.shape[::-1]:
                return _fail(f"layer {i}'s weight has shape {tuple(weight.shape)}, expected "
                             f"W{i}.T's {W.shape[::-1]}")
            if layer.bias is None:
                return _fail(f"layer {i} has no bias: nn.Linear(in, out) has one, b{i}")
            if weight.dtype != getattr(torch, np.dtype(dtype).name):
                return _fail(f"the model is {weight.dtype} for {np.dtype(dtype).name} "
                             "parameters: keep their dtype (torch.from_numpy keeps it)")
            if weight.device.type != "cpu":
                return _fail(f"the model is on {weight.device}: put it on the CPU")
            got_w = weight.detach().cpu().numpy()
            if not np.array_equal(got_w, W.T) or not np.array_equal(
                    layer.bias.detach().cpu().numpy(), b):
                return _fail(f"layer {i} does not hold W{i}.T and b{i}: copy the parameters "
                             "into it (a new nn.Linear starts from random weights of its own)")
            if not (isinstance(weight, nn.Parameter) and weight.requires_grad):
                return _fail(f"layer {i}'s weight does not require gradients: training would "
                             "not move it. Copy into the layer's own parameters, under "
                             "torch.no_grad()")
        with torch.no_grad():
            for layer in (first, second):
                layer.weight += 1.0
        if any(not np.array_equal(p[k], kept[k]) for k in p):
            return _fail("shares memory with the NumPy arrays (torch.from_numpy without a copy): "
                         "training the twin would change params too. Copy: .clone() or "
                         "torch.tensor(...)")
        with torch.no_grad():
            for layer in (first, second):
                layer.weight -= 1.0
            Z2 = model(torch.from_numpy(X.astype(dtype))).numpy()
        if not _close(Z2, _forward(p, X.astype(dtype))["Z2"], 1e-4):
            return _fail("the model's logits differ from forward's on the same images")
    return Feedback(True, "the twin holds a copy of the parameters, weights transposed, dtype "
                          "kept, and computes the same logits")
