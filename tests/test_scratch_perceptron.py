"""The course's two-layer sign-perceptron network for x1 > x2 > x3 > x4 > x5."""

import itertools

import numpy as np
from numpy.testing import assert_array_equal

from funml.scratch import decreasing_order_network, sign_perceptron


def _is_decreasing(x):
    return np.all(np.diff(x, axis=1) < 0, axis=1)


def test_random_vectors():
    x = np.random.default_rng(0).normal(size=(10_000, 5))
    out = decreasing_order_network().predict(x)
    assert set(np.unique(out)) <= {-1, 1}
    assert_array_equal(out == 1, _is_decreasing(x))


def test_every_strictly_decreasing_vector_fires():
    rng = np.random.default_rng(1)
    x = -np.sort(-rng.uniform(-100, 100, size=(2_000, 5)), axis=1)  # sorted high to low
    x = x[_is_decreasing(x)]  # drop the (unlikely) exact repeats
    assert_array_equal(decreasing_order_network().predict(x), 1)
    # Small gaps and integers too.
    assert_array_equal(
        decreasing_order_network().predict([[5, 4, 3, 2, 1], [1e-9, 0, -1, -2, -3]]), 1
    )


def test_only_one_ordering_of_five_values_fires():
    perms = np.array(list(itertools.permutations([1, 2, 3, 4, 5])))
    out = decreasing_order_network().predict(perms)
    assert (out == 1).sum() == 1
    assert_array_equal(perms[out == 1], [[5, 4, 3, 2, 1]])


def test_equal_neighbours_do_not_fire():
    x = np.array([[5, 5, 3, 2, 1], [5, 4, 3, 2, 2], [0, 0, 0, 0, 0]])
    assert_array_equal(decreasing_order_network().predict(x), -1)


def test_weights_are_the_courses():
    net = decreasing_order_network()
    assert net.hidden_weights.shape == (5, 4)
    assert net.hidden_bias.shape == (4,) and net.output_weights.shape == (4,)
    # Hidden unit i compares x_i with x_{i+1}.
    assert_array_equal(net.hidden([[3, 1, 2, 0, 5]]), [[1, -1, 1, -1]])
    assert_array_equal(sign_perceptron([[1.0, 2.0]], np.array([1.0, -1.0]), 0.0), [-1])
