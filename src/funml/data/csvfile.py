"""Label-first CSV image files, as in the course's ``mnist_train_small.csv``.

Each row is a label followed by the pixels of one image, row-major: 1 + 28 x 28 = 785
integers for MNIST. A first line that starts with ``label`` is taken as a header. The
data set ``csv:TRAIN`` splits one file with a seeded, stratified hold-out;
``csv:TRAIN,TEST`` takes the test split from a second file.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from funml.data.dataset import ImageDataset, Split
from funml.download import file_digest
from funml.errors import DataError

COURSE_SEED = 4803


def read_csv_images(
    path: str | os.PathLike, *, image_shape: tuple[int, int] = (28, 28)
) -> tuple[np.ndarray, np.ndarray]:
    """Read a label-first CSV of images.

    Returns
    -------
    images : ndarray of shape (n_rows, height, width), dtype uint8
    labels : ndarray of shape (n_rows,), dtype int64

    Raises
    ------
    DataError
        For a missing or empty file, or the first bad row: wrong length, a non-numeric,
        NaN or non-integer field, a pixel outside 0..255 or a negative label, with its
        line number.
    """
    path = Path(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"CSV file '{path}' does not exist; check the path.") from None
    except IsADirectoryError:
        raise DataError(f"'{path}' is a folder, not a CSV file; give the file's path.") from None
    n_cols = 1 + math.prod(image_shape)
    lines = text.decode("utf-8", errors="replace").splitlines()
    first = 1 if lines and lines[0].lstrip().lower().startswith("label") else 0
    rows = [(i + 1, line) for i, line in enumerate(lines) if i >= first and line.strip()]
    if not rows:
        raise DataError(f"CSV file '{path}' holds no rows; expected label-first image rows.")
    try:
        # The fast path parses every field in C; any problem falls back to the slow scan
        # below, which finds the first bad line and says exactly what is wrong with it.
        values = np.loadtxt([line for _, line in rows], delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError:
        values = None
    if values is None or values.shape[1] != n_cols:
        _raise_first_bad_row(path, rows, n_cols, image_shape)
    labels, pixels = values[:, 0], values[:, 1:]
    bad_label = labels < 0
    bad_pixel = ((pixels < 0) | (pixels > 255)).any(axis=1)
    for bad, what in ((bad_label, "a negative label"), (bad_pixel, "a pixel outside 0..255")):
        if bad.any():
            number = rows[int(np.argmax(bad))][0]
            raise DataError(f"'{path}' line {number} has {what}; fix or remove that line.")
    images = pixels.astype(np.uint8).reshape(len(rows), *image_shape)
    return images, labels


def load_csv_dataset(
    spec: str,
    *,
    image_shape: tuple[int, int] = (28, 28),
    test_size: float = 0.2,
    random_state: int = COURSE_SEED,
) -> ImageDataset:
    """Load ``csv:TRAIN`` or ``csv:TRAIN,TEST`` (``spec`` is the part after ``csv:``).

    With one file, a seeded hold-out of ``test_size`` of each class becomes the test split.
    Class names are the label values ``"0"`` .. ``str(max_label)``.
    """
    parts = [p for p in spec.split(",") if p]
    if not 1 <= len(parts) <= 2:
        raise DataError(f"'csv:{spec}' should name one CSV file or two: csv:TRAIN[,TEST].")
    paths = [Path(p).expanduser() for p in parts]
    loaded = [read_csv_images(p, image_shape=image_shape) for p in paths]
    if len(loaded) == 2:
        (x_train, y_train), (x_test, y_test) = loaded
    else:
        x, y = loaded[0]
        train_idx, test_idx = stratified_split(y, test_size, random_state)
        x_train, y_train, x_test, y_test = x[train_idx], y[train_idx], x[test_idx], y[test_idx]
    n_classes = int(max(y_train.max(initial=0), y_test.max(initial=0))) + 1
    return ImageDataset(
        name=f"csv:{spec}",
        train=Split(x_train, y_train),
        test=Split(x_test, y_test),
        classes=tuple(str(c) for c in range(n_classes)),
        pixel_max=255,
        source=", ".join(str(p.resolve()) for p in paths),
        checksums={p.name: file_digest(p) for p in paths},
    )


def stratified_split(
    labels: np.ndarray, test_size: float, random_state: int
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded indices (train, test) holding out ``round(test_size * n_c)`` of each class."""
    if not 0 <= test_size < 1:
        raise DataError(f"test_size must be in [0, 1), got {test_size}.")
    rng = np.random.default_rng(random_state)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = round(test_size * len(idx))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _raise_first_bad_row(path, rows, n_cols, image_shape):
    for number, line in rows:
        fields = line.split(",")
        if len(fields) != n_cols:
            raise DataError(
                f"'{path}' line {number} has {len(fields)} fields, expected {n_cols} "
                f"(a label and {n_cols - 1} pixels of a {image_shape[0]}x{image_shape[1]} "
                "image); fix or remove that line."
            )
        for column, field in enumerate(fields, start=1):
            try:
                int(field)
            except ValueError:
                value = field.strip()
                what = "NaN" if value.lower() in ("nan", "-nan", "+nan") else repr(value)
                raise DataError(
                    f"'{path}' line {number}, field {column} is {what}, not an integer; "
                    "fix or remove that line."
                ) from None
    # np.loadtxt refused something the scan accepts (should not happen): say so plainly.
    raise DataError(f"'{path}' could not be parsed as label-first integer rows.")
