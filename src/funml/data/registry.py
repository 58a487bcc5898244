"""Named data sets: ``load_dataset("digits")`` and friends."""

from __future__ import annotations

from funml.data.dataset import ImageDataset
from funml.errors import FunmlError


def load_dataset(name: str, *, data_dir=None, **options) -> ImageDataset:
    """Load a data set by name.

    Names: ``digits`` (more to come: ``mnist``, ``fashion-mnist``, ``csv:PATH``).
    """
    if name == "digits":
        from funml.data.digits import load_digits

        return load_digits(**options)
    raise FunmlError(f"Unknown data set '{name}'; choose one of: digits.")
