"""The in-memory form every named data set loads into."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Split:
    """One split of a labelled image data set.

    Attributes
    ----------
    images : ndarray of shape (n_samples, height, width), dtype uint8
    labels : ndarray of shape (n_samples,), dtype int64
    """

    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.ndim != 3:
            raise ValueError(
                f"Split images must be uint8 of shape (N, H, W), got {self.images.dtype} "
                f"of shape {self.images.shape}."
            )
        if self.labels.dtype != np.int64 or self.labels.shape != (len(self.images),):
            raise ValueError(
                f"Split labels must be int64 of shape ({len(self.images)},), got "
                f"{self.labels.dtype} of shape {self.labels.shape}."
            )

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class ImageDataset:
    """A labelled image data set with train and test splits.

    Attributes
    ----------
    name : str
        The name it was loaded by, e.g. ``"fashion-mnist"``.
    train, test : Split
    classes : tuple of str
        Class names, indexed by label.
    pixel_max : int
        The largest pixel value the format allows: 255, or 16 for scikit-learn's Digits.
    source : str
        Where the data came from: a folder, a file or a package.
    checksums : dict of str to str
        SHA-256 of each file the data was read from, for reports.
    """

    name: str
    train: Split
    test: Split
    classes: tuple[str, ...]
    pixel_max: int = 255
    source: str = ""
    checksums: dict[str, str] = field(default_factory=dict)

    @property
    def image_shape(self) -> tuple[int, int]:
        """(height, width) of every image."""
        return tuple(self.train.images.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def describe(ds: ImageDataset) -> dict:
    """A JSON-ready summary: sizes, shapes, pixel range, per-class counts, source, hashes."""

    def split_info(split: Split) -> dict:
        counts = np.bincount(split.labels, minlength=ds.n_classes)
        pixels = [int(split.images.min()), int(split.images.max())] if len(split) else None
        return {
            "n": len(split),
            "shape": list(split.images.shape),
            "pixel_range": pixels,
            "label_counts": {name: int(n) for name, n in zip(ds.classes, counts, strict=False)},
        }

    return {
        "dataset": ds.name,
        "train": split_info(ds.train),
        "test": split_info(ds.test),
        "image_shape": list(ds.image_shape),
        "dtype": str(ds.train.images.dtype),
        "pixel_max": ds.pixel_max,
        "classes": list(ds.classes),
        "source": ds.source,
        "checksums": dict(ds.checksums),
    }
