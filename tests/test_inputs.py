"""Bad input raises ValueError with a message that names the problem."""

import re

import numpy as np
import pytest

from companion import data, init, metrics, optim, twin
from companion.forward import forward
from companion.train import train

N, D = 6, 784


def good():
    rng = np.random.default_rng(0)
    return rng.random((N, D), dtype=np.float32), rng.integers(0, 10, N)


def with_nan(X):
    X = X.copy()
    X[2, 5] = np.nan
    return X


def with_inf(X):
    X = X.copy()
    X[0, 0] = -np.inf
    return X


def whole(message):
    """A pattern that matches exactly ``message``: what the learner reads, word for word."""
    return "^" + re.escape(message) + "$"


# (name, change to (X, y), expected message)
BAD_DATA = [
    ("X 1-D", lambda X, y: (X[0], y),
     whole("X must be a 2-D array (N, D) with samples in rows, got shape (784,)")),
    ("X 3-D", lambda X, y: (X.reshape(N, 28, 28), y),
     whole("X must be a 2-D array (N, D) with samples in rows, got shape (6, 28, 28)")),
    ("X too few features", lambda X, y: (X[:, :100], y),
     whole("X has 100 features per sample, the network expects 784")),
    ("X uint8", lambda X, y: ((X * 255).astype(np.uint8), y),
     whole("X must be float32 or float64, got uint8; for pixels, divide by 255 first")),
    ("X int", lambda X, y: (X.astype(np.int64), y),
     whole("X must be float32 or float64, got int64; for pixels, divide by 255 first")),
    ("X NaN", lambda X, y: (with_nan(X), y), whole("X contains NaN or inf values")),
    ("X inf", lambda X, y: (with_inf(X), y), whole("X contains NaN or inf values")),
    ("X empty", lambda X, y: (X[:0], y[:0]), whole("X is empty: there are no samples (N = 0)")),
    ("y too short", lambda X, y: (X, y[:-1]),
     whole("y must have shape (6,), one label per row of X, got (5,)")),
    ("y 2-D", lambda X, y: (X, y[:, None]),
     whole("y must have shape (6,), one label per row of X, got (6, 1)")),
    ("y float", lambda X, y: (X, y.astype(np.float64)),
     whole("y must hold integer class labels, got float64")),
    ("y too big", lambda X, y: (X, np.where(np.arange(N) == 3, 10, y)),
     r"^labels must be in 0\.\.9, got values from \d to 10$"),
    ("y negative", lambda X, y: (X, np.where(np.arange(N) == 3, -1, y)),
     r"^labels must be in 0\.\.9, got values from -1 to \d$"),
]


@pytest.mark.parametrize("change, message", [c[1:] for c in BAD_DATA],
                         ids=[c[0] for c in BAD_DATA])
def test_train_rejects_bad_training_data(change, message):
    params = init.init_params(np.random.default_rng(0))
    X, y = change(*good())
    with pytest.raises(ValueError, match=message):
        train(params, X, y, progress=False)


@pytest.mark.parametrize("change, message", [c[1:] for c in BAD_DATA],
                         ids=[c[0] for c in BAD_DATA])
def test_train_rejects_bad_validation_data(change, message):
    params = init.init_params(np.random.default_rng(0))
    X_val, y_val = change(*good())
    with pytest.raises(ValueError, match=message):
        train(params, *good(), X_val, y_val, progress=False)


@pytest.mark.parametrize("change, message", [c[1:] for c in BAD_DATA],
                         ids=[c[0] for c in BAD_DATA])
def test_check_inputs_names_the_problem(change, message):
    with pytest.raises(ValueError, match=message):
        data.check_inputs(*change(*good()), D=D)


def test_check_inputs_accepts_good_data_and_a_list_is_not_an_array():
    X, y = good()
    data.check_inputs(X, y, D=D)
    data.check_inputs(X.astype(np.float64), y.astype(np.uint8))
    with pytest.raises(ValueError, match="2-D array"):
        data.check_inputs(X.tolist())


@pytest.mark.parametrize("batch_size", [0, -32, 2.5, "32", None])
def test_train_rejects_a_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer.*{batch_size}"):
        train(init.init_params(np.random.default_rng(0)), *good(), batch_size=batch_size,
              progress=False)


@pytest.mark.parametrize("epochs", [-1, 1.5])
def test_train_rejects_bad_epochs(epochs):
    with pytest.raises(ValueError, match="epochs must be a non-negative integer"):
        train(init.init_params(np.random.default_rng(0)), *good(), epochs=epochs,
              progress=False)


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'.*sgd, momentum, adam"):
        train(init.init_params(np.random.default_rng(0)), *good(), optimizer="rmsprop",
              progress=False)
    with pytest.raises(ValueError, match="unknown optimizer 'Adam'"):
        optim.make_optimizer("Adam", 1e-3)
    model = twin.to_torch(init.init_params(np.random.default_rng(0), 4, 3, 2), "cpu")
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        twin.torch_optimizer("rmsprop", model, 1e-3)


@pytest.mark.parametrize("learning_rate", [-1e-3, float("nan")])
def test_bad_learning_rate(learning_rate):
    with pytest.raises(ValueError, match="learning_rate must be >= 0"):
        optim.make_optimizer("sgd", learning_rate)


def test_unknown_init_method_and_a_seed_instead_of_a_generator():
    with pytest.raises(ValueError, match="unknown init method 'lecun'.*he, xavier, uniform"):
        init.init_params(np.random.default_rng(0), method="lecun")
    with pytest.raises(ValueError, match=whole(
            "rng must be a np.random.Generator, e.g. np.random.default_rng(0)")):
        init.init_params(0)


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'.*mnist-5k, mnist"):
        data.load("cifar10")
    with pytest.raises(ValueError, match="'mnist-5k'.*mnist, fashion-mnist"):
        data.fetch("mnist-5k")  # ships with the package: nothing to fetch


@pytest.mark.parametrize("val_fraction", [0, 1, -0.1, 1.5])
def test_bad_val_fraction(val_fraction):
    with pytest.raises(ValueError, match="val_fraction must be between 0 and 1"):
        data.load("mnist-5k", val_fraction=val_fraction)


def test_forward_rejects_the_wrong_number_of_features():
    params = init.init_params(np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"X must have shape \(N, 784\), got \(6, 100\)"):
        forward(params, good()[0][:, :100])
    with pytest.raises(ValueError, match=r"X must have shape \(N, 784\), got \(784,\)"):
        forward(params, good()[0][0])


def test_metrics_reject_mismatched_or_out_of_range_labels():
    y = np.array([0, 1, 2])
    with pytest.raises(ValueError, match=r"equal-length.*\(3,\) and \(2,\)"):
        metrics.accuracy(y, y[:2])
    with pytest.raises(ValueError, match=r"equal-length.*\(3,\) and \(1,\)"):
        metrics.confusion_matrix(y, y[:1])  # would broadcast
    with pytest.raises(ValueError, match=whole("no labels: accuracy needs at least one sample")):
        metrics.accuracy(y[:0], y[:0])
    with pytest.raises(ValueError, match=r"0\.\.9.*from -1"):
        metrics.confusion_matrix(y, np.array([0, 1, -1]))  # would count as class 9
    with pytest.raises(ValueError, match=r"0\.\.2.*to 3"):
        metrics.confusion_matrix(y, np.array([0, 3, 2]), C=3)


@pytest.mark.parametrize("fit", [train, twin.train_twin], ids=["numpy", "torch"])
def test_validation_images_without_labels_are_rejected(fit):
    X, y = good()
    message = whole("give both X_val and y_val (validation images and labels), or neither")
    with pytest.raises(ValueError, match=message):
        fit(init.init_params(np.random.default_rng(0)), X, y, X_val=X, epochs=1,
            progress=False)


@pytest.mark.parametrize("fit", [train, twin.train_twin], ids=["numpy", "torch"])
def test_labels_are_checked_against_the_networks_classes(fit):
    X, y = good()[0], np.array([0, 1, 2, 2, 1, 0])
    params = init.init_params(np.random.default_rng(0), C=3)
    fit(params, X, y, X, y, epochs=1, progress=False)  # 0..2 is right for C = 3
    message = r"^labels must be in 0\.\.2, got values from 0 to 5$"
    with pytest.raises(ValueError, match=message):
        fit(params, X, np.where(y == 2, 5, y), epochs=1, progress=False)
    with pytest.raises(ValueError, match=message):
        fit(params, X, y, X, np.where(y == 2, 5, y), epochs=1, progress=False)


def test_twin_rejects_bad_labels_and_mixed_dtypes():
    X, y = good()
    params = init.init_params(np.random.default_rng(0))
    with pytest.raises(ValueError, match="labels must be in 0..9"):
        twin.train_twin(params, X, y + 10, epochs=1, progress=False)
    with pytest.raises(ValueError, match=whole("X is float64 but the parameters are float32: "
                                               "convert one of them with .astype")):
        twin.train_twin(params, X.astype(np.float64), y, epochs=1, progress=False)
