"""Topic ``pca``: centring, covariance, eigen-decomposition, projection, reconstruction.

``center(X) -> (X_centered, mean)``, ``covariance(X_centered) -> C`` (dividing by N - 1
or N both pass), ``eigen_decomposition(C) -> (eigenvalues, eigenvectors)`` with the
eigenvalues largest first and the eigenvectors as columns (either sign passes),
``project(X, mean, eigenvectors, n_components) -> Z`` and
``reconstruct(Z, mean, eigenvectors) -> X_hat``.
"""

from __future__ import annotations

import numpy as np

from funml.check.probe import Check, Fail, as_array, close, need, same_shape, unpack

REFERENCE = "funml.check.reference.pca"
FUNCTIONS = {
    "center": "center(X) -> (X_centered, mean)",
    "covariance": "covariance(X_centered) -> (d, d)",
    "eigen_decomposition": "eigen_decomposition(C) -> (eigenvalues, eigenvectors)",
    "project": "project(X, mean, eigenvectors, n_components) -> (N, n_components)",
    "reconstruct": "reconstruct(Z, mean, eigenvectors) -> (N, d)",
}
N, D, K = 60, 6, 3


def _data(seed: int) -> np.ndarray:
    # Elementwise arithmetic and einsum only: BLAS and LAPACK may round differently in the
    # child (one thread) and here, and "the input is unchanged" is checked exactly.
    rng = np.random.default_rng(seed)
    scales = np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.2])  # distinct variances
    v = rng.normal(size=D)
    rotation = np.eye(D) - 2 * np.outer(v, v) / np.sum(v * v)  # a Householder reflection
    x = np.einsum("nd,ed->ne", rng.normal(size=(N, D)) * scales, rotation)
    return x + np.arange(1.0, D + 1) * 4  # a mean far from 0


def _reference():
    from funml.check.reference import pca

    return pca


def run_center(ns) -> dict:
    xc, mean = unpack(need(ns, "center")(_data(0)), 2, "center")
    return {
        "centered": as_array(xc, "center's X_centered"),
        "mean": as_array(mean, "center's mean"),
    }


def run_inputs(ns) -> dict:
    x = _data(1)
    need(ns, "center")(x)
    return {"X": x}


def run_covariance(ns) -> dict:
    xc, _ = _reference().center(_data(2))
    return {"C": as_array(need(ns, "covariance")(xc), "covariance")}


def run_eigen(ns) -> dict:
    ref = _reference()
    C = ref.covariance(ref.center(_data(3))[0])
    values, vectors = unpack(need(ns, "eigen_decomposition")(C), 2, "eigen_decomposition")
    return {"values": as_array(values, "eigenvalues"), "vectors": as_array(vectors, "eigenvectors")}


def _steps(seed: int):
    ref = _reference()
    x = _data(seed)
    xc, mean = ref.center(x)
    _, vectors = ref.eigen_decomposition(ref.covariance(xc))
    return x, mean, vectors


def run_project(ns) -> dict:
    x, mean, vectors = _steps(4)
    return {"Z": as_array(need(ns, "project")(x, mean, vectors, K), "project")}


def run_reconstruct(ns) -> dict:
    x, mean, vectors = _steps(5)
    Z = _reference().project(x, mean, vectors, K)
    return {"X_hat": as_array(need(ns, "reconstruct")(Z, mean, vectors), "reconstruct")}


def judge_center(got, want):
    close(got, want, "mean", "center's mean", rtol=1e-8)
    close(got, want, "centered", "center's X_centered", rtol=1e-8, atol=1e-10)


def judge_inputs(got, want):
    if not np.array_equal(same_shape(got, want, "X", "X"), want["X"]):
        raise Fail("center changed the caller's X in place; work on a copy (X = X - mean).")


def judge_covariance(got, want):
    g = same_shape(got, want, "C", "covariance's matrix")
    w = want["C"]
    if not (np.allclose(g, w, rtol=1e-7) or np.allclose(g, w * (N - 1) / N, rtol=1e-7)):
        raise Fail("covariance's matrix is neither X_cᵀ X_c / (N - 1) nor / N.")


def judge_eigen(got, want):
    close(got, want, "values", "The eigenvalues (largest first)", rtol=1e-7, atol=1e-9)
    g = same_shape(got, want, "vectors", "The eigenvector matrix")
    signs = np.sign(np.sum(g * want["vectors"], axis=0))  # either sign of a column is right
    if not np.allclose(g * signs, want["vectors"], rtol=1e-6, atol=1e-8):
        raise Fail("The eigenvectors (the columns, in the eigenvalues' order) are wrong.")


def judge_project(got, want):
    close(
        got, want, "Z", f"project's coordinates on the first {K} eigenvectors", rtol=1e-7, atol=1e-9
    )


def judge_reconstruct(got, want):
    close(got, want, "X_hat", f"reconstruct's output from {K} components", rtol=1e-7, atol=1e-9)


CHECKS = (
    Check("pca-center", "center removes each feature's mean", run_center, judge_center),
    Check(
        "pca-inputs-unchanged", "center leaves the caller's X unchanged", run_inputs, judge_inputs
    ),
    Check("pca-covariance", "covariance of centred data", run_covariance, judge_covariance),
    Check(
        "pca-eigen", "eigenvalues largest first, eigenvectors as columns", run_eigen, judge_eigen
    ),
    Check("pca-project", "projection on the first eigenvectors", run_project, judge_project),
    Check(
        "pca-reconstruct", "reconstruction adds the mean back", run_reconstruct, judge_reconstruct
    ),
)
