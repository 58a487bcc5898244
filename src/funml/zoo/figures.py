"""Figures for classified photos: a grid per model, and a table comparing the models.

Both build a ``matplotlib.figure.Figure`` directly (no pyplot, no global rcParams).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from funml.zoo.classify import Prediction
from funml.zoo.registry import MODELS

THUMBNAIL = 320  # longest side, in pixels, of the copies drawn (full photos are slow to draw)


def plot_prediction_grid(
    images: Sequence[Image.Image],
    predictions: Sequence[Prediction],
    model: str | None = None,
    *,
    ncols: int = 4,
) -> Figure:
    """The course's grid: each image titled with its top-1 class and probability.

    ``predictions`` is what :func:`classify` returned for these ``images`` (same order);
    only those of ``model`` are drawn (default: the first model in ``predictions``).
    """
    model = model if model is not None else predictions[0].model
    preds = [p for p in predictions if p.model == model]
    if len(preds) != len(images):
        raise ValueError(f"{len(images)} images but {len(preds)} predictions of '{model}'.")
    ncols = max(1, min(ncols, len(images)))
    nrows = max(1, math.ceil(len(images) / ncols))
    fig = Figure(figsize=(3.2 * ncols, 3.2 * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, image, pred in zip(axes, images, preds, strict=False):
        best = pred.top[0]
        ax.imshow(_thumbnail(image))
        ax.set_title(f"{best.name} ({best.prob:.0%})", fontsize=10)
    fig.suptitle(MODELS[model].title if model in MODELS else model)
    return fig


def plot_comparison_table(predictions: Sequence[Prediction], *, ax=None) -> Figure:
    """A table: one row per image, one column per model, cells "class (probability)"."""
    images = list(dict.fromkeys(p.image for p in predictions))
    models = list(dict.fromkeys(p.model for p in predictions))
    cell = {(p.image, p.model): f"{p.top[0].name} ({p.top[0].prob:.0%})" for p in predictions}
    rows = [[cell.get((image, model), "") for model in models] for image in images]
    if ax is None:
        fig = Figure(figsize=(2.2 + 2.6 * len(models), 0.8 + 0.35 * len(images)))
        ax = fig.add_subplot()
    fig = ax.get_figure()
    ax.set_axis_off()
    labels = [_short(image) for image in images]
    table = ax.table(cellText=rows, rowLabels=labels, colLabels=models, loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.auto_set_column_width(list(range(len(models))))
    ax.set_title("Top-1 class per model")
    return fig


def _thumbnail(image: Image.Image) -> np.ndarray:
    small = image.convert("RGB")  # a copy, so the caller's image is never changed
    small.thumbnail((THUMBNAIL, THUMBNAIL))
    return np.asarray(small)


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1) :]
