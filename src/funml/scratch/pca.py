"""Principal component analysis by eigendecomposition of the covariance matrix.

The recipe of the course: centre the data, form the covariance matrix, and take its
eigenvectors, largest eigenvalue first. It matches scikit-learn's
``PCA(svd_solver="covariance_eigh")``. The covariance is formed without a centred copy of
``X``: as scikit-learn does, ``X.T @ X`` (one BLAS symmetric rank-k update over the
caller's rows) minus ``n * outer(mean, mean)``, except where that subtraction would cancel
too many digits (a mean large compared with the spread); there the rows are centred a
block at a time and each block's ``B.T @ B`` is added up. The eigenvectors come from
LAPACK's ``syevd``, or ``syevr`` for only the leading ones when ``n_components`` is an
integer.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import (
    assert_all_finite,
    check_array,
    check_is_fitted,
    validate_data,
)

from funml.scratch._validation import check_float

# Rows of centred data are formed this many bytes at a time, and folded into the covariance.
CENTRING_BLOCK_BYTES = 32 * 2**20
# X.T @ X - n * outer(mean, mean) cancels about log10(|mean|^2 / total variance) digits; up
# to one digit it is kept (the pixels of MNIST and Fashion-MNIST: a ratio of about 1).
MAX_CANCELLATION = 10.0


class PCA(TransformerMixin, BaseEstimator):
    """Principal component analysis (PCA) through ``eigh`` of the covariance matrix.

    Parameters
    ----------
    n_components : int, float or None, default=None
        How many components to keep. ``None`` keeps ``min(n_samples, n_features)``. An
        int keeps that many. A float in (0, 1) keeps the fewest components whose
        explained variance ratios add up to more than it (scikit-learn's rule).

    Attributes
    ----------
    components_ : ndarray of shape (n_components_, n_features)
        Unit-length principal axes, largest variance first. Each row's sign is fixed so
        that its entry of largest magnitude is positive (scikit-learn's ``svd_flip`` rule).
    explained_variance_ : ndarray of shape (n_components_,)
        Variance along each component (eigenvalues of the covariance, divided by n - 1).
    explained_variance_ratio_ : ndarray of shape (n_components_,)
        ``explained_variance_`` divided by the total variance of all features.
    mean_ : ndarray of shape (n_features,)
        Per-feature mean of the training data.
    n_components_ : int
        The number of components kept.
    n_features_in_ : int
        Number of features seen in ``fit``.

    Notes
    -----
    Integer input (such as uint8 pixels) is converted to float64 before anything else,
    so sums and products cannot wrap around. Float32 input is computed in float32.
    """

    def __init__(self, n_components=None):
        self.n_components = n_components

    def fit(self, X, y=None):
        """Learn the mean and the principal axes of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : PCA
        """
        # NaN and infinity are looked for in the covariance, not in X: a NaN or an infinity
        # anywhere in X reaches it, and a pass over X less is measurably faster.
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_all_finite=False)
        n, d = X.shape
        if n < 2:
            raise ValueError(
                f"PCA needs at least 2 samples to estimate a covariance, got n_samples={n}."
            )
        with np.errstate(invalid="ignore", over="ignore"):  # the check below speaks instead
            self.mean_ = X.mean(axis=0)
            cov = _scatter(X, self.mean_)  # (X - mean).T @ (X - mean), no centred copy
        if not np.isfinite(cov).all():
            assert_all_finite(X, input_name="X")  # names the NaN or the infinity
            raise ValueError(
                "X's values are too large: their products overflow "
                f"{X.dtype}; scale X down (for example to [0, 1])."
            )
        cov /= n - 1
        total = float(np.trace(cov))  # the total variance, the sum of all eigenvalues
        k = self._n_components_before_eigh(n, d)
        if k is None:  # every eigenpair (LAPACK's syevd, as scikit-learn)
            eigenvalues, eigenvectors = np.linalg.eigh(cov)  # ascending order
        else:  # only the k largest (LAPACK's syevr)
            eigenvalues, eigenvectors = scipy.linalg.eigh(
                cov, subset_by_index=(d - k, d - 1), driver="evr", check_finite=False
            )
        # Rounding can leave the smallest eigenvalues of a semi-definite matrix just below 0.
        eigenvalues = np.clip(eigenvalues[::-1], 0, None)
        components = _fix_signs(eigenvectors[:, ::-1].T)
        if k is None:  # every eigenvalue is here: their sum is the total (as scikit-learn)
            total = eigenvalues.sum()
        ratio = eigenvalues / total if total > 0 else np.zeros_like(eigenvalues)

        if k is None:
            k = self._n_components_to_keep(n, d, ratio)
        self.n_components_ = k
        self.components_ = np.ascontiguousarray(components[:k])
        self.explained_variance_ = eigenvalues[:k].copy()
        self.explained_variance_ratio_ = ratio[:k].copy()
        return self

    def transform(self, X):
        """Project ``X`` onto the principal axes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components_)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return (X - self.mean_) @ self.components_.T

    def inverse_transform(self, Z):
        """Map projections back to the input space: the reconstruction of the data.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_components_)

        Returns
        -------
        X_hat : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        Z = check_array(Z, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"Z has {Z.shape[1]} columns, but this PCA has {self.n_components_} "
                "components; pass the output of transform."
            )
        return Z @ self.components_ + self.mean_

    def reconstruct(self, X, n_components=None):
        """Rebuild ``X`` from its projection onto the first ``n_components`` axes.

        The axes are sorted by variance, so one fit serves every smaller k: this equals
        ``PCA(n_components=k).fit(same data)`` followed by transform and inverse_transform.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        n_components : int or None, default=None
            How many leading components to keep; None keeps all ``n_components_``.

        Returns
        -------
        X_hat : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        k = self.n_components_ if n_components is None else n_components
        if not (isinstance(k, numbers.Integral) and 1 <= k <= self.n_components_):
            raise ValueError(
                f"n_components={k!r} must be an integer between 1 and {self.n_components_}, "
                "the number of components this PCA kept."
            )
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        c = self.components_[:k]  # (k, n_features)
        return (X - self.mean_) @ c.T @ c + self.mean_

    def _n_components_before_eigh(self, n: int, d: int) -> int | None:
        """The number of components when it is an integer below d, so that only those
        eigenpairs are computed; None when every eigenvalue is needed first."""
        nc = self.n_components
        if isinstance(nc, numbers.Integral) and not isinstance(nc, bool) and nc < d:
            return self._n_components_to_keep(n, d, None)
        return None

    def _n_components_to_keep(self, n: int, d: int, ratio: np.ndarray | None) -> int:
        limit = min(n, d)
        nc = self.n_components
        if nc is None:
            return limit
        if isinstance(nc, numbers.Integral) and not isinstance(nc, bool):
            if 1 <= nc <= limit:
                return int(nc)
            raise ValueError(
                f"n_components={nc} must be between 1 and min(n_samples, n_features)={limit}."
            )
        if isinstance(nc, numbers.Real) and not isinstance(nc, bool) and 0 < nc < 1:
            return min(components_for_variance(ratio, nc), limit)
        raise ValueError(f"n_components must be None, an integer or a float in (0, 1), got {nc!r}.")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def components_for_variance(explained_variance_ratio, threshold: float) -> int:
    """Return the fewest leading components whose variance ratios add up to more than
    ``threshold``, the rule ``PCA(n_components=threshold)`` uses.

    Parameters
    ----------
    explained_variance_ratio : array-like of shape (n_components,)
        Ratios in descending order, e.g. ``PCA().fit(X).explained_variance_ratio_``.
    threshold : float in (0, 1]

    Returns
    -------
    int, at most ``len(explained_variance_ratio)``.
    """
    threshold = check_float("threshold", threshold, high=1.0)
    cumulative = cumulative_explained_variance(explained_variance_ratio)
    k = int(np.searchsorted(cumulative, threshold, side="right")) + 1
    return min(k, len(cumulative))


def cumulative_explained_variance(explained_variance_ratio) -> np.ndarray:
    """Return the running total of the variance ratios: entry i is the share of the
    variance kept by the first i + 1 components (the curve the lab plots)."""
    return np.cumsum(np.asarray(explained_variance_ratio, dtype=np.float64))


def _fix_signs(components: np.ndarray) -> np.ndarray:
    # An eigenvector is only defined up to sign; make each row's largest-magnitude entry
    # positive, so the same data always gives the same components.
    biggest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), biggest])
    return components * signs[:, None]


def _scatter(X: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``(X - mean).T @ (X - mean)`` of the rows of ``X``, with no centred copy of ``X``."""
    n, d = X.shape
    scatter = X.T @ X  # NumPy calls BLAS syrk for a matrix times its own transpose
    scatter -= n * np.outer(mean, mean)
    total = float(np.trace(scatter)) / n  # the total variance, if little was cancelled
    if float(mean @ mean) <= MAX_CANCELLATION * total:
        return scatter
    # Too many digits cancelled (or the total came out <= 0): centre the rows, a block at a
    # time, and add up each block's B.T @ B.
    rows = max(1, CENTRING_BLOCK_BYTES // (X.itemsize * d))
    buffer = np.empty((min(rows, n), d), dtype=X.dtype)
    scatter = np.zeros((d, d), dtype=X.dtype)
    for start in range(0, n, rows):
        block = buffer[: min(rows, n - start)]
        np.subtract(X[start : start + rows], mean, out=block)
        scatter += block.T @ block
    return scatter
