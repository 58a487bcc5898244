"""Figures of a training run, each a function that returns a matplotlib Figure.

Built on ``matplotlib.figure.Figure`` (never pyplot, never global rcParams). Functions that
draw one plot take ``ax=None``; image grids take ``fig=None``. Images are the raw uint8
images of a split, ndarray of shape (N, H, W); labels and predictions are int arrays (N,).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

if TYPE_CHECKING:
    from funml.nn.train import EpochRecord

_X_LABELS = {"epoch": "epoch", "examples": "training examples seen"}


def plot_loss(
    history: Sequence[EpochRecord], *, x: str = "epoch", ax: Axes | None = None
) -> Figure:
    """Train and test loss of each epoch against ``x``: ``"epoch"`` or ``"examples"``.

    With ``x="examples"`` the train loss is drawn as the course did: the mean loss of every
    few batches against the number of training examples seen, with the test loss as dots.
    """
    fig, ax = _figure_and_axes(ax)
    _check_x(x)
    if x == "examples":
        points = np.array([p for r in history for p in r.curve]).reshape(-1, 2)
        ax.plot(points[:, 0], points[:, 1], color="tab:blue", lw=1, label="train (batches)")
        seen = [r.examples_seen for r in history]
        ax.scatter(seen, [r.test_loss for r in history], color="tab:red", zorder=3, label="test")
    else:
        epochs = [r.epoch for r in history]
        ax.plot(epochs, [r.train_loss for r in history], "o-", label="train")
        ax.plot(epochs, [r.test_loss for r in history], "o-", label="test")
    ax.set(xlabel=_X_LABELS[x], ylabel="cross-entropy loss", title="Loss")
    ax.legend()
    return fig


def plot_accuracy(
    history: Sequence[EpochRecord], *, x: str = "epoch", ax: Axes | None = None
) -> Figure:
    """Train (running, over each epoch) and full-test-split accuracy against ``x``."""
    fig, ax = _figure_and_axes(ax)
    _check_x(x)
    xs = [r.epoch if x == "epoch" else r.examples_seen for r in history]
    ax.plot(xs, [100 * r.train_accuracy for r in history], "o-", label="train")
    ax.plot(xs, [100 * r.test_accuracy for r in history], "o-", label="test")
    ax.set(xlabel=_X_LABELS[x], ylabel="accuracy (%)", title="Accuracy")
    ax.legend()
    return fig


def plot_history(history: Sequence[EpochRecord], *, x: str = "epoch") -> Figure:
    """Loss and accuracy side by side."""
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    plot_loss(history, x=x, ax=loss_ax)
    plot_accuracy(history, x=x, ax=acc_ax)
    return fig


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts, int64 of shape (n_classes, n_classes): row = true class, column = predicted."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes**2).reshape(
        n_classes, n_classes
    )


def plot_confusion(
    y_true, y_pred, classes: Sequence[str] | None = None, *, ax: Axes | None = None
) -> Figure:
    """Confusion matrix with the count in every cell; rows are the true classes."""
    n = len(classes) if classes is not None else int(max(np.max(y_true), np.max(y_pred))) + 1
    classes = list(classes) if classes is not None else [str(i) for i in range(n)]
    cm = confusion_matrix(y_true, y_pred, n)
    fig, ax = _figure_and_axes(ax, figsize=(0.45 * n + 2.2, 0.45 * n + 1.8))
    ax.imshow(cm, cmap="Blues")
    for i, j in np.ndindex(cm.shape):
        color = "white" if cm[i, j] > cm.max() / 2 else "black"
        ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(range(n), classes, rotation=45, ha="right")
    ax.set_yticks(range(n), classes)
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    ax.set(xlabel="predicted", ylabel="true", title=f"Confusion matrix ({accuracy:.2%} correct)")
    return fig


def plot_misclassified(
    images: np.ndarray,
    y_true,
    y_pred,
    classes: Sequence[str] | None = None,
    *,
    n: int = 10,
    ncols: int = 5,
    fig: Figure | None = None,
) -> Figure:
    """The first ``n`` misclassified images, in test-set order, titled prediction / truth."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)[:n]
    titles = [f"pred {_name(y_pred[i], classes)}\ntrue {_name(y_true[i], classes)}" for i in wrong]
    fig = _image_grid(images[wrong], titles, ncols, fig, colors=["tab:red"] * len(wrong))
    fig.suptitle(
        f"First {len(wrong)} misclassified test images (of {int(np.sum(y_true != y_pred))})"
    )
    return fig


def plot_predictions(
    images: np.ndarray,
    y_true,
    y_pred,
    classes: Sequence[str] | None = None,
    *,
    n: int = 20,
    ncols: int = 10,
    fig: Figure | None = None,
) -> Figure:
    """The first ``n`` test images titled with their prediction (red where it is wrong)."""
    y_true, y_pred = np.asarray(y_true)[:n], np.asarray(y_pred)[:n]
    titles = [_name(p, classes) for p in y_pred]
    colors = ["tab:green" if p == t else "tab:red" for p, t in zip(y_pred, y_true, strict=True)]
    fig = _image_grid(images[:n], titles, ncols, fig, colors=colors)
    fig.suptitle(f"First {len(y_pred)} test predictions ({int(np.sum(y_pred == y_true))} right)")
    return fig


def first_conv_weight(model: nn.Module) -> np.ndarray:
    """Weights of the model's first Conv2d, ndarray of shape (out, in, kh, kw)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m.weight.detach().cpu().numpy()
    raise ValueError(f"{type(model).__name__} has no Conv2d layer, so it has no kernels to show.")


def plot_kernels(
    model: nn.Module | np.ndarray, *, ncols: int = 8, fig: Figure | None = None
) -> Figure:
    """The first convolution's kernels as a grid of images (32 5x5 kernels for ``cnn``).

    ``model`` is the model, or its :func:`first_conv_weight`. Every kernel shares one
    symmetric colour scale, so the grey of zero is the same in all.
    """
    weight = first_conv_weight(model) if isinstance(model, nn.Module) else np.asarray(model)
    w = weight[:, 0]  # (out, kh, kw): the single input channel
    limit = float(np.abs(w).max()) or 1.0
    n = len(w)
    nrows = -(-n // ncols)
    fig = fig if fig is not None else Figure(figsize=(1.1 * ncols, 1.1 * nrows + 0.5))
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < n:
            ax.imshow(w[i], cmap="gray", vmin=-limit, vmax=limit)
    kh, kw = w.shape[1:]
    fig.suptitle(f"First convolution: {n} kernels of {kh}x{kw}")
    return fig


def plot_table(rows: Sequence[dict], *, title: str = "", ax: Axes | None = None) -> Figure:
    """Rows (dicts with the same keys) drawn as a table, e.g. the normalisation ablation."""
    fig, ax = _figure_and_axes(ax, figsize=(1.8 * len(rows[0]), 0.45 * len(rows) + 1.0))
    ax.set_axis_off()
    cells = [[_cell(r[k]) for k in rows[0]] for r in rows]
    table = ax.table(cellText=cells, colLabels=list(rows[0]), loc="center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.4)
    if title:
        ax.set_title(title)
    return fig


def training_figures(result, dataset) -> dict[str, Figure]:
    """Every figure of a finished run, by file stem: curves, confusion, mistakes, kernels.

    ``result`` is a :class:`~funml.nn.train.TrainResult`, ``dataset`` the ImageDataset it
    was trained on; predictions are over its full test split.
    """
    from funml.nn.evaluate import predict_split

    test = dataset.test
    preds = predict_split(result.model, test, result.normalization).numpy()
    figures = {
        "curves": plot_history(result.history, x="epoch"),
        "curves_examples_seen": plot_history(result.history, x="examples"),
        "confusion": plot_confusion(test.labels, preds, dataset.classes),
        "misclassified": plot_misclassified(test.images, test.labels, preds, dataset.classes),
        "predictions": plot_predictions(test.images, test.labels, preds, dataset.classes),
    }
    if any(isinstance(m, nn.Conv2d) for m in result.model.modules()):
        figures["kernels"] = plot_kernels(result.model)
    return figures


def save_training_figures(result, dataset, out_dir: str | Path) -> list[Path]:
    """Write :func:`training_figures` as PNG files into ``out_dir``, atomically."""
    from funml.files import save_figure

    return [
        save_figure(fig, Path(out_dir) / f"{name}.png")
        for name, fig in training_figures(result, dataset).items()
    ]


# --- helpers ------------------------------------------------------------------------------


def _figure_and_axes(ax: Axes | None, figsize=(5, 3.8)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _check_x(x: str) -> None:
    if x not in _X_LABELS:
        raise ValueError(f"x must be 'epoch' or 'examples', got {x!r}.")


def _name(label, classes) -> str:
    return classes[int(label)] if classes is not None else str(int(label))


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _image_grid(images, titles, ncols, fig, colors) -> Figure:
    n = max(len(images), 1)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig = fig if fig is not None else Figure(figsize=(1.3 * ncols, 1.55 * nrows + 0.4))
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < len(images):
            ax.imshow(images[i], cmap="gray_r", interpolation="nearest")
            ax.set_title(titles[i], fontsize=7, color=colors[i])
    return fig
