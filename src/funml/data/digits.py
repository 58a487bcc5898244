"""scikit-learn's 8x8 Digits, split as in the course."""

from __future__ import annotations

import numpy as np

from funml.data.dataset import ImageDataset, Split

COURSE_N_TRAIN = 500
COURSE_SEED = 4803


def load_digits(n_train: int = COURSE_N_TRAIN, seed: int = COURSE_SEED) -> ImageDataset:
    """Load the 1,797 8x8 Digits with the course's seeded split (500 train / 1,297 test).

    Pixels keep their true range 0..16 (``pixel_max=16``); they are stored as uint8.
    """
    from sklearn.datasets import load_digits as _sk_load_digits
    from sklearn.model_selection import train_test_split

    digits = _sk_load_digits()
    images = digits.images.astype(np.uint8)  # exact: the values are the integers 0..16
    labels = digits.target.astype(np.int64)
    if not 0 < n_train < len(labels):
        raise ValueError(f"n_train must be between 1 and {len(labels) - 1}, got {n_train}.")
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, train_size=n_train, random_state=seed
    )
    return ImageDataset(
        name="digits",
        train=Split(x_train, y_train),
        test=Split(x_test, y_test),
        classes=tuple(str(d) for d in range(10)),
        pixel_max=16,
        source="scikit-learn (sklearn.datasets.load_digits)",
        checksums=_package_file_digest(),
    )


def _package_file_digest() -> dict[str, str]:
    """SHA-256 of the file scikit-learn reads the Digits from, for the report header."""
    from importlib.resources import files

    from funml.download import file_digest

    try:
        resource = files("sklearn.datasets.data") / "digits.csv.gz"
        return {"sklearn/datasets/data/digits.csv.gz": file_digest(resource)}
    except (ModuleNotFoundError, OSError, TypeError):
        return {}  # a packaging that hides the file: the report goes without the digest
