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
# # 1. Data and PCA
#
# funml works offline on scikit-learn's **Digits** (1,797 handwritten digits of 8×8 pixels);
# MNIST and Fashion-MNIST load the same way once their files are on the machine.
# Here we look at the data, then find how many principal components keep most of its
# variance, with funml's from-scratch PCA.

# %%
import funml
from funml.data import load_dataset

ds = load_dataset("digits")
print(f"{ds.name}: {len(ds.train)} training and {len(ds.test)} test images of {ds.image_shape}")
print("classes:", ", ".join(ds.classes), "| pixels 0 to", ds.pixel_max)

# %% [markdown]
# A split holds uint8 images of shape (N, H, W) and int64 labels. The `gallery`
# experiment shows one image of each class; a result displays itself in the notebook,
# figures included.

# %%
funml.run("gallery")

# %% [markdown]
# ## PCA from scratch
#
# `funml.scratch.PCA` is a scikit-learn-style estimator: fit it on the flattened training
# images and read the explained variance of each component.

# %%
from funml.scratch import PCA, components_for_variance

X = ds.train.images.reshape(len(ds.train), -1).astype(float)
pca = PCA().fit(X)
for share in (0.9, 0.95, 0.99):
    k = components_for_variance(pca.explained_variance_ratio_, share)
    print(f"{share:.0%} of the variance: {k} components of {X.shape[1]}")

# %% [markdown]
# The `pca` experiment does the same and more: the eigenvalue spectrum, the 2-D map of the
# test images, reconstructions from a few components, and a comparison with scikit-learn.
# Its figures are live matplotlib Figures too: `result.figures` maps each caption to one.

# %%
result = funml.run("pca")
print(list(result.figures))
result
