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
DEMO_EPOCHS = 5  # the all-zero start against the course's, on at most DEMO_IMAGES images
DEMO_IMAGES = 5000


def learning_rate(n_features: int) -> float:
    """The course's step of 1.0 on 8x8 Digits; 0.1 on 28x28 images.

    With 784 inputs and weights uniform in [-1, 1], the hidden pre-activations are about
    ten times larger than with 64, the sigmoids saturate, and a step of 1.0 makes training
    erratic: benchmarks/scratch.py measured 79% on Fashion-MNIST after 2 epochs at 1.0 and
    87% after 25 at 0.1.
    """
    return 1.0 if n_features <= 64 else 0.1


@dataclass(frozen=True)
class InitRun:
    """One network trained for a few epochs from one kind of initial weights."""

    test_accuracy: float  # a fraction
    hidden_unit_spread: float  # largest difference between two hidden units' weights, in or out


@dataclass(frozen=True)
class InitDemo:
    """All-zero initial weights against the course's uniform [-1, 1], all else equal."""

    epochs: int
    n_fit: int
    zeros: InitRun
    uniform: InitRun


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
    init_demo: InitDemo
    output_gradient_error: float  # p - y against finite differences of the loss at the logits


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
        init_demo=measure_init(x_fit, y_fit, x_test, y_test, lr, seed=seed),
        output_gradient_error=output_gradient_check(model, x_test, y_test),
    )


def measure_init(x, y, x_test, y_test, lr: float, *, seed=0) -> InitDemo:
    """Train from all-zero weights and from the course's uniform ones, on the same batches.

    DEMO_EPOCHS epochs on the first DEMO_IMAGES of ``x``, labels 0 .. n_classes - 1; the
    uniform run is MLPClassifier's with the same seed.
    """
    from funml.scratch.mlp import feed_forward, init_weights

    x, y = x[:DEMO_IMAGES], y[:DEMO_IMAGES]
    n_classes = int(max(y.max(), y_test.max())) + 1
    sizes = [x.shape[1], *HIDDEN, n_classes]
    runs = {}
    for name in ("zeros", "uniform"):
        rng = np.random.default_rng(seed)  # as MLPClassifier: weights first, then batches
        weights = init_weights(sizes, rng=rng)
        if name == "zeros":
            weights = [np.zeros_like(w) for w in weights]
        _train(weights, x, np.eye(n_classes)[y], lr, rng)
        proba = feed_forward(weights, x_test)[1][-1]
        runs[name] = InitRun(
            test_accuracy=float(np.mean(np.argmax(proba, axis=1) == y_test)),
            hidden_unit_spread=_spread(weights),
        )
    return InitDemo(DEMO_EPOCHS, len(x), **runs)


def _train(weights, x, t, lr: float, rng) -> None:
    """DEMO_EPOCHS epochs of minibatch gradient descent on ``weights``, in place."""
    from funml.scratch.mlp import back_prop, feed_forward

    for _ in range(DEMO_EPOCHS):
        order = rng.permutation(len(x))
        for start in range(0, len(x), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            zs, activations = feed_forward(weights, x[batch])
            for w, g in zip(weights, back_prop(weights, zs, activations, t[batch]), strict=True):
                w -= lr * g


def _spread(weights) -> float:
    """The largest difference between two hidden units' incoming or outgoing weights."""
    w_in, w_out = weights[0], weights[1]  # (n_features, hidden), (hidden, next layer)
    return float(max(np.ptp(w_in, axis=1).max(), np.ptp(w_out, axis=0).max()))


def output_gradient_check(model, x, y, n: int = 16, h: float = 1e-6) -> float:
    """Relative error of (p - y) / n against central differences of the loss at the logits.

    On the first ``n`` images of ``x``, at the trained ``model``'s logits z, whose
    batch-mean cross-entropy is J(z) = mean(-log softmax(z)_y).
    """
    from funml.scratch.mlp import feed_forward
    from funml.scratch.softmax import cross_entropy, softmax

    z = feed_forward(model.weights_, x[:n])[0][-1]
    t = (y[:n, None] == model.classes_).astype(np.float64)
    analytic = (softmax(z) - t) / len(z)
    numeric = np.zeros_like(z)
    for i in np.ndindex(z.shape):
        step = np.zeros_like(z)
        step[i] = h
        numeric[i] = (cross_entropy(z + step, t) - cross_entropy(z - step, t)) / (2 * h)
    size = np.linalg.norm(numeric) + np.linalg.norm(analytic)
    return float(np.linalg.norm(numeric - analytic) / size)


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
        answer=_answer(m),
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


def _answer(m: MlpScratchMeasurement) -> str:
    """Does it learn; why not all-zero weights; why the output gradient is p − y."""
    d = m.init_demo
    return (
        f"Yes: the NumPy network reaches {m.test_accuracy:.2%} test accuracy after {m.epochs} "
        f"epochs (scikit-learn's sigmoid MLP with Adam: {m.test_accuracy_sklearn:.2%}), an "
        f"epoch taking {duration(m.mean_epoch_seconds)}. Its weights must not all start at "
        "zero: every hidden unit would then compute the same output and receive the same "
        "gradient, so the units stay identical and the layer acts as one unit. Trained from "
        f"zeros for {d.epochs} epochs on {d.n_fit:,} images, the largest difference between "
        f"two hidden units' weights is {d.zeros.hidden_unit_spread:g} and the test accuracy "
        f"{d.zeros.test_accuracy:.2%}; from the course's uniform [−1, 1] start, on the same "
        f"batches, {d.uniform.hidden_unit_spread:.2f} and {d.uniform.test_accuracy:.2%}. The "
        "output gradient is p − y because the loss is J = −Σ_c y_c log p_c with p = "
        "softmax(z), so ∂J/∂z_c = p_c − y_c: the log undoes the softmax's exponential; "
        "finite differences at the trained network's logits agree with it to a relative "
        f"error of {m.output_gradient_error:.1e}."
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
