"""The course's ``KNNClassifier(num_neighbors)``, backed by :class:`funml.scratch.KNNClassifier`."""

import numpy as np

from funml.scratch.knn import KNNClassifier as _ScratchKNN


class KNNClassifier:
    """k-nearest-neighbour classifier with the course's interface.

    Parameters
    ----------
    num_neighbors : int
    """

    def __init__(self, num_neighbors):
        self.num_neighbors = num_neighbors

    def fit(self, X, y):
        """Store X of shape (N, k) and labels y of shape (N,); return self."""
        self._model = _ScratchKNN(n_neighbors=self.num_neighbors).fit(np.asarray(X), y)
        return self

    def predict(self, X):
        """Labels of shape (M,) for X of shape (M, k)."""
        return self._model.predict(np.asarray(X))
