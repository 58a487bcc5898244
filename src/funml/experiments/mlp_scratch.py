"""`mlp-scratch`: the course's from-scratch sigmoid MLP, with its curves and epoch times."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
from matplotlib.figure import Figure

from funml.data.dataset import ImageDataset
from funml.experiments._common import features
from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result
from funml.timing import duration, timer

HIDDEN = (128,)  # the course's network and batch size
BATCH_SIZE = 8


def learning_rate(n_features: int) -> float:
    """The course's step of 1.0 on 8x8 Digits; 0.1 on 28x28 images.

    With 784 inputs and weights uniform in [-1, 1], the hidden pre-activations are about
    ten times larger than with 64, the sigmoids saturate, and a step of 1.0 makes training
    erratic: benchmarks/scratch.py measured 79% on Fashion-MNIST after 2 epochs at 1.0 and
    87% after 25 at 0.1.
    """
    return 1.0 if n_features <= 64 else 0.1


@dataclass(frozen=True)
class MlpScratchMeasurement:
    dataset: str
    epochs: int
    hidden_layer_sizes: tuple[int, ...]
    lr: float
    batch_size: int
    n_fit: int  # training images the network learns from
    n_val: int  # the last sixth of the training split, held out for validation
    n_test: int
    test_accuracy: float  # a fraction
    test_accuracy_sklearn: float
    history: dict[str, tuple[float, ...]]  # per epoch: losses, accuracies (fractions), seconds
    mean_epoch_seconds: float
    train_seconds: float
    train_seconds_sklearn: float
    batch_size_sklearn: int
    epochs_sklearn: int  # the epochs scikit-learn ran (it may stop early)


def measure_mlp_scratch(ds: ImageDataset, epochs: int = 25, *, seed=0) -> MlpScratchMeasurement:
    """funml's MLPClassifier against scikit-learn's sigmoid MLP (Adam) on ``ds``.

    Both train on the training split but its last sixth, which funml reports on per epoch.
    """
    from funml.scratch.mlp import MLPClassifier

    x = features(ds.train, ds.pixel_max, np.float64)
    y = ds.train.labels
    n_val = len(x) // 6  # hold out the last sixth of the training split for validation
    x_fit, y_fit, x_val, y_val = x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]
    x_test, y_test = features(ds.test, ds.pixel_max, np.float64), ds.test.labels
    lr = learning_rate(x.shape[1])
    with timer() as t_funml:
        model = MLPClassifier(
            hidden_layer_sizes=HIDDEN,
            lr=lr,
            batch_size=BATCH_SIZE,
            epochs=epochs,
            random_state=seed,
        )
        model.fit(x_fit, y_fit, x_val, y_val)
    # The reference answer: Adam, on the course's batches of 8 where that is cheap, and
    # on scikit-learn's batches of 200 on the 60,000-image sets (8 took ten minutes).
    sk_batch = BATCH_SIZE if len(x_fit) <= 10_000 else 200
    sk, t_sklearn = _sklearn_mlp(x_fit, y_fit, sk_batch, epochs, seed)
    history = {k: tuple(float(v) for v in vals) for k, vals in model.history_.items()}
    return MlpScratchMeasurement(
        dataset=ds.name,
        epochs=epochs,
        hidden_layer_sizes=HIDDEN,
        lr=lr,
        batch_size=BATCH_SIZE,
        n_fit=len(x_fit),
        n_val=n_val,
        n_test=len(y_test),
        test_accuracy=float(model.score(x_test, y_test)),
        test_accuracy_sklearn=float(sk.score(x_test, y_test)),
        history=history,
        mean_epoch_seconds=float(np.mean(history["seconds"])),
        train_seconds=t_funml.seconds,
        train_seconds_sklearn=t_sklearn,
        batch_size_sklearn=sk_batch,
        epochs_sklearn=int(sk.n_iter_),
    )


def _sklearn_mlp(x, y, batch_size: int, epochs: int, seed):
    """scikit-learn's MLP with funml's layers, sigmoid, Adam: ``(fitted model, seconds)``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier as SkMLP

    with timer() as t, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = SkMLP(
            hidden_layer_sizes=HIDDEN,
            activation="logistic",
            batch_size=batch_size,
            max_iter=epochs,
            random_state=seed,
        ).fit(x, y)
    return sk, t.seconds


def present_mlp_scratch(m: MlpScratchMeasurement) -> Result:
    """The report's view of ``m``."""
    h = m.history
    return Result(
        metrics=asdict(m),
        verdict=(
            f"The NumPy MLP reaches {m.test_accuracy:.2%} test accuracy after {m.epochs} epochs "
            f"(validation {h['val_accuracy'][-1]:.2%}), against {m.test_accuracy_sklearn:.2%} "
            "for scikit-learn's sigmoid MLP with Adam; an epoch takes "
            f"{duration(m.mean_epoch_seconds)}."
        ),
        references=[
            Reference(
                "test accuracy",
                m.test_accuracy,
                m.test_accuracy_sklearn,
                f"scikit-learn MLPClassifier ({m.hidden_layer_sizes[0]} sigmoid, Adam, batch "
                f"{m.batch_size_sklearn}), same epochs",
                "%",
            ),
            Reference("final validation accuracy", h["val_accuracy"][-1], None, "", "%"),
            Reference(
                "mean epoch time",
                m.mean_epoch_seconds,
                m.train_seconds_sklearn / max(m.epochs_sklearn, 1),
                "scikit-learn MLPClassifier, same data",
                "s",
            ),
        ],
        figures={
            "Training and validation loss and accuracy, and the time of each epoch": _curves(h)
        },
        notes=[
            f"{m.dataset}: trained on {m.n_fit:,} images, validated on the last "
            f"{m.n_val:,} of the training split, tested on {m.n_test:,}; sigmoid hidden "
            f"layer of {m.hidden_layer_sizes[0]}, softmax output, lr {m.lr:g}, "
            f"batch size {m.batch_size}."
        ],
    )


@experiment(
    "mlp-scratch",
    summary="The from-scratch sigmoid MLP (NumPy): train/val curves and per-epoch times.",
    question=(
        "Does a one-hidden-layer sigmoid network written with NumPy alone learn the data, "
        "and how long does each epoch take?"
    ),
)
def run_mlp_scratch(settings, context) -> Result:
    m = measure_mlp_scratch(context.dataset(), context.sizes.mlp_scratch_epochs, seed=settings.seed)
    return present_mlp_scratch(m)


def _curves(h) -> Figure:
    fig = Figure(figsize=(10, 3.2))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    epochs = np.arange(1, len(h["train_loss"]) + 1)
    ax1.plot(epochs, h["train_loss"], label="train")
    ax1.plot(epochs, h["val_loss"], label="validation")
    ax1.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
    ax2.plot(epochs, 100 * np.array(h["train_accuracy"]), label="train")
    ax2.plot(epochs, 100 * np.array(h["val_accuracy"]), label="validation")
    ax2.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    ax3.bar(epochs, h["seconds"])
    ax3.set(xlabel="epoch", ylabel="seconds", title="Time per epoch")
    ax1.legend(fontsize=8)
    fig.tight_layout()
    return fig
