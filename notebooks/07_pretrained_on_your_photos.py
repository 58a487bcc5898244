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
# # 7. Pretrained models on your photos
#
# An ImageNet CNN names what is in a photo among 1,000 classes. EfficientNet-Lite0 works
# offline (its weights ship in a Python package); AlexNet, VGG16 and ResNet18 are used
# when their weights are on the machine (`funml classify --help`).
#
# We start from scikit-learn's two sample photos. To use yours, set `PHOTOS` to a folder
# of JPEG or PNG files.

# %%
# %matplotlib inline
from pathlib import Path

from PIL import Image
from sklearn.datasets import load_sample_images

import funml
from funml.zoo import classify, plot_prediction_grid

PHOTOS = None  # e.g. Path.home() / "Pictures"

sample = load_sample_images()
images = [Image.fromarray(a) for a in sample.images]
names = [Path(f).name for f in sample.filenames]
if PHOTOS is not None:
    files = sorted(
        p for p in Path(PHOTOS).iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"}
    )
    images += [Image.open(p) for p in files]
    names += [p.name for p in files]

predictions = classify(images, ["efficientnet_lite0"], top_k=3, names=names)
for p in predictions:
    print(p.image, "→", ", ".join(f"{c.name} {c.prob:.0%}" for c in p.top))

# %%
plot_prediction_grid(images, predictions)

# %% [markdown]
# The `pretrained` experiment does this with every model it finds, and compares them.
# `funml.run("pretrained", images=PHOTOS)` adds your folder.

# %%
funml.run("pretrained", images=PHOTOS)
