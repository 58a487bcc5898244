"""The topics ``funml check`` knows, one module each.

A topic module defines ``CHECKS`` (a tuple of :class:`funml.check.probe.Check`),
``FUNCTIONS`` (the course's names, in order, with one-line signatures for messages) and
``REFERENCE`` (the module of :mod:`funml.check.reference` in the course's signatures).
Topic modules import only NumPy at module level; a probe imports torch when it runs.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from funml.errors import FunmlError

TOPICS = ("knn", "softmax", "mlp", "conv2d", "loops", "graph", "pca")


def get_topic(name: str) -> ModuleType:
    """The topic module ``name``; FunmlError for an unknown topic."""
    if name not in TOPICS:
        raise FunmlError(f"Topic '{name}' is unknown; choose one of: {', '.join(TOPICS)}.")
    return importlib.import_module(f"funml.check.topics.{name}")
