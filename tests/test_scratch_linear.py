"""funml.scratch.LinearRegression and L1Regression against NumPy, SciPy and scikit-learn."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import QuantileRegressor

from funml.scratch import L1Regression, LinearRegression, l1_objective


def _regression(n=80, d=4, seed=0, outliers=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    coef = np.arange(1.0, d + 1)
    y = X @ coef + 2.0 + 0.1 * rng.normal(size=n)
    if outliers:
        y[rng.choice(n, outliers, replace=False)] += rng.uniform(30, 60, size=outliers)
    return X, y, coef


def _with_ones(X):
    return np.hstack([X, np.ones((len(X), 1))])


def test_linear_regression_equals_lstsq():
    X, y, _ = _regression()
    model = LinearRegression().fit(X, y)
    w = np.linalg.lstsq(_with_ones(X), y, rcond=None)[0]
    assert model.solver_ == "normal_equations"
    assert_allclose(model.coef_, w[:-1], rtol=1e-10)
    assert_allclose(model.intercept_, w[-1], rtol=1e-10)
    assert_allclose(model.predict(X), _with_ones(X) @ w, rtol=1e-10)
    no_intercept = LinearRegression(fit_intercept=False).fit(X, y)
    assert_allclose(no_intercept.coef_, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10)
    assert no_intercept.intercept_ == 0.0


def test_singular_normal_equations_fall_back_to_lstsq():
    X, y, _ = _regression()
    collinear = np.hstack([X, X[:, :1] * 2.0])  # XᵀX is singular
    model = LinearRegression().fit(collinear, y)
    assert model.solver_ == "lstsq"
    w = np.linalg.lstsq(_with_ones(collinear), y, rcond=None)[0]  # the minimum-norm solution
    assert_allclose(model.coef_, w[:-1], rtol=1e-8)
    assert_allclose(model.predict(collinear), LinearRegression().fit(X, y).predict(X), rtol=1e-8)
    wide = LinearRegression().fit(X[:3], y[:3])  # fewer samples than features
    assert wide.solver_ == "lstsq"
    assert_allclose(wide.predict(X[:3]), y[:3], atol=1e-8)


def test_multi_output():
    X, y, _ = _regression()
    Y = np.column_stack([y, -2 * y + 1])
    model = LinearRegression().fit(X, Y)
    assert model.coef_.shape == (2, 4) and model.intercept_.shape == (2,)
    w = np.linalg.lstsq(_with_ones(X), Y, rcond=None)[0]
    assert_allclose(model.predict(X), _with_ones(X) @ w, rtol=1e-10)


def test_l1_linear_program_beats_subgradient_and_matches_lad():
    X, y, coef = _regression(n=120, seed=1, outliers=15)
    exact = L1Regression(solver="linprog").fit(X, y)
    sub = L1Regression(solver="subgradient", lr=0.5, max_iter=3000).fit(X, y)
    assert exact.objective_ <= sub.objective_ + 1e-9
    assert sub.objective_ <= 1.05 * exact.objective_  # the subgradient solver gets close
    assert len(sub.objective_history_) == 3000 and exact.objective_history_ == []
    assert_allclose(sub.objective_, min(sub.objective_history_))
    assert_allclose(exact.objective_, l1_objective(exact.predict(X), y))

    # The least-absolute-deviation fit is the median regression.
    lad = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)
    assert_allclose(exact.objective_, l1_objective(lad.predict(X), y), rtol=1e-7)
    assert_allclose(exact.coef_, lad.coef_, atol=1e-4)

    # With outliers in y, L1 recovers the true line and least squares does not.
    ls = LinearRegression().fit(X, y)
    assert exact.objective_ < l1_objective(ls.predict(X), y)
    assert np.abs(exact.intercept_ - 2.0) < 0.2 < np.abs(ls.intercept_ - 2.0)
    assert np.linalg.norm(exact.coef_ - coef) < np.linalg.norm(ls.coef_ - coef)


def test_bad_input():
    X, y, _ = _regression()
    with pytest.raises(ValueError, match="solver must be one of"):
        L1Regression(solver="simplex").fit(X, y)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1"):
        L1Regression(max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LinearRegression().fit(X, y[:-2])
    Xb = X.copy()
    Xb[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        L1Regression().fit(Xb, y)
    with pytest.raises(NotFittedError):
        LinearRegression().predict(X)
    with pytest.raises(ValueError, match="features"):
        LinearRegression().fit(X, y).predict(X[:, :2])
