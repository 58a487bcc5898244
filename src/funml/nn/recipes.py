"""How each course model is trained when nothing else is said: one table for the whole project.

``funml train MODEL`` takes every setting it is not given from here, the lab
(``funml run mlp cnn ...``) trains with these recipes, and ``benchmarks/train.py`` measures
them. A recipe set has a name (today only ``"tuned"``: the settings measured best on this
machine, see benchmarks/train.py), so that another set can sit beside it:
``recipe(model, name="...")``.
"""

from __future__ import annotations

from dataclasses import dataclass

from funml.errors import FunmlError


@dataclass(frozen=True)
class Recipe:
    """How to train one model (its architecture is the model's own, in funml.nn.models)."""

    optimizer: str  # "adam" or "sgd"
    lr: float  # learning rate of the first epoch
    batch_size: int = 64  # the global batch: samples per optimizer step
    gamma: float | None = None  # step decay: lr *= gamma every lr_step epochs; None: constant
    epochs: int = 10  # for the full data set (the lab's quick runs use fewer)
    momentum: float = 0.9  # sgd only
    lr_step: int = 1  # epochs between decays


# "tuned" is the lab's recipe. Measured on the full data (README, benchmarks/train.py
# --only accuracy): cnn 91.06% and mlp 88.40% on Fashion-MNIST after 10 epochs, logreg
# 84.59% after 20, digits-cnn 97.53% on Digits after 30. `--only search` tries alternatives.
RECIPES: dict[str, dict[str, Recipe]] = {
    "tuned": {
        "mlp": Recipe("adam", 5e-4),  # the course's Adam 5e-4 example
        "cnn": Recipe("adam", 1e-3, gamma=0.7),
        "mlp2": Recipe("adam", 1e-3),
        "cnn-small": Recipe("adam", 1e-3),
        "logreg": Recipe("adam", 1e-3, gamma=0.85, epochs=20),
        "digits-cnn": Recipe("adam", 1e-3, batch_size=16, epochs=30),  # 500 images: small batches
    },
}
DEFAULT_RECIPES = "tuned"


def recipe(model: str, name: str = DEFAULT_RECIPES) -> Recipe:
    """The recipe set ``name``'s way of training ``model``."""
    if name not in RECIPES:
        raise FunmlError(f"Recipe set '{name}' is unknown; choose one of: {', '.join(RECIPES)}.")
    recipes = RECIPES[name]
    if model not in recipes:
        raise FunmlError(f"Unknown model '{model}'; choose one of: {', '.join(recipes)}.")
    return recipes[model]
