"""Forward pass, softmax and cross-entropy: shapes, probabilities, and extreme logits."""

import numpy as np
import pytest

from companion import init
from companion.forward import affine, forward, predict, relu, softmax
from companion.loss import cross_entropy, cross_entropy_grad, logsumexp


def test_forward_cache_has_the_documented_shapes_and_equations():
    rng = np.random.default_rng(0)
    params = init.init_params(rng, D=12, H=7, C=10, dtype=np.float64)
    X = rng.normal(size=(5, 12))
    cache = forward(params, X)
    assert {k: v.shape for k, v in cache.items()} == {
        "X": (5, 12), "Z1": (5, 7), "A1": (5, 7), "Z2": (5, 10), "A2": (5, 10)}
    np.testing.assert_array_equal(cache["Z1"], X @ params["W1"] + params["b1"])
    np.testing.assert_array_equal(cache["A1"], np.where(cache["Z1"] > 0, cache["Z1"], 0))
    np.testing.assert_allclose(cache["Z2"], cache["A1"] @ params["W2"] + params["b2"])
    np.testing.assert_array_equal(predict(params, X), cache["Z2"].argmax(axis=1))


def test_affine_and_relu():
    X, W, b = np.array([[1.0, 2.0]]), np.array([[1.0, -1.0], [3.0, 0.5]]), np.array([0.5, -2.0])
    np.testing.assert_array_equal(affine(X, W, b), [[7.5, -2.0]])
    np.testing.assert_array_equal(relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])


def test_forward_keeps_float32():
    params = init.init_params(np.random.default_rng(0))
    cache = forward(params, np.full((3, 784), 0.5, dtype=np.float32))
    assert all(v.dtype == np.float32 for v in cache.values())


@pytest.mark.parametrize("scale", [1e-3, 1.0, 30.0, 1e4])
def test_softmax_rows_are_probabilities(scale):
    Z = np.random.default_rng(1).normal(scale=scale, size=(50, 10))
    A = softmax(Z)
    assert np.isfinite(A).all() and (A >= 0).all()
    np.testing.assert_allclose(A.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(A.argmax(axis=1), Z.argmax(axis=1))


def test_softmax_matches_its_definition_on_moderate_logits():
    Z = np.random.default_rng(2).normal(size=(4, 10))
    E = np.exp(Z)
    np.testing.assert_allclose(softmax(Z), E / E.sum(axis=1, keepdims=True), rtol=1e-14)


def test_softmax_is_shift_invariant():
    Z = np.random.default_rng(3).normal(size=(4, 10))
    np.testing.assert_allclose(softmax(Z + 1e3), softmax(Z), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_at_huge_logits_is_exact(dtype):
    Z = np.array([[1e4, -1e4], [-1e4, 1e4], [1e4, 1e4]], dtype=dtype)
    A = softmax(Z)
    np.testing.assert_array_equal(A, [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_at_huge_logits_is_finite_and_exact(dtype):
    Z = np.array([[1e4, -1e4]], dtype=dtype)
    assert cross_entropy(Z, np.array([0])) == pytest.approx(0.0, abs=1e-12)
    assert cross_entropy(Z, np.array([1])) == pytest.approx(2e4, rel=1e-12)
    # ties: each class has probability 1/2; the logits are shifted by their max before the
    # loss is computed, so it is exact to the precision of the dtype, not of floats near 1e4
    eps = np.finfo(dtype).eps
    assert cross_entropy(np.array([[1e4, 1e4]], dtype=dtype), np.array([1])) == pytest.approx(
        np.log(2), rel=4 * eps)


def test_cross_entropy_shifts_each_row_by_its_own_maximum():
    # rows of very different scales: shifted by the largest logit of the whole batch, the second
    # row would sit near -1e4, where float32 resolves only about 1e-3
    Z = np.array([[1e4, -1e4], [0.0, 0.0]], dtype=np.float32)
    expected = np.log(2) / 2  # the first row costs 0, the second ln 2
    assert cross_entropy(Z, np.array([0, 1])) == pytest.approx(expected, rel=4 * np.finfo(
        np.float32).eps)


def test_logsumexp_does_not_overflow():
    Z = np.array([[1000.0, 1000.0, -np.inf], [0.0, np.log(3.0), -1e300]])
    np.testing.assert_allclose(logsumexp(Z), [1000 + np.log(2), np.log(4)], rtol=1e-15)


def test_cross_entropy_is_the_mean_negative_log_probability():
    rng = np.random.default_rng(4)
    Z, y = rng.normal(size=(20, 10)), rng.integers(0, 10, 20)
    expected = -np.mean(np.log(softmax(Z)[np.arange(20), y]))
    assert cross_entropy(Z, y) == pytest.approx(expected, rel=1e-12)


def test_uniform_logits_give_ln_C():
    assert cross_entropy(np.zeros((7, 10)), np.arange(7)) == pytest.approx(np.log(10), rel=1e-15)


def test_cross_entropy_grad_is_softmax_minus_one_hot_over_N():
    rng = np.random.default_rng(5)
    Z, y = rng.normal(size=(6, 10)), rng.integers(0, 10, 6)
    Y = np.eye(10)[y]
    expected = (softmax(Z) - Y) / 6
    np.testing.assert_allclose(cross_entropy_grad(Z, y), expected, rtol=1e-13, atol=1e-16)
    A2 = softmax(Z)
    np.testing.assert_allclose(cross_entropy_grad(Z, y, A2=A2), expected, rtol=1e-13, atol=1e-16)
    np.testing.assert_array_equal(A2, softmax(Z))  # the A2 passed in is not modified
    np.testing.assert_allclose(cross_entropy_grad(Z, y).sum(axis=1), 0.0, atol=1e-15)


def test_loss_at_initialization_is_about_ln_10(digits):
    params = init.init_params(np.random.default_rng(0))
    loss = cross_entropy(forward(params, digits.X_train)["Z2"], digits.y_train)
    assert abs(loss - np.log(10)) < 0.3
