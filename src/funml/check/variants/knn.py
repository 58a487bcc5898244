"""Buggy ``KNNClassifier`` variants."""

import numpy as np


class KNNUint8Overflow:
    """Distances on the raw pixels: for uint8 input, the difference and its square wrap."""

    def __init__(self, num_neighbors):
        self.num_neighbors = num_neighbors

    def fit(self, X, y):
        self.X, self.y = np.asarray(X), np.asarray(y)
        return self

    def predict(self, X):
        X = np.asarray(X)
        d = ((X[:, None] - self.X[None]) ** 2).sum(-1)  # uint8 - uint8 wraps around
        nearest = np.argsort(d, axis=1, kind="stable")[:, : self.num_neighbors]
        return np.array([np.bincount(votes).argmax() for votes in self.y[nearest]])


class KNNMutatesInput:
    """Scales the caller's training array in place."""

    def __init__(self, num_neighbors):
        self.num_neighbors = num_neighbors

    def fit(self, X, y):
        X /= 255.0  # changes the caller's array
        self.X, self.y = X, np.asarray(y)
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=np.float64) / 255.0
        d = ((X[:, None] - self.X[None]) ** 2).sum(-1)
        nearest = np.argsort(d, axis=1, kind="stable")[:, : self.num_neighbors]
        return np.array([np.bincount(votes).argmax() for votes in self.y[nearest]])
