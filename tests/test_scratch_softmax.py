"""funml.scratch.SoftmaxRegression: hand-derived gradients and accuracy against sklearn."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from funml.scratch import (
    SoftmaxRegression,
    cross_entropy,
    log_softmax,
    softmax,
    softmax_gradients,
    softmax_loss,
)
from helpers import numerical_gradient


@pytest.mark.parametrize("n", [1, 7])
def test_gradients_match_finite_differences(n):
    rng = np.random.default_rng(n)
    w, b = rng.normal(size=(4, 5)), rng.normal(size=4)
    x = rng.normal(size=(n, 5))
    t = np.eye(4)[rng.integers(0, 4, size=n)]
    dw, db = softmax_gradients(w, b, x, t)
    loss = lambda: softmax_loss(w, b, x, t)  # noqa: E731  (reads w and b as they are moved)
    num_dw, num_db = numerical_gradient(loss, w), numerical_gradient(loss, b)
    assert_allclose(dw, num_dw, rtol=1e-6, atol=1e-8)
    assert_allclose(db, num_db, rtol=1e-6, atol=1e-8)


def test_softmax_is_stable_for_huge_scores():
    u = np.array([[1000.0, 0.0, -1000.0], [5e4, 5e4, 0.0]])
    p = softmax(u)
    assert np.isfinite(p).all()
    assert_allclose(p.sum(axis=1), 1.0)
    assert_allclose(p[1], [0.5, 0.5, 0.0])
    assert_allclose(log_softmax(u)[0], [0.0, -1000.0, -2000.0])
    assert_allclose(cross_entropy(u[:1], np.array([[0.0, 0.0, 1.0]])), 2000.0)


def test_accuracy_within_two_points_of_logistic_regression_on_digits(digits):
    X, y, X_test, y_test = digits
    ours = SoftmaxRegression(lr=0.05, epochs=20, batch_size=1, random_state=0).fit(X, y)
    ref = LogisticRegression(max_iter=2000).fit(X, y)
    ours_acc, ref_acc = ours.score(X_test, y_test), ref.score(X_test, y_test)
    assert ours_acc >= ref_acc - 0.02, (ours_acc, ref_acc)
    assert len(ours.loss_history_) == 20
    assert ours.loss_history_[-1] < ours.loss_history_[0] < np.log(10)


def test_minibatches_and_history(digits):
    X, y, X_test, y_test = digits
    model = SoftmaxRegression(lr=0.5, epochs=30, batch_size=32, random_state=1).fit(X, y)
    assert model.score(X_test, y_test) > 0.9
    # Full-batch gradient descent with a small step never increases the loss.
    full = SoftmaxRegression(lr=0.1, epochs=15, batch_size=len(X)).fit(X, y)
    assert (np.diff(full.loss_history_) < 0).all()
    assert_allclose(
        full.loss_history_[-1], softmax_loss(full.coef_, full.intercept_, X, np.eye(10)[y])
    )


def test_random_state_makes_fits_repeatable_and_proba_consistent(digits):
    X, y, X_test, _ = digits
    a = SoftmaxRegression(lr=0.05, epochs=2, random_state=3).fit(X, y)
    b = SoftmaxRegression(lr=0.05, epochs=2, random_state=3).fit(X, y)
    assert_array_equal(a.coef_, b.coef_)
    proba = a.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(a.classes_[proba.argmax(axis=1)], a.predict(X_test))


def test_bad_input(digits):
    X, y, _, _ = digits
    with pytest.raises(ValueError, match="lr must be a number > 0"):
        SoftmaxRegression(lr=0).fit(X, y)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        SoftmaxRegression(batch_size=0).fit(X, y)
    with pytest.raises(ValueError, match=r"epochs must be an integer >= 1, got 2\.5"):
        SoftmaxRegression(epochs=2.5).fit(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SoftmaxRegression().fit(X, y[:10])
    with pytest.raises(ValueError, match="Unknown label type"):
        SoftmaxRegression().fit(X, y + 0.5)
    with pytest.raises(NotFittedError):
        SoftmaxRegression().predict(X)
    Xb = X.copy()
    Xb[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        SoftmaxRegression().fit(Xb, y)
