"""`softmax`: the course's per-sample SGD softmax regression, with a gradient check."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from matplotlib.figure import Figure

from funml.data.dataset import ImageDataset
from funml.experiments._common import anchor, features, logistic_reference
from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result
from funml.timing import timer

LR = 1e-3  # the course's learning rate and batch size
BATCH_SIZE = 1


@dataclass(frozen=True)
class GradientCheck:
    """Hand-derived gradients against central finite differences."""

    entries_checked: int
    relative_error: float  # ||numeric - analytic|| / (||numeric|| + ||analytic||)
    h: float  # the finite-difference step


@dataclass(frozen=True)
class OverflowDemo:
    """Softmax of large logits, with and without subtracting their maximum first."""

    logits: tuple[float, ...]
    naive: tuple[float, ...]  # exp(u) / sum(exp(u)): nan where exp overflowed
    stable: tuple[float, ...]  # funml's softmax, exp(u - max(u)) / sum(...)
    exp_overflows_above: float  # log of the largest float64: exp of more is inf

    @property
    def naive_finite(self) -> bool:
        return bool(np.all(np.isfinite(self.naive)))

    @property
    def stable_finite(self) -> bool:
        return bool(np.all(np.isfinite(self.stable)))


@dataclass(frozen=True)
class SoftmaxMeasurement:
    dataset: str
    n_train: int
    n_test: int
    epochs: int
    lr: float
    batch_size: int
    test_accuracy: float  # a fraction
    test_accuracy_sklearn: float  # scikit-learn's logistic regression, same data
    loss_history: tuple[float, ...]  # mean training cross-entropy after each epoch
    gradient_check: GradientCheck
    overflow: OverflowDemo
    train_seconds: float
    train_seconds_sklearn: float


def measure_softmax(
    ds: ImageDataset, epochs: int = 20, *, lr: float = LR, batch_size: int = BATCH_SIZE, seed=0
) -> SoftmaxMeasurement:
    """funml's SoftmaxRegression trained on ``ds``, against scikit-learn's logistic regression.

    Pixels scaled to [0, 1] in float64. The reference (L-BFGS, up to 200 iterations) is
    fitted once per process and data set, so measuring several settings costs it once.
    """
    from funml.scratch.softmax import SoftmaxRegression

    x_train, x_test = (features(s, ds.pixel_max, np.float64) for s in (ds.train, ds.test))
    y_train, y_test = ds.train.labels, ds.test.labels
    with timer() as t_funml:
        model = SoftmaxRegression(lr=lr, epochs=epochs, batch_size=batch_size, random_state=seed)
        model.fit(x_train, y_train)
    accuracy_sk, seconds_sk = logistic_reference(ds)
    return SoftmaxMeasurement(
        dataset=ds.name,
        n_train=len(y_train),
        n_test=len(y_test),
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        test_accuracy=float(model.score(x_test, y_test)),
        test_accuracy_sklearn=accuracy_sk,
        loss_history=tuple(float(v) for v in model.loss_history_),
        gradient_check=gradient_check(model, x_train, y_train, seed),
        overflow=overflow_demo(),
        train_seconds=t_funml.seconds,
        train_seconds_sklearn=seconds_sk,
    )


def present_softmax(m: SoftmaxMeasurement, published=None) -> Result:
    """The report's view of ``m``; ``published`` is the ``(accuracy, source)`` anchor."""
    refs = [
        Reference(
            "test accuracy",
            m.test_accuracy,
            m.test_accuracy_sklearn,
            "scikit-learn LogisticRegression (L-BFGS, up to 200 iterations), same data",
            "%",
        ),
    ]
    if published:
        refs.append(Reference("test accuracy (anchor)", m.test_accuracy, *published, "%"))
    refs += [
        Reference(
            "gradient check: relative error ||num - ana|| / (||num|| + ||ana||)",
            m.gradient_check.relative_error,
            1e-6,
            f"central finite differences (h = {m.gradient_check.h:g}); below 1e-6 means right",
        ),
        Reference(
            "training time",
            m.train_seconds,
            m.train_seconds_sklearn,
            "scikit-learn LogisticRegression, same data",
            "s",
        ),
    ]
    losses, gap = m.loss_history, m.test_accuracy_sklearn - m.test_accuracy
    return Result(
        metrics=_metrics(m),
        verdict=(
            f"After {m.epochs} epochs of per-sample SGD the training loss fell from "
            f"{losses[0]:.3f} to {losses[-1]:.3f} and the test accuracy is {m.test_accuracy:.2%} "
            f"({100 * abs(gap):.2f} points {'below' if gap > 0 else 'above'} scikit-learn's "
            f"logistic regression, {m.test_accuracy_sklearn:.2%}); the hand-derived gradients "
            f"agree with finite differences to {m.gradient_check.relative_error:.1e}."
        ),
        answer=_answer(m),
        references=refs,
        figures={"Training loss per epoch (per-sample SGD, lr 1e-3)": _loss_figure(losses)},
        notes=[
            f"{m.dataset}: {m.n_train:,} training and {m.n_test:,} test images, pixels "
            f"scaled to [0, 1]; {m.epochs} epochs, lr {m.lr:g}, batch size {m.batch_size}."
        ],
    )


def _answer(m: SoftmaxMeasurement) -> str:
    """Why the gradients are (p − y)xᵀ and p − y, and why softmax subtracts max(u)."""
    o, gap = m.overflow, m.test_accuracy - m.test_accuracy_sklearn
    show = lambda values, f: "(" + ", ".join(format(v, f) for v in values) + ")"  # noqa: E731
    return (
        f"It reaches {m.test_accuracy:.2%} test accuracy after {m.epochs} epochs of per-sample "
        f"SGD, {100 * abs(gap):.2f} points {'above' if gap > 0 else 'below'} scikit-learn's "
        f"logistic regression ({m.test_accuracy_sklearn:.2%}). With u = Wx + b, p = softmax(u) "
        "and the one-hot target y, J = −Σ_c y_c log p_c = −Σ_c y_c u_c + log Σ_k e^(u_k), so "
        "∂J/∂u_c = e^(u_c) / Σ_k e^(u_k) − y_c = p_c − y_c; as u_c = w_c·x + b_c, the chain "
        "rule gives ∂J/∂W = (p − y)xᵀ and ∂J/∂b = p − y. Central finite differences on "
        f"{m.gradient_check.entries_checked} entries agree with these to a relative error of "
        f"{m.gradient_check.relative_error:.1e}. Subtracting max(u) changes nothing, as "
        "e^(−max u) cancels between numerator and denominator, but it keeps exp from "
        f"overflowing, which it does above {o.exp_overflows_above:.1f} in float64: on logits "
        f"{show(o.logits, 'g')} the naive exp(u) / Σ exp(u) returns {show(o.naive, '.3g')}, "
        f"funml's softmax {show(o.stable, '.3f')}."
    )


def _metrics(m: SoftmaxMeasurement) -> dict:
    """``m`` as metrics; the naive softmax's nan and inf become strings (JSON has none)."""
    metrics = asdict(m)
    naive = metrics["overflow"]["naive"]
    metrics["overflow"]["naive"] = [v if np.isfinite(v) else str(v) for v in naive]
    return metrics


@experiment(
    "softmax",
    summary="Softmax regression by per-sample SGD (lr 1e-3): loss curve, accuracy, grad check.",
    question=(
        "How well does a linear softmax classifier trained by plain SGD do, and are its "
        "hand-derived gradients right?"
    ),
)
def run_softmax(settings, context) -> Result:
    ds = context.dataset()
    m = measure_softmax(ds, context.sizes.softmax_epochs, seed=settings.seed)
    return present_softmax(m, anchor(ds, "softmax"))


def overflow_demo(logits=(1000.0, 999.0, 998.0)) -> OverflowDemo:
    """The textbook softmax and funml's on ``logits`` (float64)."""
    from funml.scratch.softmax import softmax

    u = np.asarray(logits, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(u) / np.exp(u).sum()  # inf / inf
    return OverflowDemo(
        logits=tuple(float(v) for v in u),
        naive=tuple(float(v) for v in naive),
        stable=tuple(float(v) for v in softmax(u[None])[0]),
        exp_overflows_above=float(np.log(np.finfo(np.float64).max)),
    )


def gradient_check(model, x, y, seed: int, n_entries: int = 30, h: float = 1e-6) -> GradientCheck:
    """Compare :func:`softmax_gradients` with central differences of :func:`softmax_loss`.

    At the trained weights, on a batch of 16 training samples, for ``n_entries`` random
    entries of W and every entry of b.
    """
    from funml.scratch.softmax import softmax_gradients

    rng = np.random.default_rng(seed)
    idx = rng.choice(len(x), size=min(16, len(x)), replace=False)
    xb = x[idx]
    t = (y[idx, None] == model.classes_).astype(np.float64)  # (16, n_classes) one-hot
    w, b = model.coef_.copy(), model.intercept_.copy()
    dw, db = softmax_gradients(w, b, xb, t)
    entries = [
        ("w", (int(r), int(c)))
        for r, c in zip(
            rng.integers(0, w.shape[0], n_entries),
            rng.integers(0, w.shape[1], n_entries),
            strict=True,
        )
    ] + [("b", (i,)) for i in range(len(b))]
    numeric = np.array([_central_difference(w, b, xb, t, p, i, h) for p, i in entries])
    analytic = np.array([(dw if p == "w" else db)[i] for p, i in entries])
    # Relative to the size of the gradient as a whole: entries that are ~0 (pixels that are
    # 0 in every sample of the batch) would otherwise divide rounding noise by noise.
    error = np.linalg.norm(numeric - analytic) / max(
        np.linalg.norm(numeric) + np.linalg.norm(analytic), 1e-12
    )
    return GradientCheck(entries_checked=len(entries), relative_error=float(error), h=h)


def _central_difference(w, b, xb, t, name: str, index: tuple, h: float) -> float:
    """d loss / d (w or b)[index] by central differences; ``w`` and ``b`` are restored."""
    from funml.scratch.softmax import softmax_loss

    p = w if name == "w" else b
    old = p[index]
    p[index] = old + h
    up = softmax_loss(w, b, xb, t)
    p[index] = old - h
    down = softmax_loss(w, b, xb, t)
    p[index] = old
    return (up - down) / (2 * h)


def _loss_figure(losses) -> Figure:
    fig = Figure(figsize=(5, 3.2))
    ax = fig.subplots()
    ax.plot(np.arange(1, len(losses) + 1), losses, marker="o", ms=3)
    ax.set(xlabel="epoch", ylabel="mean training cross-entropy")
    fig.tight_layout()
    return fig
