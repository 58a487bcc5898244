"""funml.scratch as a package: scikit-learn's estimator checks, and no torch on import."""

import subprocess
import sys

from sklearn.utils.estimator_checks import parametrize_with_checks

from funml.scratch import (
    PCA,
    KNNClassifier,
    L1Regression,
    LinearRegression,
    MLPClassifier,
    SoftmaxRegression,
)

# Seeds make the stochastic estimators repeatable, as check_fit_idempotent requires (it only
# seeds parameters named random_state). MLPClassifier uses few epochs to keep this fast.
ESTIMATORS = [
    PCA(),
    PCA(n_components=0.9),
    KNNClassifier(),
    KNNClassifier(n_neighbors=3, weights="distance", algorithm="kd_tree"),
    SoftmaxRegression(seed=0),
    MLPClassifier(epochs=5, seed=0),
    LinearRegression(),
    L1Regression(),
]


# No check is expected to fail. Checks that need pandas are skipped when it is absent.
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_importing_scratch_does_not_import_torch():
    code = "import sys, funml.scratch; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
