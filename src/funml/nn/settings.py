"""What defines a training run: :class:`TrainSettings`, and how its open fields are decided.

A field left ``None`` is open: the command line leaves every flag it was not given open.
:meth:`TrainSettings.resolved` decides the open fields of a new run from the model's recipe
(:mod:`funml.nn.recipes`) and the defaults below; a resumed run takes them from its
checkpoint instead (:func:`funml.nn.job.resolve_job`). :func:`funml.nn.train.train` takes
resolved settings only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from funml.errors import FunmlError
from funml.nn.recipes import DEFAULT_RECIPES, recipe

# The fields a recipe decides, and the defaults of the other open fields of a new run.
RECIPE_FIELDS = ("epochs", "batch_size", "optimizer", "lr", "momentum", "gamma", "lr_step")
DEFAULTS = {"dataset": "fashion-mnist", "seed": 0, "device": "auto", "normalize": True}
# Settings a resumed run may change: speed and output, not the algorithm (threads and the
# device can change float rounding, so keep them for a bit-identical continuation).
RESUMABLE = ("epochs", "device", "threads", "quiet", "eval_batch_size")


@dataclass(frozen=True)
class TrainSettings:
    """Everything that defines a training run. Saved with every checkpoint and metrics.json.

    ``None`` in the first eleven fields means "not decided yet" (see :meth:`resolved`).
    """

    model: str | None = None  # a name in funml.nn.MODELS
    dataset: str | None = None  # a name for funml.data.load_dataset; None: fashion-mnist
    epochs: int | None = None  # total epochs; a resumed run may raise it to train on
    batch_size: int | None = None  # samples per optimizer step, over all processes together
    optimizer: str | None = None  # "adam" or "sgd"
    lr: float | None = None  # learning rate of the first epoch
    momentum: float | None = None  # sgd only
    gamma: float | None = None  # step decay: lr *= gamma every lr_step epochs; 1: constant
    lr_step: int | None = None  # epochs between decays
    seed: int | None = None  # seeds the weights' initialisation and every epoch's order; 0
    device: str | None = None  # "auto" (cuda when available, else cpu), "cpu", "cuda"...
    normalize: bool | None = None  # standardise pixels by the training split's mean and std
    threads: int | None = None  # torch CPU threads; None: see train.threads_for (measured)
    channels_last: bool | None = None  # None: on for convolutions on a CPU (measured faster)
    n_train: int | None = None  # train on the first n_train training images only; None: all
    eval_batch_size: int = 1000  # evaluation batch; does not change any result
    quiet: bool = False  # no progress bar and no per-epoch lines

    def __post_init__(self) -> None:
        if self.optimizer is not None and self.optimizer not in ("adam", "sgd"):
            raise FunmlError(f"Optimizer '{self.optimizer}' is unknown; choose adam or sgd.")
        for name in ("epochs", "batch_size", "lr_step", "eval_batch_size", "n_train", "threads"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise FunmlError(f"{name} must be at least 1, got {value}.")
        if self.lr is not None and not self.lr > 0:
            raise FunmlError(f"The learning rate must be positive, got {self.lr}.")
        if self.gamma is not None and not 0 < self.gamma <= 1:
            raise FunmlError(f"gamma must be in (0, 1] (1 keeps the rate), got {self.gamma}.")

    @property
    def open_fields(self) -> list[str]:
        """The fields still to be decided (gamma None is a decision: a constant rate)."""
        names = ("model", *DEFAULTS, *RECIPE_FIELDS)
        return [n for n in names if n != "gamma" and getattr(self, n) is None]

    def resolved(self, recipes: str = DEFAULT_RECIPES) -> TrainSettings:
        """These settings with every open field decided: the model's recipe, then DEFAULTS."""
        if self.model is None:
            raise FunmlError("Name a MODEL to train (e.g. funml train cnn), or pass --resume.")
        r = dataclasses.asdict(recipe(self.model, recipes))
        fill = {k: r[k] for k in RECIPE_FIELDS if getattr(self, k) is None} | {
            k: v for k, v in DEFAULTS.items() if getattr(self, k) is None
        }
        return dataclasses.replace(self, **fill)

    def continued_from(self, saved: TrainSettings) -> TrainSettings:
        """The ``saved`` settings of a checkpoint, with the RESUMABLE fields decided here.

        Raises FunmlError naming the first other decided field that differs from ``saved``:
        a resumed run keeps the settings that define it.
        """
        for f in dataclasses.fields(self):
            mine, theirs = getattr(self, f.name), getattr(saved, f.name)
            if f.name not in RESUMABLE and mine is not None and mine != theirs:
                raise FunmlError(
                    f"--{f.name.replace('_', '-')} {mine} differs from the checkpoint's "
                    f"{theirs}; a resumed run keeps its settings, so drop the flag."
                )
        mine = {k: getattr(self, k) for k in RESUMABLE if getattr(self, k) is not None}
        return dataclasses.replace(saved, **mine)
