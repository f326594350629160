"""Accuracy and confusion matrix."""

import numpy as np


def accuracy(y_true, y_pred):
    """Fraction of labels predicted right: a float in [0, 1]. Both ``(N,)`` ints."""
    if len(y_true) == 0 or np.shape(y_true) != np.shape(y_pred):
        raise ValueError(f"need two equal-length, non-empty label arrays, got "
                         f"{np.shape(y_true)} and {np.shape(y_pred)}")
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def confusion_matrix(y_true, y_pred, C=10):
    """``(C, C)`` int64 counts: row = true class, column = predicted class."""
    M = np.zeros((C, C), dtype=np.int64)
    np.add.at(M, (y_true, y_pred), 1)
    return M
