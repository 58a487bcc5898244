"""Buggy variants of the course's MLP functions."""

from itertools import pairwise

import numpy as np

from funml.check.reference.mlp import sigmoid, sigmoid_prime, softmax


def softmax_overflow(x):
    """exp of large logits overflows to inf, and inf / inf is nan."""
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def softmax_mutates_input(x):
    """x -= the rows' max changes the caller's array."""
    x -= x.max(axis=1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def softmax_whole_array(x):
    """Normalises over the whole batch instead of each row."""
    e = np.exp(x - x.max())
    return e / e.sum()


def init_weights_unseeded(layer_sizes, fix_seed=False):
    """fix_seed is ignored: every call draws new weights."""
    rng = np.random.default_rng()
    return [rng.uniform(-1.0, 1.0, size=(n_in, n_out)) for n_in, n_out in pairwise(layer_sizes)]


def feed_forward_sigmoid_softmax(batch, hidden_layers, weights):
    """The output layer squashes the logits with a sigmoid before the softmax."""
    layers = [np.asarray(batch, dtype=np.float64)]
    for w in weights[:-1]:
        layers.append(sigmoid(layers[-1] @ w))
    output = softmax(sigmoid(layers[-1] @ weights[-1]))
    layers.append(output)
    return output, layers


def back_prop_updated_weights(output, batch_y, hidden_layers, weights, batch_size, lr):
    """Each layer's error goes back through the weights just updated."""
    weights = [np.array(w, dtype=np.float64) for w in weights]
    delta = (output - batch_y) / batch_size
    for i in range(len(weights) - 1, -1, -1):
        grad = hidden_layers[i].T @ delta
        weights[i] -= lr * grad
        if i > 0:
            delta = (delta @ weights[i].T) * sigmoid_prime(hidden_layers[i])
    return weights


def back_prop_output_sigmoid_prime(output, batch_y, hidden_layers, weights, batch_size, lr):
    """The output error gains a factor σ′(output), as if the output were a sigmoid."""
    weights = [np.array(w, dtype=np.float64) for w in weights]
    delta = (output - batch_y) * sigmoid_prime(output) / batch_size
    for i in range(len(weights) - 1, -1, -1):
        grad = hidden_layers[i].T @ delta
        if i > 0:
            delta = (delta @ weights[i].T) * sigmoid_prime(hidden_layers[i])
        weights[i] -= lr * grad
    return weights
