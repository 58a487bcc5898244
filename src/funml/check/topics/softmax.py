"""Topic ``softmax``: ``softmax(x)``, ``J(W, b, y_true, x)``, ``dJ(W, b, y_true, x)`` and
``SGD(f, df, Xs, ys, n_classes=10, lr=1e-3, max_epoch=20)``.

W is (classes, features), b (classes,), x one sample (features,), y_true its one-hot
target. SGD is checked with funml's own J and dJ, so it is judged on its own.
"""

from __future__ import annotations

import numpy as np

from funml.check.probe import Check, Fail, as_array, as_number, close, need, same_shape, unpack

REFERENCE = "funml.check.reference.softmax"
FUNCTIONS = {
    "softmax": "softmax(x) -> probabilities of a 1-d array",
    "J": "J(W, b, y_true, x) -> cross-entropy of one sample",
    "dJ": "dJ(W, b, y_true, x) -> (dW, db)",
    "SGD": "SGD(f, df, Xs, ys, n_classes=10, lr=1e-3, max_epoch=20) -> (W, b)",
}


def _sample(seed: int):
    rng = np.random.default_rng(seed)
    W, b, x = rng.normal(size=(3, 5)), rng.normal(size=3), rng.normal(size=5)
    return W, b, np.eye(3)[1], x


def run_values(ns) -> dict:
    x = np.random.default_rng(0).normal(size=10) * 3
    return {"p": as_array(need(ns, "softmax")(x), "softmax")}


def run_large(ns) -> dict:
    x = np.random.default_rng(1).uniform(-800, 800, size=1000)  # logits of size 1000
    return {"p": as_array(need(ns, "softmax")(x), "softmax")}


def run_inputs(ns) -> dict:
    x = np.random.default_rng(2).normal(size=10) * 3
    need(ns, "softmax")(x)
    W, b, y, s = _sample(3)
    need(ns, "J")(W, b, y, s)
    need(ns, "dJ")(W, b, y, s)
    return {"softmax": x, "J and dJ": np.concatenate([W.ravel(), b, y, s])}


def run_loss(ns) -> dict:
    return {"J": as_number(need(ns, "J")(*_sample(4)), "J")}


def run_gradients(ns) -> dict:
    dW, db = unpack(need(ns, "dJ")(*_sample(5)), 2, "dJ")
    return {"dW": as_array(dW, "dJ's dW"), "db": as_array(db, "dJ's db")}


def run_sgd(ns) -> dict:
    from funml.check.reference import softmax as reference

    # Features that are all zero leave only the bias to learn: softmax(b) must approach
    # the class frequencies 0.5, 0.3, 0.2.
    ys = np.repeat([0, 1, 2], [30, 18, 12])
    Xs = np.zeros((60, 2))
    out = need(ns, "SGD")(reference.J, reference.dJ, Xs, ys, n_classes=3, lr=0.1, max_epoch=20)
    W, b = unpack(out, 2, "SGD")
    b = as_array(b, "SGD's b").ravel()
    e = np.exp(b - b.max())
    return {"W": as_array(W, "SGD's W"), "p_bias": e / e.sum()}


def judge_values(got, want):
    close(got, want, "p", "softmax of 10 scores", rtol=1e-6)


def judge_large(got, want):
    close(got, want, "p", "softmax of 1000 logits in [-800, 800]", rtol=1e-6, atol=1e-12)


def judge_inputs(got, want):
    for key in ("softmax", "J and dJ"):
        if not np.array_equal(same_shape(got, want, key, f"{key}'s arguments"), want[key]):
            raise Fail(f"{key} changed its arguments in place; work on a copy (x = x - x.max()).")


def judge_loss(got, want):
    close(got, want, "J", "J, the cross-entropy of one sample", rtol=1e-6)


def judge_gradients(got, want):
    close(
        got,
        want,
        "dW",
        "dJ's dW, compared with the finite-difference gradient,",
        rtol=1e-5,
        atol=1e-8,
    )
    close(
        got,
        want,
        "db",
        "dJ's db, compared with the finite-difference gradient,",
        rtol=1e-5,
        atol=1e-8,
    )


def judge_sgd(got, want):
    same_shape(got, want, "W", "SGD's W")
    close(got, want, "p_bias", "After SGD on zero features, softmax(b)", rtol=0, atol=0.05)


CHECKS = (
    Check("softmax-values", "softmax of a 1-d array", run_values, judge_values),
    Check(
        "softmax-large-logits",
        "softmax of 1000 logits in [-800, 800] stays finite",
        run_large,
        judge_large,
    ),
    Check(
        "softmax-input-unchanged",
        "softmax, J and dJ leave their arguments unchanged",
        run_inputs,
        judge_inputs,
    ),
    Check("softmax-loss", "J is -Σ y·log softmax(W x + b)", run_loss, judge_loss),
    Check(
        "softmax-gradients",
        "dJ equals the finite-difference gradient of J",
        run_gradients,
        judge_gradients,
    ),
    Check(
        "softmax-sgd-bias",
        "SGD learns the bias (class frequencies on zero features)",
        run_sgd,
        judge_sgd,
    ),
)
