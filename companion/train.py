"""Mini-batch training with a progress bar, and evaluation on whole datasets.

Each epoch shuffles the training set with a seeded ``np.random.Generator`` and walks through it
in mini-batches: ``X[batch]`` gathers the batch's rows into a fresh contiguous ``(B, D)`` array,
so no shuffled copy of the whole training set is made and the batch is still in the cache when
``X @ W1`` reads it. After each epoch the loss and accuracy are measured on the *whole*
training set and on the validation set, never on the last mini-batch.
"""

import time

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from companion.backward import backward
from companion.data import check_inputs
from companion.forward import forward
from companion.loss import cross_entropy
from companion.metrics import accuracy
from companion.optim import make_optimizer


def epoch_orders(N, epochs, seed):
    """One shuffled order of ``range(N)`` per epoch, from ``np.random.default_rng(seed)``.

    The PyTorch twin uses the same orders, so both models see the same batches.
    """
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        yield rng.permutation(N)


def evaluate(params, X, y):
    """``(loss, accuracy)`` of the network on the whole of X ``(N, D)``, y ``(N,)``."""
    Z2 = forward(params, X)["Z2"]
    return cross_entropy(Z2, y), accuracy(y, Z2.argmax(axis=1))


def train_step(params, X, y, optimizer):
    """One step on a mini-batch: forward, backward, update ``params`` in place."""
    optimizer.step(params, backward(params, forward(params, X), y))


def check_training_inputs(params, X, y, X_val, y_val, batch_size, epochs):
    """Raise ValueError, naming the problem, for data or settings that cannot be trained on."""
    D, C = params["W1"].shape[0], params["W2"].shape[1]
    check_inputs(X, y, D, C)
    if (X_val is None) != (y_val is None):
        raise ValueError("give both X_val and y_val (validation images and labels), or neither")
    if X_val is not None:
        check_inputs(X_val, y_val, D, C)
    if not (isinstance(batch_size, (int, np.integer)) and batch_size > 0):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not (isinstance(epochs, (int, np.integer)) and epochs >= 0):
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")


def train(params, X, y, X_val=None, y_val=None, optimizer="adam", learning_rate=1e-3,
          batch_size=32, epochs=20, seed=0, progress=True):
    """Train a copy of ``params`` on X ``(N, D)``, y ``(N,)``; return ``(params, history)``.

    ``history`` is a pandas DataFrame, one row per epoch: ``epoch``, ``train_loss``,
    ``train_acc``, ``val_loss``, ``val_acc`` (NaN without validation data) and ``seconds``, the
    time spent on the epoch's training steps (evaluation not included).
    """
    check_training_inputs(params, X, y, X_val, y_val, batch_size, epochs)
    opt = make_optimizer(optimizer, learning_rate)
    params = {k: v.copy() for k, v in params.items()}
    rows = []
    bar = tqdm(epoch_orders(len(X), epochs, seed), total=epochs, desc="training",
               unit="epoch", disable=not progress)
    for epoch, order in enumerate(bar, start=1):
        start = time.perf_counter()
        for i in range(0, len(X), batch_size):
            batch = order[i:i + batch_size]
            train_step(params, X[batch], y[batch], opt)
        seconds = time.perf_counter() - start
        train_loss, train_acc = evaluate(params, X, y)
        val_loss, val_acc = evaluate(params, X_val, y_val) if X_val is not None else (np.nan,) * 2
        rows.append(dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc,
                         val_loss=val_loss, val_acc=val_acc, seconds=seconds))
        bar.set_postfix(loss=f"{train_loss:.3f}", val_acc=f"{val_acc:.3f}")
    return params, pd.DataFrame(rows, columns=["epoch", "train_loss", "train_acc", "val_loss",
                                               "val_acc", "seconds"])
