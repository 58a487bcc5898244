"""The course's first figure: one sample image per class."""

from __future__ import annotations

import math

import numpy as np

from funml.data.dataset import ImageDataset


def class_gallery(ds: ImageDataset, ax=None, *, split: str = "train", n_cols: int | None = None):
    """Draw the first image of each class of ``ds`` in a grid, each titled with its class.

    Parameters
    ----------
    ds : ImageDataset
    ax : matplotlib Axes, optional
        Draw into this Axes (as one tiled image); by default a new Figure is made.
    split : {"train", "test"}
    n_cols : int, optional
        Tiles per row; by default up to 5 for 10 classes, about square for more.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    data = getattr(ds, split)
    n = ds.n_classes
    n_cols = n_cols or min(n, max(5, math.ceil(math.sqrt(n))))
    n_rows = math.ceil(n / n_cols)
    h, w = ds.image_shape
    pad = max(1, h // 14)
    # One tiled image: a single imshow keeps the figure small and fast to render.
    mosaic = np.full((n_rows * (h + pad) - pad, n_cols * (w + pad) - pad), np.nan)
    for c in range(n):
        r, k = divmod(c, n_cols)
        hits = np.flatnonzero(data.labels == c)
        if hits.size:
            top, left = r * (h + pad), k * (w + pad)
            mosaic[top : top + h, left : left + w] = data.images[hits[0]]
    if ax is None:
        fig = Figure(figsize=(1.6 * n_cols, 1.8 * n_rows), layout="constrained")
        ax = fig.add_subplot()
    ax.imshow(
        np.ma.masked_invalid(mosaic),
        cmap="gray",
        vmin=0,
        vmax=ds.pixel_max,
        interpolation="nearest",
    )
    for c, name in enumerate(ds.classes):
        r, k = divmod(c, n_cols)
        missing = not np.any(data.labels == c)
        ax.text(
            k * (w + pad) + w / 2,
            r * (h + pad) - pad / 2,
            f"{c}: {name}" + (" (none)" if missing else ""),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_axis_off()
    ax.set_title(f"{ds.name}: one {split} image per class", pad=14)
    return ax.figure
