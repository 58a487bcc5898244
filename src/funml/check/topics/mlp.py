"""Topic ``mlp``: the course's from-scratch multilayer perceptron functions.

``hidden_layers`` holds one array per entry of ``layer_sizes``: the input batch, each
hidden layer's sigmoid activations, and the softmax output. ``weights[i]`` has shape
(layer_sizes[i], layer_sizes[i + 1]); there are no biases. The loss is the batch-mean
cross-entropy, so ``back_prop`` steps by ``lr`` times its gradient, whose output error is
(output - batch_y) / batch_size.
"""

from __future__ import annotations

import itertools

import numpy as np

from funml.check.probe import (
    Check,
    Fail,
    ProbeError,
    as_array,
    close,
    get,
    need,
    same_shape,
    unpack,
)

REFERENCE = "funml.check.reference.mlp"
FUNCTIONS = {
    "sigmoid": "sigmoid(x)",
    "softmax": "softmax(x) of each row of an (N, dim) array",
    "init_layers": "init_layers(batch_size, layer_sizes) -> list of arrays",
    "init_weights": "init_weights(layer_sizes, fix_seed=False) -> list of (n_i, n_{i+1}) arrays",
    "feed_forward": "feed_forward(batch, hidden_layers, weights) -> (output, hidden_layers)",
    "sigmoid_prime": "sigmoid_prime(sigmoid_out)",
    "back_prop": "back_prop(output, batch_y, hidden_layers, weights, batch_size, lr) -> weights",
}
SIZES = [6, 5, 3]  # n_features, one hidden layer, n_classes
BATCH = 8


def _network(seed: int):
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-1, 1, size=(a, b)) * 2 for a, b in itertools.pairwise(SIZES)]
    batch = rng.normal(size=(BATCH, SIZES[0]))
    batch_y = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], size=BATCH)]
    return batch, batch_y, weights


def _list_of_arrays(value, what) -> list[np.ndarray]:
    try:
        items = list(value)
    except TypeError:
        raise ProbeError(
            f"{what} returned a {type(value).__name__}, not a list of arrays."
        ) from None
    return [as_array(a, what) for a in items]


def run_sigmoid(ns) -> dict:
    x = np.concatenate([np.linspace(-30, 30, 13), np.random.default_rng(0).normal(size=7)])
    return {"s": as_array(need(ns, "sigmoid")(x), "sigmoid")}


def run_sigmoid_prime(ns) -> dict:
    s = np.random.default_rng(1).uniform(0.01, 0.99, size=(4, 5))
    return {"ds": as_array(need(ns, "sigmoid_prime")(s), "sigmoid_prime")}


def run_softmax_rows(ns) -> dict:
    x = np.random.default_rng(2).normal(size=(4, 10)) * 3
    return {"p": as_array(need(ns, "softmax")(x), "softmax")}


def run_softmax_large(ns) -> dict:
    x = np.random.default_rng(3).uniform(-800, 800, size=(3, 1000))
    return {"p": as_array(need(ns, "softmax")(x), "softmax")}


def run_softmax_inputs(ns) -> dict:
    x = np.random.default_rng(4).normal(size=(4, 10)) * 3
    need(ns, "softmax")(x)
    return {"x": x}


def run_init(ns) -> dict:
    layers = _list_of_arrays(need(ns, "init_layers")(BATCH, SIZES), "init_layers")
    init_weights = need(ns, "init_weights")
    first = _list_of_arrays(init_weights(SIZES, fix_seed=True), "init_weights")
    second = _list_of_arrays(init_weights(SIZES, fix_seed=True), "init_weights")
    same = len(first) == len(second) and all(
        a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first, second, strict=True)
    )
    return {
        "layer_shapes": _shapes(layers),
        "n_layers": len(layers),
        "weight_shapes": _shapes(first),
        "n_weights": len(first),
        "seeded_equal": bool(same),
    }


def _shapes(arrays: list[np.ndarray]) -> np.ndarray:
    """(n, 2) array of the 2-d arrays' shapes; -1 rows for arrays that are not 2-d."""
    return np.array([a.shape if a.ndim == 2 else (-1, -1) for a in arrays], dtype=np.int64).reshape(
        -1, 2
    )


def run_feed_forward(ns) -> dict:
    batch, _, weights = _network(5)
    layers = [np.zeros((BATCH, n)) for n in SIZES]
    output, _ = unpack(need(ns, "feed_forward")(batch, layers, weights), 2, "feed_forward")
    return {"output": as_array(output, "feed_forward's output")}


def run_back_prop(ns) -> dict:
    from funml.check.reference import mlp as reference

    batch, batch_y, weights = _network(6)
    output, layers = reference.feed_forward(batch, reference.init_layers(BATCH, SIZES), weights)
    new = need(ns, "back_prop")(output, batch_y, layers, [w.copy() for w in weights], BATCH, 0.5)
    new = _list_of_arrays(new, "back_prop")
    if len(new) != len(weights):
        raise ProbeError(
            f"back_prop returned {len(new)} weight matrices where {len(weights)} were expected."
        )
    return {f"weights[{i}]": w for i, w in enumerate(new)}


def judge_init(got, want):
    if get(got, "n_layers") != want["n_layers"]:
        raise Fail(
            f"init_layers returned {get(got, 'n_layers')} arrays for {len(SIZES)} layer sizes."
        )
    if get(got, "n_weights") != want["n_weights"]:
        raise Fail(
            f"init_weights returned {get(got, 'n_weights')} matrices for {len(SIZES)} layer sizes."
        )
    for key, what in (
        ("layer_shapes", "init_layers' arrays"),
        ("weight_shapes", "init_weights' matrices"),
    ):
        g = same_shape(got, want, key, f"The shapes of {what}")
        if not np.array_equal(g, want[key]):
            raise Fail(
                f"The shapes of {what} are wrong for layer sizes {SIZES} and batch size {BATCH}."
            )
    if get(got, "seeded_equal") is not want["seeded_equal"]:
        raise Fail("init_weights(..., fix_seed=True) gave different weights on two calls; seed it.")


def judge_feed_forward(got, want):
    g = same_shape(got, want, "output", "feed_forward's output")
    if np.isfinite(g).all() and g.max() < 0.5 and want["output"].max() > 0.9:
        raise Fail("feed_forward's probabilities are capped far below 1 even for large logits.")
    close(got, want, "output", "feed_forward's output", rtol=1e-6)


def judge_back_prop(got, want):
    for key in want:
        close(got, want, key, f"The updated {key}", rtol=1e-6, atol=1e-9)


def _close_judge(key, what, **tol):
    def judge(got, want):
        close(got, want, key, what, **tol)

    return judge


def judge_softmax_inputs(got, want):
    if not np.array_equal(same_shape(got, want, "x", "softmax's argument"), want["x"]):
        raise Fail("softmax changed its argument in place; work on a copy (x = x - x.max(...)).")


CHECKS = (
    Check(
        "mlp-sigmoid",
        "sigmoid on [-30, 30]",
        run_sigmoid,
        _close_judge("s", "sigmoid", rtol=1e-6, atol=1e-12),
    ),
    Check(
        "mlp-sigmoid-prime",
        "sigmoid_prime from the sigmoid's output",
        run_sigmoid_prime,
        _close_judge("ds", "sigmoid_prime", rtol=1e-6),
    ),
    Check(
        "mlp-softmax-rows",
        "softmax of each row of a batch",
        run_softmax_rows,
        _close_judge("p", "softmax of a (4, 10) batch", rtol=1e-6),
    ),
    Check(
        "mlp-softmax-large-logits",
        "softmax of rows of 1000 logits in [-800, 800]",
        run_softmax_large,
        _close_judge("p", "softmax of rows of 1000 large logits", rtol=1e-6, atol=1e-12),
    ),
    Check(
        "mlp-softmax-input-unchanged",
        "softmax leaves its argument unchanged",
        run_softmax_inputs,
        judge_softmax_inputs,
    ),
    Check(
        "mlp-init",
        "init_layers and init_weights shapes; fix_seed repeats the weights",
        run_init,
        judge_init,
    ),
    Check(
        "mlp-feed-forward", "feed_forward's softmax output", run_feed_forward, judge_feed_forward
    ),
    Check(
        "mlp-back-prop",
        "one back_prop step equals gradient descent on the cross-entropy",
        run_back_prop,
        judge_back_prop,
    ),
)
