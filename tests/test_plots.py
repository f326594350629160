"""Plots: each returns a closed matplotlib Figure with the right panels, data, labels, styles."""

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
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
    assert tuple(fig.get_size_inches()) == pytest.approx((5 * 1.3, 3 * 1.5))  # per tile
    assert not any(ax.axison for ax in fig.axes)  # no frames, ticks or empty boxes
    assert [ax.get_title() for ax in tiles] == [str(i) for i in range(13)]
    assert all(ax.title.get_fontsize() == 9 for ax in tiles)
    image = tiles[0].images[0]
    np.testing.assert_array_equal(image.get_array(), X[0].reshape(28, 28))
    # ink is dark on white, on the fixed scale of pixel values
    assert image.get_cmap().name == "gray_r" and image.get_clim() == (0, 1)


@pytest.mark.parametrize("n, cols, shape", [(13, None, (2, 10)), (5, 5, (1, 5)),
                                            (1, 1, (1, 1))])
def test_digit_grid_rows_and_columns(n, cols, shape):
    X = np.zeros((n, 784))
    fig = plots.digit_grid(X, range(n), **({"cols": cols} if cols else {}))
    rows, columns = shape
    assert len(fig.axes) == rows * columns and len(image_axes(fig)) == n
    assert tuple(fig.get_size_inches()) == pytest.approx((columns * 1.3, rows * 1.5))


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


def test_misclassified_grid_shows_the_first_20_in_rows_of_10():
    y_true = np.arange(30) % 10
    y_pred = (y_true + 1) % 10  # every one wrong
    fig = plots.misclassified_grid(np.zeros((30, 784)), y_true, y_pred)
    assert len(image_axes(fig)) == 20 and len(fig.axes) == 20
    fig = plots.misclassified_grid(np.zeros((30, 784)), y_true, y_pred, n=6, cols=4)
    assert len(image_axes(fig)) == 6 and len(fig.axes) == 8  # 2 rows of 4


def test_misclassified_grid_without_mistakes_is_an_empty_figure():
    y = np.arange(4)
    fig = plots.misclassified_grid(np.zeros((4, 784)), y, y)
    assert isinstance(fig, Figure) and image_axes(fig) == []


def test_weight_images():
    W1 = np.random.default_rng(0).normal(size=(784, 5))
    W1[7, 2], W1[7, 3] = 9.0, -8.0  # the largest weight of unit 2 is positive, of unit 3 not
    fig = plots.weight_images(W1)  # asks for 32 units, the layer has 5
    tiles = image_axes(fig)
    assert [ax.get_title() for ax in tiles] == [f"unit {j}" for j in range(5)]
    assert all(ax.title.get_fontsize() == 8 for ax in tiles)
    image = tiles[2].images[0]
    np.testing.assert_array_equal(image.get_array(), W1[:, 2].reshape(28, 28))
    # symmetric: mid-grey is zero
    assert image.get_clim() == (-9.0, 9.0) and tiles[3].images[0].get_clim() == (-8.0, 8.0)
    assert image.get_cmap().name == "gray"  # white = large positive, black = negative
    assert len(image_axes(plots.weight_images(np.ones((784, 64)), n=10))) == 10


def test_weight_images_shows_32_units_in_rows_of_8():
    fig = plots.weight_images(np.ones((784, 64)))
    assert len(image_axes(fig)) == 32 and len(fig.axes) == 32


@pytest.mark.parametrize("runs", [history(), {"SGD": history(), "Adam": history(0.1)}])
def test_learning_curves(runs):
    fig = plots.learning_curves(runs)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert tuple(fig.get_size_inches()) == pytest.approx((10, 3.8))
    ax_loss, ax_acc = fig.axes
    # side by side: loss on the left
    assert ax_loss.get_position().y0 == ax_acc.get_position().y0
    assert ax_loss.get_position().x1 < ax_acc.get_position().x0
    labels = ["train", "val"] if isinstance(runs, pd.DataFrame) else [
        "SGD train", "SGD val", "Adam train", "Adam val"]
    for ax in fig.axes:
        assert ax.get_xlabel() == "epoch"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == labels
        assert [line.get_label() for line in ax.lines] == labels
        for line in ax.lines:
            np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])  # epochs count from 1
        # grey-scale readable: training and validation differ in line style
        assert [line.get_linestyle() for line in ax.lines[:2]] == ["-", "--"]
        assert all(line.get_markersize() == 4 for line in ax.lines)
        grid = ax.xaxis.get_gridlines()[0]
        assert grid.get_visible() and grid.get_alpha() == 0.3
    assert (ax_loss.get_ylabel(), ax_loss.get_title()) == ("cross-entropy loss (nats)", "Loss")
    assert (ax_acc.get_ylabel(), ax_acc.get_title()) == ("accuracy (%)", "Accuracy")
    one = runs if isinstance(runs, pd.DataFrame) else runs["SGD"]
    np.testing.assert_allclose(ax_acc.lines[0].get_ydata(), 100 * one["train_acc"])
    np.testing.assert_allclose(ax_loss.lines[1].get_ydata(), one["val_loss"])


def test_learning_curves_mark_each_run_differently():
    fig = plots.learning_curves({f"run {k}": history() for k in range(6)})
    markers = [line.get_marker() for line in fig.axes[0].lines[::2]]
    assert markers == ["o", "s", "D", "^", "v", "o"]  # five shapes, then again


def text_colour(text):
    return to_rgba(text.get_color())


def test_confusion_heatmap():
    M = np.array([[0, 5, 4], [10, 1, 6], [2, 3, 9]])
    with mpl.rc_context({"image.cmap": "gray"}):  # whatever the reader's default colour map
        fig = plots.confusion_heatmap(M, class_names=["cat", "dog", "eel"])
    assert isinstance(fig, Figure)
    assert tuple(fig.get_size_inches()) == pytest.approx((6.5, 5.5))
    ax = image_axes(fig)[0]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert ax.get_title() == "Confusion matrix"
    for get_ticks, get_labels in ((ax.get_xticks, ax.get_xticklabels),
                                  (ax.get_yticks, ax.get_yticklabels)):
        np.testing.assert_array_equal(get_ticks(), [0, 1, 2])
        assert [t.get_text() for t in get_labels()] == ["cat", "dog", "eel"]
    # names longer than two characters are slanted on the x axis only
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {45}
    assert {t.get_rotation() for t in ax.get_yticklabels()} == {0}
    assert [t.get_text() for t in ax.texts] == [str(v) for v in M.ravel()]
    assert [t.get_position() for t in ax.texts] == [(j, i) for i in range(3) for j in range(3)]
    assert all(t.get_fontsize() == 8 and t.get_horizontalalignment() == "center"
               and t.get_verticalalignment() == "center" for t in ax.texts)
    # white on the dark half of the scale (below max / 2 = 5), black on the light half
    white, black = to_rgba("white"), to_rgba("black")
    assert [text_colour(t) for t in ax.texts] == [
        white, black, white, black, white, black, white, white, black]
    image = ax.images[0]
    np.testing.assert_array_equal(image.get_array(), M)
    assert image.get_cmap().name == "viridis"  # grows monotonically in lightness
    colorbar = [a for a in fig.axes if a is not ax]
    assert len(colorbar) == 1 and colorbar[0].get_ylabel() == "number of images"
    assert colorbar[0].get_ylim() == (0, 10)  # the scale of M


@pytest.mark.parametrize("C", [3, 11])
def test_confusion_heatmap_without_class_names_numbers_the_classes(C):
    fig = plots.confusion_heatmap(np.eye(C, dtype=int))
    ax = image_axes(fig)[0]
    for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
        assert [t.get_text() for t in labels] == [str(c) for c in range(C)]
        assert {t.get_rotation() for t in labels} == {0}  # "10" still fits upright


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
