"""Small helpers the experiment modules share: pixel features, published anchors."""

from __future__ import annotations

import numpy as np

from funml.data.dataset import ImageDataset, Split
from funml.timing import timer

# Published anchors the report quotes, by (data set, quantity). Accuracies as fractions, as
# every accuracy in funml's records; a range is text.
ANCHORS = {
    ("mnist", "knn"): (0.97, "published: k-NN, L2, about 97% (LeCun's MNIST table: 3.09% error)"),
    ("mnist", "softmax"): (0.92, "published: softmax regression on MNIST, about 92%"),
    ("mnist", "cnn"): ("99.0-99.4%", "published: small CNNs on MNIST, 99.0-99.4%"),
    ("mnist", "mlp"): (0.98, "course: the 784-1024-10 MLP with Adam 5e-4, about 98%"),
    ("mnist", "pca95"): (154, "published: Géron, Hands-On ML, 154 components for 95%"),
    ("fashion-mnist", "knn"): (0.855, "published: Fashion-MNIST benchmark, k-NN 85-86%"),
    ("fashion-mnist", "softmax"): (0.84, "published: Fashion-MNIST benchmark, logistic regr. 84%"),
    ("fashion-mnist", "logreg"): (0.84, "published: Fashion-MNIST benchmark, logistic regr. 84%"),
    ("fashion-mnist", "cnn"): ("91-92%", "published: a 2-conv CNN on Fashion-MNIST, 91-92%"),
}


def anchor(ds: ImageDataset, quantity: str):
    """``(value, source)`` of the published anchor for ``ds``, or None.

    Anchors are for the full training split; on less (a quick run, or MNIST's test set
    split into halves) the source says so, as the numbers are then not comparable.
    """
    family = "mnist" if ds.name.startswith("mnist") else ds.name
    found = ANCHORS.get((family, quantity))
    if found is None:
        return None
    value, source = found
    if len(ds.train) < 60000:
        source += f"; for 60,000 training images, this run used {len(ds.train):,}"
    return value, source


def features(split: Split, pixel_max: int, dtype=np.float32) -> np.ndarray:
    """Images as rows of pixel values scaled to [0, 1]: shape (n_samples, H * W)."""
    return split.images.reshape(len(split), -1).astype(dtype) / dtype(pixel_max)


def percent(x: float) -> float:
    # Being replaced: records keep accuracies as fractions and the report shows percent.
    return round(100.0 * float(x), 3)


def one_per_class(split: Split, n_classes: int) -> np.ndarray:
    """Index of the first image of each class in ``split`` (classes absent are left out)."""
    return np.array(
        [
            int(np.flatnonzero(split.labels == c)[0])
            for c in range(n_classes)
            if np.any(split.labels == c)
        ]
    )


_LOGISTIC: dict[tuple, tuple[float, float]] = {}


def logistic_reference(ds: ImageDataset) -> tuple[float, float]:
    """scikit-learn's logistic regression on ``ds``'s pixels: (test accuracy, seconds).

    L-BFGS for up to 200 iterations on pixels scaled to [0, 1], float64. `softmax` and
    `logreg` both compare with it on the same data, so it is fitted once per process
    (about four minutes on the 60,000 Fashion-MNIST images).
    """
    key = (ds.name, len(ds.train), len(ds.test), tuple(sorted(ds.checksums.items())))
    if key not in _LOGISTIC:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        with timer() as t, warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            sk = LogisticRegression(max_iter=200)
            sk.fit(features(ds.train, ds.pixel_max, np.float64), ds.train.labels)
        accuracy = float(sk.score(features(ds.test, ds.pixel_max, np.float64), ds.test.labels))
        _LOGISTIC[key] = (accuracy, t.seconds)
    return _LOGISTIC[key]
