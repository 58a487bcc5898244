"""Sign perceptrons, and the course's two-layer network that recognises a decreasing order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def sign_perceptron(x: np.ndarray, w: np.ndarray, b) -> np.ndarray:
    """Output +1 where x·w + b > 0 and -1 elsewhere (0 counts as -1).

    Parameters
    ----------
    x : ndarray of shape (n_samples, n_inputs)
    w : ndarray of shape (n_inputs,) for one perceptron, or (n_inputs, n_units) for a layer
    b : float, or ndarray of shape (n_units,)

    Returns
    -------
    ndarray of shape (n_samples,) or (n_samples, n_units), values in {-1, +1}
    """
    return np.where(np.asarray(x, dtype=np.float64) @ w + b > 0, 1, -1)


@dataclass(frozen=True)
class PerceptronNetwork:
    """A layer of sign perceptrons followed by one output sign perceptron.

    Attributes
    ----------
    hidden_weights : ndarray of shape (n_inputs, n_hidden)
    hidden_bias : ndarray of shape (n_hidden,)
    output_weights : ndarray of shape (n_hidden,)
    output_bias : float
    """

    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    output_weights: np.ndarray
    output_bias: float

    def hidden(self, x) -> np.ndarray:
        """Outputs of the hidden perceptrons, shape (n_samples, n_hidden)."""
        return sign_perceptron(np.atleast_2d(x), self.hidden_weights, self.hidden_bias)

    def predict(self, x) -> np.ndarray:
        """Network output in {-1, +1} for each row of ``x`` (n_samples, n_inputs)."""
        return sign_perceptron(self.hidden(x), self.output_weights, self.output_bias)


def decreasing_order_network() -> PerceptronNetwork:
    """The course's network that outputs +1 exactly when x1 > x2 > x3 > x4 > x5.

    Hidden perceptron i fires (+1) when x_i - x_{i+1} > 0, so its weights are +1 on x_i,
    -1 on x_{i+1} and its bias is 0. The output is an AND of the four: their sum is 4
    when all fire and at most 2 otherwise, so a threshold of 3 (bias -3) separates the two.
    """
    hidden_weights = np.zeros((5, 4))
    for i in range(4):
        hidden_weights[i, i], hidden_weights[i + 1, i] = 1.0, -1.0
    return PerceptronNetwork(
        hidden_weights=hidden_weights,
        hidden_bias=np.zeros(4),
        output_weights=np.ones(4),
        output_bias=-3.0,
    )
