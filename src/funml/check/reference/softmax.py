"""The course's softmax regression functions, backed by :mod:`funml.scratch.softmax`.

W has shape (classes, features), b (classes,), x is one sample (features,) and y_true its
one-hot target (classes,).
"""

import numpy as np

from funml.scratch.softmax import softmax as _softmax_rows
from funml.scratch.softmax import softmax_gradients as _gradients
from funml.scratch.softmax import softmax_loss as _loss


def softmax(x):
    """Softmax of a 1-d array of scores, safe for large scores."""
    return _softmax_rows(np.asarray(x, dtype=np.float64)[None, :])[0]


def J(W, b, y_true, x):
    """Cross-entropy -Σ y_true · log softmax(W x + b) of one sample."""
    return _loss(W, b, np.asarray(x)[None, :], np.asarray(y_true)[None, :])


def dJ(W, b, y_true, x):
    """Gradients (dW, db) of :func:`J`, of shapes (classes, features) and (classes,)."""
    return _gradients(W, b, np.asarray(x)[None, :], np.asarray(y_true)[None, :])


def SGD(f, df, Xs, ys, n_classes=10, lr=1e-3, max_epoch=20):
    """Per-sample gradient descent from zeros, in the data's order; return (W, b)."""
    Xs = np.asarray(Xs, dtype=np.float64)
    W = np.zeros((n_classes, Xs.shape[1]))
    b = np.zeros(n_classes)
    targets = np.eye(n_classes)[np.asarray(ys)]
    for _ in range(max_epoch):
        for x, t in zip(Xs, targets, strict=True):
            dW, db = df(W, b, t, x)
            W = W - lr * dW
            b = b - lr * db
    return W, b
