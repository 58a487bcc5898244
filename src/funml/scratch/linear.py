"""Linear regression two ways: least squares by the normal equations, and least absolute
deviations by subgradient descent or, exactly, as a linear program (SciPy's ``linprog``)."""

from __future__ import annotations

import numpy as np
from scipy import optimize, sparse
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from funml.scratch._validation import check_float, check_int, check_option

# XᵀX counts as singular when its condition number exceeds this (about 1 / sqrt(eps)):
# beyond it, solving the normal equations loses more than half the digits.
MAX_CONDITION = 1e8


class LinearRegression(RegressorMixin, BaseEstimator):
    """Ordinary least squares through the normal equations XᵀX w = Xᵀy.

    When XᵀX is singular or badly conditioned (collinear features, fewer samples than
    features) it falls back to ``numpy.linalg.lstsq``, which returns the minimum-norm
    least-squares solution.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Add a column of ones to X; its weight is ``intercept_``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    solver_ : {'normal_equations', 'lstsq'}
        Which way the solution was found.
    condition_number_ : float
        Condition number of XᵀX (inf when exactly singular).
    n_features_in_ : int
    """

    def __init__(self, fit_intercept=True):
        self.fit_intercept = fit_intercept

    def fit(self, X, y):
        """Solve for the least-squares weights. Returns self."""
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        a = _design(X, self.fit_intercept)  # (n, n_features + intercept)
        gram = a.T @ a
        with np.errstate(divide="ignore", invalid="ignore"):
            self.condition_number_ = float(np.linalg.cond(gram))
        if np.isfinite(self.condition_number_) and self.condition_number_ <= MAX_CONDITION:
            w = np.linalg.solve(gram, a.T @ y)
            self.solver_ = "normal_equations"
        else:
            w = np.linalg.lstsq(a, y, rcond=None)[0]
            self.solver_ = "lstsq"
        self.coef_, self.intercept_ = _split(w, self.fit_intercept)
        return self

    def predict(self, X):
        """Return X w + b, of shape (n_samples,) or (n_samples, n_targets)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_.T + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class L1Regression(RegressorMixin, BaseEstimator):
    """Least absolute deviations: minimise Σ_i |y_i - x_i·w - b|.

    Robust to outliers in y, unlike least squares. Two solvers:

    - ``'linprog'``: the exact optimum of the linear program
      min Σ s_i  subject to  -s_i ≤ y_i - x_i·w - b ≤ s_i, via ``scipy.optimize.linprog``
      (HiGHS).
    - ``'subgradient'``: subgradient descent on the mean absolute residual, the step
      ``lr / sqrt(t + 1)`` at step t (the objective is not smooth, so a fixed step would
      end up bouncing), keeping the best point seen.

    Parameters
    ----------
    solver : {'linprog', 'subgradient'}, default='linprog'
    fit_intercept : bool, default=True
    lr : float, default=0.1
        First step size of the subgradient solver.
    max_iter : int, default=2000
        Steps of the subgradient solver.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    objective_ : float
        Σ |residual| at the solution, to compare the two solvers.
    objective_history_ : list of float
        Per step of the subgradient solver; empty for ``'linprog'``.
    n_iter_ : int
        Subgradient steps taken, or simplex/interior-point iterations of ``linprog``.
    n_features_in_ : int
    """

    def __init__(self, solver="linprog", fit_intercept=True, lr=0.1, max_iter=2000):
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.lr = lr
        self.max_iter = max_iter

    def fit(self, X, y):
        """Minimise the sum of absolute residuals. Returns self."""
        check_option("solver", self.solver, ("linprog", "subgradient"))
        lr = check_float("lr", self.lr)
        max_iter = check_int("max_iter", self.max_iter)
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        a = _design(X, self.fit_intercept)
        self.objective_history_ = []
        if self.solver == "linprog":
            w, self.n_iter_ = _lad_linprog(a, y)
        else:
            w, self.n_iter_ = self._subgradient(a, y, lr, max_iter), max_iter
        self.objective_ = l1_objective(a @ w, y)
        self.coef_, self.intercept_ = _split(w, self.fit_intercept)
        return self

    def predict(self, X):
        """Return X w + b, of shape (n_samples,)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_ + self.intercept_

    def _subgradient(self, a, y, lr, max_iter):
        w = np.zeros(a.shape[1])
        best_w, best = w.copy(), l1_objective(a @ w, y)
        for step in range(max_iter):
            r = a @ w - y
            # A subgradient of mean |r| over w; sign(0) = 0 is a valid choice at a kink.
            w = w - lr / np.sqrt(step + 1) * (a.T @ np.sign(r)) / len(y)
            objective = l1_objective(a @ w, y)
            self.objective_history_.append(objective)
            if objective < best:
                best_w, best = w.copy(), objective
        return best_w


def l1_objective(prediction, y) -> float:
    """Sum of absolute residuals Σ |y - prediction|."""
    return float(np.abs(np.asarray(y) - np.asarray(prediction)).sum())


def _lad_linprog(a: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int]:
    # Variables [w (p, free), s (n, >= 0)]; minimise Σ s with a w - s <= y and -a w - s <= -y.
    n, p = a.shape
    eye = sparse.identity(n, format="csr")
    a_ub = sparse.vstack(
        [sparse.hstack([sparse.csr_matrix(a), -eye]), sparse.hstack([sparse.csr_matrix(-a), -eye])]
    )
    cost = np.concatenate([np.zeros(p), np.ones(n)])
    bounds = [(None, None)] * p + [(0, None)] * n
    result = optimize.linprog(cost, A_ub=a_ub, b_ub=np.concatenate([y, -y]), bounds=bounds)
    if not result.success:
        raise ValueError(f"linprog could not solve the L1 regression: {result.message}")
    return result.x[:p], int(result.nit)


def _design(X: np.ndarray, fit_intercept: bool) -> np.ndarray:
    return np.hstack([X, np.ones((len(X), 1))]) if fit_intercept else X


def _split(w: np.ndarray, fit_intercept: bool):
    # w has one row per column of the design matrix, the intercept's last.
    if not fit_intercept:
        return w.T.copy(), np.zeros(w.shape[1:]) if w.ndim > 1 else 0.0
    return w[:-1].T.copy(), (w[-1].copy() if w.ndim > 1 else float(w[-1]))
