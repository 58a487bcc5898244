"""k-nearest-neighbour classification with exact neighbours.

``brute`` ranks the training points by squared Euclidean distance written as
``||a||² - 2 a·b + ||b||²``, with one matrix product per chunk of queries, so memory
stays bounded: a chunk holds (rows, n_train) numbers, never a
(queries, n_train, n_features) difference array. Chunks run on as many threads as BLAS
has, each with a one-thread matrix product (scikit-learn's layout), so the selection of
the winners runs in parallel too. The winners' distances are then recomputed from their
differences, which is exact for a query equal to a training point.

In float64 the matrix product runs in float32, twice as fast, as a *filter*: float32
rounding moves each entry of ``||b||² - 2 a·b`` by at most ``bound``, a rigorous error
bound for a dot product of K terms (``γ_K Σ|terms|``, Higham, Accuracy and Stability of
Numerical Algorithms, §3.1). Every training point whose float32 key is within
``2 * bound`` of the k-th smallest is a candidate; this set provably holds the k nearest
points and every point tied with the k-th. The candidates' distances are then computed
in float64 from differences, and the answer is decided on those alone, so it is the
float64 answer. When the data are too large or too small for float32, or a chunk has too
many candidates, that chunk uses the float64 product instead.
``kd_tree`` asks ``scipy.spatial.KDTree``.

Tie rule (documented, tested): neighbours are ranked by distance, then by label, then by
training index. So when several training points lie at exactly the k-th distance, the
ones with the smallest labels are taken; and when classes draw in the vote, the smallest
label wins. "Exactly" means equal computed distances (in float64, from differences);
integer data such as uint8 pixels is computed exactly in float64. scikit-learn breaks a
vote draw the same way (``argmax`` picks the first class), but among points at the same
distance it keeps the one it met first, usually the smallest training index, whatever its
label.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_info, threadpool_limits

from funml.scratch._validation import check_int, check_option

# The arrays of one chunk of queries (ranking keys, winners' differences) hold at most
# about this many bytes.
CHUNK_BYTES = 128 * 2**20
# float64 data whose magnitude is at most this is filtered in float32 (no overflow).
FLOAT32_FILTER_MAX = 1e15
_U32 = 2.0**-24  # unit roundoff of float32
_TINY32 = 2.0**-149  # smallest float32 subnormal: the absolute error of underflow


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
    Float32 input is computed in float32; anything else (uint8 pixels included) in
    float64. Float32 rounding can swap neighbours whose distances differ by about 1e-6
    relative, so pass float64 when results must match scikit-learn's exactly
    (``benchmarks/scratch.py`` counts the agreement of both). Float64 is about as fast: its
    matrix product runs in float32 too, but only to preselect candidates within a rigorous
    rounding bound, and the answer is decided on float64 distances (see the module
    docstring, also for the tie rule).
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
            self._train = X
            biggest = max(X.max(), -X.min()) if X.size else 0.0  # no |X| array
            self._filter32 = X.dtype == np.float64 and biggest <= FLOAT32_FILTER_MAX
            if X.dtype == np.float64:
                self._sq_norms = np.einsum("ij,ij->i", X, X)
                self._max_norm = float(np.sqrt(self._sq_norms.max()))
                self._max_abs = float(biggest)
            # Rank by ||b||² - 2 a·b: ||a||² is the same for every b, so ranking does not
            # need it. The training side is stored as [b, ||b||²] in float32 so that one
            # matrix product [-2a, 1] @ [b, ||b||²]ᵀ gives the whole ranking key.
            self._train_aug = np.empty((len(X), X.shape[1] + 1), dtype=np.float32)
            train32 = self._train_aug[:, :-1]
            train32[...] = X
            if X.dtype == np.float64:  # float64's norms, rounded once, as the bound counts
                self._train_aug[:, -1] = self._sq_norms
            else:
                self._train_aug[:, -1] = np.einsum("ij,ij->i", train32, train32)
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
        X = X.astype(self._train.dtype, copy=False)
        n, d = self._train.shape
        workers = _blas_threads()
        # A chunk holds (rows, n_train) ranking keys and (rows, k, n_features) winners.
        rows = max(1, CHUNK_BYTES // (workers * 8 * (n + k * d)))
        rows = max(1, min(rows, -(-len(X) // workers)))  # a chunk for every thread
        sq_dist = np.empty((len(X), k), dtype=X.dtype)
        idx = np.empty((len(X), k), dtype=np.intp)

        def one(start):
            chunk = slice(start, start + rows)
            sq_dist[chunk], idx[chunk] = self._brute_chunk(X[chunk], k)

        starts = range(0, len(X), rows)
        if workers == 1 or len(starts) == 1:
            for start in starts:
                one(start)
        else:  # each thread runs its own one-thread matrix products
            with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
                list(pool.map(one, starts))
        return sq_dist, idx

    def _brute_chunk(self, x, k):
        """Squared distances and indices (m, k), nearest first, of the queries ``x``."""
        query = np.empty((len(x), x.shape[1] + 1), dtype=np.float32)
        np.multiply(x, -2, out=query[:, :-1], casting="unsafe")  # -2: exact in any float
        query[:, -1] = 1
        if self._filter32 and np.abs(x).max() <= FLOAT32_FILTER_MAX:
            found = self._filtered_chunk(x, query @ self._train_aug.T, k)
            if found is not None:
                return found
        if x.dtype == np.float64:  # the float64 key, exact for integer data
            key = x @ self._train.T
            key *= -2
            key += self._sq_norms
        else:
            key = query @ self._train_aug.T  # (m, n_train): ||b||² - 2 a·b
        winners = _k_smallest(key, k, self._labels)  # (m, k), unordered
        # The winners' distances are recomputed from differences: no cancellation,
        # and a query equal to a training point is exactly 0 away.
        diff = self._train[winners] - x[:, None, :]  # (m, k, n_features)
        d2 = np.einsum("ijk,ijk->ij", diff, diff)
        order = np.lexsort((winners, self._labels[winners], d2), axis=1)
        return np.take_along_axis(d2, order, axis=1), np.take_along_axis(winners, order, axis=1)

    def _filtered_chunk(self, x, key, k):
        """The float64 answer for the queries ``x`` from their float32 keys (m, n_train),
        or None when too many training points are candidates."""
        m, d = len(x), self._train.shape[1]
        kth = _kth_upper_bound(key, k).astype(np.float64)
        # |float32 key - exact key| <= gamma * sum of |terms| (K = d + 1 products, each of
        # numbers rounded once to float32), plus underflow; doubled for safety.
        gamma = (d + 3) * _U32 / (1 - (d + 3) * _U32)
        a_norm = np.sqrt(np.einsum("ij,ij->i", x, x))
        big = self._max_norm
        tiny = 4 * _TINY32 * (d + 1) * (1 + max(x.max(), -x.min()) + self._max_abs)
        bound = 2 * (gamma * (big * big + 2 * a_norm * big) + tiny)
        limit = np.nextafter((kth + 2 * bound).astype(np.float32), np.float32(np.inf))
        # Every row has at least k candidates. (flatnonzero is faster than a 2-D nonzero.)
        r, c = np.divmod(np.flatnonzero(key <= limit[:, None]), key.shape[1])
        if len(c) * d * 8 > CHUNK_BYTES:
            return None
        diff = self._train[c] - x[r]  # (candidates, n_features), float64
        d2 = np.einsum("ij,ij->i", diff, diff)
        order = np.lexsort((c, self._labels[c], d2, r))  # by query, then the tie rule
        first = np.concatenate(([0], np.cumsum(np.bincount(r, minlength=m))[:-1]))
        pick = order[first[:, None] + np.arange(k)]  # (m, k)
        return d2[pick], c[pick]

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


def _blas_threads() -> int:
    """How many threads the BLAS library would use (its limit, as set by the user)."""
    counts = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return max(1, max(counts, default=1))


def _kth_upper_bound(key: np.ndarray, k: int, group: int = 64) -> np.ndarray:
    """An upper bound (m,) on the k-th smallest entry of each row of ``key`` (m, n).

    The columns are dealt into n // group sets (column j goes to set j mod (n // group));
    the k-th smallest of the sets' minima is at least the k-th smallest entry, as k sets
    each hold an entry that small. The minima are elementwise minima of ``group``
    contiguous slices: one fast pass instead of a selection over n.
    """
    m, n = key.shape
    sets = n // group
    if sets < k:
        return np.partition(key, k - 1, axis=1)[:, k - 1]
    minima = key[:, : group * sets].reshape(m, group, sets).min(axis=1)  # (m, sets)
    return np.partition(minima, k - 1, axis=1)[:, k - 1]


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
