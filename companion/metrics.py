"""Accuracy and confusion matrix."""

import numpy as np


def _labels(y_true, y_pred):
    """Both label arrays as NumPy arrays; ValueError unless both are ``(N,)``, same N."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(f"need two equal-length 1-D label arrays, got shapes {y_true.shape} "
                         f"and {y_pred.shape}")
    return y_true, y_pred


def accuracy(y_true, y_pred):
    """Fraction of labels predicted right: a float in [0, 1]. Both ``(N,)`` ints, N > 0."""
    y_true, y_pred = _labels(y_true, y_pred)
    if len(y_true) == 0:
        raise ValueError("no labels: accuracy needs at least one sample")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, C=10):
    """``(C, C)`` int64 counts: row = true class, column = predicted class.

    ``y_true`` and ``y_pred`` are ``(N,)`` ints in ``0..C-1``.
    """
    y_true, y_pred = _labels(y_true, y_pred)
    both = np.concatenate([y_true, y_pred])
    if len(both) and (both.min() < 0 or both.max() >= C):  # np.add.at would count -1 as C - 1
        raise ValueError(f"labels must be in 0..{C - 1}, got values from {both.min()} to "
                         f"{both.max()}")
    M = np.zeros((C, C), dtype=np.int64)
    np.add.at(M, (y_true, y_pred), 1)
    return M
