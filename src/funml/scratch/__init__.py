"""From-scratch NumPy algorithms, each checked against its library twin.

Imports NumPy, SciPy and scikit-learn's base classes only, never torch.

- :class:`PCA`, :class:`KNNClassifier`, :class:`SoftmaxRegression`, :class:`MLPClassifier`,
  :class:`LinearRegression`, :class:`L1Regression`: scikit-learn-style estimators.
- :func:`conv2d`, :func:`conv2d_loop`, :func:`conv2d_backward`: convolution layers.
- :func:`harris`, :func:`gradients_as_points`: corners, edges and flat patches.
- :func:`decreasing_order_network`: the course's two-layer sign-perceptron network.
"""

from funml.scratch.conv import conv2d, conv2d_backward, conv2d_loop
from funml.scratch.harris import (
    CORNER,
    EDGE,
    FLAT,
    LABEL_NAMES,
    GradientPoints,
    HarrisResult,
    box_window,
    gaussian_window,
    gradients_as_points,
    harris,
    image_gradients,
)
from funml.scratch.knn import KNNClassifier
from funml.scratch.linear import L1Regression, LinearRegression, l1_objective
from funml.scratch.mlp import (
    MLPClassifier,
    back_prop,
    feed_forward,
    init_weights,
    sigmoid,
    sigmoid_prime,
)
from funml.scratch.pca import PCA, components_for_variance, cumulative_explained_variance
from funml.scratch.perceptron import PerceptronNetwork, decreasing_order_network, sign_perceptron
from funml.scratch.softmax import (
    SoftmaxRegression,
    cross_entropy,
    log_softmax,
    softmax,
    softmax_gradients,
    softmax_loss,
)

__all__ = [
    "CORNER",
    "EDGE",
    "FLAT",
    "LABEL_NAMES",
    "PCA",
    "GradientPoints",
    "HarrisResult",
    "KNNClassifier",
    "L1Regression",
    "LinearRegression",
    "MLPClassifier",
    "PerceptronNetwork",
    "SoftmaxRegression",
    "back_prop",
    "box_window",
    "components_for_variance",
    "conv2d",
    "conv2d_backward",
    "conv2d_loop",
    "cross_entropy",
    "cumulative_explained_variance",
    "decreasing_order_network",
    "feed_forward",
    "gaussian_window",
    "gradients_as_points",
    "harris",
    "image_gradients",
    "init_weights",
    "l1_objective",
    "log_softmax",
    "sigmoid",
    "sigmoid_prime",
    "sign_perceptron",
    "softmax",
    "softmax_gradients",
    "softmax_loss",
]
