"""`softmax`: the course's per-sample SGD softmax regression, with a gradient check."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from funml.experiments._common import anchor, features, logistic_reference, percent
from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result
from funml.timing import timer

LR = 1e-3  # the course's learning rate and batch size
BATCH_SIZE = 1


@experiment(
    "softmax",
    summary="Softmax regression by per-sample SGD (lr 1e-3): loss curve, accuracy, grad check.",
    question=(
        "How well does a linear softmax classifier trained by plain SGD do, and are its "
        "hand-derived gradients right?"
    ),
)
def run_softmax(settings, context) -> Result:
    from funml.scratch.softmax import SoftmaxRegression

    ds = context.dataset()
    epochs = context.sizes.softmax_epochs
    x_train, x_test = (
        features(ds.train, ds.pixel_max, np.float64),
        features(ds.test, ds.pixel_max, np.float64),
    )
    y_train, y_test = ds.train.labels, ds.test.labels
    with timer() as t_funml:
        model = SoftmaxRegression(
            lr=LR, epochs=epochs, batch_size=BATCH_SIZE, random_state=settings.seed
        )
        model.fit(x_train, y_train)
    accuracy = percent(model.score(x_test, y_test))
    accuracy_sk, seconds_sk = logistic_reference(ds)
    check = gradient_check(model, x_train, y_train, settings.seed)

    refs = [
        Reference(
            "test accuracy",
            accuracy,
            accuracy_sk,
            "scikit-learn LogisticRegression (L-BFGS, up to 200 iterations), same data",
            "%",
        ),
    ]
    published = anchor(ds, "softmax")
    if published:
        refs.append(Reference("test accuracy (anchor)", accuracy, *published, unit="%"))
    refs += [
        Reference(
            "gradient check: relative error ||num - ana|| / (||num|| + ||ana||)",
            check["relative_error"],
            1e-6,
            "central finite differences (h = 1e-6); below 1e-6 means right",
        ),
        Reference(
            "training time",
            t_funml.seconds,
            seconds_sk,
            "scikit-learn LogisticRegression, same data",
            "s",
        ),
    ]
    losses = [float(v) for v in model.loss_history_]
    gap = accuracy_sk - accuracy
    return Result(
        metrics={
            "epochs": epochs,
            "lr": LR,
            "batch_size": BATCH_SIZE,
            "test_accuracy": accuracy,
            "test_accuracy_sklearn": accuracy_sk,
            "loss_history": losses,
            "gradient_check": check,
            "train_seconds": t_funml.seconds,
            "train_seconds_sklearn": seconds_sk,
        },
        verdict=(
            f"After {epochs} epochs of per-sample SGD the training loss fell from "
            f"{losses[0]:.3f} to {losses[-1]:.3f} and the test accuracy is {accuracy:.2f}% "
            f"({abs(gap):.2f} points {'below' if gap > 0 else 'above'} scikit-learn's logistic "
            f"regression, {accuracy_sk:.2f}%); the "
            f"hand-derived gradients agree with finite differences to "
            f"{check['relative_error']:.1e}."
        ),
        references=refs,
        figures={"Training loss per epoch (per-sample SGD, lr 1e-3)": _loss_figure(losses)},
        notes=[
            f"{ds.name}: {len(y_train):,} training and {len(y_test):,} test images, pixels "
            f"scaled to [0, 1]; {epochs} epochs, lr {LR:g}, batch size {BATCH_SIZE}."
        ],
    )


def gradient_check(model, x, y, seed: int, n_entries: int = 30, h: float = 1e-6) -> dict:
    """Compare :func:`softmax_gradients` with central differences of :func:`softmax_loss`.

    At the trained weights, on a batch of 16 training samples, for ``n_entries`` random
    entries of W and every entry of b.
    """
    from funml.scratch.softmax import softmax_gradients, softmax_loss

    rng = np.random.default_rng(seed)
    idx = rng.choice(len(x), size=min(16, len(x)), replace=False)
    xb = x[idx]
    t = (y[idx, None] == model.classes_).astype(np.float64)  # (16, n_classes) one-hot
    w, b = model.coef_.copy(), model.intercept_.copy()
    dw, db = softmax_gradients(w, b, xb, t)
    numeric, analytic = [], []
    entries = [
        ("w", (int(r), int(c)))
        for r, c in zip(
            rng.integers(0, w.shape[0], n_entries),
            rng.integers(0, w.shape[1], n_entries),
            strict=True,
        )
    ] + [("b", (i,)) for i in range(len(b))]
    for name, index in entries:
        p = w if name == "w" else b
        old = p[index]
        p[index] = old + h
        up = softmax_loss(w, b, xb, t)
        p[index] = old - h
        down = softmax_loss(w, b, xb, t)
        p[index] = old
        numeric.append((up - down) / (2 * h))
        analytic.append((dw if name == "w" else db)[index])
    numeric, analytic = np.array(numeric), np.array(analytic)
    # Relative to the size of the gradient as a whole: entries that are ~0 (pixels that are
    # 0 in every sample of the batch) would otherwise divide rounding noise by noise.
    error = np.linalg.norm(numeric - analytic) / max(
        np.linalg.norm(numeric) + np.linalg.norm(analytic), 1e-12
    )
    return {"entries_checked": len(entries), "relative_error": float(error), "h": h}


def _loss_figure(losses) -> Figure:
    fig = Figure(figsize=(5, 3.2))
    ax = fig.subplots()
    ax.plot(np.arange(1, len(losses) + 1), losses, marker="o", ms=3)
    ax.set(xlabel="epoch", ylabel="mean training cross-entropy")
    fig.tight_layout()
    return fig
