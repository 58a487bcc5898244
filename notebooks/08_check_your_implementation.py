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
import subprocess
import sys
import tempfile
from pathlib import Path

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
# `funml check TOPIC FILE` prints a table of checks, a message for each that fails, and
# the score. A notebook works as the FILE too.

# %%
funml_cli = [sys.executable, "-m", "funml"]
has_check = subprocess.run([*funml_cli, "check", "--help"], capture_output=True).returncode == 0
if has_check:
    done = subprocess.run(
        [*funml_cli, "check", "softmax", str(path)], capture_output=True, text=True
    )
    print(done.stdout or done.stderr)
else:
    print("This funml has no `funml check` yet; update funml to run this cell.")

# %% [markdown]
# Fix the bug (`x = x - x.max()` works on a copy) and check again: the message is gone.

# %%
path.write_text(
    submission.replace("x -= x.max()  # the bug: changes the caller's array", "x = x - x.max()")
)
if has_check:
    done = subprocess.run(
        [*funml_cli, "check", "softmax", str(path)], capture_output=True, text=True
    )
    print(done.stdout or done.stderr)
shutil.rmtree(folder)

# %% [markdown]
# `funml check --list-bugs` lists the catalogue of the course's bugs, and
# `funml check --template softmax --out my_softmax.ipynb` writes a starter notebook.
