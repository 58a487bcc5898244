"""What defines a training run: :class:`TrainSettings`, and how its open fields are decided.

A field left ``None`` is open: the command line leaves every flag it was not given open.
:meth:`TrainSettings.resolved` decides the open fields of a new run from the model's recipe
(:mod:`funml.nn.recipes`) and the defaults below; a resumed run takes them from its
checkpoint instead (:func:`funml.nn.job.resolve_job`). :func:`funml.nn.train.train` takes
resolved settings only.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass

from funml.errors import FunmlError
from funml.kinds import KINDS
from funml.nn.augment import AUGMENTS, check_augment
from funml.nn.precision import PRECISIONS, default_precision
from funml.nn.recipes import DEFAULT_RECIPES, recipe

# The fields a recipe decides, and the defaults of the other open fields of a new run.
RECIPE_FIELDS = (
    *("epochs", "batch_size", "optimizer", "lr", "momentum", "gamma", "lr_step"),
    *("weight_decay", "label_smoothing", "schedule", "augment"),
)
DEFAULTS = {
    "dataset": "fashion-mnist",
    "seed": 0,
    "device": "auto",
    "normalize": True,
    "precision": "fp32",  # resolved() takes precision.default_precision(device) instead
    "recipe": DEFAULT_RECIPES,
}
# Settings a resumed run may change: speed and output, not the algorithm (threads, the
# device and the precision can change float rounding, so keep them for a bit-identical
# continuation).
RESUMABLE = ("epochs", "device", "threads", "quiet", "eval_batch_size", "precision")
# What a checkpoint written before a field existed was trained with.
BEFORE = {
    "weight_decay": 0.0,
    "label_smoothing": 0.0,
    "schedule": "step",
    "augment": "none",
    "precision": "fp32",
    "recipe": "tuned",
}

# The constraints of the fields, checked by TrainSettings.__post_init__ (None always passes).
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("step", "cosine", "onecycle")
AT_LEAST_ONE = ("epochs", "batch_size", "lr_step", "eval_batch_size", "n_train", "threads")
MAX_SEED = 2**32 - 1  # numpy's and torch's seeds
DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")  # what train() can use (see train._device)


@dataclass(frozen=True)
class TrainSettings:
    """Everything that defines a training run. Saved with every checkpoint and metrics.json.

    ``None`` in the fields up to ``recipe`` means "not decided yet" (see :meth:`resolved`).
    """

    model: str | None = None  # a name in funml.nn.MODELS
    dataset: str | None = None  # a name for funml.data.load_dataset; None: fashion-mnist
    epochs: int | None = None  # total epochs, >= 1; a resumed run may raise it to train on
    batch_size: int | None = None  # samples per optimizer step, all processes together; >= 1
    optimizer: str | None = None  # one of OPTIMIZERS
    lr: float | None = None  # learning rate of the first epoch (onecycle: the peak); > 0
    momentum: float | None = None  # sgd only; >= 0
    gamma: float | None = None  # step decay: lr *= gamma every lr_step epochs; (0, 1]
    lr_step: int | None = None  # epochs between decays; >= 1
    weight_decay: float | None = None  # >= 0; decoupled with adamw, an L2 term otherwise
    label_smoothing: float | None = None  # in [0, 1)
    schedule: str | None = None  # one of SCHEDULES; cosine and onecycle ignore gamma
    augment: str | None = None  # one of funml.nn.augment.AUGMENTS
    seed: int | None = None  # seeds the initialisation and every epoch; 0..MAX_SEED
    device: str | None = None  # "auto" (cuda when available, else cpu), "cpu", "cuda[:N]"
    normalize: bool | None = None  # standardise pixels by the training split's mean and std
    precision: str | None = None  # "fp32" or "bf16" (funml.nn.precision)
    recipe: str | None = None  # the recipe set the open fields came from: tuned or course
    threads: int | None = None  # torch CPU threads; None: see train.threads_for (measured)
    channels_last: bool | None = None  # None: on for convolutions on a CPU (measured faster)
    n_train: int | None = None  # train on the first n_train training images only; None: all
    eval_batch_size: int = 1000  # evaluation batch; does not change any result
    quiet: bool = False  # no progress bar and no per-epoch lines

    def __post_init__(self) -> None:
        _check_types(self)
        _check_choices(self)
        for name in AT_LEAST_ONE:
            value = getattr(self, name)
            if value is not None and value < 1:
                raise FunmlError(f"{_flag(name)} must be at least 1, got {value}.")
        _check_range("lr", self.lr, 0, math.inf, "a positive number")
        _check_range("momentum", self.momentum, 0, math.inf, "at least 0", low_ok=True)
        _check_range("weight_decay", self.weight_decay, 0, math.inf, "at least 0", low_ok=True)
        _check_range("label_smoothing", self.label_smoothing, 0, 1, "in [0, 1)", low_ok=True)
        _check_range("gamma", self.gamma, 0, 1, "in (0, 1] (1 keeps the rate)", high_ok=True)
        if self.augment is not None:
            check_augment(self.augment, self.dataset)  # no flips of digits
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise FunmlError(f"--seed must be in 0..{MAX_SEED}, got {self.seed}.")

    @property
    def open_fields(self) -> list[str]:
        """The fields still to be decided (gamma None is a decision: a constant rate)."""
        names = ("model", *DEFAULTS, *RECIPE_FIELDS)
        return [n for n in names if n != "gamma" and getattr(self, n) is None]

    def resolved(self) -> TrainSettings:
        """These settings with every open field decided: the model's recipe (from the set
        ``self.recipe``, by default DEFAULT_RECIPES), then DEFAULTS."""
        if self.model is None:
            raise FunmlError("Name a MODEL to train (e.g. funml train cnn), or pass --resume.")
        r = dataclasses.asdict(recipe(self.model, self.recipe or DEFAULT_RECIPES))
        fill = {k: r[k] for k in RECIPE_FIELDS if getattr(self, k) is None} | {
            k: v for k, v in DEFAULTS.items() if getattr(self, k) is None
        }
        if "precision" in fill:  # bf16 where this CPU computes in it (measured: same accuracy)
            fill["precision"] = default_precision(self.device or DEFAULTS["device"])
        if (self.schedule or fill["schedule"]) != "step":  # gamma is the step schedule's
            if self.gamma is not None:
                raise FunmlError(
                    f"--gamma sets the step schedule's decay, but this run's schedule is "
                    f"{self.schedule or fill['schedule']}; add --schedule step or drop --gamma."
                )
            fill["gamma"] = None
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

    @classmethod
    def from_saved(cls, saved: dict) -> TrainSettings:
        """The settings saved as a dict, with the fields added since it was written filled in
        as that funml trained (BEFORE). Raises TypeError for a field this funml does not know.
        """
        return cls(**{**BEFORE, **saved})


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check_types(s: TrainSettings) -> None:
    hints = typing.get_type_hints(TrainSettings)
    for f in dataclasses.fields(s):
        value = getattr(s, f.name)
        if value is None:
            continue
        # What the field holds when it is not None (a file or a notebook can give anything).
        kind = next(t for t in typing.get_args(hints[f.name]) or (hints[f.name],) if t in KINDS)
        holds, what = KINDS[kind]
        if not holds(value):
            raise FunmlError(f"{_flag(f.name)} must be {what}, got {value!r}.")


def _check_choices(s: TrainSettings) -> None:
    choices = {
        "optimizer": OPTIMIZERS,
        "schedule": SCHEDULES,
        "augment": AUGMENTS,
        "precision": PRECISIONS,
    }
    for name, allowed in choices.items():
        value = getattr(s, name)
        if value is not None and value not in allowed:
            raise FunmlError(
                f"{_flag(name)} '{value}' is unknown; choose one of: {', '.join(allowed)}."
            )
    if s.device is not None and not DEVICE.fullmatch(s.device):
        raise FunmlError(
            f"Device '{s.device}' cannot train here; use auto, cpu or cuda (cuda:N for one GPU)."
        )


def _check_range(name, value, low, high, what, *, low_ok=False, high_ok=False) -> None:
    """Refuse ``value`` outside (low, high) (ends included when *_ok); nan and inf too."""
    if value is None:
        return
    ok = math.isfinite(value) and (low <= value if low_ok else low < value)
    ok = ok and (value <= high if high_ok else value < high)
    if not ok:
        raise FunmlError(f"{_flag(name)} must be finite and {what}, got {value}.")
