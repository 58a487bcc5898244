"""Softmax (multinomial logistic) regression trained by stochastic gradient descent.

The course's model: scores u = W x + b, probabilities p = softmax(u), and the
cross-entropy J = -Σ_c t_c log p_c against the one-hot target t. By hand,

    dJ/du = p - t,   so   dJ/dW = (p - t) xᵀ   and   dJ/db = p - t.

The course wrote this as (y - y') xᵀ with y the prediction and y' the target.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from funml.scratch._validation import check_float, check_int, check_rng


def softmax(u: np.ndarray) -> np.ndarray:
    """Row-wise softmax of scores ``u`` of shape (n, n_classes).

    Subtracting each row's maximum first changes nothing mathematically and keeps
    ``exp`` from overflowing.
    """
    e = np.exp(u - u.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(u: np.ndarray) -> np.ndarray:
    """Row-wise log of the softmax, computed without taking the log of a rounded 0."""
    shifted = u - u.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(u: np.ndarray, t: np.ndarray) -> float:
    """Mean cross-entropy of scores ``u`` (n, n_classes) against one-hot targets ``t``."""
    return float(-(t * log_softmax(u)).sum() / len(u))


def softmax_gradients(
    w: np.ndarray, b: np.ndarray, x: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Hand-derived gradients of the batch-mean cross-entropy.

    Parameters
    ----------
    w : ndarray of shape (n_classes, n_features)
    b : ndarray of shape (n_classes,)
    x : ndarray of shape (n, n_features)
    t : ndarray of shape (n, n_classes), one-hot targets

    Returns
    -------
    dw : ndarray of shape (n_classes, n_features), the batch mean of (p - t) xᵀ
    db : ndarray of shape (n_classes,), the batch mean of p - t
    """
    delta = (softmax(x @ w.T + b) - t) / len(x)  # (n, n_classes): dJ/du over the batch
    # np.dot, not @: for one sample this is an outer product, which matmul computes
    # without BLAS, several times slower.
    return np.dot(delta.T, x), delta.sum(axis=0)


def softmax_loss(w: np.ndarray, b: np.ndarray, x: np.ndarray, t: np.ndarray) -> float:
    """Mean cross-entropy of the model (w, b) on a batch; the function the gradients
    of :func:`softmax_gradients` belong to."""
    return cross_entropy(x @ w.T + b, t)


class SoftmaxRegression(ClassifierMixin, BaseEstimator):
    """Softmax regression trained by (minibatch) stochastic gradient descent.

    Parameters
    ----------
    lr : float, default=1e-3
        Learning rate: each step moves by ``lr`` times the batch-mean gradient.
    epochs : int, default=20
        Passes over the training data.
    batch_size : int, default=1
        1 is the course's per-sample SGD; larger batches are vectorised.
    random_state : int, Generator, RandomState instance or None, default=None
        Seeds the shuffling of the samples before each epoch, as in scikit-learn: an int
        makes ``fit`` repeatable; None draws from NumPy's global random state.

    Attributes
    ----------
    coef_ : ndarray of shape (n_classes, n_features)
        W, starting from zeros (the loss is convex, so no symmetry needs breaking).
    intercept_ : ndarray of shape (n_classes,)
        b.
    classes_ : ndarray of shape (n_classes,)
    loss_history_ : list of float
        Mean training cross-entropy after each epoch.
    n_features_in_ : int
    """

    def __init__(self, lr=1e-3, epochs=20, batch_size=1, random_state=None):
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_state = random_state

    def fit(self, X, y):
        """Train on ``X`` of shape (n_samples, n_features) and labels ``y``.

        Returns
        -------
        self : SoftmaxRegression
        """
        lr = check_float("lr", self.lr)
        epochs = check_int("epochs", self.epochs)
        batch_size = check_int("batch_size", self.batch_size)
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        t = np.eye(len(self.classes_))[labels]  # (n, n_classes) one-hot
        rng = check_rng(self.random_state)
        w = np.zeros((len(self.classes_), X.shape[1]))
        b = np.zeros(len(self.classes_))
        self.loss_history_ = []
        for _ in range(epochs):
            order = rng.permutation(len(X))
            xs, ts = X[order], t[order]  # one shuffled copy per epoch; batches are views
            for start in range(0, len(X), batch_size):
                batch = slice(start, start + batch_size)
                dw, db = softmax_gradients(w, b, xs[batch], ts[batch])
                w -= lr * dw
                b -= lr * db
            self.loss_history_.append(softmax_loss(w, b, X, t))
        self.coef_, self.intercept_ = w, b
        return self

    def decision_scores(self, X) -> np.ndarray:
        """Return the scores u = W x + b, of shape (n_samples, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_.T + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        """Return softmax probabilities of shape (n_samples, n_classes); columns follow
        ``classes_``."""
        return softmax(self.decision_scores(X))

    def predict(self, X) -> np.ndarray:
        """Return the most probable class of each row of ``X``."""
        scores = self.decision_scores(X)
        return self.classes_[np.argmax(scores, axis=1)]
