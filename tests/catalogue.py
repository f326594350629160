"""Answers to the implement-it exercises, as learners write them: for each exercise, wrong
answers with the words the check's message must use to name the mistake, and right answers
written in other ways than the book's solution, which must pass.

tests/test_checks_catalogue.py runs every check on its catalogue. The answers call NumPy only,
except where a mistake is calling the companion's own version.
"""

import numpy as np

from companion import backward as companion_backward_module
from companion import checks, gradcheck, loss, metrics, optim, train
from companion import forward as companion_forward
from companion.backward import backward as companion_backward
from companion.forward import forward as forward_pass
from companion.forward import softmax as companion_softmax


def loops_forever(*args):
    while True:
        pass


# --- He initialization -----------------------------------------------------------------------

def he(rng, fan_in, fan_out):
    W = rng.normal(0.0, np.sqrt(2 / fan_in), size=(fan_in, fan_out))
    return W.astype(np.float32), np.zeros(fan_out, dtype=np.float32)


def he_variant(std=lambda i, o: np.sqrt(2 / i), shape=lambda i, o: (i, o), dtype=np.float32,
               bias=lambda o: np.zeros(o), draw="rng", mean=0.0):
    def fn(rng, fan_in, fan_out):
        size, s = shape(fan_in, fan_out), std(fan_in, fan_out)
        if draw == "global":
            W = np.random.normal(mean, s, size)
        elif draw == "own":
            W = np.random.default_rng(0).normal(mean, s, size)
        elif draw == "uniform":
            W = rng.uniform(-np.sqrt(3) * s, np.sqrt(3) * s, size)
        else:
            W = rng.normal(mean, s, size)
        return W.astype(dtype), np.asarray(bias(fan_out)).astype(dtype)
    return fn


HE_WRONG = [
    (lambda rng, i, o: None, "returns None"),
    (he_variant(std=lambda i, o: 2 / i), "the variance"),
    (he_variant(std=lambda i, o: np.sqrt(2 / o)), "He uses fan_in"),
    (he_variant(std=lambda i, o: np.sqrt(2 / (i + o))), "Xavier"),
    (he_variant(std=lambda i, o: np.sqrt(1 / i)), "expected sqrt(2 / fan_in)"),
    (he_variant(dtype=np.float64), "float32"),
    (he_variant(bias=lambda o: np.full(o, 0.01)), "b should be all zeros"),
    (he_variant(bias=lambda o: np.zeros((o, 1))), "b has shape"),
    (he_variant(shape=lambda i, o: (o, i)), "transposed"),
    (he_variant(draw="global"), "the rng passed in"),
    (he_variant(draw="own"), "another rng gave the same weights"),
    (he_variant(draw="uniform"), "not a normal distribution"),
    (he_variant(mean=0.01), "mean 0"),
    (lambda rng, i, o: {"W": he(rng, i, o)[0], "b": he(rng, i, o)[1]}, "the pair (W, b)"),
]
HE_RIGHT = [
    he,
    lambda rng, i, o: ((rng.standard_normal((i, o)) * np.sqrt(2.0 / i)).astype(np.float32),
                       np.zeros(o, np.float32)),
    lambda rng, i, o: [rng.normal(scale=(2 / i) ** 0.5, size=(i, o)).astype("float32"),
                       np.zeros((o,), "float32")],
    lambda rng, i, o: (rng.standard_normal((i, o), dtype=np.float32) * np.float32(
        np.sqrt(2 / i)), np.zeros(o, np.float32)),
]


# --- softmax ---------------------------------------------------------------------------------

def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def softmax_no_shift(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def softmax_global_max(Z):
    E = np.exp(Z - np.max(Z))
    return E / E.sum(axis=1, keepdims=True)


def softmax_axis0(Z):
    E = np.exp(Z - Z.max(axis=0))
    return E / E.sum(axis=0)


def softmax_column_max(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def softmax_no_keepdims(Z):
    E = np.exp(Z - Z.max(axis=1))
    return E / E.sum(axis=1)


def softmax_sum_no_keepdims(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1)


def softmax_whole_sum(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum()


def softmax_in_place(Z):
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    return Z


def softmax_flat(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E.sum(axis=1) / E.sum()


def softmax_no_exp(Z):
    S = Z - Z.min(axis=1, keepdims=True)
    return S / S.sum(axis=1, keepdims=True)


def softmax_unnormalised(Z):
    return np.exp(Z - Z.max(axis=1, keepdims=True))


def softmax_max_no_keepdims(Z):
    E = np.exp(Z - Z.max(axis=1))
    return E / E.sum(axis=1, keepdims=True)


def softmax_no_shift_no_keepdims(Z):
    return np.exp(Z) / np.exp(Z).sum(axis=1)


def softmax_rows_from_columns(Z):
    out = np.zeros_like(Z)
    for n in range(Z.shape[1]):  # the number of columns, not of rows
        e = np.exp(Z[n] - Z[n].max())
        out[n] = e / e.sum()
    return out


SOFTMAX_WRONG = [
    (softmax_no_shift, "subtract each row's maximum"),
    (softmax_global_max, "not each row's"),
    (softmax_axis0, "axis 0"),
    (lambda Z: softmax(Z.T).T, "axis 0"),
    (softmax_column_max, "each column's maximum"),
    (softmax_no_keepdims, "keepdims"),
    (softmax_sum_no_keepdims, "keepdims"),
    (softmax_whole_sum, "sum of the whole array"),
    (softmax_in_place, "in place"),
    (softmax_flat, "returns shape"),
    (softmax_no_exp, "exponential"),
    (lambda Z: Z / Z.sum(axis=1, keepdims=True), "exponential"),
    (softmax_unnormalised, "the rows do not sum to 1: divide each row by its own sum"),
    (softmax_max_no_keepdims, "keepdims"),
    (softmax_no_shift_no_keepdims, "keepdims"),
    (softmax_rows_from_columns, "the values differ from softmax"),
    (lambda Z: np.zeros_like(Z), "the values differ from softmax"),
    (lambda Z: companion_softmax(Z), "forward.softmax"),
    (lambda Z: companion_forward.softmax(Z), "forward.softmax"),
    (companion_softmax, "forward.softmax"),
    (lambda Z: None, "returns None"),
    (loops_forever, "did not finish"),
]


def softmax_loop(Z):
    out = np.empty_like(Z, dtype=float)
    for n, row in enumerate(Z):
        e = np.exp(row - max(row))
        out[n] = e / sum(e)
    return out


def softmax_via_lse(Z):
    m = Z.max(axis=-1)[:, None]
    lse = m + np.log(np.exp(Z - m).sum(axis=-1))[:, None]
    return np.exp(Z - lse)


SOFTMAX_RIGHT = [softmax, softmax_loop, softmax_via_lse,
                 lambda Z: np.exp(Z - Z.max(1)[:, None]) / np.exp(Z - Z.max(1)[:, None]).sum(
                     1)[:, None]]


# --- cross-entropy ---------------------------------------------------------------------------

def lse(Z):
    m = Z.max(axis=1, keepdims=True)
    return m[:, 0] + np.log(np.exp(Z - m).sum(axis=1))


def cross_entropy(Z2, y):
    return float(np.mean(lse(Z2) - Z2[np.arange(len(y)), y]))


def ce_naive(Z2, y):
    return float(-np.mean(np.log(softmax(Z2)[np.arange(len(y)), y])))


def ce_no_shift(Z2, y):
    return float(np.mean(np.log(np.exp(Z2).sum(axis=1)) - Z2[np.arange(len(y)), y]))


def ce_global_max(Z2, y):
    m = Z2.max()
    return float(np.mean(m + np.log(np.exp(Z2 - m).sum(axis=1)) - Z2[np.arange(len(y)), y]))


def ce_one_hot_mean(Z2, y):
    Y = np.eye(Z2.shape[1])[y]
    return float(np.mean(Y * (lse(Z2)[:, None] - Z2)))


def ce_forgets_max(Z2, y):
    m = Z2.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(Z2 - m).sum(axis=1)) - Z2[np.arange(len(y)), y]))


def ce_columns(Z2, y):
    return float(np.mean(lse(Z2)[:, None] - Z2[:, y]))


def ce_in_place(Z2, y):
    Z2 -= Z2.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(Z2).sum(axis=1)) - Z2[np.arange(len(y)), y]))


CROSS_ENTROPY_WRONG = [
    (ce_naive, "underflows"),
    (ce_no_shift, "overflows"),
    (ce_global_max, "not each row's"),
    (lambda Z2, y: cross_entropy(Z2, y) * len(y), "divide by N"),
    (lambda Z2, y: -cross_entropy(Z2, y), "wrong sign"),
    (lambda Z2, y: lse(Z2) - Z2[np.arange(len(y)), y], "one number"),
    (ce_one_hot_mean, "N * C entries"),
    (ce_forgets_max, "add the maximum back"),
    (ce_columns, "Z2[:, y]"),
    (lambda Z2, y: float(np.mean(lse(Z2))), "subtract the right class's logit"),
    (lambda Z2, y: cross_entropy(Z2, y) / np.log(10), "natural logarithm"),
    (lambda Z2, y: cross_entropy(Z2, y) / np.log(2), "natural logarithm"),
    (lambda Z2, y: float(np.mean(lse(Z2) - Z2.max(axis=1))), "not the right class's"),
    (ce_in_place, "in place"),
    (lambda Z2, y: cross_entropy(Z2, y) + 0.1, "expected"),
    (lambda Z2, y: loss.cross_entropy(Z2, y), "loss.cross_entropy"),
    (lambda Z2, y: float(np.mean(loss.logsumexp(Z2) - Z2[np.arange(len(y)), y])),
     "loss.logsumexp"),
]


def ce_one_hot(Z2, y):
    Y = np.zeros_like(Z2, dtype=float)
    Y[np.arange(len(y)), y] = 1
    return float(np.sum(Y * (lse(Z2)[:, None] - Z2)) / len(y))


def ce_loop(Z2, y):
    total = 0.0
    for z, label in zip(Z2, y):
        m = z.max()
        total += m + np.log(np.sum(np.exp(z - m))) - z[label]
    return total / len(y)


CROSS_ENTROPY_RIGHT = [
    cross_entropy, ce_one_hot, ce_loop,
    lambda Z2, y: np.mean(lse(Z2) - np.take_along_axis(Z2, y[:, None], 1)[:, 0])]


# --- backward --------------------------------------------------------------------------------

def backward(params, cache, y, mistake=None):
    N = len(y)
    dZ2 = cache["A2"].copy()
    dZ2[np.arange(N), y] -= 1
    if mistake != "no_mean":
        dZ2 /= N
    if mistake == "sign":
        dZ2 = -dZ2
    dW2 = cache["A1"].T @ dZ2
    db2 = dZ2.sum(axis=0)
    if mistake == "twice":
        dW2, db2 = dW2 / N, db2 / N
    dA1 = dZ2 @ params["W2"].T
    dZ1 = {"no_relu": dA1, "A1_mask": dA1 * cache["A1"]}.get(mistake, dA1 * (cache["Z1"] > 0))
    dW1, db1 = cache["X"].T @ dZ1, dZ1.sum(axis=0)
    if mistake == "twice":
        dW1, db1 = dW1 / N, db1 / N
    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    if mistake == "keepdims":
        grads["b1"] = dZ1.sum(axis=0, keepdims=True)
    if mistake == "mean_bias":
        grads["b1"], grads["b2"] = dZ1.mean(axis=0), dZ2.mean(axis=0)
    if mistake == "transposed":
        grads["W1"] = dZ1.T @ cache["X"]
    if mistake == "missing_key":
        del grads["b2"]
    return grads


def backward_in_place(params, cache, y):
    dZ2 = cache["A2"]  # not a copy
    dZ2[np.arange(len(y)), y] -= 1
    dZ2 /= len(y)
    dZ1 = dZ2 @ params["W2"].T * (cache["Z1"] > 0)
    return {"W1": cache["X"].T @ dZ1, "b1": dZ1.sum(axis=0),
            "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0)}


def backward_no_transpose(params, cache, y):
    dZ2 = (cache["A2"] - np.eye(cache["A2"].shape[1])[y]) / len(y)
    dA1 = dZ2 @ params["W2"]  # W2, not W2.T
    dZ1 = dA1 * (cache["Z1"] > 0)
    return {"W1": cache["X"].T @ dZ1, "b1": dZ1.sum(axis=0),
            "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0)}


def backward_no_labels(params, cache, y):
    dZ2 = cache["A2"] / len(y)
    dZ1 = dZ2 @ params["W2"].T * (cache["Z1"] > 0)
    return {"W1": cache["X"].T @ dZ1, "b1": dZ1.sum(axis=0),
            "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0)}


def mistaken(name):
    return lambda params, cache, y: backward(params, cache, y, mistake=name)


BACKWARD_WRONG = [
    (mistaken("no_mean"), "N times too large"),
    (mistaken("twice"), "N times too small"),
    (mistaken("sign"), "opposite sign"),
    (mistaken("no_relu"), "ignore the ReLU"),
    (mistaken("A1_mask"), "0/1 mask"),
    (mistaken("keepdims"), "db1 has shape (1, 4)"),
    (mistaken("mean_bias"), "sum over axis 0"),
    (mistaken("transposed"), "transposed"),
    (mistaken("missing_key"), "keys"),
    (backward_in_place, "in place"),
    (backward_no_transpose, "matrix product"),
    (backward_no_labels, "one-hot labels"),
    (lambda params, cache, y: companion_backward(params, cache, y), "backward.backward"),
    (lambda params, cache, y: dict(backward(params, cache, y), W2=loss.cross_entropy_grad(
        cache["Z2"], y)), "loss.cross_entropy_grad"),
]


def backward_one_hot_einsum(params, cache, y):
    N, C = cache["A2"].shape
    Y = np.eye(C)[y]
    dZ2 = (cache["A2"] - Y) / N
    dA1 = np.einsum("nc,hc->nh", dZ2, params["W2"])
    dZ1 = np.where(cache["Z1"] > 0, dA1, 0.0)
    return {"W1": np.einsum("nd,nh->dh", cache["X"], dZ1), "b1": np.einsum("nh->h", dZ1),
            "W2": np.einsum("nh,nc->hc", cache["A1"], dZ2), "b2": dZ2.sum(0)}


def backward_loop(params, cache, y):
    N = len(y)
    grads = {k: np.zeros(v.shape) for k, v in params.items()}
    for n in range(N):
        dz2 = cache["A2"][n].copy()
        dz2[y[n]] -= 1
        dz2 /= N
        dz1 = (params["W2"] @ dz2) * (cache["Z1"][n] > 0)
        grads["W2"] += np.outer(cache["A1"][n], dz2)
        grads["b2"] += dz2
        grads["W1"] += np.outer(cache["X"][n], dz1)
        grads["b1"] += dz1
    return grads


BACKWARD_RIGHT = [backward, backward_one_hot_einsum, backward_loop,
                  lambda params, cache, y: backward(params, dict(cache, A2=cache["A2"].copy()), y)]


# --- numerical gradient ----------------------------------------------------------------------

def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def ng_variant(mistake):
    def fn(f, x, h=1e-5):
        grad = np.zeros_like(x)
        if mistake == "whole":
            x += h
            plus = f()
            x -= 2 * h
            minus = f()
            x += h
            return np.full(x.shape, (plus - minus) / (2 * h))
        for i in np.ndindex(x.shape):
            old = x[i]
            if mistake == "one_sided":
                base = f()
                x[i] = old + h
                grad[i] = (f() - base) / h
            else:
                x[i] = old + h
                f_plus = f()
                x[i] = old - h
                f_minus = f()
                grad[i] = (f_plus - f_minus) / (h if mistake == "over_h" else 2 * h)
                if mistake == "sign":
                    grad[i] = -grad[i]
            if mistake != "no_restore":
                x[i] = old
        return grad
    return fn


def ng_copy(f, x, h=1e-5):
    x = x.copy()  # f reads the original
    return numerical_gradient(f, x, h)


def ng_rows(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in range(len(x)):  # x[i] is a whole row
        old = x[i].copy()
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def ng_flat(f, x, h=1e-5):
    return numerical_gradient(f, x, h).ravel()


NUMERICAL_GRADIENT_WRONG = [
    (ng_variant("one_sided"), "one-sided"),
    (ng_variant("over_h"), "twice the gradient"),
    (ng_variant("sign"), "wrong sign"),
    (ng_variant("no_restore"), "does not restore x"),
    (ng_variant("whole"), "the whole array at once"),
    (ng_copy, "not a copy"),
    (ng_rows, "every entry with np.ndindex"),
    (ng_flat, "flattened"),
    (lambda f, x, h=1e-5: gradcheck.numerical_gradient(f, x, h),
     "gradcheck.numerical_gradient"),
    (lambda f, x, h=1e-5: None, "returns None"),
]


def ng_flat_view(f, x, h=1e-5):
    flat, grad = x.reshape(-1), np.zeros(x.size)  # a view: writes reach x
    for i in range(x.size):
        old = flat[i]
        flat[i] = old + h
        f_plus = f()
        flat[i] = old - h
        f_minus = f()
        flat[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad.reshape(x.shape)


def ng_nditer(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        old = float(x[i])
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
        it.iternext()
    return grad


NUMERICAL_GRADIENT_RIGHT = [numerical_gradient, ng_flat_view, ng_nditer]


# --- momentum --------------------------------------------------------------------------------

def momentum_step(p, g, v, lr, mu):
    v = mu * v + g
    return p - lr * v, v


def momentum_in_place(p, g, v, lr, mu):
    v *= mu
    v += g
    p -= lr * v
    return p, v


def momentum_loop(p, g, v, lr, mu):
    p, v = p.copy(), v.copy()
    for i in range(len(p)):
        v[i] = mu * v[i] + g[i]
        p[i] = p[i] - lr * v[i]
    return p, v


MOMENTUM_WRONG = [
    (lambda p, g, v, lr, mu: (p - lr * g, mu * v + g), "not with v"),
    (lambda p, g, v, lr, mu: (p - lr * v, mu * v + g), "the old v"),
    (lambda p, g, v, lr, mu: (p - lr * (mu * v + (1 - mu) * g), mu * v + (1 - mu) * g),
     "an average"),
    (lambda p, g, v, lr, mu: (p - lr * (v + mu * g), v + mu * g), "mu on the old v"),
    (lambda p, g, v, lr, mu: (p + lr * (mu * v + g), mu * v + g), "climbs"),
    (lambda p, g, v, lr, mu: momentum_step(p, g, np.zeros_like(v), lr, mu), "plain SGD"),
    (lambda p, g, v, lr, mu: (p - (mu * v + lr * g), mu * v + lr * g), "learning rate into v"),
    (lambda p, g, v, lr, mu: (p - lr * (g + mu * (mu * v + g)), mu * v + g), "Nesterov"),
    (lambda p, g, v, lr, mu: momentum_step(p, g, v, mu, lr), "swaps lr and mu"),
    (lambda p, g, v, lr, mu: (momentum_step(p, g, v, lr, mu)[0], v), "the v it was given"),
    (lambda p, g, v, lr, mu: momentum_step(p, g, v, lr, mu)[0], "the pair (p, v)"),
    (lambda p, g, v, lr, mu: optim.Momentum(lr, mu), "optim.Momentum"),
]
MOMENTUM_RIGHT = [momentum_step, momentum_in_place, momentum_loop]


# --- Adam ------------------------------------------------------------------------------------

def adam_update(p, m, v, t, lr, beta1, beta2, eps):
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adam_step(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return adam_update(p, m, v, t, lr, beta1, beta2, eps)


def adam_moments(g, m, v, beta1, beta2):
    return beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g**2


def adam_no_correction(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = adam_moments(g, m, v, beta1, beta2)
    return p - lr * m / (np.sqrt(v) + eps), m, v


def adam_m_only(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = adam_moments(g, m, v, beta1, beta2)
    return p - lr * (m / (1 - beta1**t)) / (np.sqrt(v) + eps), m, v


def adam_v_only(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = adam_moments(g, m, v, beta1, beta2)
    return p - lr * m / (np.sqrt(v / (1 - beta2**t)) + eps), m, v


def adam_eps_inside(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = adam_moments(g, m, v, beta1, beta2)
    return p - lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps), m, v


def adam_no_sqrt(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = adam_moments(g, m, v, beta1, beta2)
    return p - lr * (m / (1 - beta1**t)) / (v / (1 - beta2**t) + eps), m, v


def adam_uphill(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = adam_moments(g, m, v, beta1, beta2)
    return p + lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v


def adam_abs_g(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * np.abs(g)
    return adam_update(p, m, v, t, lr, beta1, beta2, eps)


def adam_no_one_minus_beta1(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = beta1 * m + g, beta2 * v + (1 - beta2) * g**2
    return adam_update(p, m, v, t, lr, beta1, beta2, eps)


def adam_in_place(p, g, m, v, t, lr, beta1, beta2, eps):
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    p -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return p, m, v


def adam_returns_corrected(p, g, m, v, t, lr, beta1, beta2, eps):
    m = (beta1 * m + (1 - beta1) * g) / (1 - beta1**t)
    v = (beta2 * v + (1 - beta2) * g**2) / (1 - beta2**t)
    return p - lr * m / (np.sqrt(v) + eps), m, v


ADAM_WRONG = [
    (adam_no_correction, "no bias correction"),
    (adam_m_only, "corrects m but not v"),
    (adam_v_only, "corrects v but not m"),
    (lambda p, g, m, v, t, lr, b1, b2, eps: adam_step(p, g, m, v, t, lr, b2, b1, eps), "swapped"),
    (adam_eps_inside, "inside the square root"),
    (lambda p, g, m, v, t, *rest: adam_step(p, g, m, v, t + 1, *rest), "t + 1"),
    (lambda p, g, m, v, t, *rest: adam_step(p, g, m, v, t - 1, *rest), "not t - 1"),
    (adam_abs_g, "squared gradient"),
    (adam_no_one_minus_beta1, "(1 - beta1)"),
    (adam_no_sqrt, "not by its square root"),
    (adam_uphill, "climbs"),
    (adam_returns_corrected, "not the bias-corrected ones"),
    (lambda *args: adam_step(*args)[0], "the triple (p, m, v)"),
    (lambda p, g, m, v, t, lr, b1, b2, eps: optim.Adam(lr), "optim.Adam"),
]


def adam_loop(p, g, m, v, t, lr, beta1, beta2, eps):
    p, m, v = p.copy(), m.copy(), v.copy()
    for i in range(p.size):
        m[i] = beta1 * m[i] + (1 - beta1) * g[i]
        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
        p[i] -= lr * (m[i] / (1 - beta1**t)) / ((v[i] / (1 - beta2**t)) ** 0.5 + eps)
    return p, m, v


ADAM_RIGHT = [adam_step, adam_in_place, adam_loop]


# --- training loop ---------------------------------------------------------------------------

def training_loop(params, X, y, learning_rate, epochs, batch_size, seed, mistake=None):
    rng = np.random.default_rng(seed)
    if mistake == "global_rng":
        rng = np.random
    N = len(X)
    order = rng.permutation(N)
    for _ in range(1 if mistake == "one_epoch" else epochs):
        if mistake not in ("shuffle_once", "no_shuffle"):
            order = rng.permutation(N)
        if mistake == "no_shuffle":
            order = np.arange(N)
        if mistake == "replacement":
            order = rng.integers(0, N, N)
        size = {"full_batch": N, "fixed_32": 32}.get(mistake, batch_size)
        stop = N - N % size if mistake == "drop_last" else N
        for i in range(0, stop, size):
            batch = order[i:i + size]
            labels = y[rng.permutation(N)[:len(batch)]] if mistake == "labels" else y[batch]
            grads = companion_backward(params, forward_pass(params, X[batch]), labels)
            rate = {"ascent": -learning_rate, "no_rate": 1.0}.get(mistake, learning_rate)
            if mistake != "no_update":
                for k in ("W1", "W2") if mistake == "weights_only" else params:
                    params[k] = params[k] - rate * grads[k]
    return params


def loop_with(mistake):
    return lambda *args: training_loop(*args, mistake=mistake)


def train_shuffles_caller(params, X, y, learning_rate, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        X[:], y[:] = X[order], y[order]  # shuffles the caller's arrays
        for i in range(0, len(X), batch_size):
            grads = companion_backward(params, forward_pass(params, X[i:i + batch_size]),
                                       y[i:i + batch_size])
            for k in params:
                params[k] -= learning_rate * grads[k]
    return params


def train_own_backprop(params, X, y, learning_rate, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for i in range(0, len(X), batch_size):
            b = order[i:i + batch_size]
            grads = backward(params, forward_pass(params, X[b]), y[b])
            for k in params:
                params[k] -= learning_rate * grads[k]
    return params


TRAINING_LOOP_WRONG = [
    (loop_with("no_shuffle"), "never shuffles"),
    (loop_with("shuffle_once"), "shuffles once"),
    (loop_with("drop_last"), "drops the last, smaller batch"),
    (loop_with("full_batch"), "ignores batch_size"),
    (loop_with("fixed_32"), "ignores batch_size"),
    (loop_with("one_epoch"), "runs 1 epoch, not epochs = 3"),
    (loop_with("replacement"), "twice and others never"),
    (loop_with("labels"), "labels do not match"),
    (loop_with("global_rng"), "not reproducible"),
    (lambda p, X, y, lr, e, b, seed: training_loop(p, X, y, lr, e, b, 0), "ignores seed"),
    (loop_with("ascent"), "climbs the loss"),
    (loop_with("no_rate"), "ignores learning_rate"),
    (loop_with("no_update"), "unchanged"),
    (train_shuffles_caller, "in place"),
    (train_own_backprop, "never calls backward.backward"),
    (lambda p, X, y, lr, e, b, s: train.train(p, X, y, learning_rate=lr, epochs=e,
                                                      batch_size=b, seed=s)[0],
     "train.train"),
    (lambda p, X, y, lr, e, b, s: [p], "parameter dict"),
    (loops_forever, "did not finish"),
]


def training_loop_indices(params, X, y, learning_rate, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    idx = np.arange(len(X))
    for _ in range(epochs):
        rng.shuffle(idx)
        for start in range(0, len(idx), batch_size):
            b = idx[start:start + batch_size]
            cache = companion_forward.forward(params, X[b])
            grads = companion_backward_module.backward(params, cache, y[b])
            for name, grad in grads.items():
                params[name] -= learning_rate * grad
    return params


def training_loop_split(params, X, y, learning_rate, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        X_shuffled, y_shuffled = X[order], y[order]
        for Xb, yb in zip(np.array_split(X_shuffled, range(batch_size, len(X), batch_size)),
                          np.array_split(y_shuffled, range(batch_size, len(X), batch_size))):
            grads = companion_backward(params, forward_pass(params, Xb), yb)
            params = {k: params[k] - learning_rate * grads[k] for k in params}
    return params


TRAINING_LOOP_RIGHT = [training_loop, training_loop_indices, training_loop_split]


# --- accuracy and confusion matrix -----------------------------------------------------------

def accuracy(y_true, y_pred):
    return float(np.mean(y_true == y_pred))


def accuracy_off_by_one(y_true, y_pred):
    right = 0
    for n in range(len(y_true) - 1):
        right += y_true[n] == y_pred[n]
    return right / len(y_true)


def accuracy_in_place(y_true, y_pred):
    y_pred -= y_true
    return float(np.mean(y_pred == 0))


ACCURACY_WRONG = [
    (lambda t, p: int(np.sum(t == p)), "divide by N"),
    (lambda t, p: 100 * np.mean(t == p), "percentage"),
    (lambda t, p: np.mean(t != p), "error rate"),
    (lambda t, p: np.sum(t == p) // len(t), "integer division"),
    (lambda t, p: t == p, "one number"),
    (accuracy_off_by_one, "misses the last sample"),
    (lambda t, p: np.sum(t == p) / 10, "number of classes"),
    (lambda t, p: round(float(np.mean(t == p)), 2), "rounds"),
    (accuracy_in_place, "in place"),
    (lambda t, p: metrics.accuracy(t, p), "metrics.accuracy"),
]


def accuracy_loop(y_true, y_pred):
    return sum(int(a == b) for a, b in zip(y_true, y_pred)) / len(y_true)


ACCURACY_RIGHT = [accuracy, accuracy_loop,
                  lambda t, p: np.count_nonzero(np.equal(t, p)) / t.size]


def confusion(y_true, y_pred, C):
    M = np.zeros((C, C), dtype=int)
    for t, p in zip(y_true, y_pred):
        M[t, p] += 1
    return M


def confusion_fancy(y_true, y_pred, C):
    M = np.zeros((C, C), dtype=int)
    M[y_true, y_pred] += 1  # a repeated pair counts once
    return M


def confusion_chained(y_true, y_pred, C):
    M = np.zeros((C, C), dtype=int)
    M[y_true][y_pred] += 1  # writes into a copy
    return M


def confusion_from_labels(y_true, y_pred, C):
    size = max(y_true.max(), y_pred.max()) + 1
    return confusion(y_true, y_pred, size)


def confusion_one_based(y_true, y_pred, C):
    M = np.zeros((C, C), dtype=int)
    for t, p in zip(y_true, y_pred):
        M[t - 1, p - 1] += 1
    return M


def confusion_in_place(y_true, y_pred, C):
    y_true *= C
    return np.bincount(y_true + y_pred, minlength=C * C).reshape(C, C)


CONFUSION_WRONG = [
    (lambda t, p, C: confusion(t, p, C).T, "transposed"),
    (confusion_fancy, "counts a repeated pair once"),
    (confusion_chained, "writes into a copy"),
    (confusion_from_labels, "take the size from C"),
    (lambda t, p, C: np.diag(np.diag(confusion(t, p, C))), "only the right predictions"),
    (lambda t, p, C: confusion(t, p, C) / np.maximum(confusion(t, p, C).sum(1, keepdims=True),
                                                      1), "normalises"),
    (confusion_one_based, "1..C"),
    (confusion_in_place, "in place"),
    (lambda t, p, C: metrics.confusion_matrix(t, p, C), "metrics.confusion_matrix"),
]
CONFUSION_RIGHT = [
    confusion,
    lambda t, p, C: np.bincount(C * t + p, minlength=C * C).reshape(C, C),
    lambda t, p, C: np.eye(C, dtype=int)[t].T @ np.eye(C, dtype=int)[p],
    lambda t, p, C: np.histogram2d(t, p, bins=C, range=[[0, C], [0, C]])[0],
    lambda t, p, C: np.einsum("nc,nk->ck", np.eye(C)[t], np.eye(C)[p]),
]


def confusion_add_at(y_true, y_pred, C):
    M = np.zeros((C, C), dtype=np.int64)
    np.add.at(M, (y_true, y_pred), 1)
    return M


CONFUSION_RIGHT.append(confusion_add_at)


# --- early stopping --------------------------------------------------------------------------

def kept_epoch(val_losses, patience):
    best, kept = np.inf, 0
    for epoch, value in enumerate(val_losses, start=1):
        if value < best:
            best, kept = value, epoch
        if epoch - kept >= patience:
            return kept, epoch
    return kept, len(val_losses)


def kept_epoch_with(improves=lambda value, best, previous: value < best,
                    stops=lambda epoch, kept, patience: epoch - kept >= patience,
                    at_end=lambda kept, patience, n: n, first=1):
    """The rule as a learner writes it, with one part changed."""
    def fn(val_losses, patience):
        best, previous, kept = np.inf, np.inf, 0
        for epoch, value in enumerate(val_losses, start=first):
            if improves(value, best, previous):
                best, kept = min(best, value), epoch
            previous = value
            if stops(epoch, kept, patience):
                return kept, epoch
        return kept, at_end(kept, patience, len(val_losses))
    return fn


def kept_epoch_first_as_baseline(val_losses, patience):
    best, kept = val_losses[0], 0  # the first loss as the baseline, its epoch never kept
    for epoch, value in enumerate(val_losses[1:], start=2):
        if value < best:
            best, kept = value, epoch
        if epoch - kept >= patience:
            return kept, epoch
    return kept, len(val_losses)


def kept_epoch_since_fall(val_losses, patience):
    best, previous, kept, wait = np.inf, np.inf, 0, 0
    for epoch, value in enumerate(val_losses, start=1):
        if value < best:
            best, kept = value, epoch
        wait = 0 if value < previous else wait + 1  # epochs since the loss last fell
        previous = value
        if wait >= patience:
            return kept, epoch
    return kept, len(val_losses)


def kept_epoch_pops(val_losses, patience):
    best, kept, epoch = np.inf, 0, 0
    while val_losses:
        value, epoch = val_losses.pop(0), epoch + 1  # empties the caller's list
        if value < best:
            best, kept = value, epoch
        if epoch - kept >= patience:
            return kept, epoch
    return kept, epoch


def kept_epoch_returns_loss(val_losses, patience):
    best, kept = np.inf, 0
    for epoch, value in enumerate(val_losses, start=1):
        if value < best:
            best, kept = value, epoch
        if epoch - kept >= patience:
            return best, epoch
    return best, len(val_losses)


def kept_epoch_no_increment(val_losses, patience):
    best, kept, epoch = np.inf, 0, 1
    while epoch <= len(val_losses):
        value = val_losses[epoch - 1]
        if value < best:
            best, kept = value, epoch
            epoch += 1
            continue
        if epoch - kept >= patience:
            return kept, epoch
    return kept, len(val_losses)


def kept_epoch_companion(val_losses, patience):
    stopper = train.EarlyStopping(patience, lambda: None)
    for epoch, value in enumerate(val_losses, start=1):
        if stopper.stop(epoch, value):
            return stopper.kept_epoch, epoch
    return stopper.kept_epoch, len(val_losses)


KEPT_EPOCH_WRONG = [
    (kept_epoch_with(improves=lambda value, best, previous: value <= best), "strictly lower"),
    (kept_epoch_with(first=0), "counts the epochs from 0"),
    (kept_epoch_with(stops=lambda epoch, kept, patience: epoch - kept > patience),
     "stops one epoch late"),
    (kept_epoch_with(stops=lambda epoch, kept, patience: epoch - kept + 1 >= patience),
     "stops one epoch early"),
    (kept_epoch_with(stops=lambda epoch, kept, patience: epoch > kept), "ignores patience"),
    (lambda val_losses, patience: (int(np.argmin(val_losses)) + 1, len(val_losses)),
     "looks at the whole list"),
    (kept_epoch_since_fall, "since the loss last fell"),
    (kept_epoch_with(improves=lambda value, best, previous: value < previous),
     "keeps the last epoch whose loss fell"),
    (kept_epoch_with(at_end=lambda kept, patience, n: kept + patience), "past the end"),
    (lambda val_losses, patience: kept_epoch(val_losses, patience)[::-1], "returns (ran, kept)"),
    (kept_epoch_returns_loss, "the lowest loss as kept, not its epoch"),
    (lambda val_losses, patience: kept_epoch(val_losses, patience)[0], "the pair (kept, ran)"),
    (kept_epoch_pops, "changes the list it was given"),
    (kept_epoch_no_increment, "did not finish"),
    (kept_epoch_companion, "train.EarlyStopping"),
    (lambda val_losses, patience: None, "returns None"),
]


def kept_epoch_counter(val_losses, patience):
    best, kept, wait = float("inf"), 0, 0
    for epoch, value in enumerate(val_losses, start=1):
        if value < best:
            best, kept, wait = value, epoch, 0
        else:
            wait += 1
            if wait == patience:
                return [kept, epoch]
    return [kept, len(val_losses)]


def kept_epoch_prefix_argmin(val_losses, patience):
    for ran in range(1, len(val_losses) + 1):
        kept = int(np.argmin(val_losses[:ran])) + 1  # argmin: the first of equal values
        if ran - kept >= patience:
            return kept, ran
    return int(np.argmin(val_losses)) + 1, len(val_losses)


def kept_epoch_vectorized(val_losses, patience):
    v = np.asarray(val_losses, dtype=float)
    epochs = np.arange(1, len(v) + 1)
    lowest_before = np.minimum.accumulate(np.concatenate([[np.inf], v[:-1]]))
    kept_so_far = np.maximum.accumulate(np.where(v < lowest_before, epochs, 0))
    stops = np.flatnonzero(epochs - kept_so_far >= patience)
    ran = stops[0] + 1 if stops.size else len(v)
    return int(kept_so_far[ran - 1]), int(ran)


def kept_epoch_two_passes(val_losses, patience):
    best, since, ran = val_losses[0], 0, len(val_losses)
    for i in range(1, len(val_losses)):  # first pass: where it stops
        since = 0 if val_losses[i] < best else since + 1
        best = min(best, val_losses[i])
        if since >= patience:
            ran = i + 1
            break
    seen = val_losses[:ran]  # second pass: the first epoch of the lowest loss it saw
    return seen.index(min(seen)) + 1, ran


KEPT_EPOCH_RIGHT = [kept_epoch, kept_epoch_counter, kept_epoch_prefix_argmin,
                    kept_epoch_vectorized, kept_epoch_two_passes]


# --- the PyTorch twin ------------------------------------------------------------------------

def to_torch(params, mistake=None):
    import torch
    from torch import nn

    D, H = params["W1"].shape
    C = params["W2"].shape[1]
    dtype = torch.float32 if mistake == "float32" else torch.from_numpy(params["W1"]).dtype
    dtype = torch.float64 if mistake == "float64" else dtype
    if mistake == "H=64":  # the book's hidden size, not the parameters'
        return nn.Sequential(nn.Linear(D, 64), nn.ReLU(), nn.Linear(64, C)).to(dtype)
    layers = [nn.Linear(D, H, bias=mistake != "no_bias"), nn.ReLU(), nn.Linear(H, C)]
    ending = {"softmax": nn.Softmax, "log_softmax": nn.LogSoftmax}.get(mistake)
    if ending:
        layers.append(ending(dim=1))
    if mistake == "no_relu":
        del layers[1]
    model = nn.Sequential(*layers).to(dtype)
    linear = [layer for layer in layers if isinstance(layer, nn.Linear)]
    for i, layer in ((1, linear[0]), (2, linear[1])):
        W, b = params[f"W{i}"], params[f"b{i}"]
        if mistake == "fresh":
            continue
        if mistake == "no_transpose" or (mistake == "no_transpose_2" and i == 2):
            layer.weight = nn.Parameter(torch.from_numpy(W.copy()))
        elif mistake == "shares_memory":
            layer.weight = nn.Parameter(torch.from_numpy(W.T))
        elif mistake == "frozen":
            del layer.weight
            layer.weight = torch.from_numpy(W.T.copy())  # a plain tensor, not a Parameter
        else:
            with torch.no_grad():
                layer.weight.copy_(torch.from_numpy(W.T.copy()))
        if mistake == "frozen_parameter":
            layer.weight.requires_grad_(False)
        if layer.bias is not None and mistake != "biases_not_copied":
            with torch.no_grad():
                layer.bias.copy_(torch.from_numpy(b))
    return model


def to_torch_transposes_params(params):
    for k in ("W1", "W2"):
        params[k] = params[k].T  # changes the caller's dict
    import torch
    from torch import nn
    model = nn.Sequential(nn.Linear(*params["W1"].shape[::-1]), nn.ReLU(),
                          nn.Linear(*params["W2"].shape[::-1]))
    model.to(torch.from_numpy(params["W1"]).dtype)
    with torch.no_grad():
        for layer, i in ((model[0], 1), (model[2], 2)):
            layer.weight.copy_(torch.from_numpy(params[f"W{i}"].copy()))
            layer.bias.copy_(torch.from_numpy(params[f"b{i}"]))
    return model


def twin_with(mistake):
    return lambda params: to_torch(params, mistake)


TO_TORCH_WRONG = [
    (twin_with("no_transpose"), "nn.Linear stores (out_features, in_features)"),
    (twin_with("softmax"), "ends with a softmax"),
    (twin_with("log_softmax"), "ends with a softmax"),
    (twin_with("no_relu"), "no ReLU"),
    (twin_with("no_bias"), "no bias"),
    (twin_with("float32"), "keep their dtype"),
    (twin_with("fresh"), "copy the parameters"),
    (twin_with("shares_memory"), "shares memory"),
    (twin_with("frozen"), "does not require gradients"),
    (to_torch_transposes_params, "changes params"),
    (lambda params: dict(params), "return the model"),
    (lambda params: __import__("companion.twin").twin.to_torch(params, "cpu"), "twin.to_torch"),
]


def to_torch_state_dict(params):
    import torch
    from torch import nn
    (D, H), C = params["W1"].shape, params["W2"].shape[1]
    model = nn.Sequential(nn.Linear(D, H), nn.ReLU(), nn.Linear(H, C))
    model.to(torch.from_numpy(params["W1"]).dtype)
    model.load_state_dict({"0.weight": torch.tensor(params["W1"].T),
                           "0.bias": torch.tensor(params["b1"]),
                           "2.weight": torch.tensor(params["W2"].T),
                           "2.bias": torch.tensor(params["b2"])})
    return model


def to_torch_parameters(params):
    import torch
    from torch import nn
    layers = []
    for i in (1, 2):
        W = torch.from_numpy(params[f"W{i}"]).T.clone()
        layer = nn.Linear(W.shape[1], W.shape[0], dtype=W.dtype)
        layer.weight = nn.Parameter(W)
        layer.bias = nn.Parameter(torch.from_numpy(params[f"b{i}"]).clone())
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


TO_TORCH_RIGHT = [to_torch, to_torch_state_dict, to_torch_parameters]


# --- answers that reach the graders' other branches ---------------------------------------
# Each branch of a grader says something to a learner, so each is reached by an answer here.
# Some of these answers are contrived (right on one case, wrong on another that a learner's
# code seldom tells apart), to reach a branch that checks what realistic answers get right.

def is_float32(value):
    if isinstance(value, dict):
        return any(is_float32(v) for v in value.values())
    return getattr(value, "dtype", None) == np.float32


def spoiled(value):
    """The value off by 0.1%, whatever its form (a number, an array, a dict or a tuple)."""
    if isinstance(value, dict):
        return {k: spoiled(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(spoiled(v) for v in value)
    return value * 1.001


def wrong_for_float32(right):
    """Right for float64 arguments, 0.1% off for float32 ones."""
    def fn(*args):
        out = right(*args)
        return spoiled(out) if any(is_float32(a) for a in args) else out
    return fn


def backward_changed(key, grad):
    """Right gradients but the one of ``key``, computed by ``grad(params, cache, dZ2, N)``."""
    def fn(params, cache, y):
        N = len(y)
        dZ2 = (cache["A2"] - np.eye(cache["A2"].shape[1])[y]) / N
        return dict(backward(params, cache, y), **{key: grad(params, cache, dZ2, N)})
    return fn


OWN_STATE = {}  # the optimizer state kept by the two answers below, not the one passed in


def momentum_own_v(p, g, v, lr, mu):
    if not v.any():  # the first step: start again
        OWN_STATE.clear()
    OWN_STATE["v"] = mu * OWN_STATE.get("v", 0.0) + g  # keeps its own v, returns the gradient
    return p - lr * OWN_STATE["v"], g


def adam_own_moments(p, g, m, v, t, lr, beta1, beta2, eps):
    if t == 1:
        OWN_STATE.clear()
    m_own = beta1 * OWN_STATE.get("m", 0.0) + (1 - beta1) * g
    v_own = beta2 * OWN_STATE.get("v", 0.0) + (1 - beta2) * g ** 2
    OWN_STATE.update(m=m_own, v=v_own)  # keeps its own moments, returns others
    step = m_own / (1 - beta1 ** t) / (np.sqrt(v_own / (1 - beta2 ** t)) + eps)
    return p - lr * step, m_own * 2, v_own * 2


def training_loop_from_1(params, X, y, learning_rate, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for i in range(1, len(X), batch_size):  # starts at 1: the first image is never used
            b = order[i:i + batch_size]
            grads = companion_backward(params, forward_pass(params, X[b]), y[b])
            for k in params:
                params[k] = params[k] - learning_rate * grads[k]
    return params


def confusion_misses_last(y_true, y_pred, C):
    M = np.zeros((C, C), dtype=int)
    for n in range(len(y_true) - 1):
        M[y_true[n], y_pred[n]] += 1
    return M


def twin_with_layers(*middle):
    def fn(params):
        import torch
        from torch import nn
        model = to_torch(params)
        return nn.Sequential(model[0], *middle, model[2]).to(
            torch.from_numpy(params["W1"]).dtype)
    return fn


def twin_leaky_relu():
    from torch import nn

    class ReLU(nn.Module):  # a learner's own ReLU, leaky
        def forward(self, x):
            return nn.functional.leaky_relu(x, 0.1)
    return ReLU()


SOFTMAX_WRONG += [
    (wrong_for_float32(softmax), "float32"),
    (lambda Z: np.full(Z.shape, "p"), "returned something the check cannot use"),
]
CROSS_ENTROPY_WRONG += [(wrong_for_float32(cross_entropy), "float32")]
BACKWARD_WRONG += [
    (wrong_for_float32(backward), "float32"),
    (backward_changed("W2", lambda p, c, dZ2, N: c["Z1"].T @ dZ2), "dW2 differs"),  # Z1, not A1
    (backward_changed("b2", lambda p, c, dZ2, N: dZ2.mean(axis=0)), "db2 differs"),
    (backward_changed("W1", lambda p, c, dZ2, N: backward(p, c, np.argmax(c["A2"], 1))["W1"]),
     "dW1 differs"),  # the predicted classes as labels
    (backward_changed("b1", lambda p, c, dZ2, N: (dZ2 @ p["W2"].T).sum(axis=0)), "db1 differs"),
]
NUMERICAL_GRADIENT_WRONG += [
    (lambda f, x, h: numerical_gradient(f, x, h) * (1.001 if x.shape == (3, 2) else 1.0),
     "differs from backpropagation"),  # wrong on the network's W2 only
    (lambda f, x, h: numerical_gradient(f, x, h) * (1 + np.arange(x.size).reshape(x.shape)),
     "differs from the central difference"),
]
MOMENTUM_WRONG += [
    (lambda p, g, v, lr, mu: tuple(a[:, None] for a in momentum_step(p, g, v, lr, mu)),
     "returns p of shape (5, 1)"),
    (wrong_for_float32(momentum_step), "float32"),
    (momentum_own_v, "p is right but the v you return is not"),
    (lambda p, g, v, lr, mu: momentum_step(p, g, v, lr, 0.99), "differ from momentum's"),
]
ADAM_WRONG += [
    (lambda *args: tuple(a[:, None] for a in adam_step(*args)), "returns p, m, v of shapes"),
    (wrong_for_float32(adam_step), "float32"),
    (adam_own_moments, "p is right but m or v is not"),
    (lambda p, g, m, v, t, lr, b1, b2, eps: adam_step(p, g, m, v, t, lr, b1, 0.99, eps),
     "differ from Adam's"),
]
TRAINING_LOOP_WRONG += [
    (training_loop_from_1, "the batch sizes are"),
    (loop_with("weights_only"), "differ from plain SGD"),
]
ACCURACY_WRONG += [
    (lambda t, p: accuracy(t, p) if len(t) > 2 else 0.5, "every label is right"),
]
CONFUSION_WRONG += [
    (confusion_misses_last, "the counts differ"),
    (lambda t, p, C: confusion(t, p, C) if len(t) > 3 else np.eye(C, dtype=int),
     "counts a repeated (true, predicted) pair once"),
]
KEPT_EPOCH_WRONG += [
    (kept_epoch_first_as_baseline, "expected (1, 2), got (0, 2)"),
    (lambda values, patience: (kept_epoch(values, patience)[0], len(values)),
     "runs the wrong number of epochs"),
    (lambda values, patience: (int(np.argmax(values)) + 1, kept_epoch(values, patience)[1]),
     "keeps the wrong epoch"),
]
TO_TORCH_WRONG += [
    (twin_with_layers(), "no ReLU"),
    (lambda params: twin_with_layers(__import__("torch").nn.Tanh())(params), "has the layers"),
    (lambda params: twin_with_layers(twin_leaky_relu())(params), "logits differ"),
    (lambda params: to_torch(params).to("meta"), "the model is on meta"),
    (twin_with("no_transpose_2"), "layer 2's weight has the shape of W2, (4, 3)"),
    (twin_with("H=64"), "layer 1's weight has shape (64, 6), expected W1.T's (4, 6)"),
    (twin_with("float64"), "the model is torch.float64 for float32 parameters"),
    (twin_with("biases_not_copied"), "does not hold W1.T and b1"),
    (twin_with("frozen_parameter"), "does not require gradients"),
]


# --- the table the tests read ------------------------------------------------------------------

CATALOGUE = {
    "he_init": (checks.check_he_init, HE_WRONG, HE_RIGHT),
    "softmax": (checks.check_softmax, SOFTMAX_WRONG, SOFTMAX_RIGHT),
    "cross_entropy": (checks.check_cross_entropy, CROSS_ENTROPY_WRONG, CROSS_ENTROPY_RIGHT),
    "backward": (checks.check_backward, BACKWARD_WRONG, BACKWARD_RIGHT),
    "numerical_gradient": (checks.check_numerical_gradient, NUMERICAL_GRADIENT_WRONG,
                           NUMERICAL_GRADIENT_RIGHT),
    "momentum_step": (checks.check_momentum_step, MOMENTUM_WRONG, MOMENTUM_RIGHT),
    "adam_step": (checks.check_adam_step, ADAM_WRONG, ADAM_RIGHT),
    "training_loop": (checks.check_training_loop, TRAINING_LOOP_WRONG, TRAINING_LOOP_RIGHT),
    "accuracy": (checks.check_accuracy, ACCURACY_WRONG, ACCURACY_RIGHT),
    "confusion_matrix": (checks.check_confusion_matrix, CONFUSION_WRONG, CONFUSION_RIGHT),
    "kept_epoch": (checks.check_kept_epoch, KEPT_EPOCH_WRONG, KEPT_EPOCH_RIGHT),
    "to_torch": (checks.check_to_torch, TO_TORCH_WRONG, TO_TORCH_RIGHT),
}
