"""Mini-batch training with a progress bar, and evaluation on whole datasets.

Each epoch shuffles the training set with a seeded ``np.random.Generator`` and walks through it
in mini-batches: ``X[batch]`` gathers the batch's rows into a fresh contiguous ``(B, D)`` array,
so no shuffled copy of the whole training set is made and the batch is still in the cache when
``X @ W1`` reads it. After each epoch the loss and accuracy are measured on the *whole*
training set and on the validation set, never on the last mini-batch.

Options against over-fitting: L2 weight decay (``loss.l2_penalty``), a learning-rate schedule
(``optim.scheduled_rate``) and early stopping (``EarlyStopping``), which keeps the parameters of
the epoch with the lowest validation loss.
"""

import time

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from companion.backward import backward
from companion.data import check_inputs
from companion.forward import forward
from companion.loss import WEIGHTS, cross_entropy
from companion.metrics import accuracy
from companion.optim import make_optimizer, scheduled_rate


def epoch_orders(N, epochs, seed):
    """One shuffled order of ``range(N)`` per epoch, from ``np.random.default_rng(seed)``.

    The PyTorch twin uses the same orders, so both models see the same batches.
    """
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        yield rng.permutation(N)


def evaluate(params, X, y):
    """``(loss, accuracy)`` of the network on the whole of X ``(N, D)``, y ``(N,)``.

    The loss is the cross-entropy alone, without weight decay's penalty.
    """
    check_inputs(X, y, params["W1"].shape[0], params["W2"].shape[1])
    Z2 = forward(params, X)["Z2"]
    return cross_entropy(Z2, y), accuracy(y, Z2.argmax(axis=1))


def gradients(params, X, y, weight_decay=0.0):
    """Gradients of the training loss, cross-entropy plus ``l2_penalty(params, weight_decay)``:
    backprop's, with ``weight_decay * W`` added to those of W1 and W2."""
    grads = backward(params, forward(params, X), y)
    for k in WEIGHTS if weight_decay else ():
        grads[k] += weight_decay * params[k]
    return grads


def train_step(params, X, y, optimizer, weight_decay=0.0):
    """One step on a mini-batch: forward, backward (with weight decay's gradient), update
    ``params`` in place."""
    optimizer.step(params, gradients(params, X, y, weight_decay))


def history_frame(rows, stopper=None):
    """The history DataFrame of the epochs' ``rows``, with ``attrs["kept_epoch"]``: the epoch
    whose parameters training returns, the stopper's or else the last."""
    history = pd.DataFrame(rows, columns=["epoch", "train_loss", "train_acc", "val_loss",
                                          "val_acc", "seconds"])
    history.attrs["kept_epoch"] = stopper.kept_epoch if stopper else len(rows)
    return history


class EarlyStopping:
    """Keeps ``snapshot()``, a copy of the parameters, from the epoch with the lowest validation
    loss so far, and says when to stop: after ``patience`` epochs without a lower one. Until an
    epoch has a loss (not NaN), it keeps the initial parameters, "epoch 0"."""

    def __init__(self, patience, snapshot):
        self.patience, self.snapshot = patience, snapshot
        self.best_loss, self.kept_epoch, self.kept = np.inf, 0, snapshot()

    def stop(self, epoch, val_loss):
        if val_loss < self.best_loss:
            self.best_loss, self.kept_epoch, self.kept = val_loss, epoch, self.snapshot()
        return epoch - self.kept_epoch >= self.patience


def check_training_inputs(params, X, y, X_val, y_val, batch_size, epochs, weight_decay=0.0,
                          schedule=None, patience=None):
    """Raise ValueError, naming the problem, for data or settings that cannot be trained on."""
    D, C = params["W1"].shape[0], params["W2"].shape[1]
    if params["W1"].shape[1] == 0:
        raise ValueError("the hidden layer has 0 units: give it at least one (H >= 1)")
    check_inputs(X, y, D, C)
    if (X_val is None) != (y_val is None):
        raise ValueError("give both X_val and y_val (validation images and labels), or neither")
    if X_val is not None:
        check_inputs(X_val, y_val, D, C)
    if not (isinstance(batch_size, (int, np.integer)) and batch_size > 0):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not (isinstance(epochs, (int, np.integer)) and epochs >= 0):
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
    scheduled_rate(1.0, 0, 1, schedule)  # ValueError for an unknown schedule
    if patience is not None and not (isinstance(patience, (int, np.integer)) and patience > 0):
        raise ValueError(f"patience must be a positive integer (epochs to wait for a lower "
                         f"validation loss) or None, got {patience!r}")
    if patience is not None and X_val is None:
        raise ValueError("early stopping (patience) needs validation data: give X_val, y_val")


def train(params, X, y, X_val=None, y_val=None, optimizer="adam", learning_rate=1e-3,
          batch_size=32, epochs=20, seed=0, progress=True, weight_decay=0.0, schedule=None,
          patience=None):
    """Train a copy of ``params`` on X ``(N, D)``, y ``(N,)``; return ``(params, history)``.

    ``history`` is a pandas DataFrame, one row per epoch: ``epoch``, ``train_loss``,
    ``train_acc``, ``val_loss``, ``val_acc`` (NaN without validation data) and ``seconds``, the
    time spent on the epoch's training steps (evaluation not included).

    ``weight_decay`` (lambda >= 0) adds the L2 penalty to the loss, so lambda * W to the
    gradients of W1 and W2; for "adamw" it is AdamW's decoupled decay instead. ``schedule``
    sets the learning rate of each epoch (``scheduled_rate``). With ``patience`` (an integer),
    training stops once that many epochs pass without a lower validation loss, and the
    parameters of the lowest are returned. ``history.attrs["kept_epoch"]`` is the epoch whose
    parameters are returned.
    """
    check_training_inputs(params, X, y, X_val, y_val, batch_size, epochs, weight_decay,
                          schedule, patience)
    # AdamW shrinks the weights itself (decoupled); the others get the penalty's gradient
    decoupled = {"weight_decay": weight_decay} if optimizer == "adamw" else {}
    opt = make_optimizer(optimizer, learning_rate, **decoupled)
    l2 = 0.0 if decoupled else weight_decay
    params = {k: v.copy() for k, v in params.items()}
    stopper = patience and EarlyStopping(patience, lambda: {k: v.copy() for k, v in
                                                             params.items()})
    rows = []
    bar = tqdm(epoch_orders(len(X), epochs, seed), total=epochs, desc="training",
               unit="epoch", disable=not progress)
    for epoch, order in enumerate(bar, start=1):
        opt.learning_rate = scheduled_rate(learning_rate, epoch - 1, epochs, schedule)
        start = time.perf_counter()
        for i in range(0, len(X), batch_size):
            batch = order[i:i + batch_size]
            train_step(params, X[batch], y[batch], opt, l2)
        seconds = time.perf_counter() - start
        train_loss, train_acc = evaluate(params, X, y)
        val_loss, val_acc = evaluate(params, X_val, y_val) if X_val is not None else (np.nan,) * 2
        rows.append(dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc,
                         val_loss=val_loss, val_acc=val_acc, seconds=seconds))
        bar.set_postfix(loss=f"{train_loss:.3f}", val_acc=f"{val_acc:.3f}")
        if stopper and stopper.stop(epoch, val_loss):
            break
    return (stopper.kept if stopper else params), history_frame(rows, stopper)
