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
# # 2. The Harris corner detector
#
# At every pixel, the structure tensor M sums the products of the image gradients over a
# small window. Its two eigenvalues say what the window holds: both small on a flat patch,
# one large along an edge, both large at a corner. Harris scores this without the
# eigenvalues: R = det(M) − k·trace(M)².

# %%
import numpy as np

import funml
from funml.scratch import LABEL_NAMES, harris

# A checkerboard of 4×4 squares of 8 pixels: its corners are where four squares meet.
board = np.kron((np.indices((4, 4)).sum(axis=0) % 2), np.ones((8, 8))) * 255.0
out = harris(board, window=3, k=0.05)
counts = np.bincount(out.labels.ravel(), minlength=3)
for label, n in enumerate(counts):
    print(f"{LABEL_NAMES[label]:>6}: {n} pixels")

# %% [markdown]
# The `harris` experiment runs the detector on one of scikit-learn's sample photos and
# on a checkerboard, shows the eigenvalues of every pixel by label, and checks the
# response against scikit-image.

# %%
funml.run("harris")
