"""The course's questions about its networks, each answered by a small measurement.

- `invariance`: ``cnn`` and ``mlp2`` on test images shifted by 0-4 pixels and rotated by
  0-45 degrees.
- `normalisation`: ``mlp2`` trained with and without standardised pixels.
- `batchnorm`: ``cnn`` with and without a batch normalisation after each convolution.
- `activations`: per-layer gradient norms of a 6-layer sigmoid MLP against a ReLU one.

They train on the 28x28 images of the course's 28x28 models (:mod:`funml.experiments.data28`),
at most ``DEMO_N_TRAIN`` / ``DEMO_N_TEST`` of them. The course models train with
:func:`funml.nn.train` and their recipes; the two demo networks here (:func:`cnn_with_batchnorm`,
:func:`deep_mlp`) are not course models, which ``train`` builds by name, so :func:`fit`
hands them to ``train(model=)``: one training loop for all.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from funml.data.dataset import ImageDataset, Split
from funml.experiments.context import subset
from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result

if TYPE_CHECKING:
    import torch
    from torch import nn

    from funml.nn import TrainSettings

# The demonstrations compare models on one data set; more images would only cost time.
DEMO_N_TRAIN = 10_000
DEMO_N_TEST = 2_000
INVARIANCE_N_TEST = 500  # each is tested 29 times, shifted and rotated
SHIFTS = (0, 1, 2, 3, 4)  # pixels
ANGLES = (0, 5, 10, 15, 20, 30, 45)  # degrees
DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))  # (dy, dx): right, left, down, up
INVARIANCE_MODELS = ("cnn", "mlp2")
# The course's cnn (62,346 parameters) with a BatchNorm2d (a scale and a shift per channel)
# after each convolution.
CNN_BN_PARAMS = (25 * 32 + 32) + 2 * 32 + (32 * 25 * 64 + 64) + 2 * 64 + (1024 * 10 + 10)
DEPTH, WIDTH = 6, 128  # the deep MLPs: 6 linear layers, 5 hidden layers of 128 units
GRADIENT_BATCH = 256  # images of the one batch whose gradients are measured
DEEP_STEPS, DEEP_LR, DEEP_BATCH = 300, 0.05, 64  # plain SGD, where vanishing gradients bite


def _demo_data(context, n_test: int = DEMO_N_TEST) -> tuple[ImageDataset, str]:
    ds, note = context.images28()
    small = subset(ds, DEMO_N_TRAIN, n_test)
    if small is not ds:
        note += (
            f" This demonstration uses the first {len(small.train):,} training and "
            f"{len(small.test):,} test images."
        )
    return small, note


def train_settings(model: str, ds: ImageDataset, epochs: int, seed: int) -> TrainSettings:
    """How these demonstrations train ``model`` on ``ds``: its tuned recipe in float32, for
    ``epochs``, quietly.

    The tuned recipe whatever ``--recipe`` says: the demonstrations compare architectures
    and inputs, so each model should train well (the course's plain SGD leaves cnn-small
    and mlp2 far from their best in a few epochs); float32 so that they repeat on any CPU.
    """
    import dataclasses

    from funml.experiments.models import lab_settings

    settings = lab_settings(model, ds, epochs, seed, recipe="tuned", precision="fp32")
    return dataclasses.replace(settings, quiet=True)


def _recipe_text(s: TrainSettings) -> str:
    parts = [f"{s.optimizer} lr {s.lr:g}", f"batch {s.batch_size}"]
    parts += [f"lr x{s.gamma} per epoch"] if s.gamma else []
    parts += [f"{s.schedule} schedule"] if s.schedule not in (None, "step") else []
    parts += [f"weight decay {s.weight_decay:g}"] if s.weight_decay else []
    parts += [f"label smoothing {s.label_smoothing:g}"] if s.label_smoothing else []
    return ", ".join([*parts, f"{s.epochs} epochs"])


# --- invariance: shifted and rotated test images ------------------------------------------


def shift_images(images: np.ndarray, pixels: int, direction=(0, 1)) -> np.ndarray:
    """``images`` (N, H, W) moved by ``pixels`` along ``direction`` (dy, dx); zeros fill in."""
    dy, dx = direction[0] * pixels, direction[1] * pixels
    h, w = images.shape[1:]
    out = np.zeros_like(images)
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = images[
        :, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def rotate_images(images: np.ndarray, degrees: float) -> np.ndarray:
    """``images`` (N, H, W) turned ``degrees`` anticlockwise about their centre (bilinear,
    same size, zeros fill in)."""
    from scipy.ndimage import rotate

    turned = rotate(images.astype(np.float32), degrees, axes=(2, 1), order=1, reshape=False)
    top = np.iinfo(images.dtype).max if images.dtype.kind in "iu" else np.inf
    return np.clip(np.rint(turned), 0, top).astype(images.dtype)


@dataclass(frozen=True)
class InvarianceMeasurement:
    """Test accuracy (fractions) of each model on transformed copies of the test split."""

    dataset: str
    n_train: int
    n_test: int
    recipes: dict[str, str]  # model -> how it trained
    test_accuracy: dict[str, float]  # model -> on the untouched test images
    shifts: tuple[int, ...]
    angles: tuple[int, ...]
    by_shift: dict[str, tuple[float, ...]]  # model -> per shift, mean of the 4 directions
    by_angle: dict[str, tuple[float, ...]]  # model -> per angle, mean of +angle and -angle

    def drop(self, model: str, kind: str) -> float:
        """Accuracy lost at the largest shift or angle, in fractions."""
        curve = self.by_shift[model] if kind == "shift" else self.by_angle[model]
        return self.test_accuracy[model] - curve[-1]


def measure_invariance(
    ds: ImageDataset, epochs: dict[str, int], *, seed: int = 0, shifts=SHIFTS, angles=ANGLES
) -> InvarianceMeasurement:
    """Train each model of ``epochs`` on ``ds``, then test it on shifted and rotated images."""
    from funml.nn import predict_split, train

    def accuracy(model, norm, images) -> float:
        predicted = predict_split(model, Split(images, ds.test.labels), norm).numpy()
        return float(np.mean(predicted == ds.test.labels))

    x = ds.test.images
    recipes, plain, by_shift, by_angle = {}, {}, {}, {}
    for name, n_epochs in epochs.items():
        settings = train_settings(name, ds, n_epochs, seed)
        result = train(settings, dataset=ds)
        net, norm = result.model, result.normalization
        recipes[name] = _recipe_text(settings)
        plain[name] = accuracy(net, norm, x)
        by_shift[name] = tuple(
            float(np.mean([accuracy(net, norm, shift_images(x, k, d)) for d in directions]))
            for k in shifts
            for directions in [DIRECTIONS if k else DIRECTIONS[:1]]  # 0: one is enough
        )
        by_angle[name] = tuple(
            float(np.mean([accuracy(net, norm, rotate_images(x, s * a)) for s in senses]))
            for a in angles
            for senses in [(1, -1) if a else (1,)]
        )
    return InvarianceMeasurement(
        ds.name, len(ds.train), len(ds.test), recipes, plain, tuple(shifts), tuple(angles),
        by_shift, by_angle,
    )  # fmt: skip


def present_invariance(m: InvarianceMeasurement, note: str) -> Result:
    refs = [
        Reference(
            f"{name}: test accuracy, {label}",
            curve[-1],
            m.test_accuracy[name],
            "the same model on the untouched test images",
            "%",
        )
        for name in m.test_accuracy
        for label, curve in (
            (f"shifted {m.shifts[-1]} px", m.by_shift[name]),
            (f"rotated {m.angles[-1]}°", m.by_angle[name]),
        )
    ]
    cnn, mlp = INVARIANCE_MODELS
    return Result(
        metrics=asdict(m) | {"drop": {n: _drops(m, n) for n in m.test_accuracy}},
        verdict=(
            f"Shifted by {m.shifts[-1]} pixels, cnn's test accuracy falls from "
            f"{m.test_accuracy[cnn]:.2%} to {m.by_shift[cnn][-1]:.2%} and mlp2's from "
            f"{m.test_accuracy[mlp]:.2%} to {m.by_shift[mlp][-1]:.2%}; rotated by "
            f"{m.angles[-1]}°, to {m.by_angle[cnn][-1]:.2%} and {m.by_angle[mlp][-1]:.2%}."
        ),
        answer=_invariance_answer(m),
        references=refs,
        figures={"Test accuracy on shifted and rotated test images": _invariance_figure(m)},
        notes=[
            note,
            "Each shift is the mean over the four directions (right, left, down, up), each "
            "angle the mean of both senses; zeros fill in. Recipes: "
            + "; ".join(f"{n}: {r}" for n, r in m.recipes.items())
            + ".",
        ],
    )


def _drops(m: InvarianceMeasurement, name: str) -> dict[str, float]:
    return {"shift": m.drop(name, "shift"), "angle": m.drop(name, "angle")}


def _invariance_answer(m: InvarianceMeasurement) -> str:
    cnn, mlp = INVARIANCE_MODELS
    one = m.shifts.index(1) if 1 in m.shifts else len(m.shifts) - 1
    mid = len(m.angles) // 2

    def lost(curves: dict, i: int) -> str:
        return " and ".join(f"{100 * (m.test_accuracy[n] - curves[n][i]):.1f}" for n in (cnn, mlp))

    cnn_better = (
        m.test_accuracy[cnn] - m.by_shift[cnn][one] < m.test_accuracy[mlp] - m.by_shift[mlp][one]
    )
    return (
        "Neither network is invariant to either change: both lose accuracy as the digits "
        f"move or turn. Untouched, cnn scores {m.test_accuracy[cnn]:.2%} and mlp2 "
        f"{m.test_accuracy[mlp]:.2%}. Shifted by {_pixels(m.shifts[one])}, cnn and mlp2 lose "
        f"{lost(m.by_shift, one)} points ({'less' if cnn_better else 'no less'} for the "
        f"CNN); shifted by {m.shifts[-1]}, {lost(m.by_shift, -1)} points. Convolution is "
        "equivariant (a shifted input gives a shifted feature map) and each 2x2 max pooling "
        "absorbs a shift of about a pixel, but the last linear layer reads the pooled maps "
        "position by position: at best robustness to small shifts, not invariance. Rotated "
        f"by {m.angles[mid]}°, they lose {lost(m.by_angle, mid)} points, and by "
        f"{m.angles[-1]}°, {lost(m.by_angle, -1)}: no layer of either relates a rotated "
        "pattern to the upright one; only training on rotated images (augmentation) would."
    )


def _pixels(n: int) -> str:
    return f"{n} pixel" if n == 1 else f"{n} pixels"


def _invariance_figure(m: InvarianceMeasurement) -> Figure:
    fig = Figure(figsize=(8, 3.2))
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    for name in m.test_accuracy:
        ax1.plot(m.shifts, [100 * v for v in m.by_shift[name]], "o-", label=name)
        ax2.plot(m.angles, [100 * v for v in m.by_angle[name]], "o-", label=name)
    ax1.set(xlabel="shift (pixels)", ylabel="test accuracy (%)", xticks=m.shifts)
    ax2.set(xlabel="rotation (degrees)", xticks=m.angles)
    ax1.legend(fontsize=8)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


@experiment(
    "invariance",
    summary="cnn and mlp2 on test images shifted by 0-4 pixels and rotated by 0-45°.",
    question="Are CNNs invariant to translation? To rotation?",
)
def run_invariance(settings, context) -> Result:
    ds, note = _demo_data(context, INVARIANCE_N_TEST)
    epochs = {"cnn": context.sizes.cnn_epochs, "mlp2": context.sizes.torch_epochs}
    return present_invariance(measure_invariance(ds, epochs, seed=context.seed), note)


# --- normalisation: mlp2 with and without standardised pixels ------------------------------


@dataclass(frozen=True)
class NormalisationMeasurement:
    """normalization_ablation's two rows for mlp2: normalised first, then raw [0, 1] pixels."""

    dataset: str
    n_train: int
    n_test: int
    recipe: str
    pixel_mean: float  # of the training pixels scaled to [0, 1]
    pixel_std: float
    rows: tuple[dict, ...]

    @property
    def normalised(self) -> dict:
        return next(r for r in self.rows if r["normalize"])

    @property
    def raw(self) -> dict:
        return next(r for r in self.rows if not r["normalize"])


def measure_normalisation(
    ds: ImageDataset, epochs: int, *, seed: int = 0, model: str = "mlp2"
) -> NormalisationMeasurement:
    from funml.data.loader import Normalization
    from funml.nn import normalization_ablation

    settings = train_settings(model, ds, epochs, seed)
    rows = normalization_ablation(settings, dataset=ds)
    norm = Normalization.fit(ds.train, ds.pixel_max)
    return NormalisationMeasurement(
        ds.name, len(ds.train), len(ds.test), _recipe_text(settings), norm.mean, norm.std,
        tuple(rows),
    )  # fmt: skip


def present_normalisation(m: NormalisationMeasurement, note: str) -> Result:
    on, off = m.normalised, m.raw
    return Result(
        metrics=asdict(m),
        verdict=(
            f"mlp2 reaches {on['test_accuracy']:.2%} with standardised pixels and "
            f"{off['test_accuracy']:.2%} with raw pixels in [0, 1] (final train loss "
            f"{on['train_loss']:.4f} against {off['train_loss']:.4f})."
        ),
        answer=_normalisation_answer(m),
        references=[
            Reference(
                "mlp2: test accuracy without normalisation",
                off["test_accuracy"],
                on["test_accuracy"],
                "the same model, recipe and seed with normalisation",
                "%",
            ),
            Reference(
                "mlp2: final train loss without normalisation",
                off["train_loss"],
                on["train_loss"],
                "with normalisation",
            ),
        ],
        figures={"mlp2 with and without normalisation": _normalisation_figure(m)},
        notes=[note, f"mlp2's recipe: {m.recipe}."],
    )


def _normalisation_answer(m: NormalisationMeasurement) -> str:
    on, off = m.normalised, m.raw
    gap = on["test_accuracy"] - off["test_accuracy"]
    effect = "changes little here" if abs(gap) < 0.01 else ("helps" if gap > 0 else "hurts here")
    return (
        f"Normalisation maps each pixel x to {on['transform']}, the training split's mean "
        "and standard deviation, so the inputs are centred with unit variance instead of all "
        f"lying in [0, 1] around {m.pixel_mean:.2f}. With inputs that are never negative, the "
        "gradients of a unit's incoming weights share one sign (each is the unit's error "
        "times a pixel), so in one step those weights all grow or all shrink and descent "
        "zig-zags; centred inputs remove that and condition the loss better, which matters "
        "most for plain SGD. Trained twice with the same recipe and seed "
        f"({m.recipe}), mlp2 reaches {on['test_accuracy']:.2%} with it and "
        f"{off['test_accuracy']:.2%} without "
        f"(final train loss {on['train_loss']:.4f} against {off['train_loss']:.4f}): "
        f"normalisation {effect}."
    )


def _normalisation_figure(m: NormalisationMeasurement) -> Figure:
    fig = Figure(figsize=(7, 3))
    ax1, ax2 = fig.subplots(1, 2)
    labels = ["normalised" if r["normalize"] else "raw [0, 1]" for r in m.rows]
    ax1.bar(labels, [100 * r["test_accuracy"] for r in m.rows], color=["C0", "C1"])
    ax1.set(ylabel="test accuracy (%)")
    ax2.bar(labels, [r["train_loss"] for r in m.rows], color=["C0", "C1"])
    ax2.set(ylabel="final train loss")
    fig.tight_layout()
    return fig


@experiment(
    "normalisation",
    summary="mlp2 trained with and without pixel normalisation (the course's ablation).",
    question="What does normalising the pixels change for mlp2?",
)
def run_normalisation(settings, context) -> Result:
    ds, note = _demo_data(context)
    m = measure_normalisation(ds, context.sizes.torch_epochs, seed=context.seed)
    return present_normalisation(m, note)


# --- the demo networks and their one training loop ------------------------------------------


def cnn_with_batchnorm(image_shape=(28, 28), n_classes: int = 10) -> nn.Sequential:
    """The course's ``cnn`` with a ``BatchNorm2d`` after each convolution, before its ReLU.

    Built from ``build_model("cnn")`` so that, under one seed, its shared layers start with
    the same weights as the plain cnn's (the batch norms start at scale 1, shift 0).
    """
    from torch import nn

    from funml.nn import build_model

    layers = []
    for name, layer in build_model("cnn", image_shape, n_classes).named_children():
        layers.append((name, layer))
        if isinstance(layer, nn.Conv2d):
            layers.append((name.replace("conv", "bn"), nn.BatchNorm2d(layer.out_channels)))
    return nn.Sequential(OrderedDict(layers))


def deep_mlp(
    n_inputs: int, activation: str, depth: int = DEPTH, width: int = WIDTH, n_classes: int = 10
) -> nn.Sequential:
    """``depth`` linear layers with ``activation`` ("sigmoid" or "relu") between them.

    Both activations start from the same scheme: He (Kaiming) normal weights, std
    sqrt(2 / fan_in), and zero biases, the scheme made to keep a ReLU net's signal steady.
    """
    from torch import nn

    act = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}[activation]
    sizes = [n_inputs] + [width] * (depth - 1) + [n_classes]
    layers: list = [("flatten", nn.Flatten())]
    for i, (a, b) in enumerate(pairwise(sizes), start=1):
        linear = nn.Linear(a, b)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        layers.append((f"fc{i}", linear))
        if i < depth:
            layers.append((f"{activation}{i}", act()))
    return nn.Sequential(OrderedDict(layers))


@dataclass(frozen=True)
class Curves:
    """One run of :func:`fit`: losses (mean cross-entropy) and test accuracies (fractions)."""

    examples_seen: tuple[int, ...] = field(repr=False)  # the points of batch_loss
    batch_loss: tuple[float, ...] = field(repr=False)  # mean of the last few batches' losses
    train_loss: tuple[float, ...]  # per epoch, mean over its training images
    test_loss: tuple[float, ...]  # per epoch, full test split
    test_accuracy: tuple[float, ...]


def fit(model: nn.Module, name: str, ds: ImageDataset, s: TrainSettings) -> Curves:
    """Train ``model`` (seeded before it was built) on ``ds`` with the recipe of ``s``, by
    :func:`funml.nn.train` (the one training loop; ``name`` names the model in its records),
    and return its curves."""
    from funml.nn import train

    history = train(replace(s, model=name), dataset=ds, model=model).history
    points = [p for r in history for p in r.curve]
    return Curves(
        tuple(n for n, _ in points),
        tuple(loss for _, loss in points),
        tuple(r.train_loss for r in history),
        tuple(r.test_loss for r in history),
        tuple(r.test_accuracy for r in history),
    )


# --- batchnorm: the cnn with and without batch normalisation ---------------------------------

BN_VARIANTS = ("cnn", "cnn + batch norm")


@dataclass(frozen=True)
class BatchNormMeasurement:
    """The cnn trained twice by :func:`fit`, the same seed, recipe, threads and batches."""

    dataset: str
    n_train: int
    n_test: int
    recipe: str
    parameters: dict[str, int]  # variant -> count
    batchnorm_layers: int  # in the second variant
    runs: dict[str, Curves]  # variant -> its curves


def measure_batchnorm(ds: ImageDataset, epochs: int, *, seed: int = 0) -> BatchNormMeasurement:
    import torch
    from torch import nn

    from funml.nn import build_model, count_parameters, threads_for

    settings = train_settings("cnn", ds, epochs, seed)
    settings = replace(settings, threads=threads_for(settings, ds.image_shape))  # both alike
    builders = {
        BN_VARIANTS[0]: lambda: build_model("cnn", ds.image_shape, ds.n_classes),
        BN_VARIANTS[1]: lambda: cnn_with_batchnorm(ds.image_shape, ds.n_classes),
    }
    runs, parameters = {}, {}
    for variant, build in builders.items():
        torch.manual_seed(seed)
        model = build()
        parameters[variant] = count_parameters(model)
        runs[variant] = fit(model, variant, ds, settings)
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    return BatchNormMeasurement(
        ds.name, len(ds.train), len(ds.test), _recipe_text(settings), parameters, n_bn, runs
    )


def present_batchnorm(m: BatchNormMeasurement, note: str) -> Result:
    plain, bn = (m.runs[v] for v in BN_VARIANTS)
    return Result(
        metrics=_batchnorm_metrics(m),
        verdict=(
            f"After epoch 1 the training loss is {bn.train_loss[0]:.4f} with batch norm and "
            f"{plain.train_loss[0]:.4f} without; after {len(bn.train_loss)} epochs the test "
            f"accuracy is {bn.test_accuracy[-1]:.2%} with and {plain.test_accuracy[-1]:.2%} "
            "without."
        ),
        answer=_batchnorm_answer(m),
        references=[
            Reference(
                "cnn + batch norm: train loss, epoch 1",
                bn.train_loss[0],
                plain.train_loss[0],
                "cnn without batch norm, same seed and batches",
            ),
            Reference(
                "cnn + batch norm: test accuracy, last epoch",
                bn.test_accuracy[-1],
                plain.test_accuracy[-1],
                "cnn without batch norm, same seed and batches",
                "%",
            ),
            Reference(
                "cnn + batch norm: parameters",
                m.parameters[BN_VARIANTS[1]],
                CNN_BN_PARAMS,
                "computed by hand: cnn's 62,346 + 2 x (32 + 64)",
            ),
        ],
        figures={"cnn with and without batch normalisation: loss curves": _batchnorm_figure(m)},
        notes=[note, f"Both trained with cnn's recipe: {m.recipe}."],
    )


def _batchnorm_metrics(m: BatchNormMeasurement) -> dict:
    metrics = {k: v for k, v in asdict(m).items() if k != "runs"}
    runs = {
        v: {k: list(x) for k, x in asdict(c).items() if k not in ("examples_seen", "batch_loss")}
        for v, c in m.runs.items()
    }
    return metrics | {"runs": runs}


def _batchnorm_answer(m: BatchNormMeasurement) -> str:
    plain, bn = (m.runs[v] for v in BN_VARIANTS)
    faster = "faster" if bn.train_loss[0] < plain.train_loss[0] else "no faster"
    return (
        "Batch normalisation standardises each channel's activations over the batch, then "
        "rescales them with a learned scale and shift (2 parameters per channel, "
        f"{m.parameters[BN_VARIANTS[1]] - m.parameters[BN_VARIANTS[0]]} here). Each layer "
        "then sees inputs of a steady scale whatever the layers before it learn, which "
        f"eases optimisation; here the loss falls {faster} at the start: after epoch 1 the "
        f"training loss is {bn.train_loss[0]:.4f} with it and {plain.train_loss[0]:.4f} "
        f"without, and the test accuracy {bn.test_accuracy[0]:.2%} against "
        f"{plain.test_accuracy[0]:.2%}. After {len(bn.train_loss)} epochs the training loss "
        f"is {bn.train_loss[-1]:.4f} against {plain.train_loss[-1]:.4f} and the test accuracy "
        f"{bn.test_accuracy[-1]:.2%} against {plain.test_accuracy[-1]:.2%}. At test time "
        "the layers use the running mean and variance gathered in training, not the batch's."
    )


def _batchnorm_figure(m: BatchNormMeasurement) -> Figure:
    fig = Figure(figsize=(9, 3.2))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    for i, (variant, c) in enumerate(m.runs.items()):
        epochs = np.arange(1, len(c.train_loss) + 1)
        ax1.plot(c.examples_seen, c.batch_loss, color=f"C{i}", alpha=0.8, lw=0.8, label=variant)
        ax2.plot(epochs, c.train_loss, "o-", color=f"C{i}", label=f"{variant}, train")
        ax2.plot(epochs, c.test_loss, "s--", color=f"C{i}", label=f"{variant}, test")
        ax3.plot(epochs, [100 * a for a in c.test_accuracy], "o-", color=f"C{i}", label=variant)
    ax1.set(xlabel="training images seen", ylabel="batch loss", yscale="log")
    ax2.set(xlabel="epoch", ylabel="mean loss", yscale="log")
    ax3.set(xlabel="epoch", ylabel="test accuracy (%)")
    for ax in (ax2, ax3):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


@experiment(
    "batchnorm",
    summary="The course cnn with and without batch normalisation: loss curves.",
    question="What does batch normalisation do to training?",
)
def run_batchnorm(settings, context) -> Result:
    ds, note = _demo_data(context)
    return present_batchnorm(
        measure_batchnorm(ds, context.sizes.cnn_epochs, seed=context.seed), note
    )


# --- activations: gradients through 6 sigmoid or ReLU layers ---------------------------------

ACTIVATIONS = ("sigmoid", "relu")


@dataclass(frozen=True)
class ActivationsMeasurement:
    """Weight-gradient norms of each linear layer of two deep MLPs, first layer to last."""

    dataset: str
    n_train: int
    n_test: int
    n_classes: int
    depth: int
    width: int
    gradient_batch: int  # the first training images, whose loss gives the gradients
    lr: float  # plain SGD
    batch_size: int
    steps: int  # SGD steps of each training
    at_init: dict[str, tuple[float, ...]]  # activation -> norm per layer, first to last
    trained: dict[str, tuple[float, ...]]  # the same after the training steps
    moved: dict[str, tuple[float, ...]]  # per layer, |W_end - W_start| / |W_start|
    runs: dict[str, Curves]  # activation -> its training

    def ratio(self, activation: str, trained: bool = False) -> float:
        """First layer's gradient norm over the last layer's."""
        norms = (self.trained if trained else self.at_init)[activation]
        return norms[0] / norms[-1]


def layer_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, ...]:
    """Norm of the cross-entropy's gradient for each linear layer's weights, in order."""
    import torch.nn.functional as F
    from torch import nn

    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    norms = tuple(float(m.weight.grad.norm()) for m in model.modules() if isinstance(m, nn.Linear))
    model.zero_grad(set_to_none=True)
    return norms


def _linear_weights(model: nn.Module) -> list[torch.Tensor]:
    from torch import nn

    return [m.weight.detach().clone() for m in model.modules() if isinstance(m, nn.Linear)]


def measure_activations(
    ds: ImageDataset, *, seed: int = 0, steps: int = DEEP_STEPS, lr: float = DEEP_LR,
    batch_size: int = DEEP_BATCH, depth: int = DEPTH, width: int = WIDTH,
) -> ActivationsMeasurement:  # fmt: skip
    """Both deep MLPs from one seed: gradients at initialisation, about ``steps`` SGD steps
    (whole epochs), then how far each layer's weights moved and the gradients again."""
    import torch

    from funml.data.loader import Normalization, split_tensors
    from funml.nn import TrainSettings
    from funml.nn.recipes import Recipe

    norm = Normalization.fit(ds.train, ds.pixel_max)
    first = Split(ds.train.images[:GRADIENT_BATCH], ds.train.labels[:GRADIENT_BATCH])
    x, y = split_tensors(first, norm)
    per_epoch = -(-len(ds.train) // batch_size)
    epochs = max(1, round(steps / per_epoch))
    # Every field decided here ("own": from no recipe set); fit() names the model.
    s = TrainSettings(
        **asdict(Recipe("sgd", lr, batch_size, epochs=epochs)), dataset=ds.name, seed=seed,
        device="cpu", normalize=True, precision="fp32", recipe="own", quiet=True,
    )  # fmt: skip
    at_init, trained, moved, runs = {}, {}, {}, {}
    for activation in ACTIVATIONS:
        torch.manual_seed(seed)
        net = deep_mlp(int(np.prod(ds.image_shape)), activation, depth, width, ds.n_classes)
        at_init[activation] = layer_gradient_norms(net, x, y)
        start = _linear_weights(net)
        runs[activation] = fit(net, f"{activation} mlp", ds, s)
        moved[activation] = tuple(
            float((w - w0).norm() / w0.norm())
            for w0, w in zip(start, _linear_weights(net), strict=True)
        )
        trained[activation] = layer_gradient_norms(net, x, y)
    return ActivationsMeasurement(
        ds.name, len(ds.train), len(ds.test), ds.n_classes, depth, width, len(y), lr,
        batch_size, epochs * per_epoch, at_init, trained, moved, runs,
    )  # fmt: skip


def present_activations(m: ActivationsMeasurement, note: str) -> Result:
    sig, relu = ACTIVATIONS
    acc = {a: m.runs[a].test_accuracy[-1] for a in ACTIVATIONS}
    metrics = {k: v for k, v in asdict(m).items() if k != "runs"}
    metrics |= {
        "steps": m.steps,
        "ratio_first_to_last": {a: m.ratio(a) for a in ACTIVATIONS},
        "ratio_first_to_last_trained": {a: m.ratio(a, trained=True) for a in ACTIVATIONS},
        "test_accuracy": acc,
        "final_train_loss": {a: m.runs[a].train_loss[-1] for a in ACTIVATIONS},
    }
    return Result(
        metrics=metrics,
        verdict=(
            f"At initialisation the first layer's gradient is {m.ratio(sig):.1e} of the last "
            f"layer's in the {m.depth}-layer sigmoid MLP and {m.ratio(relu):.2g} in the ReLU "
            f"one; after {m.steps} SGD steps the sigmoid net reaches {acc[sig]:.2%} test "
            f"accuracy and the ReLU net {acc[relu]:.2%}."
        ),
        answer=_activations_answer(m),
        references=[
            Reference(
                "sigmoid MLP: first / last layer gradient norm, at init",
                m.ratio(sig),
                m.ratio(relu),
                "the ReLU MLP, same initialisation scheme and batch",
                "x",
            ),
            Reference(
                f"sigmoid MLP: test accuracy after {m.steps} SGD steps",
                acc[sig],
                acc[relu],
                "the ReLU MLP, same seed, batches and steps",
                "%",
            ),
        ],
        figures={
            f"Weight-gradient norm per layer of {m.depth}-layer MLPs, sigmoid against ReLU": (
                _activations_figure(m)
            )
        },
        notes=[note, _activations_note(m)],
    )


def _activations_note(m: ActivationsMeasurement) -> str:
    return (
        f"Both MLPs: {m.depth} linear layers ({m.width} units in each hidden layer), He "
        f"initialisation and the same seed; gradients on the first {m.gradient_batch} "
        f"training images; trained with plain SGD (lr {m.lr:g}, batch {m.batch_size}) for "
        f"{m.steps} steps."
    )


def _activations_answer(m: ActivationsMeasurement) -> str:
    sig, relu = ACTIVATIONS
    acc = {a: m.runs[a].test_accuracy[-1] for a in ACTIVATIONS}
    return (
        "The gradient reaching a layer is the loss's gradient multiplied, layer by layer on "
        "the way back, by the weights and the activation's slope. The sigmoid's slope is at "
        "most 1/4 (and near 0 where it saturates), so each layer shrinks the gradient; "
        "ReLU's slope is exactly 1 wherever a unit is active. In the "
        f"{m.depth}-layer MLPs from the same (He) initialisation, the first layer's weight "
        f"gradient is {m.ratio(sig):.1e} times the last layer's with sigmoids and "
        f"{m.ratio(relu):.2g} times with ReLUs ({m.ratio(relu) / m.ratio(sig):,.0f}x larger "
        f"relative to the last layer). So plain SGD (lr {m.lr:g}) barely moves the sigmoid "
        f"net's first layer: in {m.steps} steps its weights change by "
        f"{m.moved[sig][0]:.2%} of their norm (its last layer's by {m.moved[sig][-1]:.2%}), "
        f"the ReLU net's by {m.moved[relu][0]:.2%} ({m.moved[relu][-1]:.2%}). The sigmoid "
        f"net ends at {acc[sig]:.2%} test accuracy (chance: {1 / m.n_classes:.0%}) and the "
        "ReLU net at "
        f"{acc[relu]:.2%} (final train loss {m.runs[sig].train_loss[-1]:.3f} against "
        f"{m.runs[relu].train_loss[-1]:.3f})."
    )


def _activations_figure(m: ActivationsMeasurement) -> Figure:
    fig = Figure(figsize=(8.5, 3.2))
    ax1, ax2 = fig.subplots(1, 2)
    layers = np.arange(1, m.depth + 1)
    for i, a in enumerate(ACTIVATIONS):
        ax1.plot(layers, m.at_init[a], "o-", color=f"C{i}", label=f"{a}, at initialisation")
        ax1.plot(layers, m.trained[a], "s--", color=f"C{i}", label=f"{a}, after {m.steps} steps")
        steps = np.array(m.runs[a].examples_seen) / m.batch_size
        ax2.plot(steps, m.runs[a].batch_loss, color=f"C{i}", lw=0.8, label=a)
    ax1.set(xlabel="linear layer (1 = first)", ylabel="weight-gradient norm", yscale="log")
    ax1.set_xticks(layers)
    ax2.set(xlabel="SGD step", ylabel="batch loss")
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


@experiment(
    "activations",
    summary="Per-layer gradient norms of a 6-layer sigmoid MLP against a ReLU one.",
    question="Why ReLU rather than sigmoid in deep networks?",
)
def run_activations(settings, context) -> Result:
    ds, note = _demo_data(context)
    return present_activations(measure_activations(ds, seed=context.seed), note)
