"""k-nearest-neighbour classification with exact neighbours.

``brute`` ranks the training points by squared Euclidean distance written as
``||a||² - 2 a·b + ||b||²``, with one matrix product per chunk of queries, so memory
stays bounded: a chunk holds (rows, n_train) numbers, never a
(queries, n_train, n_features) difference array. The k winners' distances are then
recomputed from their differences, which is exact for a query equal to a training point.
``kd_tree`` asks ``scipy.spatial.KDTree``.

Tie rule (documented, tested): neighbours are ranked by distance, then by label, then by
training index. So when several training points lie at exactly the k-th distance, the
ones with the smallest labels are taken; and when classes draw in the vote, the smallest
label wins. "Exactly" means equal computed distances; integer data such as uint8 pixels
is computed exactly in float64. scikit-learn breaks a vote draw the same way (``argmax``
picks the first class), but among points at the same distance it keeps the one it met
first, usually the smallest training index, whatever its label.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from funml.scratch._validation import check_int, check_option

# The arrays of one chunk of queries (ranking keys, winners' differences) hold at most
# about this many bytes.
CHUNK_BYTES = 128 * 2**20


class KNNClassifier(ClassifierMixin, BaseEstimator):
    """Classify by the labels of the k nearest training points.

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours that vote.
    weights : {'uniform', 'distance'}, default='uniform'
        ``'uniform'``: one vote each. ``'distance'``: a vote of 1 / distance; if a query
        coincides with training points, only those vote (as in scikit-learn).
    algorithm : {'brute', 'kd_tree'}, default='brute'
        ``'brute'``: chunked matrix products in NumPy. ``'kd_tree'``: ``scipy.spatial.KDTree``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The sorted class labels.
    n_features_in_ : int
        Number of features seen in ``fit``.
    n_samples_fit_ : int
        Number of training points.

    Notes
    -----
    Float32 input is computed in float32, about twice as fast; anything else (uint8 pixels
    included) in float64. Float32 rounding can swap neighbours whose distances differ by
    about 1e-6 relative, so pass float64 when results must match scikit-learn's exactly
    (``benchmarks/scratch.py`` counts the agreement of both). See the module docstring for
    the tie rule.
    """

    def __init__(self, n_neighbors=5, weights="uniform", algorithm="brute"):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm

    def fit(self, X, y):
        """Store the training points and their labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : KNNClassifier
        """
        k = check_int("n_neighbors", self.n_neighbors)
        check_option("weights", self.weights, ("uniform", "distance"))
        check_option("algorithm", self.algorithm, ("brute", "kd_tree"))
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        if k > len(X):
            raise ValueError(
                f"n_neighbors={k} must be at most the number of training samples, but got "
                f"n_samples={len(X)}; lower n_neighbors or add data."
            )
        self.classes_, self._labels = np.unique(y, return_inverse=True)
        self.n_samples_fit_ = len(X)
        if self.algorithm == "kd_tree":
            from scipy.spatial import KDTree

            self._tree = KDTree(X)
        else:
            # Rank by ||b||² - 2 a·b: ||a||² is the same for every b, so ranking does not
            # need it. The training side is stored as [b, ||b||²] so that one matrix product
            # [-2a, 1] @ [b, ||b||²]ᵀ gives the whole ranking key, with no pass to add norms.
            sq_norms = np.einsum("ij,ij->i", X, X)
            self._train_aug = np.hstack([X, sq_norms[:, None]])  # (n_train, n_features + 1)
        return self

    def kneighbors(self, X, n_neighbors=None, return_distance=True):
        """Find the nearest training points of each query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
        n_neighbors : int, default=None
            Defaults to the ``n_neighbors`` given at construction.
        return_distance : bool, default=True

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors)
            Euclidean distances, nearest first (only if ``return_distance``).
        indices : ndarray of shape (n_queries, n_neighbors)
            Row indices into the training data, in the same order.
        """
        check_is_fitted(self)
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        k = check_int("n_neighbors", k, high=self.n_samples_fit_)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        if self.algorithm == "kd_tree":
            sq_dist, idx = self._kd_tree_kneighbors(X, k)
        else:
            sq_dist, idx = self._brute_kneighbors(X, k)
        return (np.sqrt(sq_dist), idx) if return_distance else idx

    def predict_proba(self, X):
        """Return the share of the (weighted) vote each class gets.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes)
            Columns follow ``classes_``; rows sum to 1.
        """
        votes = self._votes(X)
        return votes / votes.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Return the class with the largest (weighted) vote; draws go to the smallest label.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        y : ndarray of shape (n_queries,)
        """
        votes = self._votes(X)
        return self.classes_[np.argmax(votes, axis=1)]

    def _votes(self, X) -> np.ndarray:
        dist, idx = self.kneighbors(X)  # (m, k) each
        labels = self._labels[idx]
        if self.weights == "uniform":
            w = np.ones(dist.shape)
        else:
            exact = dist == 0
            with np.errstate(divide="ignore"):
                w = np.where(exact.any(axis=1, keepdims=True), exact, 1.0 / dist)
        m, n_classes = labels.shape[0], len(self.classes_)
        cells = np.arange(m)[:, None] * n_classes + labels  # (m, k) cell of each vote
        votes = np.bincount(cells.ravel(), weights=w.ravel(), minlength=m * n_classes)
        return votes.reshape(m, n_classes)

    def _brute_kneighbors(self, X, k):
        train = self._train_aug  # (n_train, n_features + 1): rows [b, ||b||²]
        X = X.astype(train.dtype, copy=False)
        query = np.empty((len(X), X.shape[1] + 1), dtype=train.dtype)
        np.multiply(X, -2, out=query[:, :-1])  # exact: a power of two
        query[:, -1] = 1
        # A chunk holds (rows, n_train) ranking keys and (rows, k, n_features) winners.
        rows = max(1, CHUNK_BYTES // (train.itemsize * (len(train) + k * X.shape[1])))
        sq_dist = np.empty((len(X), k), dtype=train.dtype)
        idx = np.empty((len(X), k), dtype=np.intp)
        for start in range(0, len(X), rows):
            chunk = slice(start, start + rows)
            key = query[chunk] @ train.T  # (rows, n_train): ||b||² - 2 a·b
            winners = _k_smallest(key, k, self._labels)  # (rows, k), unordered
            # The winners' distances are recomputed from differences: no cancellation,
            # and a query equal to a training point is exactly 0 away.
            diff = train[winners, :-1] - X[chunk, None, :]  # (rows, k, n_features)
            d2 = np.einsum("ijk,ijk->ij", diff, diff)
            order = np.lexsort((winners, self._labels[winners], d2), axis=1)
            idx[chunk] = np.take_along_axis(winners, order, axis=1)
            sq_dist[chunk] = np.take_along_axis(d2, order, axis=1)
        return sq_dist, idx

    def _kd_tree_kneighbors(self, X, k):
        n = self.n_samples_fit_
        # One extra neighbour shows whether the k-th distance is tied.
        dist, idx = self._tree.query(X, k=min(k + 1, n), workers=-1)
        dist, idx = dist.reshape(len(X), -1), idx.reshape(len(X), -1)
        if k < n:
            for i in np.flatnonzero(dist[:, k] == dist[:, k - 1]):
                # A slightly larger ball cannot miss a tied point to rounding; the
                # candidates are then ranked by distances computed here.
                ball = self._tree.query_ball_point(X[i], r=dist[i, k - 1] * (1 + 1e-9))
                cand = np.asarray(ball, dtype=np.intp)
                d = np.sqrt(((self._tree.data[cand] - X[i]) ** 2).sum(axis=1))
                order = np.lexsort((cand, self._labels[cand], d))[:k]
                dist[i, :k], idx[i, :k] = d[order], cand[order]
        dist, idx = dist[:, :k], idx[:, :k]
        order = np.lexsort((idx, self._labels[idx], dist), axis=1)
        return np.take_along_axis(dist, order, 1) ** 2, np.take_along_axis(idx, order, 1)


def _k_smallest(key: np.ndarray, k: int, labels: np.ndarray) -> np.ndarray:
    """Indices (m, k), in no particular order, of the k smallest entries of each row of
    ``key`` (m, n); exact ties at the k-th value go to the smallest labels, then indices."""
    m, n = key.shape
    if k == n:
        return np.broadcast_to(np.arange(n), (m, n)).copy()
    # Partitioning at position k puts the (k+1)-th smallest in place, which shows
    # whether the k-th smallest value is shared with a point left outside.
    part = np.argpartition(key, k, axis=1)[:, : k + 1]  # (m, k + 1)
    vals = np.take_along_axis(key, part, axis=1)
    cand = part[:, :k].copy()
    kth = vals[:, :k].max(axis=1)
    for i in np.flatnonzero(vals[:, k] == kth):
        tied = np.flatnonzero(key[i] <= kth[i])
        order = np.lexsort((tied, labels[tied], key[i, tied]))[:k]
        cand[i] = tied[order]
    return cand
