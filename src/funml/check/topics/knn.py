"""Topic ``knn``: ``class KNNClassifier(num_neighbors)`` with ``fit(X, y)`` and ``predict(X)``.

Predictions are compared with funml's exact KNN; 95% agreement passes, since a different
but fair tie rule may change a few votes.
"""

from __future__ import annotations

import numpy as np

from funml.check.probe import Check, Fail, as_array, get, need, same_shape

REFERENCE = "funml.check.reference.knn"
FUNCTIONS = {"KNNClassifier": "KNNClassifier(num_neighbors) with fit(X, y) and predict(X)"}
AGREEMENT = 0.95


def _blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centres = np.array([[0, 0, 0, 0, 0], [2, 2, 0, 0, 0], [0, 2, 2, 2, 0]], dtype=np.float64)
    return centres[y] + rng.normal(size=(n, 5)), y


def _digits_uint8() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = np.clip(digits.data * 16, 0, 255).astype(np.uint8)  # (1797, 64) pixels 0..255
    return x[:400], digits.target[:400]


def _predict(ns, X, y, Xq, k: int) -> np.ndarray:
    model = need(ns, "KNNClassifier")(k)
    fitted = model.fit(X, y)
    return as_array((fitted if fitted is not None else model).predict(Xq), "predict")


def run_returns_self(ns) -> dict:
    X, y = _blobs(30, 0)
    model = need(ns, "KNNClassifier")(3)
    return {"is_self": model.fit(X, y) is model}


def run_float(ns) -> dict:
    X, y = _blobs(90, 1)
    return {"labels": _predict(ns, X[:60], y[:60], X[60:], 3)}


def run_uint8(ns) -> dict:
    X, y = _digits_uint8()
    return {"labels": _predict(ns, X[:300], y[:300], X[300:], 3)}


def run_k1(ns) -> dict:
    X, y = _blobs(40, 2)
    return {"labels": _predict(ns, X, y, X, 1)}


def run_inputs(ns) -> dict:
    X, y = _blobs(50, 3)
    train, test = X[:40].copy(), X[40:].copy()
    _predict(ns, train, y[:40], test, 3)
    return {"train": train, "test": test}


def judge_self(got, want):
    if get(got, "is_self") is not True:
        raise Fail("fit does not return self, so KNNClassifier(k).fit(X, y).predict(Xq) fails.")


def _agreement(what):
    def judge(got, want):
        g = same_shape(got, want, "labels", f"predict's output on {what}")
        share = float(np.mean(g == want["labels"]))
        if share < AGREEMENT:
            raise Fail(f"Only {share:.0%} of the predictions on {what} agree with exact KNN.")

    return judge


def judge_inputs(got, want):
    for key in ("train", "test"):
        g = same_shape(got, want, key, f"The {key} array")
        if not np.array_equal(g, want[key]):
            raise Fail(f"fit or predict changed the caller's {key} array in place; work on a copy.")


def judge_k1(got, want):
    g = same_shape(got, want, "labels", "predict's output")
    if not np.array_equal(g, want["labels"]):
        raise Fail(
            "With num_neighbors=1, predicting the training points does not give their labels."
        )


CHECKS = (
    Check(
        "knn-fit-returns-self",
        "fit(X, y) returns the classifier itself",
        run_returns_self,
        judge_self,
    ),
    Check(
        "knn-float-features",
        "predictions on float features, k=3",
        run_float,
        _agreement("float features"),
    ),
    Check(
        "knn-uint8-pixels",
        "predictions on uint8 Digits pixels (0..255), k=3",
        run_uint8,
        _agreement("uint8 pixels"),
    ),
    Check(
        "knn-k1-training-points",
        "k=1 on the training points returns their labels",
        run_k1,
        judge_k1,
    ),
    Check(
        "knn-inputs-unchanged",
        "fit and predict leave the caller's arrays unchanged",
        run_inputs,
        judge_inputs,
    ),
)
