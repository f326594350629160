"""Initialization (shapes, scales, seeds) and the metrics."""

import numpy as np
import pytest

from companion import init, metrics


@pytest.mark.parametrize("method", init.METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shapes_and_dtypes(method, dtype):
    params = init.init_params(np.random.default_rng(0), D=20, H=7, C=3, method=method,
                              dtype=dtype)
    assert {k: v.shape for k, v in params.items()} == {
        "W1": (20, 7), "b1": (7,), "W2": (7, 3), "b2": (3,)}
    assert all(v.dtype == dtype for v in params.values())


def test_defaults_are_the_books_network():
    params = init.init_params(np.random.default_rng(0))
    assert params["W1"].shape == (784, 64) and params["W2"].shape == (64, 10)
    assert params["W1"].dtype == np.float32


def test_he_scale_and_zero_biases():
    params = init.init_params(np.random.default_rng(0), D=784, H=512, C=256,
                              dtype=np.float64)
    # n draws: the sample std has relative standard error 1 / sqrt(2n), the mean sigma / sqrt(n);
    # the tolerances are about 5 standard errors
    sigma, n = np.sqrt(2 / 784), 784 * 512
    assert params["W1"].std() == pytest.approx(sigma, rel=5 / np.sqrt(2 * n))
    assert abs(params["W1"].mean()) < 5 * sigma / np.sqrt(n)
    assert params["W2"].std() == pytest.approx(np.sqrt(2 / 512), rel=5 / np.sqrt(2 * 512 * 256))
    assert not params["b1"].any() and not params["b2"].any()


def test_xavier_scale():
    params = init.init_params(np.random.default_rng(0), D=784, H=512, C=256, method="xavier",
                              dtype=np.float64)
    assert params["W1"].std() == pytest.approx(np.sqrt(2 / (784 + 512)), rel=5e-3)
    assert not params["b1"].any()


def test_uniform_range_like_the_original_notebook():
    params = init.init_params(np.random.default_rng(0), D=784, H=64, C=10, method="uniform")
    for v in params.values():
        assert v.min() >= -0.5 and v.max() <= 0.5
    W1 = params["W1"]
    assert W1.min() < -0.49 and W1.max() > 0.49
    assert W1.std() == pytest.approx(np.sqrt(1 / 12), rel=1e-2)
    # the original notebook's biases are random too, on both sides of 0
    for b in (params["b1"], params["b2"]):
        assert b.min() < -0.2 and b.max() > 0.2


@pytest.mark.parametrize("method", init.METHODS)
def test_same_seed_bit_identical_different_seed_not(method):
    a = init.init_params(np.random.default_rng(42), method=method)
    b = init.init_params(np.random.default_rng(42), method=method)
    c = init.init_params(np.random.default_rng(43), method=method)
    for k in a:
        assert a[k].tobytes() == b[k].tobytes()
    assert not np.array_equal(a["W1"], c["W1"])


def test_accuracy():
    assert metrics.accuracy(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == 0.75
    assert metrics.accuracy([5], [5]) == 1.0
    assert isinstance(metrics.accuracy(np.array([1]), np.array([2])), float)


def test_confusion_matrix_rows_are_true_classes():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    M = metrics.confusion_matrix(y_true, y_pred, C=3)
    np.testing.assert_array_equal(M, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert M.dtype == np.int64


def test_confusion_matrix_sums():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    M = metrics.confusion_matrix(y_true, y_pred)
    assert M.shape == (10, 10) and M.sum() == 500
    np.testing.assert_array_equal(M.sum(axis=1), np.bincount(y_true, minlength=10))
    np.testing.assert_array_equal(M.sum(axis=0), np.bincount(y_pred, minlength=10))
    assert np.trace(M) / 500 == metrics.accuracy(y_true, y_pred)
    assert not metrics.confusion_matrix(y_true[:0], y_pred[:0]).any()
