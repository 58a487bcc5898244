"""Buggy variants of the course's softmax-regression functions."""

import numpy as np


def J_missing_log(W, b, y_true, x):
    """−Σ y·softmax(u): the log is missing."""
    u = W @ x + b
    e = np.exp(u - np.max(u))
    return -np.sum(y_true * e / e.sum())


def dJ_sign_flipped(W, b, y_true, x):
    """(y − p) xᵀ: the gradient of −J, so descent climbs."""
    u = W @ x + b
    e = np.exp(u - np.max(u))
    dz = y_true - e / e.sum()
    return np.outer(dz, x), dz


def SGD_bias_assigned(f, df, Xs, ys, n_classes=10, lr=1e-3, max_epoch=20):
    """b = lr * db: the bias is overwritten by the last step instead of descending."""
    Xs = np.asarray(Xs, dtype=np.float64)
    W = np.zeros((n_classes, Xs.shape[1]))
    b = np.zeros(n_classes)
    targets = np.eye(n_classes)[np.asarray(ys)]
    for _ in range(max_epoch):
        for x, t in zip(Xs, targets, strict=True):
            dW, db = df(W, b, t, x)
            W = W - lr * dW
            b = lr * db
    return W, b


def softmax_mutates_input(x):
    """x -= max(x) changes the caller's array."""
    x -= np.max(x)
    e = np.exp(x)
    return e / e.sum()


def softmax_overflow(x):
    """exp of large scores overflows to inf, and inf / inf is nan."""
    e = np.exp(x)
    return e / e.sum()
