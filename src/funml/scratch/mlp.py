"""The course's from-scratch multilayer perceptron: sigmoid hidden layers, softmax output.

One training step, in the functions a reader can call one at a time::

    weights = init_weights([n_features, 128, n_classes], bias=False, rng=rng)
    zs, activations = feed_forward(weights, x)        # pre-activations and activations
    grads = back_prop(weights, zs, activations, t)    # one gradient per weight matrix
    weights = [w - lr * g for w, g in zip(weights, grads)]

Layer l computes z_l = a_{l-1} W_l (with a column of ones appended to a_{l-1} when
``bias=True``); hidden layers output a_l = sigmoid(z_l) and the last outputs
p = softmax(z_L). With the cross-entropy loss, the gradient at the logits z_L is p - t.
"""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, validate_data

from funml.scratch._validation import check_float, check_int, check_rng
from funml.scratch.softmax import cross_entropy, softmax
from funml.timing import timer


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + e^-z), written with tanh so no exp overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """Derivative of the sigmoid at the pre-activation ``z``: σ(z) (1 - σ(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def init_weights(
    layer_sizes,
    bias: bool = False,
    rng: int | np.random.Generator | np.random.RandomState | None = None,
) -> list[np.ndarray]:
    """Draw every weight uniformly from [-1, 1], as the course did.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_features, *hidden_layer_sizes, n_classes]``.
    bias : bool, default=False
        If True, each matrix gets an extra last row: the weights of the ones column.
    rng : int, numpy Generator, RandomState or None, default=None
        A Generator or RandomState is drawn from; anything else seeds a new Generator.

    Returns
    -------
    weights : list of ndarray, layer l of shape (layer_sizes[l] + bias, layer_sizes[l + 1])
    """
    if not isinstance(rng, np.random.Generator | np.random.RandomState):
        rng = np.random.default_rng(rng)
    return [
        rng.uniform(-1.0, 1.0, size=(n_in + int(bias), n_out))
        for n_in, n_out in itertools.pairwise(layer_sizes)
    ]


def feed_forward(
    weights: list[np.ndarray], x: np.ndarray, bias: bool = False
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Run a batch through the network.

    Parameters
    ----------
    weights : list of ndarray, from :func:`init_weights`
    x : ndarray of shape (n, n_features)
    bias : bool, default=False
        Must match how the weights were made.

    Returns
    -------
    zs : list of ndarray
        Pre-activations of each layer; ``zs[-1]`` are the logits, shape (n, n_classes).
    activations : list of ndarray
        ``activations[0]`` is ``x``; hidden layers are sigmoids; ``activations[-1]`` is
        the softmax of the logits (class probabilities), never a sigmoid.
    """
    zs, activations = [], [x]
    for layer, w in enumerate(weights):
        z = _with_ones(activations[-1], bias) @ w
        last = layer == len(weights) - 1
        zs.append(z)
        activations.append(softmax(z) if last else sigmoid(z))
    return zs, activations


def back_prop(
    weights: list[np.ndarray],
    zs: list[np.ndarray],
    activations: list[np.ndarray],
    t: np.ndarray,
    bias: bool = False,
) -> list[np.ndarray]:
    """Gradients of the batch-mean cross-entropy with respect to every weight matrix.

    Parameters
    ----------
    weights, zs, activations : as from :func:`init_weights` and :func:`feed_forward`
    t : ndarray of shape (n, n_classes), one-hot targets
    bias : bool, default=False

    Returns
    -------
    grads : list of ndarray, shaped like ``weights``
    """
    delta = (activations[-1] - t) / len(t)  # dJ/dz at the logits: p - t, batch mean
    grads = [None] * len(weights)
    for layer in range(len(weights) - 1, -1, -1):
        grads[layer] = _with_ones(activations[layer], bias).T @ delta
        if layer > 0:
            w = weights[layer][:-1] if bias else weights[layer]  # the ones column has no input
            delta = (delta @ w.T) * sigmoid_prime(zs[layer - 1])
    return grads


def _with_ones(a: np.ndarray, bias: bool) -> np.ndarray:
    return np.hstack([a, np.ones((len(a), 1), dtype=a.dtype)]) if bias else a


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """The course's multilayer perceptron, with the output layer done correctly.

    Hidden layers are sigmoids; the output layer is a softmax of the logits, trained with
    cross-entropy by minibatch gradient descent.

    Why not sigmoid-then-softmax at the output, as the course code did: squashing the
    logits into (0, 1) before the softmax caps how confident the network can be. With
    10 classes the largest probability it can give is e / (e + 9) ≈ 0.23, so the loss
    stays near log(10) even when every prediction is right, and its gradient never
    vanishes. The tidy gradient p - t holds at the softmax's inputs only; through the
    extra sigmoid it gains a factor σ'(z) ≤ 1/4 that shrinks towards 0 for confident
    units, so learning is slow where it should be decisive. Softmax directly on the
    logits gives calibrated probabilities and the exact gradient p - t.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(128,)
    lr : float, default=1.0
        Learning rate on the batch-mean gradient.
    batch_size : int, default=8
    epochs : int, default=25
    random_state : int, Generator, RandomState instance or None, default=None
        Seeds the initial weights and the shuffling, as in scikit-learn: an int makes
        ``fit`` repeatable; None draws from NumPy's global random state.
    bias : bool, default=False
        Append a column of ones to each layer's input (the course's bias option).

    Attributes
    ----------
    weights_ : list of ndarray
        Layer l has shape (n_in + bias, n_out).
    classes_ : ndarray of shape (n_classes,)
    history_ : dict of str to list of float
        Per epoch: ``train_loss``, ``train_accuracy``, ``val_loss``, ``val_accuracy``
        (NaN without validation data) and ``seconds`` (training time of the epoch), like
        the course's ``MLP.train``.
    n_features_in_ : int
    """

    def __init__(
        self,
        hidden_layer_sizes=(128,),
        lr=1.0,
        batch_size=8,
        epochs=25,
        random_state=None,
        bias=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.random_state = random_state
        self.bias = bias

    def fit(self, X, y, X_val=None, y_val=None):
        """Train on ``X`` (n_samples, n_features) and ``y``; report on (X_val, y_val) too.

        Returns
        -------
        self : MLPClassifier
        """
        hidden = _check_layer_sizes(self.hidden_layer_sizes)
        lr = check_float("lr", self.lr)
        batch_size = check_int("batch_size", self.batch_size)
        epochs = check_int("epochs", self.epochs)
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        if (X_val is None) != (y_val is None):
            raise ValueError("Pass both X_val and y_val, or neither.")
        if X_val is not None:
            check_consistent_length(X_val, y_val)
        self.classes_, labels = np.unique(y, return_inverse=True)
        t = np.eye(len(self.classes_))[labels]  # (n, n_classes) one-hot
        rng = check_rng(self.random_state)
        weights = init_weights([X.shape[1], *hidden, len(self.classes_)], self.bias, rng)
        self.history_ = {k: [] for k in _HISTORY_KEYS}
        for _ in range(epochs):
            with timer() as epoch_time:
                order = rng.permutation(len(X))
                xs, ts = X[order], t[order]
                for start in range(0, len(X), batch_size):
                    batch = slice(start, start + batch_size)
                    zs, activations = feed_forward(weights, xs[batch], self.bias)
                    grads = back_prop(weights, zs, activations, ts[batch], self.bias)
                    for w, g in zip(weights, grads, strict=True):
                        w -= lr * g
            self.weights_ = weights
            self._record_epoch(X, y, X_val, y_val, epoch_time.seconds)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Return class probabilities of shape (n_samples, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return feed_forward(self.weights_, X, self.bias)[1][-1]

    def predict(self, X) -> np.ndarray:
        """Return the most probable class of each row of ``X``."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def _loss_and_accuracy(self, X, y) -> tuple[float, float]:
        logits = feed_forward(self.weights_, X, self.bias)[0][-1]
        known = np.isin(y, self.classes_)
        t = (y[:, None] == self.classes_).astype(np.float64)  # unknown labels: all zeros
        loss = cross_entropy(logits[known], t[known]) if known.any() else np.nan
        accuracy = np.mean(self.classes_[np.argmax(logits, axis=1)] == y)
        return loss, float(accuracy)

    def _record_epoch(self, X, y, X_val, y_val, seconds: float) -> None:
        train_loss, train_accuracy = self._loss_and_accuracy(X, y)
        val_loss = val_accuracy = np.nan
        if X_val is not None:
            x_val = validate_data(self, X_val, dtype=np.float64, reset=False)
            val_loss, val_accuracy = self._loss_and_accuracy(x_val, np.asarray(y_val))
        for key, value in zip(
            _HISTORY_KEYS,
            (train_loss, train_accuracy, val_loss, val_accuracy, seconds),
            strict=True,
        ):
            self.history_[key].append(value)


_HISTORY_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")


def _check_layer_sizes(sizes) -> tuple[int, ...]:
    if isinstance(sizes, int):
        sizes = (sizes,)
    try:
        return tuple(check_int("hidden_layer_sizes", s) for s in sizes)
    except (TypeError, ValueError):
        raise ValueError(
            f"hidden_layer_sizes must be a tuple of integers >= 1, got {sizes!r}."
        ) from None
