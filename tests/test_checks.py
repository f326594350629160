"""companion.checks: a correct answer passes, and each typical mistake gets its own message."""

import numpy as np
import pytest

from companion import checks
from companion.backward import backward
from companion.forward import forward, softmax
from companion.loss import cross_entropy, logsumexp
from companion.optim import SGD


def softmax_no_max(Z):
    return np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)


def softmax_axis0(Z):
    E = np.exp(Z - Z.max(axis=0))
    return E / E.sum(axis=0)


def softmax_flat(Z):
    E = np.exp(Z - Z.max())
    return E.sum(axis=1) / E.sum()


@pytest.mark.parametrize("fn, expected", [
    (softmax, "PASS"),
    (lambda Z: softmax(Z.T).T, "axis 0"),
    (softmax_axis0, "axis 0"),
    (softmax_no_max, "subtract each row's maximum"),
    (softmax_flat, "returns shape (4,)"),
    (lambda Z: np.exp(Z) / np.exp(Z).sum(), "differ"),
])
def test_softmax_check(fn, expected):
    assert expected in repr(checks.check_softmax(fn))


def ce_sum(Z2, y):
    return float(np.sum(logsumexp(Z2) - Z2[np.arange(len(y)), y]))


def ce_naive(Z2, y):
    return float(-np.mean(np.log(softmax_no_max(Z2)[np.arange(len(y)), y])))


@pytest.mark.parametrize("fn, expected", [
    (cross_entropy, "PASS"),
    (ce_naive, "at logits of +-1e4"),
    (ce_sum, "divide by N"),
    (lambda Z2, y: -cross_entropy(Z2, y), "wrong sign"),
    (lambda Z2, y: logsumexp(Z2) - Z2[np.arange(len(y)), y], "one number"),
    (lambda Z2, y: cross_entropy(Z2, y) + 0.1, "expected"),
])
def test_cross_entropy_check(fn, expected):
    feedback = checks.check_cross_entropy(fn)
    assert expected in repr(feedback)
    assert feedback.passed == (expected == "PASS")


def backward_variant(mistake):
    def fn(params, cache, y):
        N = len(y)
        dZ2 = cache["A2"].copy()
        dZ2[np.arange(N), y] -= 1
        if mistake != "no_mean":
            dZ2 /= N
        dZ1 = dZ2 @ params["W2"].T
        if mistake != "no_relu":
            dZ1 *= cache["Z1"] > 0
        grads = {"W1": cache["X"].T @ dZ1, "b1": dZ1.sum(axis=0),
                 "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0)}
        if mistake == "bias_keepdims":
            grads["b1"] = dZ1.sum(axis=0, keepdims=True)
        if mistake == "transposed":
            grads["W1"] = grads["W1"].T
        if mistake == "missing_key":
            del grads["b2"]
        return grads
    return fn


@pytest.mark.parametrize("mistake, expected", [
    (None, "PASS"),
    ("no_mean", "divide dZ2 by the batch size"),
    ("no_relu", "ReLU"),
    ("bias_keepdims", "db1 has shape (1, 4)"),
    ("transposed", "transposed"),
    ("missing_key", "keys"),
])
def test_backward_check(mistake, expected):
    assert expected in repr(checks.check_backward(backward_variant(mistake)))


def adam_step(p, g, m, v, t, lr, beta1, beta2, eps, bias_correction=True):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = (m / (1 - beta1 ** t), v / (1 - beta2 ** t)) if bias_correction else (m, v)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@pytest.mark.parametrize("fn, expected", [
    (adam_step, "PASS"),
    (lambda *a: adam_step(*a, bias_correction=False), "no bias correction"),
    (lambda p, g, m, v, t, lr, b1, b2, eps: adam_step(p, g, m, v, t, lr, b2, b1, eps),
     "swapped"),
    (lambda p, g, m, v, t, lr, b1, b2, eps: adam_step(p, g, m, v, t, lr, b1, b2, 1e-2),
     "differ"),
])
def test_adam_check(fn, expected):
    assert expected in repr(checks.check_adam_step(fn))


def training_loop(params, X, y, learning_rate, epochs, batch_size, seed, mistake=None):
    rng, opt = np.random.default_rng(seed), SGD(learning_rate)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for i in range(0, len(X), batch_size):
            idx = order[i:i + batch_size]
            grads = backward(params, forward(params, X[idx]), y[idx])
            if mistake == "fixed_step":
                grads = {k: np.sign(g) * 1e-3 for k, g in grads.items()}
                SGD(1.0).step(params, grads)
            elif mistake == "ascent":
                SGD(-learning_rate).step(params, grads)
            else:
                opt.step(params, grads)
    return params


@pytest.mark.parametrize("mistake, expected", [
    (None, "PASS"),
    ("fixed_step", "learning_rate=0"),
    ("ascent", "the loss went from"),
])
def test_training_loop_check(mistake, expected):
    def fn(*args):
        return training_loop(*args, mistake=mistake)
    assert expected in repr(checks.check_training_loop(fn))


def test_training_loop_check_wants_the_parameters_back():
    assert "parameter dict" in repr(checks.check_training_loop(lambda *args: [1, 2]))


def stub(*args):
    """What a learner starts from: a function with no body yet."""


@pytest.mark.parametrize("check", [checks.check_softmax, checks.check_cross_entropy,
                                   checks.check_backward, checks.check_adam_step,
                                   checks.check_training_loop])
def test_an_unfinished_or_crashing_answer_gets_feedback_not_a_traceback(check):
    assert "returns None" in check(stub).message

    def crash(*args):
        raise IndexError("index 10 is out of bounds")
    feedback = check(crash)
    assert not feedback.passed and "raised IndexError: index 10" in feedback.message
