"""Backpropagation against central differences and against PyTorch's autograd, in float64."""

import numpy as np
import pytest
import torch

from companion import gradcheck, init
from companion.backward import backward
from companion.forward import forward
from companion.loss import cross_entropy

KEYS = ("W1", "b1", "W2", "b2")
H_STEP = 1e-5
# No |Z1| entry may come closer to the ReLU kink than this, so that no central difference
# (which moves Z1 by at most about H_STEP * max|X|) straddles it.
MARGIN = 1e-3


def params_and_batch(seed, method, N=6, D=12, H=8):
    """float64 parameters and a batch whose pre-activations Z1 all stay away from 0."""
    for attempt in range(100):
        rng = np.random.default_rng([seed, attempt])
        params = init.init_params(rng, D, H, 10, method=method, dtype=np.float64)
        X, y = rng.normal(size=(N, D)), rng.integers(0, 10, N)
        if np.abs(forward(params, X)["Z1"]).min() > MARGIN:
            return params, X, y
    raise AssertionError("no batch found with every |Z1| above the margin")


@pytest.mark.parametrize("method", ["he", "xavier", "uniform"])
@pytest.mark.parametrize("seed", [0, 1])
def test_backward_matches_central_differences(method, seed):
    params, X, y = params_and_batch(seed, method)
    errors = gradcheck.check_gradients(params, X, y, h=H_STEP)
    assert set(errors) == set(KEYS)
    assert max(errors.values()) < 1e-6, errors


def test_backward_matches_central_differences_on_real_digits(digits):
    X, y = digits.X_train[:4].astype(np.float64), digits.y_train[:4]
    # a step moves a Z1 entry by at most H_STEP * max(X) = H_STEP: keep every |Z1| above MARGIN
    for seed in range(100):
        params = init.init_params(np.random.default_rng(seed), H=5, dtype=np.float64)
        if np.abs(forward(params, X)["Z1"]).min() > MARGIN:
            break
    assert np.abs(forward(params, X)["Z1"]).min() > MARGIN
    errors = gradcheck.check_gradients(params, X, y, h=H_STEP)
    assert max(errors.values()) < 1e-6, errors


def test_backward_returns_the_shapes_and_dtypes_of_params():
    params, X, y = params_and_batch(0, "he")
    grads = backward(params, forward(params, X), y)
    assert {k: (g.shape, g.dtype) for k, g in grads.items()} == {
        k: (p.shape, p.dtype) for k, p in params.items()}


def test_relu_at_exactly_zero_passes_no_gradient_like_autograd():
    # an all-zero image with zero biases puts every pre-activation exactly at the kink
    params = init.init_params(np.random.default_rng(0), D=12, H=8, C=10, dtype=np.float64)
    params["b2"][:] = np.arange(10) / 10  # Z2 = b2: the loss still has a gradient
    X, y = np.zeros((3, 12)), np.array([1, 4, 9])
    cache = forward(params, X)
    assert not cache["Z1"].any()
    grads = backward(params, cache, y)
    _, expected = torch_gradients(params, X, y)
    assert np.abs(expected["b2"]).max() > 0 and not expected["b1"].any()
    for k in KEYS:
        np.testing.assert_allclose(grads[k], expected[k], rtol=1e-12, atol=0, err_msg=k)


def test_dead_relu_units_get_zero_gradient():
    params, X, y = params_and_batch(0, "he")
    params["b1"][:3] = -1e3  # units 0..2 are off for every sample
    grads = backward(params, forward(params, X), y)
    assert not grads["W1"][:, :3].any() and not grads["b1"][:3].any()
    assert not grads["W2"][:3].any()
    assert grads["W1"][:, 3:].any()


def torch_gradients(params, X, y):
    """Loss and gradients of the same network written directly with torch, float64."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    Z1 = torch.from_numpy(X) @ t["W1"] + t["b1"]
    Z2 = torch.relu(Z1) @ t["W2"] + t["b2"]
    loss = torch.nn.functional.cross_entropy(Z2, torch.from_numpy(y))
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}


@pytest.mark.parametrize("method", ["he", "uniform"])
def test_backward_matches_torch_autograd(digits, method):
    params = init.init_params(np.random.default_rng(7), method=method, dtype=np.float64)
    X, y = digits.X_train[:50].astype(np.float64), digits.y_train[:50]
    cache = forward(params, X)
    grads = backward(params, cache, y)
    torch_loss, expected = torch_gradients(params, X, y)
    assert cross_entropy(cache["Z2"], y) == pytest.approx(torch_loss, rel=1e-12)
    for k in KEYS:
        assert np.abs(expected[k]).max() > 0  # a real comparison, not 0 against 0
        assert gradcheck.relative_error(grads[k], expected[k]) < 1e-10, k


# The gradient checker itself must tell right from wrong.

def test_numerical_gradient_of_a_known_function():
    x = np.random.default_rng(0).normal(size=(3, 4))
    before = x.copy()
    grad = gradcheck.numerical_gradient(lambda: np.sum(x ** 3), x)
    # error: h^2 (truncation) plus eps * |f| / h (rounding), both about 1e-10 here
    np.testing.assert_allclose(grad, 3 * before ** 2, rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(x, before)  # every entry restored


def test_relative_error():
    a = np.array([3.0, 4.0])
    assert gradcheck.relative_error(a, a) == 0.0
    assert gradcheck.relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert gradcheck.relative_error(a, -a) == pytest.approx(1.0)
    assert gradcheck.relative_error(a, np.zeros(2)) == pytest.approx(1.0)
    assert gradcheck.relative_error(a, a * (1 + 1e-3)) == pytest.approx(1e-3 / (2 + 1e-3))
    # small gradients (norms adding up to less than 1) are compared all the same
    small = a * 1e-4
    assert gradcheck.relative_error(small, -small) == pytest.approx(1.0)
    assert gradcheck.relative_error(small, small * (1 + 1e-3)) == pytest.approx(1e-3 / (2 + 1e-3))


def test_check_gradients_uses_the_step_it_is_given():
    # central differences err by O(h^2): a coarse step shows in the relative error
    params, X, y = params_and_batch(0, "he")
    fine = gradcheck.check_gradients(params, X, y, h=H_STEP)
    coarse = gradcheck.check_gradients(params, X, y, h=1e-2)
    assert max(fine.values()) < 1e-6 < min(coarse.values())


def test_check_gradients_catches_a_wrong_backward(monkeypatch):
    params, X, y = params_and_batch(0, "he")

    def backward_without_relu_mask(params, cache, y):
        grads = backward(params, cache, y)
        dZ2 = (cache["A2"] - np.eye(10)[y]) / len(y)
        grads["W1"] = cache["X"].T @ (dZ2 @ params["W2"].T)  # forgot the ReLU mask
        return grads

    monkeypatch.setattr(gradcheck, "backward", backward_without_relu_mask)
    errors = gradcheck.check_gradients(params, X, y)
    assert errors["W1"] > 1e-2
    assert errors["W2"] < 1e-6
