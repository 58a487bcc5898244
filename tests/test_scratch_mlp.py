"""funml.scratch.MLPClassifier: back-propagation by finite differences, and learning Digits."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError

from funml.scratch import (
    MLPClassifier,
    back_prop,
    cross_entropy,
    feed_forward,
    init_weights,
    sigmoid,
    sigmoid_prime,
)
from helpers import numerical_gradient


def _loss(weights, x, t, bias):
    return cross_entropy(feed_forward(weights, x, bias)[0][-1], t)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("hidden", [(6,), (5, 4)])
def test_back_prop_matches_finite_differences(bias, hidden):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 5))
    t = np.eye(3)[rng.integers(0, 3, size=7)]
    weights = init_weights([5, *hidden, 3], bias=bias, rng=rng)
    zs, activations = feed_forward(weights, x, bias)
    grads = back_prop(weights, zs, activations, t, bias)
    for w, g in zip(weights, grads, strict=True):
        assert g.shape == w.shape
        numeric = numerical_gradient(lambda: _loss(weights, x, t, bias), w)
        assert_allclose(g, numeric, rtol=1e-5, atol=1e-8)


def test_sigmoid_and_its_derivative():
    z = np.linspace(-8, 8, 33)
    assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12)
    eps = 1e-6
    assert_allclose(sigmoid_prime(z), (sigmoid(z + eps) - sigmoid(z - eps)) / (2 * eps), atol=1e-9)
    # No overflow warning (warnings are errors in this test suite) far from 0.
    assert_array_equal(sigmoid(np.array([-1e4, 1e4])), [0.0, 1.0])


def test_init_weights_shapes_and_range():
    weights = init_weights([64, 32, 10], bias=True, rng=np.random.default_rng(0))
    assert [w.shape for w in weights] == [(65, 32), (33, 10)]
    assert all(w.min() >= -1 and w.max() <= 1 for w in weights)
    assert min(w.min() for w in weights) < -0.9 and max(w.max() for w in weights) > 0.9


def test_output_is_a_softmax_of_the_logits():
    rng = np.random.default_rng(1)
    weights = init_weights([4, 3, 5], rng=rng)
    zs, activations = feed_forward(weights, rng.normal(size=(6, 4)))
    p = activations[-1]
    assert_allclose(p.sum(axis=1), 1.0)
    shifted = np.exp(zs[-1] - zs[-1].max(axis=1, keepdims=True))
    assert_allclose(p, shifted / shifted.sum(axis=1, keepdims=True))


def test_learns_digits_above_90_percent(digits):
    X, y, X_test, y_test = digits
    model = MLPClassifier(hidden_layer_sizes=(64,), epochs=15, random_state=0)
    model.fit(X, y, X_test, y_test)
    accuracy = model.score(X_test, y_test)
    assert accuracy > 0.9, accuracy
    history = model.history_
    assert set(history) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds"}
    assert all(len(v) == 15 for v in history.values())
    assert_allclose(history["val_accuracy"][-1], accuracy)
    assert history["train_loss"][-1] < history["train_loss"][0]
    # A softmax output can be confident; sigmoid-then-softmax could not pass 0.23.
    assert np.median(model.predict_proba(X).max(axis=1)) > 0.9


def test_bias_option_and_no_validation_data(digits):
    X, y, X_test, y_test = digits
    model = MLPClassifier(hidden_layer_sizes=(32,), epochs=5, random_state=0, bias=True).fit(X, y)
    assert [w.shape for w in model.weights_] == [(65, 32), (33, 10)]
    assert np.isnan(model.history_["val_loss"]).all()
    assert model.score(X_test, y_test) > 0.8


def test_bad_input(digits):
    X, y, X_test, y_test = digits
    with pytest.raises(ValueError, match="hidden_layer_sizes must be a tuple of integers"):
        MLPClassifier(hidden_layer_sizes=(0,)).fit(X, y)
    with pytest.raises(ValueError, match="Pass both X_val and y_val"):
        MLPClassifier(epochs=1).fit(X, y, X_val=X_test)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MLPClassifier(epochs=1).fit(X, y, X_test, y_test[:5])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MLPClassifier(epochs=1).fit(X, y[:5])
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)
    with pytest.raises(ValueError, match="features"):
        MLPClassifier(epochs=1, random_state=0).fit(X, y).predict(X[:, :10])
