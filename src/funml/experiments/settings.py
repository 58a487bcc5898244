"""One typed settings object for a run, and the per-experiment sizes derived from it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from funml.data.registry import DATASETS
from funml.errors import FunmlError
from funml.kinds import is_whole

MAX_SEED = 2**32 - 1  # the largest seed every RNG of a run accepts


@dataclass(frozen=True)
class RunSettings:
    """Everything `funml run` was asked to do; saved as ``settings.json`` beside the results."""

    dataset: str = "digits"  # digits (offline, bundled) | mnist | fashion-mnist
    data_dir: Path | None = None  # looked in first for MNIST / Fashion-MNIST files
    images: Path | None = (
        None  # a folder of your photos for `pretrained` (besides the packaged ones)
    )
    quick: bool = False  # small subsets and few epochs: a first look in under a minute
    seed: int = 0  # seeds every RNG, so a run on the same machine repeats exactly
    out: Path | None = None  # the run folder; default runs/<name>-<timestamp>
    jobs: int = 1  # experiments run side by side in this many processes
    pdf: bool = False  # also print the report to report.pdf (needs Chromium)
    recipe: str = "course"  # how the torch models train: the course's recipes or "tuned"
    precision: str = "fp32"  # "bf16": the torch models' forward passes in bfloat16

    def validate(self) -> RunSettings:
        """Return self, or raise FunmlError naming the bad setting and what to do."""
        if self.dataset not in DATASETS:
            raise FunmlError(
                f"Data set '{self.dataset}' is unknown; choose one of: {', '.join(DATASETS)}."
            )
        for flag, value in (("--quick", self.quick), ("--pdf", self.pdf)):
            if not isinstance(value, bool):
                raise FunmlError(f"{flag} must be true or false, got {value!r}.")
        if not is_whole(self.jobs) or self.jobs < 1:
            raise FunmlError(f"--jobs must be a whole number, at least 1, got {self.jobs!r}.")
        if not is_whole(self.seed) or not 0 <= self.seed <= MAX_SEED:
            raise FunmlError(
                f"--seed must be a whole number from 0 to {MAX_SEED} (2**32 - 1, what NumPy's "
                f"seeds take), got {self.seed!r}."
            )
        self._validate_training()
        for flag, path in (("--data-dir", self.data_dir), ("--images", self.images)):
            if path is not None and not Path(path).is_dir():
                raise FunmlError(f"{flag} '{path}' is not a folder; give an existing folder.")
        return self

    def _validate_training(self) -> None:
        """The recipe set is known; bf16 only where this CPU computes in it."""
        from funml.nn.recipes import RECIPES

        if self.recipe not in RECIPES:
            raise FunmlError(
                f"--recipe '{self.recipe}' is unknown; choose one of: {', '.join(RECIPES)}."
            )
        if self.precision not in ("fp32", "bf16"):
            raise FunmlError(f"--precision '{self.precision}' is unknown; choose fp32 or bf16.")
        if self.precision == "bf16":
            import torch

            from funml.nn.precision import check_precision

            check_precision("bf16", torch.device("cuda" if torch.cuda.is_available() else "cpu"))

    @property
    def threads(self) -> int:
        """Torch threads per experiment process: the cores shared among the jobs."""
        return max(1, (os.cpu_count() or 1) // self.jobs)


@dataclass(frozen=True)
class Sizes:
    """How big each experiment is, derived from the settings by :func:`sizes`.

    ``None`` as a cap means the whole split.
    """

    n_train: int | None  # training images for the from-scratch algorithms
    n_test: int | None  # test images for them
    softmax_epochs: int  # the course's SGD runs 20
    mlp_scratch_epochs: int
    torch_n_train: int | None  # training images for the torch models
    torch_n_test: int | None
    torch_epochs: int  # for mlp, mlp2, cnn-small and the normalisation ablation
    cnn_epochs: int  # for cnn
    logreg_epochs: int  # the course's Fashion-MNIST logistic regression runs 20
    digits_cnn_epochs: int
    conv2d_batch: int  # images in the conv2d speed test


def sizes(settings: RunSettings) -> Sizes:
    """The sizes for this run: full data by default, small subsets with ``quick``."""
    big = settings.dataset != "digits"  # 60,000 training images instead of 500
    if settings.quick:
        return Sizes(
            n_train=2000 if big else None,
            n_test=1000 if big else None,
            softmax_epochs=5 if big else 20,
            mlp_scratch_epochs=5,
            torch_n_train=2000,
            torch_n_test=1000,
            torch_epochs=2,
            cnn_epochs=2,
            logreg_epochs=3,
            digits_cnn_epochs=8,
            conv2d_batch=8,
        )
    return Sizes(
        n_train=None,
        n_test=None,
        softmax_epochs=20,
        mlp_scratch_epochs=10 if big else 25,
        torch_n_train=None,
        torch_n_test=None,
        # 500 Digits train in a fraction of a second per epoch, so they get more epochs.
        torch_epochs=10 if big else 20,
        cnn_epochs=10 if big else 20,
        logreg_epochs=20,
        digits_cnn_epochs=30,
        conv2d_batch=64,
    )
