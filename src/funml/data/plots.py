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
    # Tiny images (8x8 Digits) are enlarged so that labels and gaps keep their proportions.
    zoom = max(1, math.ceil(28 / max(ds.image_shape)))
    h, w = (zoom * n for n in ds.image_shape)
    pad = max(1, h // 14)  # between tiles in a row
    band = max(2, round(0.3 * h))  # above each row: room for the class names
    # One tiled image: a single imshow keeps the figure small and fast to render.
    mosaic = np.full((n_rows * (band + h), n_cols * (w + pad) - pad), np.nan)
    for c in range(n):
        r, k = divmod(c, n_cols)
        hits = np.flatnonzero(data.labels == c)
        if hits.size:
            top, left = r * (band + h) + band, k * (w + pad)
            tile = data.images[hits[0]].repeat(zoom, axis=0).repeat(zoom, axis=1)
            mosaic[top : top + h, left : left + w] = tile
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
            r * (band + h) + band * 0.9,
            (name if name == str(c) else f"{c}: {name}") + (" (none)" if missing else ""),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_axis_off()
    ax.set_title(f"{ds.name}: one {split} image per class")
    return ax.figure
