"""`knn`: k-nearest neighbours for k in {1, 3, 5}, against scikit-learn on the same data."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from funml.experiments._common import anchor, percent
from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result
from funml.timing import timer

KS = (1, 3, 5)


@experiment(
    "knn",
    summary="k-NN from scratch for k = 1, 3, 5: accuracy, time, agreement with scikit-learn.",
    question=(
        "How accurate is classifying an image by the labels of its k nearest training "
        "images in pixel space, and does the choice of k matter?"
    ),
)
def run_knn(settings, context) -> Result:
    from sklearn.neighbors import KNeighborsClassifier

    from funml.scratch.knn import KNNClassifier

    ds = context.dataset()
    # Raw integer pixels: funml and scikit-learn both compute these distances exactly in
    # float64, so any disagreement would be a real difference, not rounding.
    x_train = ds.train.images.reshape(len(ds.train), -1).astype(np.float64)
    x_test = ds.test.images.reshape(len(ds.test), -1).astype(np.float64)
    y_train, y_test = ds.train.labels, ds.test.labels
    rows = {}
    for k in context.progress(KS, desc="knn: k"):
        with timer() as t_funml:
            knn = KNNClassifier(n_neighbors=k).fit(x_train, y_train)
            ours = knn.predict(x_test)
        with timer() as t_sklearn:
            sk = KNeighborsClassifier(n_neighbors=k, algorithm="brute")
            theirs = sk.fit(x_train, y_train).predict(x_test)
        rows[k] = {
            "accuracy": percent(np.mean(ours == y_test)),
            "accuracy_sklearn": percent(np.mean(theirs == y_test)),
            "agreement": percent(np.mean(ours == theirs)),
            "disagreements": int(np.sum(ours != theirs)),
            "disagreements_at_exact_ties": _ties(knn, x_test[ours != theirs], k),
            "seconds": t_funml.seconds,
            "seconds_sklearn": t_sklearn.seconds,
        }
    best = max(KS, key=lambda k: rows[k]["accuracy"])
    refs = []
    for k in KS:
        r = rows[k]
        refs.append(
            Reference(
                f"test accuracy, k={k}",
                r["accuracy"],
                r["accuracy_sklearn"],
                "scikit-learn KNeighborsClassifier (brute), same data",
                "%",
            )
        )
    published = anchor(ds, "knn")
    if published:
        refs.append(
            Reference("test accuracy, k=3 (anchor)", rows[3]["accuracy"], *published, unit="%")
        )
    refs += [
        Reference(
            "predictions equal to scikit-learn, k=3",
            rows[3]["agreement"],
            100.0,
            "scikit-learn, same k and weights",
            "%",
        ),
        Reference(
            "time to classify the test set, k=3",
            rows[3]["seconds"],
            rows[3]["seconds_sklearn"],
            "scikit-learn brute force, same data",
            "s",
        ),
    ]
    agree = min(r["agreement"] for r in rows.values())
    unexplained = sum(r["disagreements"] - r["disagreements_at_exact_ties"] for r in rows.values())
    if unexplained:
        agreement = f"{unexplained} prediction(s) differ from scikit-learn's without a distance tie"
    elif agree < 100:
        agreement = (
            f"its predictions equal scikit-learn's on {agree:.2f}% of test images or more, and "
            "every difference is an exact distance tie at the k-th neighbour, which funml "
            "breaks by the smallest label (documented) and scikit-learn by training order"
        )
    else:
        agreement = "its predictions equal scikit-learn's on every test image"
    return Result(
        metrics={
            "n_train": len(y_train),
            "n_test": len(y_test),
            "by_k": {str(k): v for k, v in rows.items()},
            "best_k": best,
        },
        verdict=(
            f"k-NN reaches {rows[best]['accuracy']:.2f}% at k={best} "
            f"(k=1: {rows[1]['accuracy']:.2f}%, k=5: {rows[5]['accuracy']:.2f}%); {agreement}."
        ),
        references=refs,
        figures={"Test accuracy and time for each k, funml and scikit-learn": _figure(rows)},
        notes=[
            f"{ds.name}: {len(y_train):,} training images, {len(y_test):,} test images, "
            "Euclidean distance on raw pixels, uniform weights."
        ],
    )


def _ties(knn, x, k: int) -> int:
    """How many of the queries ``x`` have their k-th and (k+1)-th neighbours at one distance."""
    if len(x) == 0:
        return 0
    dist, _ = knn.kneighbors(x, n_neighbors=k + 1)
    return int(np.sum(dist[:, k - 1] == dist[:, k]))


def _figure(rows) -> Figure:
    fig = Figure(figsize=(8, 3.2))
    ax1, ax2 = fig.subplots(1, 2)
    ks = np.array(KS)
    for ax, key, label in ((ax1, "accuracy", "test accuracy (%)"), (ax2, "seconds", "seconds")):
        ax.bar(ks - 0.2, [rows[k][key] for k in KS], width=0.4, label="funml")
        ax.bar(ks + 0.2, [rows[k][f"{key}_sklearn"] for k in KS], width=0.4, label="scikit-learn")
        ax.set(xticks=ks, xlabel="k", ylabel=label)
    lo = min(min(r["accuracy"], r["accuracy_sklearn"]) for r in rows.values())
    ax1.set_ylim(max(0, lo - 5), 100)
    ax1.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
