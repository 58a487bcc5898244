"""funml.scratch.PCA against scikit-learn's PCA(svd_solver='covariance_eigh')."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.decomposition import PCA as SkPCA
from sklearn.exceptions import NotFittedError

from funml.scratch import PCA, components_for_variance, cumulative_explained_variance


def _data(n=200, d=12, seed=0):
    # Correlated features with well separated variances, so every component is defined.
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d)) * np.linspace(3.0, 0.2, d)[:, None]
    return rng.normal(size=(n, d)) @ mixing + rng.normal(size=d) * 5


@pytest.mark.parametrize("n_components", [None, 1, 5, 12, 0.5, 0.9, 0.99])
def test_matches_sklearn_covariance_eigh(n_components):
    X = _data()
    ours = PCA(n_components=n_components).fit(X)
    ref = SkPCA(n_components=n_components, svd_solver="covariance_eigh").fit(X)

    assert ours.n_components_ == ref.n_components_
    assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-6)
    assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-6)
    assert_allclose(ours.mean_, ref.mean_, rtol=1e-12)
    # Up to sign, component by component.
    cos = np.abs(np.sum(ours.components_ * ref.components_, axis=1))
    assert_allclose(cos, 1.0, atol=1e-8)
    Z = ours.transform(X)
    assert_allclose(np.abs(Z), np.abs(ref.transform(X)), atol=1e-8)
    assert_allclose(ours.inverse_transform(Z), ref.inverse_transform(ref.transform(X)), atol=1e-8)


def test_sign_rule_is_deterministic():
    X = _data()
    first = PCA().fit(X).components_
    # Shuffled rows give the same covariance, and the sign rule must give the same axes.
    shuffled = PCA().fit(X[np.random.default_rng(1).permutation(len(X))]).components_
    assert_allclose(first, shuffled, atol=1e-10)
    biggest = first[np.arange(len(first)), np.argmax(np.abs(first), axis=1)]
    assert (biggest > 0).all()
    assert_allclose(first @ first.T, np.eye(len(first)), atol=1e-12)


def test_full_reconstruction_is_exact_and_truncated_is_best():
    X = _data()
    assert_allclose(PCA().fit(X).inverse_transform(PCA().fit_transform(X)), X, atol=1e-9)
    pca = PCA(n_components=3).fit(X)
    err = np.sum((pca.inverse_transform(pca.transform(X)) - X) ** 2) / (len(X) - 1)
    # The squared error left is exactly the variance of the dropped components.
    dropped = PCA().fit(X).explained_variance_[3:].sum()
    assert_allclose(err, dropped, rtol=1e-8)


def test_uint8_input_does_not_wrap():
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, size=(150, 20), dtype=np.uint8)
    ours = PCA(n_components=4).fit(pixels)
    ref = SkPCA(n_components=4, svd_solver="covariance_eigh").fit(pixels.astype(np.float64))
    assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-6)
    # Pixel variances are in the thousands; wrapped uint8 sums would be far smaller.
    assert ours.explained_variance_[0] > 1000
    assert_allclose(ours.transform(pixels), PCA(4).fit(pixels / 1.0).transform(pixels / 1.0))


def test_float32_stays_float32():
    X = _data().astype(np.float32)
    pca = PCA(n_components=3).fit(X)
    assert pca.components_.dtype == np.float32
    assert pca.transform(X).dtype == np.float32
    ref = PCA(n_components=3).fit(X.astype(np.float64))
    assert_allclose(pca.explained_variance_, ref.explained_variance_, rtol=1e-4)


def test_components_for_variance_matches_float_n_components():
    ratio = PCA().fit(_data()).explained_variance_ratio_
    for threshold in (0.5, 0.9, 0.95, 0.99):
        k = components_for_variance(ratio, threshold)
        assert k == PCA(n_components=threshold).fit(_data()).n_components_
        cumulative = cumulative_explained_variance(ratio)
        assert cumulative[k - 1] > threshold
        assert k == 1 or cumulative[k - 2] <= threshold
    assert_allclose(cumulative_explained_variance(ratio)[-1], 1.0)
    assert components_for_variance(ratio, 1.0) <= len(ratio)
    with pytest.raises(ValueError, match=r"threshold must be a number in \(0.0, 1.0\]"):
        components_for_variance(ratio, 95)


def test_constant_data_has_zero_variance_without_warnings():
    pca = PCA().fit(np.ones((5, 3)))
    assert_array_equal(pca.explained_variance_, 0.0)
    assert_array_equal(pca.explained_variance_ratio_, 0.0)


@pytest.mark.parametrize(
    ("n_components", "match"),
    [
        (13, "must be between 1 and min"),
        (0, "must be between 1 and min"),
        (1.5, "None, an integer or a float in"),
        ("all", "None, an integer or a float in"),
        (True, "None, an integer or a float in"),
    ],
)
def test_bad_n_components(n_components, match):
    with pytest.raises(ValueError, match=match):
        PCA(n_components=n_components).fit(_data())


def test_bad_input():
    X = _data()
    with pytest.raises(ValueError, match="2D array"):
        PCA().fit(X[0])
    for bad in (np.nan, np.inf):
        Xb = X.copy()
        Xb[3, 4] = bad
        with pytest.raises(ValueError, match=r"NaN|infinity"):
            PCA().fit(Xb)
    with pytest.raises(ValueError, match="at least 2 samples"):
        PCA().fit(X[:1])
    huge = np.array([[1e200, 0.0], [-1e200, 1.0], [0.0, 2.0]])  # finite; squares overflow
    with pytest.raises(ValueError, match=r"too large: their products overflow float64"):
        PCA().fit(huge)
    with pytest.raises(NotFittedError):
        PCA().transform(X)
    pca = PCA(3).fit(X)
    with pytest.raises(ValueError, match="features"):
        pca.transform(X[:, :5])
    with pytest.raises(ValueError, match="has 3 components"):
        pca.inverse_transform(np.zeros((2, 4)))


@pytest.mark.parametrize("k", [1, 3, 7])
def test_reconstruct_from_first_k_equals_a_k_component_fit(k):
    x = _data()
    full = PCA().fit(x)
    small = PCA(n_components=k).fit(x)
    assert_allclose(full.reconstruct(x, k), small.inverse_transform(small.transform(x)), atol=1e-10)
    assert_allclose(full.reconstruct(x), full.inverse_transform(full.transform(x)), atol=1e-10)


@pytest.mark.parametrize("k", [0, 2.5, 99])
def test_reconstruct_refuses_a_bad_k(k):
    pca = PCA(n_components=5).fit(_data())
    with pytest.raises(ValueError, match="between 1 and 5"):
        pca.reconstruct(_data(), k)


def test_centred_blocks_give_the_same_covariance(monkeypatch):
    from funml.scratch import pca as pca_module

    X = _data()
    whole = PCA().fit(X)  # X.T @ X - n outer(mean, mean): little cancels here
    # Centre the rows in blocks instead, with room for 7 rows per block: many blocks and a
    # short last one.
    monkeypatch.setattr(pca_module, "MAX_CANCELLATION", 0.0)
    monkeypatch.setattr(pca_module, "CENTRING_BLOCK_BYTES", 7 * X.shape[1] * 8)
    blocked = PCA().fit(X)
    assert_allclose(blocked.explained_variance_, whole.explained_variance_, rtol=1e-10)
    assert_allclose(
        np.abs(blocked.components_ @ whole.components_.T), np.eye(X.shape[1]), atol=1e-8
    )


def test_a_mean_far_from_zero_is_centred_before_the_product():
    # X.T @ X - n outer(mean, mean) would cancel ~12 of float64's 16 digits here.
    X = 1e6 + np.random.default_rng(0).normal(size=(500, 4))
    expected = np.linalg.eigvalsh(np.cov(X - X.mean(axis=0), rowvar=False))[::-1]
    assert_allclose(PCA().fit(X).explained_variance_, expected, rtol=1e-9)
