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
# # 6. Torch models and training
#
# The course's networks are PyTorch models that train with one loop
# (`funml.nn.train`): seeded, evaluated on the whole test split after every epoch,
# resumable. `funml.summary` shows a model's layers, `funml.train` trains one.

# %%
import funml

funml.summary("cnn")

# %% [markdown]
# On Digits (8×8 images) the course CNN does not fit, so funml has a small one for it.
# Settings left out come from the model's recipe (`funml.nn.recipes`); here only the
# number of epochs is ours. Nothing is written unless `out=` names a folder.

# %%
funml.summary("digits-cnn", dataset="digits")

# %%
result = funml.train("digits-cnn", dataset="digits", epochs=8, seed=0)
result

# %% [markdown]
# The result keeps the trained model and its history:

# %%
best = max(result.history, key=lambda r: r.test_accuracy)
print(f"best epoch {best.epoch}: test accuracy {best.test_accuracy:.2%}")
print(type(result.model).__name__, sum(p.numel() for p in result.model.parameters()), "parameters")

# %% [markdown]
# The `digits-cnn` experiment adds the confusion matrix, the misclassified images and the
# first layer's kernels (`quick=True`: fewer epochs).

# %%
funml.run("digits-cnn", quick=True)
