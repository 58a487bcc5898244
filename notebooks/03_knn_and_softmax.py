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
# # 3. k-nearest neighbours and softmax regression
#
# Two classifiers written from scratch in NumPy, both scikit-learn-style estimators, so they
# fit, predict and score like scikit-learn's own.

# %%
import funml
from funml.data import load_dataset
from funml.scratch import KNNClassifier, SoftmaxRegression

ds = load_dataset("digits")
X_train = ds.train.images.reshape(len(ds.train), -1) / ds.pixel_max
X_test = ds.test.images.reshape(len(ds.test), -1) / ds.pixel_max
y_train, y_test = ds.train.labels, ds.test.labels

for k in (1, 3, 5):
    knn = KNNClassifier(n_neighbors=k).fit(X_train, y_train)
    print(f"k = {k}: test accuracy {knn.score(X_test, y_test):.2%}")

# %% [markdown]
# Softmax regression learns one weight vector per class by stochastic gradient descent on
# the cross-entropy, one sample at a time, as the course does.

# %%
softmax = SoftmaxRegression(lr=1e-2, epochs=5, random_state=0).fit(X_train, y_train)
print(f"softmax regression: test accuracy {softmax.score(X_test, y_test):.2%}")

# %% [markdown]
# The experiments compare each with scikit-learn and show the accuracy and time for each k,
# and the loss curve with a gradient check against finite differences.

# %%
funml.run("knn")

# %%
funml.run("softmax", quick=True)
