"""Training: it learns, it is reproducible, and its history measures what it says."""

import numpy as np
import pandas as pd
import pytest

from companion import init, optim, train
from companion.backward import backward
from companion.forward import forward, predict
from companion.metrics import accuracy

COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"]


def fresh_params(seed=0, dtype=np.float32):
    return init.init_params(np.random.default_rng(seed), dtype=dtype)


def assert_same_params(a, b):
    assert set(a) == set(b)
    for k in a:
        assert a[k].dtype == b[k].dtype
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_defaults_reach_90_percent_on_the_embedded_test_split(digits):
    params, history = train.train(fresh_params(), digits.X_train, digits.y_train,
                                  digits.X_val, digits.y_val, progress=False)
    assert len(history) == 20
    assert accuracy(digits.y_test, predict(params, digits.X_test)) >= 0.90
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]


def test_defaults_are_adam_at_1e_3_in_batches_of_32_with_seed_0(digits):
    X, y = digits.X_train[:96], digits.y_train[:96]
    implicit, _ = train.train(fresh_params(), X, y, epochs=1, progress=False)
    explicit, _ = train.train(fresh_params(), X, y, optimizer="adam", learning_rate=1e-3,
                              batch_size=32, epochs=1, seed=0, progress=False)
    assert_same_params(implicit, explicit)


def test_overfits_20_examples(digits):
    X, y = digits.X_train[:20], digits.y_train[:20]
    assert len(np.unique(y)) > 5
    params, history = train.train(fresh_params(), X, y, learning_rate=1e-2, batch_size=20,
                                  epochs=100, progress=False)
    assert history["train_acc"].iloc[-1] == 1.0
    assert history["train_loss"].iloc[-1] < 1e-3


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_learning_rate_zero_changes_nothing(digits, optimizer):
    params = fresh_params()
    trained, _ = train.train(params, digits.X_train[:200], digits.y_train[:200],
                             optimizer=optimizer, learning_rate=0, epochs=2, progress=False)
    assert_same_params(trained, params)


def test_train_leaves_the_given_params_alone(digits):
    params = fresh_params()
    before = {k: v.copy() for k, v in params.items()}
    trained, _ = train.train(params, digits.X_train[:200], digits.y_train[:200], epochs=1,
                             progress=False)
    assert_same_params(params, before)
    assert not np.array_equal(trained["W1"], params["W1"])


def run(digits, seed, optimizer="adam"):
    return train.train(fresh_params(), digits.X_train[:640], digits.y_train[:640],
                       digits.X_val, digits.y_val, optimizer=optimizer, epochs=3, seed=seed,
                       progress=False)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_same_seed_gives_identical_results(digits, optimizer):
    params_a, history_a = run(digits, 5, optimizer)
    params_b, history_b = run(digits, 5, optimizer)
    assert_same_params(params_a, params_b)
    pd.testing.assert_frame_equal(history_a.drop(columns="seconds"),
                                  history_b.drop(columns="seconds"), check_exact=True)


def test_different_seeds_give_different_results(digits):
    params_a, history_a = run(digits, 5)
    params_b, history_b = run(digits, 6)
    assert not np.array_equal(params_a["W1"], params_b["W1"])
    assert not history_a["train_loss"].equals(history_b["train_loss"])


def test_history_measures_whole_sets_after_each_epoch(digits):
    X, y = digits.X_train[:300], digits.y_train[:300]
    params, history = train.train(fresh_params(), X, y, digits.X_val, digits.y_val,
                                  epochs=2, progress=False)
    assert list(history.columns) == COLUMNS
    assert history["epoch"].tolist() == [1, 2]
    assert (history["seconds"] > 0).all()
    last = history.iloc[-1]
    # the last row is the final network on the whole training and validation sets,
    # not the last mini-batch
    assert (last["train_loss"], last["train_acc"]) == train.evaluate(params, X, y)
    assert (last["val_loss"], last["val_acc"]) == train.evaluate(params, digits.X_val,
                                                                 digits.y_val)


def test_history_without_validation_data_has_nan(digits):
    _, history = train.train(fresh_params(), digits.X_train[:64], digits.y_train[:64],
                             epochs=2, progress=False)
    assert history[["val_loss", "val_acc"]].isna().all().all()
    assert history[["train_loss", "train_acc"]].notna().all().all()


def test_zero_epochs_is_an_empty_history(digits):
    params = fresh_params()
    trained, history = train.train(params, digits.X_train[:64], digits.y_train[:64], epochs=0,
                                   progress=False)
    assert list(history.columns) == COLUMNS and len(history) == 0
    assert_same_params(trained, params)


@pytest.mark.parametrize("batch_size", [1, 2])
def test_each_epoch_walks_every_sample_in_contiguous_batches(digits, batch_size):
    # 5 samples, batch 2: batches are order[0:2], order[2:4] and the last, short, order[4:5];
    # batch 1: one sample a step
    X, y = digits.X_train[:5].astype(np.float64), digits.y_train[:5]
    params = fresh_params(dtype=np.float64)
    trained, _ = train.train(params, X, y, optimizer="sgd", learning_rate=0.5,
                             batch_size=batch_size, epochs=2, seed=9, progress=False)
    expected = {k: v.copy() for k, v in params.items()}
    for order in train.epoch_orders(5, 2, 9):
        for i in range(0, 5, batch_size):
            batch = order[i:i + batch_size]
            grads = backward(expected, forward(expected, X[batch]), y[batch])
            for k in expected:
                expected[k] -= 0.5 * grads[k]
    for k in params:
        np.testing.assert_allclose(trained[k], expected[k], rtol=1e-12, atol=1e-15)


def test_epoch_orders_are_seeded_permutations():
    orders = list(train.epoch_orders(50, 3, seed=1))
    assert len(orders) == 3
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(50))
    assert not np.array_equal(orders[0], orders[1])
    for a, b in zip(orders, train.epoch_orders(50, 3, seed=1)):
        np.testing.assert_array_equal(a, b)


def test_train_step_updates_in_place(digits):
    params = fresh_params(dtype=np.float64)
    before = params["W2"].copy()
    X, y = digits.X_train[:8].astype(np.float64), digits.y_train[:8]
    grads = backward(params, forward(params, X), y)
    train.train_step(params, X, y, optim.make_optimizer("sgd", 0.1))
    np.testing.assert_allclose(params["W2"], before - 0.1 * grads["W2"], rtol=1e-14)
