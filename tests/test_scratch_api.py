"""funml.scratch as a package: scikit-learn's estimator checks, and no torch on import."""

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.utils.estimator_checks import parametrize_with_checks

from funml.scratch import (
    PCA,
    KNNClassifier,
    L1Regression,
    LinearRegression,
    MLPClassifier,
    SoftmaxRegression,
)

# The four course estimators with their default arguments: check_fit_idempotent seeds any
# parameter named random_state, so the stochastic ones pass with random_state=None too.
DEFAULTS = [PCA(), KNNClassifier(), SoftmaxRegression(), MLPClassifier()]

# Other settings worth checking; no check is expected to fail.
OTHERS = [
    PCA(n_components=0.9),
    KNNClassifier(n_neighbors=3, weights="distance", algorithm="kd_tree"),
    LinearRegression(),
    L1Regression(),
]


# check_estimator, one test per check. Checks that need pandas are skipped when it is absent.
@parametrize_with_checks(DEFAULTS + OTHERS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [SoftmaxRegression(epochs=2), MLPClassifier(epochs=2)])
def test_random_state_follows_scikit_learn(estimator):
    X, y = load_iris(return_X_y=True)

    def coef(random_state):
        model = clone(estimator).set_params(random_state=random_state).fit(X, y)
        return model.coef_ if hasattr(model, "coef_") else model.weights_[0]

    assert_array_equal(coef(0), coef(0))
    # A RandomState instance is drawn from, so two fits from one instance differ.
    rs = np.random.RandomState(0)
    assert not np.array_equal(coef(rs), coef(rs))
    # An int seeds NumPy's default_rng, so a seed gives the numbers it always gave.
    assert_array_equal(coef(np.random.default_rng(5)), coef(5))


def test_importing_scratch_does_not_import_torch():
    code = "import sys, funml.scratch; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
