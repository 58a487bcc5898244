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
# # 8. Checking your own implementation with `funml check`
#
# The course material had real bugs, and some were graded as correct. `funml check` runs
# your implementation of the course's functions against funml's verified references, on
# inputs chosen to expose those bugs, and names the bug it recognises.
#
# Below, a softmax regression written as the course did, with one classic mistake: the
# softmax subtracts the maximum *in place*, so it changes the array its caller passed.

# %%
import shutil
import tempfile
from pathlib import Path

import funml

submission = """
import numpy as np


def softmax(x):
    x -= x.max()  # the bug: changes the caller's array
    e = np.exp(x)
    return e / e.sum()


def J(W, b, y_true, x):
    return -float(np.sum(y_true * np.log(softmax(W @ x + b))))


def dJ(W, b, y_true, x):
    g = softmax(W @ x + b) - y_true
    return np.outer(g, x), g


def SGD(f, df, Xs, ys, n_classes=10, lr=1e-3, max_epoch=20):
    W, b = np.zeros((n_classes, Xs.shape[1])), np.zeros(n_classes)
    for _ in range(max_epoch):
        for x, y in zip(Xs, ys):
            dW, db = df(W, b, np.eye(n_classes)[y], x)
            W, b = W - lr * dW, b - lr * db
    return W, b
"""
folder = Path(tempfile.mkdtemp())
path = folder / "my_softmax.py"
path.write_text(submission)

# %% [markdown]
# `funml.check(TOPIC, FILE)` runs the file's functions in a separate, limited process and
# returns a report: in a notebook it shows the table of checks, a message for each that
# fails (naming the course bug it recognises), and the score. A notebook works as the FILE
# too. On the command line the same is `funml check softmax my_softmax.py`.

# %%
report = funml.check("softmax", path)
report

# %% [markdown]
# Fix the bug (`x = x - x.max()` works on a copy) and check again: the message is gone.

# %%
path.write_text(
    submission.replace("x -= x.max()  # the bug: changes the caller's array", "x = x - x.max()")
)
fixed = funml.check("softmax", path)
print(f"score: {fixed.score:g}/{fixed.max_score:g}")
fixed

# %%
shutil.rmtree(folder)

# %% [markdown]
# `funml check --list-bugs` lists the catalogue of the course's bugs, and
# `funml check --template softmax --out my_softmax.ipynb` writes a starter notebook.
