"""Plots: each returns a closed matplotlib Figure with the right panels and labelled axes."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from companion import plots


@pytest.fixture(autouse=True)
def no_open_figures():
    plt.close("all")
    yield
    # the plots close their figures in pyplot, so a notebook shows each one once
    assert plt.get_fignums() == []
    plt.close("all")


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def history(shift=0.0):
    return pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [1.0, 0.5, 0.3],
                         "train_acc": [0.7, 0.8, 0.9 - shift], "val_loss": [1.1, 0.6, 0.4],
                         "val_acc": [0.6, 0.7, 0.8], "seconds": [0.1] * 3})


def test_digit_grid():
    X = np.random.default_rng(0).random((13, 784))
    fig = plots.digit_grid(X, list(range(13)), cols=5)
    assert isinstance(fig, Figure)
    tiles = image_axes(fig)
    assert len(tiles) == 13 and len(fig.axes) == 15  # 3 rows of 5, two left empty
    assert [ax.get_title() for ax in tiles] == [str(i) for i in range(13)]
    assert tiles[0].images[0].get_array().shape == (28, 28)


def test_misclassified_grid_shows_only_the_mistakes():
    X = np.random.default_rng(0).random((6, 784))
    y_true, y_pred = np.array([0, 1, 2, 3, 4, 5]), np.array([0, 7, 2, 3, 9, 5])
    fig = plots.misclassified_grid(X, y_true, y_pred)
    assert [ax.get_title() for ax in image_axes(fig)] == ["1\u21927", "4\u21929"]
    np.testing.assert_array_equal(image_axes(fig)[1].images[0].get_array(),
                                  X[4].reshape(28, 28))
    names = [f"c{k}" for k in range(10)]
    fig = plots.misclassified_grid(X, y_true, y_pred, class_names=names, n=1)
    assert [ax.get_title() for ax in image_axes(fig)] == ["c1\u2192c7"]


def test_misclassified_grid_without_mistakes_is_an_empty_figure():
    y = np.arange(4)
    fig = plots.misclassified_grid(np.zeros((4, 784)), y, y)
    assert isinstance(fig, Figure) and image_axes(fig) == []


def test_weight_images():
    W1 = np.random.default_rng(0).normal(size=(784, 5))
    fig = plots.weight_images(W1)  # asks for 32 units, the layer has 5
    tiles = image_axes(fig)
    assert [ax.get_title() for ax in tiles] == [f"unit {j}" for j in range(5)]
    np.testing.assert_array_equal(tiles[2].images[0].get_array(), W1[:, 2].reshape(28, 28))
    low, high = tiles[2].images[0].get_clim()
    assert low == -high == -np.abs(W1[:, 2]).max()  # symmetric: grey is zero
    assert len(image_axes(plots.weight_images(np.ones((784, 64)), n=10))) == 10


@pytest.mark.parametrize("runs", [history(), {"SGD": history(), "Adam": history(0.1)}])
def test_learning_curves(runs):
    fig = plots.learning_curves(runs)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    ax_loss, ax_acc = fig.axes
    for ax in fig.axes:
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel() and ax.get_title()
        assert len(ax.lines) == 2 * (len(runs) if isinstance(runs, dict) else 1)
        assert ax.get_legend() is not None
    assert "loss" in ax_loss.get_ylabel() and "%" in ax_acc.get_ylabel()
    one = runs if isinstance(runs, pd.DataFrame) else runs["SGD"]
    np.testing.assert_allclose(ax_acc.lines[0].get_ydata(), 100 * one["train_acc"])
    np.testing.assert_allclose(ax_loss.lines[1].get_ydata(), one["val_loss"])
    # grey-scale readable: training and validation differ in line style
    assert ax_loss.lines[0].get_linestyle() != ax_loss.lines[1].get_linestyle()


def test_confusion_heatmap():
    M = np.arange(9).reshape(3, 3)
    fig = plots.confusion_heatmap(M, class_names=["cat", "dog", "eel"])
    assert isinstance(fig, Figure)
    ax = image_axes(fig)[0]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "eel"]
    assert [t.get_text() for t in ax.texts] == [str(v) for v in M.ravel()]
    np.testing.assert_array_equal(ax.images[0].get_array(), M)
    colorbar = [a for a in fig.axes if a is not ax]
    assert len(colorbar) == 1 and colorbar[0].get_ylabel() == "number of images"


def test_learning_curves_tick_whole_epochs_only():
    import pandas as pd

    from companion import plots

    history = pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [1.0, 0.5, 0.4],
                            "train_acc": [0.5, 0.7, 0.8], "val_loss": [1.1, 0.7, 0.6],
                            "val_acc": [0.4, 0.6, 0.7]})
    fig = plots.learning_curves(history)
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if 1 <= t <= 3]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
