"""Plots. Each function takes data and returns a matplotlib ``Figure``; chapters display it.

Figures are closed in pyplot before they are returned, so a notebook shows each one once.
Colours are chosen to stay readable in grey-scale (line styles and markers differ too).
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator


def _grid(n, cols):
    rows = max(1, int(np.ceil(n / cols)))  # one empty row when there is nothing to show
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.5 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    plt.close(fig)
    return fig, axes.flat


def digit_grid(X, titles, cols=10):
    """Images X ``(n, 784)`` as 28x28 grey-scale tiles, each with its title (a label)."""
    fig, axes = _grid(len(X), cols)
    for ax, x, title in zip(axes, X, titles):
        ax.imshow(x.reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(str(title), fontsize=9)
    fig.tight_layout()
    return fig


def misclassified_grid(X, y_true, y_pred, class_names=None, n=20, cols=10):
    """The first ``n`` misclassified images, titled "true -> predicted"."""
    names = class_names or [str(c) for c in range(10)]
    wrong = np.flatnonzero(y_true != y_pred)[:n]
    titles = [f"{names[y_true[i]]}\u2192{names[y_pred[i]]}" for i in wrong]
    return digit_grid(X[wrong], titles, cols)


def weight_images(W1, n=32, cols=8):
    """The first ``n`` columns of W1 ``(784, H)``, each the 28x28 template of a hidden unit.

    Each tile has its own symmetric grey scale: white = large positive, black = negative.
    """
    fig, axes = _grid(min(n, W1.shape[1]), cols)
    for j, ax in enumerate(axes):
        if j >= min(n, W1.shape[1]):
            break
        w = W1[:, j].reshape(28, 28)
        lim = np.abs(w).max()
        ax.imshow(w, cmap="gray", vmin=-lim, vmax=lim)
        ax.set_title(f"unit {j}", fontsize=8)
    fig.tight_layout()
    return fig


def learning_curves(histories):
    """Loss and accuracy per epoch, training and validation, from ``train``'s history.

    ``histories`` is one DataFrame or a dict ``{label: DataFrame}`` to compare runs.
    """
    if not isinstance(histories, dict):
        histories = {"": histories}
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    plt.close(fig)
    markers = "osD^v"
    for k, (label, h) in enumerate(histories.items()):
        for split, style in (("train", "-"), ("val", "--")):
            name = f"{label} {split}".strip()
            kw = dict(linestyle=style, marker=markers[k % 5], markersize=4, label=name)
            ax_loss.plot(h["epoch"], h[f"{split}_loss"], **kw)
            ax_acc.plot(h["epoch"], 100 * h[f"{split}_acc"], **kw)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss (nats)", title="Loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def confusion_heatmap(M, class_names=None):
    """Confusion matrix M ``(C, C)`` (rows true, columns predicted) as an annotated heat map."""
    C = len(M)
    names = class_names or [str(c) for c in range(C)]
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    plt.close(fig)
    im = ax.imshow(M, cmap="viridis")  # viridis grows monotonically in lightness
    for i in range(C):
        for j in range(C):
            dark = M[i, j] < M.max() / 2
            ax.text(j, i, M[i, j], ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
    ax.set(xticks=range(C), yticks=range(C), xticklabels=names, yticklabels=names,
           xlabel="predicted class", ylabel="true class", title="Confusion matrix")
    ax.tick_params(axis="x", labelrotation=45 if max(map(len, names)) > 2 else 0)
    fig.colorbar(im, ax=ax, label="number of images")
    fig.tight_layout()
    return fig
