"""Named data sets: ``load_dataset("mnist")`` and friends.

Names: ``mnist``, ``fashion-mnist``, ``digits``, ``csv:TRAIN[,TEST]`` and ``folder:PATH``.
MNIST and Fashion-MNIST are searched for in ``data_dir``, ``$FUNML_DATA``, the user cache
and the system's data folders, and downloaded into the cache when missing (pass
``download=False`` to refuse); see :mod:`funml.data.mnist`.
"""

from __future__ import annotations

import difflib

from funml.data.dataset import ImageDataset
from funml.errors import FunmlError

# The named data sets (digits, the offline default, first); the patterns take a path.
DATASETS = ("digits", "mnist", "fashion-mnist")
PATTERNS = ("csv:PATH", "folder:PATH")


def canonical_name(name: str) -> str:
    """``"Fashion_MNIST"`` -> ``"fashion-mnist"``; the ``csv:``/``folder:`` path is kept as is."""
    kind, sep, rest = name.partition(":")
    if sep:
        return f"{kind.strip().lower()}:{rest}"
    return name.strip().lower().replace("_", "-")


def load_dataset(name: str, *, data_dir=None, **options) -> ImageDataset:
    """Load a data set by name.

    Parameters
    ----------
    name : str
        ``mnist``, ``fashion-mnist``, ``digits``, ``csv:TRAIN[,TEST]`` or ``folder:PATH``.
    data_dir : path-like, optional
        Searched first for MNIST and Fashion-MNIST (and where their downloads go).
    **options
        Passed to the loader: ``download``/``progress`` for MNIST and Fashion-MNIST
        (:func:`funml.data.mnist.load_idx_dataset`), ``n_train``/``seed`` for digits,
        ``image_shape``/``test_size``/``random_state`` for CSV, ``image_size``/
        ``test_size``/``random_state`` for folders.
    """
    key = canonical_name(name)
    if key in ("mnist", "fashion-mnist"):
        from funml.data.mnist import load_idx_dataset

        return load_idx_dataset(key, data_dir=data_dir, **options)
    if key == "digits":
        from funml.data.digits import load_digits

        return load_digits(**options)
    kind, _, path = key.partition(":")
    if kind in ("csv", "folder") and not path:
        example = "csv:mnist_train_small.csv" if kind == "csv" else "folder:photos"
        raise FunmlError(f"Data set '{name}' needs a path after '{kind}:', e.g. '{example}'.")
    if kind == "csv":
        from funml.data.csvfile import load_csv_dataset

        return load_csv_dataset(path, **options)
    if kind == "folder":
        from funml.data.folder import load_image_folder

        return load_image_folder(path, **options)
    close = difflib.get_close_matches(key, DATASETS, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise FunmlError(
        f"Data set '{name}' is unknown{hint}; choose one of: {', '.join(DATASETS + PATTERNS)}."
    )
