"""The course's from-scratch MLP functions, backed by :mod:`funml.scratch.mlp`.

Conventions (the template states them too): ``layer_sizes`` is
``[n_features, *hidden, n_classes]``; ``hidden_layers`` is a list of one array per entry
of ``layer_sizes``: the input batch, the sigmoid activations of each hidden layer, and the
softmax output; ``weights[i]`` has shape (layer_sizes[i], layer_sizes[i + 1]).
"""

import numpy as np

from funml.scratch.mlp import back_prop as _back_prop
from funml.scratch.mlp import feed_forward as _feed_forward
from funml.scratch.mlp import init_weights as _init_weights
from funml.scratch.mlp import sigmoid as _sigmoid
from funml.scratch.softmax import softmax as _softmax_rows

SEED = 42


def sigmoid(x):
    """The logistic function, elementwise."""
    return _sigmoid(np.asarray(x, dtype=np.float64))


def softmax(x):
    """Softmax of each row of x, of shape (N, dim)."""
    return _softmax_rows(np.asarray(x, dtype=np.float64))


def sigmoid_prime(sigmoid_out):
    """σ′ from σ's output s: s (1 - s)."""
    return sigmoid_out * (1.0 - sigmoid_out)


def init_layers(batch_size, layer_sizes):
    """One zero array (batch_size, n) per layer size."""
    return [np.zeros((batch_size, n)) for n in layer_sizes]


def init_weights(layer_sizes, fix_seed=False):
    """Uniform [-1, 1] weights (n_i, n_{i+1}); the same ones every time with fix_seed."""
    rng = np.random.default_rng(SEED if fix_seed else None)
    return _init_weights(layer_sizes, rng=rng)


def feed_forward(batch, hidden_layers, weights):
    """Return (output, hidden_layers): softmax output (N, n_classes) and every layer."""
    _, activations = _feed_forward(weights, np.asarray(batch, dtype=np.float64))
    return activations[-1], activations


def back_prop(output, batch_y, hidden_layers, weights, batch_size, lr):
    """One gradient step on the batch-mean cross-entropy; return the updated weights."""
    zs, activations = _feed_forward(weights, np.asarray(hidden_layers[0], dtype=np.float64))
    grads = _back_prop(weights, zs, activations, np.asarray(batch_y, dtype=np.float64))
    return [w - lr * g for w, g in zip(weights, grads, strict=True)]
