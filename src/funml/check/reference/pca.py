"""The course's PCA steps, as :class:`funml.scratch.pca.PCA` computes them (the tests
check that they agree with it).

``eigenvectors[:, i]`` is the i-th unit eigenvector (a column, as NumPy returns them), in
the order of decreasing eigenvalue; the covariance divides by n - 1.
"""

import numpy as np


def center(X):
    """Return (X - mean, mean): each feature's mean removed; X itself is left alone."""
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    return X - mean, mean


def covariance(X_centered):
    """Covariance matrix (d, d) of centred data (N, d), divided by N - 1."""
    X_centered = np.asarray(X_centered, dtype=np.float64)
    return X_centered.T @ X_centered / (len(X_centered) - 1)


def eigen_decomposition(C):
    """Eigenvalues (d,), largest first, and unit eigenvectors as the columns of (d, d)."""
    eigenvalues, eigenvectors = np.linalg.eigh(np.asarray(C, dtype=np.float64))
    return eigenvalues[::-1], eigenvectors[:, ::-1]


def project(X, mean, eigenvectors, n_components):
    """Coordinates (N, n_components) of X on the first n_components eigenvectors."""
    return (np.asarray(X, dtype=np.float64) - mean) @ eigenvectors[:, :n_components]


def reconstruct(Z, mean, eigenvectors):
    """Back to the input space (N, d) from coordinates Z (N, n_components)."""
    Z = np.asarray(Z, dtype=np.float64)
    return Z @ eigenvectors[:, : Z.shape[1]].T + mean
