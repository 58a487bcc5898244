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
    from funml.data.mnist import load_idx_dataset

    try:  # only files already on disk: the offline default never downloads
        ds = load_idx_dataset("mnist", data_dir=settings.data_dir, download=False)
    except DataError:
        pass
    else:
        return ds, (
            "The run is on 8x8 Digits, which these 28x28 models do not fit; they ran on the "
            f"MNIST files found ({len(ds.train):,} train / {len(ds.test):,} test)."
        )
    halves = mnist_test_halves(settings.data_dir)
    if halves is not None:
        return halves, (
            "The run is on 8x8 Digits, which these 28x28 models do not fit, and of MNIST only "
            "the official test set was found: the models trained on its first 5,000 images "
            "and were tested on the other 5,000 (published anchors assume the full "
            "60,000-image training set)."
        )
    ds = digits_as_28x28(load("digits", None))
    return ds, (
        "The run is on 8x8 Digits and no MNIST files were found, so these 28x28 models ran "
        "on Digits scaled to 28x28 (a 20x20 box centred in 28x28, as MNIST was made). "
        "Point --data-dir at the MNIST files, or run `funml data fetch mnist`, for MNIST."
    )


def mnist_test_halves(data_dir) -> ImageDataset | None:
    """MNIST's official test set as 5,000 train / 5,000 test images; None when absent."""
    from funml.data.mnist import MNIST, find_file, load_split

    try:
        test = load_split("mnist", "test", data_dir=data_dir, download=False)
    except DataError:
        return None
    half = len(test) // 2
    found = [find_file(MNIST, f, data_dir) for f in MNIST.files["test"]]
    return ImageDataset(
        name="mnist-test-halves",
        train=Split(test.images[:half], test.labels[:half]),
        test=Split(test.images[half:], test.labels[half:]),
        classes=MNIST.classes,
        pixel_max=255,
        source=f"{found[0].path.parent} (official test set, split into halves)",
        checksums={hit.path.name: hit.contents.file_sha256 for hit in found},
    )


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
