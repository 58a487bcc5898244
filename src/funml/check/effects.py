"""Each catalogued bug's effect on real data: the number its variant gives next to the fix.

``measure(bug, dataset="digits")`` runs the bug's variant and funml's reference (both in the
course's signatures, both funml's own code) on the same split of a named data set and
returns an :class:`Effect`: the metric, the buggy and the fixed number, and what the
course reported where it did. The ``bugs`` experiment calls it for the report; it never
runs a student's code. Digits (offline) takes about a second per bug; MNIST and
Fashion-MNIST use their first ``n_train`` and ``n_test`` images. The data set may be given
by name or as a loaded :class:`~funml.data.dataset.ImageDataset`.

Where the measure trains a model epoch by epoch, :attr:`Effect.buggy_by_epoch` and
:attr:`Effect.fixed_by_epoch` hold the metric after each epoch (the last is the number).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np

from funml.check.catalogue import Bug, reference_namespace, variant_namespace


@dataclass(frozen=True)
class Effect:
    """A measured effect: ``metric`` is ``buggy`` with the bug and ``fixed`` without it."""

    bug: str
    topic: str
    metric: str
    buggy: float
    fixed: float
    unit: str
    data: str
    reported: str | None = None
    buggy_by_epoch: tuple[float, ...] = ()
    fixed_by_epoch: tuple[float, ...] = ()

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class _Data:
    name: str
    x_train: np.ndarray  # (n, k) uint8 pixels 0..255
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_data(dataset="digits", n_train: int = 5000, n_test: int = 1000) -> _Data:
    """Flattened uint8 pixels in 0..255 (Digits' 0..16 are scaled by 16, as MNIST's are).

    ``dataset`` is a name or a loaded :class:`~funml.data.dataset.ImageDataset`.
    """
    from funml.data import load_dataset

    ds = load_dataset(dataset) if isinstance(dataset, str) else dataset
    scale = 16 if ds.name == "digits" else 1
    xs = [
        np.clip(s.images[:n].reshape(min(n, len(s)), -1).astype(np.int64) * scale, 0, 255)
        for s, n in ((ds.train, n_train), (ds.test, n_test))
    ]
    return _Data(
        ds.name,
        xs[0].astype(np.uint8),
        np.asarray(ds.train.labels[:n_train]),
        xs[1].astype(np.uint8),
        np.asarray(ds.test.labels[:n_test]),
    )


def measure(bug: Bug, dataset="digits", n_train: int = 5000, n_test: int = 1000) -> Effect:
    """Measure ``bug``'s effect on ``dataset`` (a name or an ImageDataset); see the module
    docstring."""
    data = load_data(dataset, n_train, n_test)
    metric, unit, fn = MEASURES[bug.topic, bug.id]
    with _one_thread() if bug.topic == "loops" else nullcontext():
        buggy = _by_epoch(fn(variant_namespace(bug), data))
        fixed = _by_epoch(fn(reference_namespace(bug.topic), data))
    return Effect(
        bug.id,
        bug.topic,
        metric,
        buggy[-1],
        fixed[-1],
        unit,
        data.name,
        bug.reported,
        buggy if len(buggy) > 1 else (),
        fixed if len(fixed) > 1 else (),
    )


def _by_epoch(value) -> tuple[float, ...]:
    """A measure's number, or its numbers after each epoch, as a tuple of floats."""
    return tuple(float(v) for v in np.atleast_1d(value))


# ---- knn --------------------------------------------------------------------------------


def _knn_accuracy(ns, d: _Data) -> float:
    model = ns["KNNClassifier"](3).fit(d.x_train, d.y_train)
    # Chunks of queries keep a (chunk, n_train, k) difference array small.
    pred = np.concatenate(
        [model.predict(d.x_test[i : i + 25]) for i in range(0, len(d.x_test), 25)]
    )
    return np.mean(pred == d.y_test)


def _knn_mutation(ns, d: _Data) -> float:
    x = d.x_train.astype(np.float64)
    before = x.copy()
    ns["KNNClassifier"](3).fit(x, d.y_train)
    return np.mean(x != before)


# ---- softmax regression -----------------------------------------------------------------


def _features(d: _Data) -> tuple[np.ndarray, np.ndarray]:
    return d.x_train / 255.0, d.x_test / 255.0


def _train_softmax(ns, d: _Data, J=None, dJ=None) -> tuple[np.ndarray, np.ndarray]:
    x_train, _ = _features(d)
    return ns["SGD"](J or ns["J"], dJ or ns["dJ"], x_train, d.y_train, 10, 0.01, 5)


def _softmax_bias_size(ns, d: _Data) -> float:
    _, b = _train_softmax(ns, d)
    return np.max(np.abs(b))


def _softmax_accuracy(ns, d: _Data) -> float:
    W, b = _train_softmax(ns, d)
    _, x_test = _features(d)
    return np.mean(np.argmax(x_test @ W.T + b, axis=1) == d.y_test)


def _softmax_reported_loss(ns, d: _Data) -> float:
    reference = reference_namespace("softmax")
    W, b = _train_softmax(reference, d)
    _, x_test = _features(d)
    t = np.eye(10)[d.y_test]
    return np.mean([ns["J"](W, b, ti, xi) for ti, xi in zip(t, x_test, strict=True)])


def _softmax_nan_share(ns, d: _Data) -> float:
    W, b = _train_softmax(reference_namespace("softmax"), d)
    scores = d.x_test.astype(np.float64) @ W.T * 10 + b  # raw 0..255 pixels: large scores
    with np.errstate(all="ignore"):
        return np.mean([np.isnan(ns["softmax"](s)).any() for s in scores])


def _softmax_mutation(ns, d: _Data) -> float:
    W, b = _train_softmax(reference_namespace("softmax"), d)
    _, x_test = _features(d)
    scores = x_test @ W.T + b
    before = scores.copy()
    for s in scores:
        ns["softmax"](s)
    return np.mean(scores != before)


# ---- mlp ----------------------------------------------------------------------------------


def _mlp_scores(d: _Data) -> np.ndarray:
    rng = np.random.default_rng(0)
    return d.x_test.astype(np.float64) @ rng.normal(size=(d.x_test.shape[1], 10))  # large


def _mlp_nan_share(ns, d: _Data) -> float:
    with np.errstate(all="ignore"):
        return np.mean(np.isnan(ns["softmax"](_mlp_scores(d))).any(axis=1))


def _mlp_mutation(ns, d: _Data) -> float:
    scores = _mlp_scores(d)
    before = scores.copy()
    with np.errstate(all="ignore"):
        ns["softmax"](scores)
    return np.mean(scores != before)


def _mlp_row_sum(ns, d: _Data) -> float:
    return np.mean(ns["softmax"](_mlp_scores(d) / 1000).sum(axis=1))


def _course_back_prop(ns):
    """back_prop as the course wrote it, from ``output``: the reference's rule, or the
    namespace's own when the bug is in back_prop."""
    reference = reference_namespace("mlp")
    if ns["back_prop"] is not reference["back_prop"]:
        return ns["back_prop"]
    sigmoid_prime = reference["sigmoid_prime"]

    def back_prop(output, batch_y, hidden_layers, weights, batch_size, lr):
        delta = (output - batch_y) / batch_size
        new = [w.copy() for w in weights]
        for i in range(len(weights) - 1, -1, -1):
            new[i] = weights[i] - lr * hidden_layers[i].T @ delta
            if i > 0:
                delta = (delta @ weights[i].T) * sigmoid_prime(hidden_layers[i])
        return new

    return back_prop


def _train_mlp(ns, d: _Data, epochs: int = 10, after_epoch=None) -> list[np.ndarray]:
    x, _ = _features(d)
    t = np.eye(10)[d.y_train]
    sizes, batch = [x.shape[1], 32, 10], 8
    weights = reference_namespace("mlp")["init_weights"](sizes, fix_seed=True)
    back_prop = _course_back_prop(ns)
    for _ in range(epochs):
        for i in range(0, len(x) - batch + 1, batch):
            layers = ns["init_layers"](batch, sizes)
            output, layers = ns["feed_forward"](x[i : i + batch], layers, weights)
            weights = back_prop(output, t[i : i + batch], layers, weights, batch, 1.0)
        if after_epoch is not None:
            after_epoch(weights)
    return weights


def _mlp_train_loss(ns, d: _Data) -> list[float]:
    """The mean training loss after each of 10 epochs."""
    x, _ = _features(d)
    losses = []

    def record(weights):
        layers = ns["init_layers"](len(x), [x.shape[1], 32, 10])
        output, _ = ns["feed_forward"](x, layers, weights)
        losses.append(-np.mean(np.log(output[np.arange(len(x)), d.y_train])))

    _train_mlp(ns, d, after_epoch=record)
    return losses


def _mlp_accuracy(ns, d: _Data) -> float:
    weights = _train_mlp(ns, d)
    _, x = _features(d)
    output, _ = reference_namespace("mlp")["feed_forward"](x, None, weights)
    return np.mean(np.argmax(output, axis=1) == d.y_test)


def _mlp_first_layer_update(ns, d: _Data) -> float:
    """Relative error of the layer-1 update of one step, against the reference's."""
    reference = reference_namespace("mlp")
    x, _ = _features(d)
    x, t = x[:64], np.eye(10)[d.y_train[:64]]
    weights = _train_mlp(reference, d, epochs=1)
    output, layers = reference["feed_forward"](x, None, weights)
    right = reference["back_prop"](output, t, layers, weights, 64, 1.0)[0] - weights[0]
    got = ns["back_prop"](output, t, layers, weights, 64, 1.0)[0] - weights[0]
    return np.linalg.norm(got - right) / np.linalg.norm(right)


def _mlp_seed_difference(ns, d: _Data) -> float:
    """Share of the weights that differ between two inits with ``fix_seed=True`` (a share,
    not the size of the difference: unseeded draws differ by a different amount each run)."""
    sizes = [d.x_train.shape[1], 32, 10]
    a, b = ns["init_weights"](sizes, fix_seed=True), ns["init_weights"](sizes, fix_seed=True)
    return np.mean(np.concatenate([(u != v).ravel() for u, v in zip(a, b, strict=True)]))


# ---- conv2d, graph ---------------------------------------------------------------------


def _conv_difference(ns, d: _Data) -> float:
    import torch

    side = int(np.sqrt(d.x_test.shape[1]))
    x = (d.x_test[:16] / 255.0).reshape(16, 1, side, side)
    sobel = np.array([[[[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]]])
    want = torch.conv2d(torch.from_numpy(x), torch.from_numpy(sobel)).numpy()
    return float(np.max(np.abs(ns["my_convolution"](x, sobel) - want)))


def _graph_gradient(ns, d: _Data) -> float:
    return ns["graph_answers"]()["de_dw1"]


# ---- loops --------------------------------------------------------------------------------


# The trained state of the loops' model, by a digest of its data: the five loops bugs
# evaluate the same trained model, so it is trained once per data set.
_TRAINED: dict[str, dict] = {}


def _torch_setup(d: _Data):
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    x_train, x_test = (torch.tensor(a, dtype=torch.float32) for a in _features(d))
    train = DataLoader(TensorDataset(x_train, torch.tensor(d.y_train)), 32, shuffle=False)
    # Batches of 300: the last one is smaller (100 of 1000 test images).
    test = DataLoader(TensorDataset(x_test, torch.tensor(d.y_test)), batch_size=300)
    k = x_train.shape[1]
    model = nn.Sequential(nn.Linear(k, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 10))
    reference = reference_namespace("loops")
    key = _digest(d)
    if key not in _TRAINED:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for epoch in range(1, 11):
            reference["train_one_epoch"](train, model, "cpu", optimizer, 10, epoch)
        _TRAINED[key] = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(_TRAINED[key])
    return model, test, reference


def _digest(d: _Data) -> str:
    h = hashlib.sha256()
    for a in (d.x_train, d.y_train, d.x_test, d.y_test):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


@contextmanager
def _one_thread():
    """Torch on one thread: the loops' model is tiny, and extra threads only wait on a
    busy machine (ten times slower on two shared cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _loops_after_buggy_eval(ns, d: _Data) -> float:
    """Test accuracy measured cleanly after one evaluation by ``ns``'s test_one_epoch."""
    model, test, reference = _torch_setup(d)
    ns["test_one_epoch"](test, model, "cpu")
    return reference["test_one_epoch"](test, model, "cpu")[1] / len(test.dataset)


def _loops_loss(ns, d: _Data) -> float:
    import torch

    model, test, _ = _torch_setup(d)
    torch.manual_seed(1)
    return ns["test_one_epoch"](test, model, "cpu")[0]


def _loops_gallery_wrong_share(ns, d: _Data) -> float:
    """Share of the shown 'misclassified' images that the model classifies correctly."""
    import torch

    model, test, _ = _torch_setup(d)
    indices = ns["misclassified_images"](test, model, "cpu", 20)
    model.eval()
    with torch.no_grad():
        pred = model(test.dataset.tensors[0][indices]).argmax(dim=1)
    return float(np.mean((pred == test.dataset.tensors[1][indices]).numpy()))


# ---- pca ----------------------------------------------------------------------------------


def _pca_error(ns, d: _Data) -> float:
    """Mean squared error of test images rebuilt from 10 components."""
    x_train, x_test = _features(d)
    xc, mean = ns["center"](x_train.copy())
    _, vectors = ns["eigen_decomposition"](ns["covariance"](xc))
    z = ns["project"](x_test, mean, vectors, 10)
    return np.mean((ns["reconstruct"](z, mean, vectors) - x_test) ** 2)


def _pca_mutation(ns, d: _Data) -> float:
    x, _ = _features(d)
    before = x.copy()
    ns["center"](x)
    return np.mean(x != before)


MEASURES: dict[tuple[str, str], tuple[str, str, Callable]] = {
    ("knn", "uint8-overflow"): ("KNN test accuracy (k=3, uint8 pixels)", "fraction", _knn_accuracy),
    ("knn", "input-mutated"): ("training pixels changed by fit", "fraction", _knn_mutation),
    ("softmax", "loss-missing-log"): ("mean test loss J reported", "nats", _softmax_reported_loss),
    ("softmax", "bias-assigned"): ("largest |b| after SGD", "", _softmax_bias_size),
    ("softmax", "input-mutated"): ("test scores changed by softmax", "fraction", _softmax_mutation),
    ("softmax", "softmax-overflow"): (
        "test samples whose softmax is nan (0..255 pixels)",
        "fraction",
        _softmax_nan_share,
    ),
    ("softmax", "gradient-sign"): ("test accuracy after SGD", "fraction", _softmax_accuracy),
    ("mlp", "softmax-overflow"): ("test rows whose softmax is nan", "fraction", _mlp_nan_share),
    ("mlp", "input-mutated"): ("test scores changed by softmax", "fraction", _mlp_mutation),
    ("mlp", "softmax-wrong-axis"): ("mean sum of a row's probabilities", "", _mlp_row_sum),
    ("mlp", "sigmoid-before-softmax"): ("training loss after 10 epochs", "nats", _mlp_train_loss),
    ("mlp", "backprop-updated-weights"): (
        "relative error of the layer-1 update",
        "fraction",
        _mlp_first_layer_update,
    ),
    ("mlp", "output-delta-sigmoid-prime"): (
        "test accuracy after 10 epochs",
        "fraction",
        _mlp_accuracy,
    ),
    ("mlp", "unseeded-init"): (
        "weights that differ between two seeded inits",
        "fraction",
        _mlp_seed_difference,
    ),
    ("conv2d", "kernel-flipped"): (
        "largest difference from torch.conv2d (Sobel)",
        "",
        _conv_difference,
    ),
    ("graph", "graph-gradient-at-target"): ("de/dw1", "", _graph_gradient),
    ("loops", "eval-updates-weights"): (
        "test accuracy after one evaluation",
        "fraction",
        _loops_after_buggy_eval,
    ),
    ("loops", "eval-one-batch"): ("test loss reported", "nats", _loops_loss),
    ("loops", "eval-mean-of-batch-means"): ("test loss reported", "nats", _loops_loss),
    ("loops", "eval-train-mode"): ("test loss reported", "nats", _loops_loss),
    ("pca", "centred-by-global-mean"): ("test reconstruction error, 10 components", "", _pca_error),
    ("pca", "input-mutated"): ("training pixels changed by center", "fraction", _pca_mutation),
    ("pca", "eigenvalues-ascending"): ("test reconstruction error, 10 components", "", _pca_error),
    ("pca", "eigenvector-rows"): ("test reconstruction error, 10 components", "", _pca_error),
    ("pca", "reconstruct-without-mean"): (
        "test reconstruction error, 10 components",
        "",
        _pca_error,
    ),
    ("loops", "wrong-index-gallery"): (
        "shown 'misclassified' images that are right",
        "fraction",
        _loops_gallery_wrong_share,
    ),
}
