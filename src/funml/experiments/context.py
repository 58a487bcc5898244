"""What an experiment may ask the runner for: its data sets, sizes and progress bars.

Data sets are loaded once per process and shared by the experiments that run there. Every
data set an experiment touches is recorded with its source and checksums for the report.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from funml.data.dataset import ImageDataset, Split
from funml.experiments.settings import RunSettings, Sizes, sizes


@dataclass
class Context:
    """Per-experiment services: data, sizes, progress bars, and a record of data sources."""

    settings: RunSettings
    sources: dict[str, dict] = field(default_factory=dict)

    @property
    def sizes(self) -> Sizes:
        return sizes(self.settings)

    @property
    def seed(self) -> int:
        return self.settings.seed

    def dataset(self) -> ImageDataset:
        """The run's data set, cut to this run's sizes for the from-scratch algorithms."""
        ds = _load(self.settings.dataset, self.settings.data_dir)
        self._record(ds)
        return subset(ds, self.sizes.n_train, self.sizes.n_test)

    def digits(self) -> ImageDataset:
        """scikit-learn's 8x8 Digits with the course's split (always offline)."""
        ds = _load("digits", None)
        self._record(ds)
        return ds

    def images28(self) -> tuple[ImageDataset, str]:
        """A 28x28 data set for the course's 28x28 torch models, and a note saying which.

        The run's data set when it is 28x28; on Digits, MNIST when its files are found
        (all of it, or the official test set split into halves), otherwise Digits scaled
        to 28x28 as MNIST was made (a 20x20 box centred in 28x28), clearly labelled.
        """
        from funml.experiments import data28

        ds, note = data28.resolve(self.settings, _load)
        self._record(ds)
        return subset(ds, self.sizes.torch_n_train, self.sizes.torch_n_test), note

    def progress(self, iterable: Iterable, desc: str, total: int | None = None):
        """A progress bar on a terminal or in a notebook, silent otherwise (a log, CI)."""
        import sys

        from tqdm.auto import tqdm

        # tqdm's disable=None means "only on a terminal"; a notebook kernel has none.
        disable = False if "ipykernel" in sys.modules else None
        return tqdm(iterable, desc=desc, total=total, leave=False, disable=disable)

    def _record(self, ds: ImageDataset) -> None:
        self.sources[ds.name] = {"source": ds.source, "checksums": dict(ds.checksums)}


@functools.cache
def _load(name: str, data_dir) -> ImageDataset:
    from funml.data import load_dataset

    return load_dataset(name, data_dir=data_dir)


def subset(ds: ImageDataset, n_train: int | None, n_test: int | None) -> ImageDataset:
    """The first ``n_train`` training and ``n_test`` test images of ``ds`` (None: all)."""
    if (n_train is None or n_train >= len(ds.train)) and (n_test is None or n_test >= len(ds.test)):
        return ds
    return replace(ds, train=_head(ds.train, n_train), test=_head(ds.test, n_test))


def _head(split: Split, n: int | None) -> Split:
    if n is None or n >= len(split):
        return split
    return Split(np.ascontiguousarray(split.images[:n]), np.ascontiguousarray(split.labels[:n]))
