"""Small helpers the experiment modules share: pixel features, timing, published anchors."""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from funml.data.dataset import ImageDataset, Split

# Published anchors the report quotes, by (data set, quantity). Accuracies in percent.
ANCHORS = {
    ("mnist", "knn"): (96.9, "published: LeCun et al. (1998), k-NN with L2 distance, 97%"),
    ("mnist", "softmax"): (92.0, "published: linear classifier, LeCun et al. (1998) 88-92%"),
    ("mnist", "cnn"): ("99.0-99.4", "published: small CNNs on the full MNIST, 99.0-99.4%"),
    ("mnist", "mlp"): (98.0, "course: the 784-1024-10 MLP with Adam reaches about 98%"),
    ("mnist", "pca95"): (154, "published: Géron, Hands-On ML, 154 components for 95%"),
    ("fashion-mnist", "knn"): (85.5, "published: Fashion-MNIST benchmark, KNN about 85-86%"),
    ("fashion-mnist", "softmax"): (84.0, "published: Fashion-MNIST logistic regression, 84%"),
    ("fashion-mnist", "logreg"): (84.0, "published: Fashion-MNIST logistic regression, 84%"),
    ("fashion-mnist", "cnn"): ("91-92", "published: a 2-conv CNN on Fashion-MNIST, 91-92%"),
}


def anchor(dataset: str, quantity: str, full: bool = True):
    """``(value, source)`` of a published anchor, or None; only for full data sets."""
    if not full:
        return None
    return ANCHORS.get((dataset, quantity))


def features(split: Split, pixel_max: int, dtype=np.float32) -> np.ndarray:
    """Images as rows of pixel values scaled to [0, 1]: shape (n_samples, H * W)."""
    return split.images.reshape(len(split), -1).astype(dtype) / dtype(pixel_max)


def is_full(ds: ImageDataset, sizes) -> bool:
    """True when the run used whole splits (published anchors apply only then)."""
    return sizes.n_train is None and sizes.n_test is None


def percent(x: float) -> float:
    return round(100.0 * float(x), 3)


@contextmanager
def timer():
    """``with timer() as t: ...`` then ``t.seconds``."""

    class _T:
        seconds = 0.0

    t = _T()
    start = time.perf_counter()
    try:
        yield t
    finally:
        t.seconds = time.perf_counter() - start


def one_per_class(split: Split, n_classes: int) -> np.ndarray:
    """Index of the first image of each class in ``split`` (classes absent are left out)."""
    return np.array(
        [
            int(np.flatnonzero(split.labels == c)[0])
            for c in range(n_classes)
            if np.any(split.labels == c)
        ]
    )
