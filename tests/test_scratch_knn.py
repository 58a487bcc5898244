"""funml.scratch.KNNClassifier against scikit-learn's KNeighborsClassifier."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import KNeighborsClassifier

from funml.scratch import KNNClassifier
from funml.scratch import knn as knn_module


def _float_data(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 6)).astype(dtype)
    y = rng.integers(0, 4, size=300)
    queries = rng.normal(size=(120, 6)).astype(dtype)
    return X, y, queries


@pytest.mark.parametrize("algorithm", ["brute", "kd_tree"])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("k", [1, 3, 8])
def test_matches_sklearn_on_float_data(algorithm, weights, k):
    X, y, queries = _float_data()
    ours = KNNClassifier(n_neighbors=k, weights=weights, algorithm=algorithm).fit(X, y)
    ref = KNeighborsClassifier(n_neighbors=k, weights=weights, algorithm="brute").fit(X, y)
    assert_array_equal(ours.predict(queries), ref.predict(queries))
    assert_allclose(ours.predict_proba(queries), ref.predict_proba(queries), atol=1e-12)
    dist, idx = ours.kneighbors(queries)
    ref_dist, ref_idx = ref.kneighbors(queries)
    assert_array_equal(idx, ref_idx)
    assert_allclose(dist, ref_dist, atol=1e-10)


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_matches_sklearn_on_uint8_without_wrapping(weights):
    rng = np.random.default_rng(1)
    X = rng.integers(0, 256, size=(400, 30), dtype=np.uint8)
    y = rng.integers(0, 5, size=400)
    queries = rng.integers(0, 256, size=(150, 30), dtype=np.uint8)
    ours = KNNClassifier(n_neighbors=5, weights=weights).fit(X, y)
    ref = KNeighborsClassifier(n_neighbors=5, weights=weights, algorithm="brute")
    ref.fit(X.astype(np.float64), y)
    assert_array_equal(ours.predict(queries), ref.predict(queries.astype(np.float64)))
    # 250 - 200 in uint8 arithmetic would wrap; the distance must be the true 50.
    one = KNNClassifier(n_neighbors=1).fit(np.array([[0], [200]], dtype=np.uint8), [0, 1])
    dist, idx = one.kneighbors(np.array([[250]], dtype=np.uint8))
    assert idx[0, 0] == 1 and dist[0, 0] == 50.0


def test_float32_matches_sklearn():
    X, y, queries = _float_data(seed=3, dtype=np.float32)
    ours = KNNClassifier(n_neighbors=3).fit(X, y)
    ref = KNeighborsClassifier(n_neighbors=3, algorithm="brute").fit(X, y)
    assert_array_equal(ours.predict(queries), ref.predict(queries))
    assert_allclose(ours.kneighbors(queries)[0], ref.kneighbors(queries)[0], rtol=1e-5)


def test_chunks_give_the_same_answer(monkeypatch):
    X, y, queries = _float_data(seed=4)
    whole = KNNClassifier(n_neighbors=4).fit(X, y).kneighbors(queries)
    # Room for 7 rows of distances per chunk: many chunks and a short last one.
    monkeypatch.setattr(knn_module, "CHUNK_BYTES", 7 * len(X) * 8)
    chunked = KNNClassifier(n_neighbors=4).fit(X, y).kneighbors(queries)
    assert_array_equal(chunked[1], whole[1])
    assert_allclose(chunked[0], whole[0])


@pytest.mark.parametrize("algorithm", ["brute", "kd_tree"])
def test_tied_distances_go_to_the_smallest_label(algorithm):
    # Points 1, 2 and 3 are all at distance 1 from the query; k=2 keeps point 0 and one
    # of them. The documented rule takes the smallest label: point 3 (label 1).
    # scikit-learn keeps the first point it meets at that distance (point 1 here).
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [3.0, 3.0]])
    y = np.array([7, 9, 8, 1, 7])
    knn = KNNClassifier(n_neighbors=2, algorithm=algorithm).fit(X, y)
    dist, idx = knn.kneighbors([[0.0, 0.0]])
    assert_array_equal(idx, [[0, 3]])
    assert_array_equal(dist, [[0.0, 1.0]])
    # The vote is then 7 against 1, a draw, which also goes to the smallest label.
    assert_array_equal(knn.predict([[0.0, 0.0]]), [1])


@pytest.mark.parametrize("algorithm", ["brute", "kd_tree"])
def test_duplicate_points_with_different_labels(algorithm):
    # Exact duplicates tie exactly (integer data is computed exactly).
    X = np.array([[3, 4], [3, 4], [3, 4], [10, 10]], dtype=np.uint8)
    y = np.array([5, 2, 4, 0])
    knn = KNNClassifier(n_neighbors=1, algorithm=algorithm).fit(X, y)
    assert_array_equal(knn.predict(np.array([[3, 4], [2, 4]], dtype=np.uint8)), [2, 2])
    knn2 = KNNClassifier(n_neighbors=2, algorithm=algorithm).fit(X, y)
    assert_array_equal(knn2.kneighbors(np.array([[3, 5]], dtype=np.uint8))[1], [[1, 2]])


def test_vote_draw_goes_to_smallest_label_like_sklearn():
    X = np.array([[0.0], [1.0]])
    y = np.array([5, 3])
    query = [[0.1]]  # nearer to label 5, but with k=2 the vote is 1 against 1
    ours = KNNClassifier(n_neighbors=2).fit(X, y).predict(query)
    ref = KNeighborsClassifier(n_neighbors=2).fit(X, y).predict(query)
    assert_array_equal(ours, [3])
    assert_array_equal(ours, ref)


def test_distance_weights_with_exact_match():
    X, y, _ = _float_data(seed=5)
    ours = KNNClassifier(n_neighbors=5, weights="distance").fit(X, y)
    ref = KNeighborsClassifier(n_neighbors=5, weights="distance").fit(X, y)
    proba = ours.predict_proba(X[:20])  # each query is a training point
    assert_allclose(proba, ref.predict_proba(X[:20]))
    assert_array_equal(ours.classes_[proba.argmax(1)], y[:20])


def test_string_labels():
    X, y, queries = _float_data(seed=6)
    names = np.array(["cat", "dog", "emu", "fox"])[y]
    knn = KNNClassifier(n_neighbors=3).fit(X, names)
    ref = KNeighborsClassifier(n_neighbors=3).fit(X, names)
    assert_array_equal(knn.predict(queries), ref.predict(queries))


def test_bad_input():
    X, y, queries = _float_data()
    with pytest.raises(ValueError, match="n_neighbors=301 must be at most"):
        KNNClassifier(n_neighbors=301).fit(X, y)
    with pytest.raises(ValueError, match="n_neighbors must be an integer >= 1, got 0"):
        KNNClassifier(n_neighbors=0).fit(X, y)
    with pytest.raises(ValueError, match="weights must be one of"):
        KNNClassifier(weights="inverse").fit(X, y)
    with pytest.raises(ValueError, match="algorithm must be one of"):
        KNNClassifier(algorithm="ball_tree").fit(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        KNNClassifier().fit(X, y[:-1])
    with pytest.raises(ValueError, match="2D array"):
        KNNClassifier().fit(X[:, 0], y)
    Xb = X.copy()
    Xb[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        KNNClassifier().fit(Xb, y)
    with pytest.raises(NotFittedError):
        KNNClassifier().predict(queries)
    knn = KNNClassifier().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        knn.predict(queries[:, :3])
    with pytest.raises(ValueError, match="infinity"):
        knn.predict(np.full((1, 6), np.inf))
    with pytest.raises(ValueError, match=r"n_neighbors must be an integer in \[1, 300\]"):
        knn.kneighbors(queries, n_neighbors=400)


def _reference_neighbours(X, y, queries, k):
    """Exact float64 neighbours by the documented rule: distance, then label, then index."""
    labels = np.unique(y, return_inverse=True)[1]
    d2 = ((queries[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    idx = np.array([np.lexsort((np.arange(len(X)), labels, row))[:k] for row in d2])
    return np.take_along_axis(d2, idx, axis=1), idx


def test_float32_filter_gives_the_float64_answer_on_pixels(monkeypatch):
    # uint8-like pixels: many exact distance ties, and sums too large for float32's 24 bits.
    rng = np.random.default_rng(5)
    X = rng.integers(0, 256, size=(400, 50)).astype(np.float64)
    X[200:] = X[:200] + rng.integers(0, 2, size=(200, 50))  # near-duplicates, many ties
    y = rng.integers(0, 5, size=400)
    queries = np.vstack([X[:30], rng.integers(0, 256, size=(60, 50))]).astype(np.float64)
    d2, idx = _reference_neighbours(X, y, queries, 4)
    filtered = KNNClassifier(n_neighbors=4).fit(X, y)
    assert filtered._filter32
    got = filtered.kneighbors(queries)
    assert_array_equal(got[1], idx)
    assert_array_equal(got[0], np.sqrt(d2))
    monkeypatch.setattr(knn_module, "FLOAT32_FILTER_MAX", -1.0)  # the float64 product only
    plain = KNNClassifier(n_neighbors=4).fit(X, y)
    assert not plain._filter32
    assert_array_equal(plain.kneighbors(queries)[1], idx)


def test_float32_filter_separates_distances_float32_cannot():
    # Two training points whose distances to the query differ by 1e-10 relative: float32
    # keys tie them, the float64 check must not. Labels make the wrong pick visible.
    rng = np.random.default_rng(6)
    base = rng.normal(size=8) * 1e3
    X = np.vstack([base + 1.0, base + 1.0 + 1e-7, base + 50 + rng.normal(size=(50, 8))])
    y = np.array([1, 0] + [2] * 50)  # the tie rule would prefer label 0 on a float32 tie
    knn = KNNClassifier(n_neighbors=1).fit(X, y)
    assert_array_equal(knn.kneighbors([base])[1], [[0]])
    assert_array_equal(knn.predict([base]), [1])


def test_threads_give_the_same_answer():
    from threadpoolctl import threadpool_limits

    X, y, queries = _float_data(seed=7)
    knn = KNNClassifier(n_neighbors=5).fit(X, y)
    with threadpool_limits(1, user_api="blas"):
        one = knn.kneighbors(queries)
    with threadpool_limits(2, user_api="blas"):
        two = knn.kneighbors(queries)
    assert_array_equal(one[1], two[1])
    assert_array_equal(one[0], two[0])
