"""Label-first CSV image files, as in the course's ``mnist_train_small.csv``.

Each row is a label followed by the pixels of one image, row-major: 1 + 28 x 28 = 785
integers for MNIST. A first line that starts with ``label`` is taken as a header. The
data set ``csv:TRAIN`` splits one file with a seeded, stratified hold-out;
``csv:TRAIN,TEST`` takes the test split from a second file.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from pathlib import Path

import numpy as np

from funml.data.dataset import ImageDataset, Split
from funml.download import file_digest
from funml.errors import DataError

COURSE_SEED = 4803
MAX_CLASSES = 1000  # labels must be below this (configurable per call): a typo is not a class
_BLOCK_ROWS = 2048  # rows parsed at once: bounds the memory parsing needs
_FIELD_CHARS = 24  # the most characters one valid field can take: 20 digits, sign, spaces
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)


def read_csv_images(
    path: str | os.PathLike,
    *,
    image_shape: tuple[int, int] = (28, 28),
    max_classes: int = MAX_CLASSES,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a label-first CSV of images, streaming: memory holds the result, not the text.

    Parameters
    ----------
    image_shape : (height, width), default (28, 28)
    max_classes : int, default MAX_CLASSES
        Labels must be below this; a larger one is refused before anything is allocated
        for it.

    Returns
    -------
    images : ndarray of shape (n_rows, height, width), dtype uint8
    labels : ndarray of shape (n_rows,), dtype int64

    Raises
    ------
    DataError
        For a missing or empty file, or the first bad row, with its line number: wrong
        length, a field that is not an ASCII integer (text, NaN, a decimal, a digit of
        another script), a value too large for 64 bits, a pixel outside 0..255, a negative
        label or one of ``max_classes`` or more, or a line far longer than a row can be.
    """
    path = Path(path)
    n_cols = 1 + math.prod(image_shape)
    max_line = n_cols * _FIELD_CHARS + 2  # the longest a valid row can be, newline included
    images, labels, block = [], [], []
    with _open_text(path) as f:
        for number in itertools.count(1):
            line = f.readline(max_line + 1)
            if not line:
                break
            if len(line) > max_line:
                raise DataError(
                    f"'{path}' line {number} is longer than {max_line:,} characters, too long "
                    f"for a row of {n_cols} integers; check that it is a label-first CSV file."
                )
            if number == 1 and line.lstrip().lower().startswith("label"):
                continue  # a header row
            if line.strip():
                block.append((number, line))
            if len(block) == _BLOCK_ROWS:
                _append(images, labels, _parse_block(path, block, image_shape, max_classes))
                block = []
    if block:
        _append(images, labels, _parse_block(path, block, image_shape, max_classes))
    if not labels:
        raise DataError(f"CSV file '{path}' holds no rows; expected label-first image rows.")
    return _concatenate(images), _concatenate(labels)


def _open_text(path: Path):
    """The file as text: UTF-8 with or without a byte-order mark, bad bytes as U+FFFD."""
    try:
        return open(path, encoding="utf-8-sig", errors="replace", newline=None)
    except FileNotFoundError:
        raise DataError(f"CSV file '{path}' does not exist; check the path.") from None
    except IsADirectoryError:
        raise DataError(f"'{path}' is a folder, not a CSV file; give the file's path.") from None
    except OSError as e:
        raise DataError(f"CSV file '{path}' cannot be read ({e.strerror or e}).") from None


def _append(images: list, labels: list, parsed: tuple[np.ndarray, np.ndarray]) -> None:
    images.append(parsed[0])
    labels.append(parsed[1])


def _concatenate(blocks: list[np.ndarray]) -> np.ndarray:
    # One block (a small file) is returned as it is: no copy.
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


def _parse_block(path, rows, image_shape, max_classes) -> tuple[np.ndarray, np.ndarray]:
    """Parse up to _BLOCK_ROWS numbered lines into (uint8 images, int64 labels)."""
    n_cols = 1 + math.prod(image_shape)
    try:
        # The fast path parses every field in C; any problem falls back to the slow scan
        # below, which finds the first bad line and says exactly what is wrong with it.
        values = np.loadtxt([line for _, line in rows], delimiter=",", dtype=np.int64, ndmin=2)
    except (ValueError, OverflowError):
        values = None
    if values is None or values.shape[1] != n_cols:
        _raise_first_bad_row(path, rows, n_cols, image_shape)
    labels, pixels = values[:, 0], values[:, 1:]
    checks = (
        (labels < 0, "a negative label"),
        (labels >= max_classes, None),
        (((pixels < 0) | (pixels > 255)).any(axis=1), "a pixel outside 0..255"),
    )
    for bad, what in checks:
        if bad.any():
            i = int(np.argmax(bad))
            if what is None:
                raise DataError(
                    f"'{path}' line {rows[i][0]} has label {labels[i]}, but labels must be "
                    f"below max_classes={max_classes}; fix that line, or pass a larger "
                    "max_classes."
                )
            raise DataError(f"'{path}' line {rows[i][0]} has {what}; fix or remove that line.")
    return pixels.astype(np.uint8).reshape(len(rows), *image_shape), labels.copy()


def load_csv_dataset(
    spec: str,
    *,
    image_shape: tuple[int, int] = (28, 28),
    test_size: float = 0.2,
    random_state: int = COURSE_SEED,
    max_classes: int = MAX_CLASSES,
) -> ImageDataset:
    """Load ``csv:TRAIN`` or ``csv:TRAIN,TEST`` (``spec`` is the part after ``csv:``).

    With one file, a seeded hold-out of ``test_size`` of each class becomes the test split.
    Class names are the label values ``"0"`` .. ``str(max_label)``; labels must be below
    ``max_classes``.
    """
    parts = [p for p in spec.split(",") if p]
    if not 1 <= len(parts) <= 2:
        raise DataError(f"'csv:{spec}' should name one CSV file or two: csv:TRAIN[,TEST].")
    paths = [Path(p).expanduser() for p in parts]
    loaded = [read_csv_images(p, image_shape=image_shape, max_classes=max_classes) for p in paths]
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
            value = field.strip()
            if not _INTEGER.fullmatch(field):  # int() would take other scripts' digits
                short = value if len(value) <= 40 else value[:37] + "..."
                what = "NaN" if value.lower() in ("nan", "-nan", "+nan") else repr(short)
                raise DataError(
                    f"'{path}' line {number}, field {column} is {what}, not an integer; "
                    "fix or remove that line."
                )
            if not -(2**63) <= int(value) < 2**63:
                raise DataError(
                    f"'{path}' line {number}, field {column} is {value[:40]}, too large for a "
                    "64-bit integer; fix or remove that line."
                )
    # np.loadtxt refused something the scan accepts (should not happen): say so plainly.
    raise DataError(f"'{path}' could not be parsed as label-first integer rows.")
