"""`knn`: k-nearest neighbours for k in {1, 3, 5}, against scikit-learn on the same data."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from matplotlib.figure import Figure

from funml.data.dataset import ImageDataset
from funml.experiments._common import anchor
from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result
from funml.timing import duration, timer

KS = (1, 3, 5)


@dataclass(frozen=True)
class KRow:
    """funml's and scikit-learn's k-NN with one k, on the same data."""

    accuracy: float  # test accuracy, a fraction
    accuracy_sklearn: float
    agreement: float  # fraction of test images where both predict the same label
    disagreements: int
    disagreements_at_exact_ties: int  # of those, where the k-th and (k+1)-th distances tie
    seconds: float  # fit and predict the test set
    seconds_sklearn: float


@dataclass(frozen=True)
class KnnMeasurement:
    dataset: str
    n_train: int
    n_test: int
    dtype: str  # of the pixel values both classifiers compute distances on
    by_k: dict[int, KRow]

    @property
    def best_k(self) -> int:
        return max(self.by_k, key=lambda k: self.by_k[k].accuracy)


def _no_progress(iterable, desc: str):
    return iterable


def measure_knn(
    ds: ImageDataset, ks=KS, *, dtype=np.float64, progress=_no_progress
) -> KnnMeasurement:
    """funml's KNNClassifier and scikit-learn's brute-force k-NN on ``ds``, for each k.

    Distances are on raw pixel values: in float64 both compute them exactly, so any
    disagreement is a real difference, not rounding.
    """
    from sklearn.neighbors import KNeighborsClassifier

    from funml.scratch.knn import KNNClassifier

    x_train = ds.train.images.reshape(len(ds.train), -1).astype(dtype)
    x_test = ds.test.images.reshape(len(ds.test), -1).astype(dtype)
    y_train, y_test = ds.train.labels, ds.test.labels
    rows = {}
    for k in progress(ks, desc="knn: k"):
        with timer() as t_funml:
            knn = KNNClassifier(n_neighbors=k).fit(x_train, y_train)
            ours = knn.predict(x_test)
        with timer() as t_sklearn:
            sk = KNeighborsClassifier(n_neighbors=k, algorithm="brute")
            theirs = sk.fit(x_train, y_train).predict(x_test)
        rows[k] = KRow(
            accuracy=float(np.mean(ours == y_test)),
            accuracy_sklearn=float(np.mean(theirs == y_test)),
            agreement=float(np.mean(ours == theirs)),
            disagreements=int(np.sum(ours != theirs)),
            disagreements_at_exact_ties=_ties(knn, x_test[ours != theirs], k),
            seconds=t_funml.seconds,
            seconds_sklearn=t_sklearn.seconds,
        )
    return KnnMeasurement(ds.name, len(y_train), len(y_test), np.dtype(dtype).name, rows)


def present_knn(m: KnnMeasurement, published=None) -> Result:
    """The report's view of ``m``; ``published`` is the ``(accuracy, source)`` anchor for k=3."""
    rows = m.by_k
    refs = [
        Reference(
            f"test accuracy, k={k}",
            r.accuracy,
            r.accuracy_sklearn,
            "scikit-learn KNeighborsClassifier (brute), same data",
            "%",
        )
        for k, r in rows.items()
    ]
    if published:
        refs.append(Reference("test accuracy, k=3 (anchor)", rows[3].accuracy, *published, "%"))
    refs += [
        Reference(
            "predictions equal to scikit-learn, k=3",
            rows[3].agreement,
            1.0,
            "scikit-learn, same k and weights",
            "%",
        ),
        Reference(
            "time to classify the test set, k=3",
            rows[3].seconds,
            rows[3].seconds_sklearn,
            "scikit-learn brute force, same data",
            "s",
        ),
    ]
    best = m.best_k
    metrics = asdict(m)
    metrics["by_k"] = {str(k): v for k, v in metrics["by_k"].items()}
    return Result(
        metrics={**metrics, "best_k": best},
        verdict=(
            f"k-NN reaches {rows[best].accuracy:.2%} at k={best} (k=1: {rows[1].accuracy:.2%}, "
            f"k=5: {rows[5].accuracy:.2%}); {_agreement(m)}."
        ),
        answer=_answer(m),
        references=refs,
        figures={"Test accuracy and time for each k, funml and scikit-learn": _figure(rows)},
        notes=[
            f"{m.dataset}: {m.n_train:,} training images, {m.n_test:,} test images, "
            "Euclidean distance on raw pixels, uniform weights."
        ],
    )


@experiment(
    "knn",
    summary="k-NN from scratch for k = 1, 3, 5: accuracy, time, agreement with scikit-learn.",
    question=(
        "How accurate is classifying an image by the labels of its k nearest training "
        "images in pixel space, and does the choice of k matter?"
    ),
)
def run_knn(settings, context) -> Result:
    ds = context.dataset()
    return present_knn(measure_knn(ds, progress=context.progress), anchor(ds, "knn"))


def _answer(m: KnnMeasurement) -> str:
    """How accurate k-NN is, whether k matters, and what it costs."""
    rows, best = m.by_k, m.best_k
    accuracies = [r.accuracy for r in rows.values()]
    each = ", ".join(f"k={k}: {r.accuracy:.2%}" for k, r in rows.items())
    mid = 3 if 3 in rows else best
    agreement = _agreement(m)
    return (
        "A vote of the k nearest training images in raw pixel space, with no training at "
        f"all, labels {rows[best].accuracy:.2%} of the {m.n_test:,} test images right at "
        f"k={best} ({each}). The choice of k matters little here: the "
        f"accuracies lie within {100 * (max(accuracies) - min(accuracies)):.2f} points of each "
        "other. The cost is paid at prediction: every test image is compared with all "
        f"{m.n_train:,} training images, {duration(rows[mid].seconds)} for the test set at "
        f"k={mid} (scikit-learn's brute force: {duration(rows[mid].seconds_sklearn)}). "
        f"{agreement[0].upper()}{agreement[1:]}."
    )


def _agreement(m: KnnMeasurement) -> str:
    rows = m.by_k.values()
    agree = min(r.agreement for r in rows)
    unexplained = sum(r.disagreements - r.disagreements_at_exact_ties for r in rows)
    if unexplained:
        return f"{unexplained} prediction(s) differ from scikit-learn's without a distance tie"
    if agree < 1:
        return (
            f"its predictions equal scikit-learn's on {agree:.2%} of test images or more, and "
            "every difference is an exact distance tie at the k-th neighbour, which funml "
            "breaks by the smallest label (documented) and scikit-learn by training order"
        )
    return "its predictions equal scikit-learn's on every test image"


def _ties(knn, x, k: int) -> int:
    """How many of the queries ``x`` have their k-th and (k+1)-th neighbours at one distance."""
    if len(x) == 0:
        return 0
    dist, _ = knn.kneighbors(x, n_neighbors=k + 1)
    return int(np.sum(dist[:, k - 1] == dist[:, k]))


def _figure(rows: dict[int, KRow]) -> Figure:
    fig = Figure(figsize=(8, 3.2))
    ax1, ax2 = fig.subplots(1, 2)
    ks = np.array(list(rows))
    for ax, key, label, scale in (
        (ax1, "accuracy", "test accuracy (%)", 100),
        (ax2, "seconds", "seconds", 1),
    ):
        ours = [scale * getattr(r, key) for r in rows.values()]
        theirs = [scale * getattr(r, f"{key}_sklearn") for r in rows.values()]
        ax.bar(ks - 0.2, ours, width=0.4, label="funml")
        ax.bar(ks + 0.2, theirs, width=0.4, label="scikit-learn")
        ax.set(xticks=ks, xlabel="k", ylabel=label)
    lo = 100 * min(min(r.accuracy, r.accuracy_sklearn) for r in rows.values())
    ax1.set_ylim(max(0, lo - 5), 100)
    ax1.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
