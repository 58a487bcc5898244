"""Buggy variants of the course's PCA steps."""

import numpy as np


def center_global_mean(X):
    """Removes the mean of all pixels, not each feature's mean."""
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean()
    return X - mean, np.full(X.shape[1], mean)


def center_in_place(X):
    """X -= mean changes the caller's array."""
    mean = X.mean(axis=0)
    X -= mean
    return X, mean


def eigen_unsorted(C):
    """eigh's ascending order kept: the 'first' components have the least variance."""
    return np.linalg.eigh(C)


def project_rows(X, mean, eigenvectors, n_components):
    """Takes rows of the eigenvector matrix, which are not eigenvectors."""
    return (X - mean) @ eigenvectors[:n_components].T


def reconstruct_without_mean(Z, mean, eigenvectors):
    """Forgets to add the mean back."""
    return Z @ eigenvectors[:, : Z.shape[1]].T
