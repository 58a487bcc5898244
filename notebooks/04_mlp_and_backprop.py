# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. The MLP from scratch, and backpropagation
#
# The course's multilayer perceptron: sigmoid hidden layers and a softmax output, trained
# on the cross-entropy. Backpropagation gives the gradient of the loss with respect to
# every weight in one backward sweep; here we check it against finite differences.

# %%
import numpy as np

import funml
from funml.scratch import back_prop, feed_forward, init_weights
from funml.scratch.softmax import cross_entropy

rng = np.random.default_rng(0)
x = rng.normal(size=(5, 4))  # 5 samples, 4 features
t = np.eye(3)[rng.integers(0, 3, size=5)]  # one-hot targets of 3 classes
weights = init_weights([4, 6, 3], rng=0)
zs, activations = feed_forward(weights, x)
grads = back_prop(weights, zs, activations, t)


def loss() -> float:
    return cross_entropy(feed_forward(weights, x)[0][-1], t)


# Central differences on a few weights of the first layer.
h = 1e-6
for i, j in [(0, 0), (2, 3), (3, 5)]:
    saved = weights[0][i, j]
    weights[0][i, j] = saved + h
    up = loss()
    weights[0][i, j] = saved - h
    down = loss()
    weights[0][i, j] = saved
    print(
        f"dJ/dW1[{i},{j}]: backprop {grads[0][i, j]: .8f}   numerical {(up - down) / (2 * h): .8f}"
    )

# %% [markdown]
# `funml.scratch.MLPClassifier` wraps these functions in an estimator. The `mlp-scratch`
# experiment trains it on Digits and plots the training and validation curves
# (`quick=True`: fewer epochs).

# %%
funml.run("mlp-scratch", quick=True)
