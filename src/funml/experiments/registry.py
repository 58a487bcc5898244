"""Every course experiment by name.

An experiment is a function ``(settings, context) -> Result`` registered with
:func:`experiment`. Experiment modules import heavy libraries (torch, the model zoo) inside
their functions, so listing the experiments stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from funml.errors import FunmlError

# The modules that register experiments, in the order the report shows them.
MODULES = (
    "gallery",
    "pca",
    "harris",
    "knn",
    "softmax",
    "mlp_scratch",
    "conv2d",
    "autodiff",
    "linear",
    "models",
    "networks",
    "pretrained",
    "bugs",
)


@dataclass(frozen=True)
class Experiment:
    """A registered experiment.

    Attributes
    ----------
    name : str
        Its name on the command line, e.g. ``"knn"``.
    summary : str
        One line for ``funml run --list``.
    question : str
        The course's question it answers, in one sentence.
    func : callable
        ``func(settings, context) -> Result``.
    """

    name: str
    summary: str
    question: str
    func: Callable


_REGISTRY: dict[str, Experiment] = {}


def experiment(name: str, *, summary: str, question: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as the experiment ``name``."""

    def register(func: Callable) -> Callable:
        if name in _REGISTRY:
            raise ValueError(f"Experiment {name!r} is registered twice.")
        _REGISTRY[name] = Experiment(name, summary, question, func)
        return func

    return register


def experiments() -> dict[str, Experiment]:
    """All experiments, by name, in report order (the order of :data:`MODULES`).

    The order does not depend on which experiment module happened to be imported first.
    """
    for module in MODULES:
        importlib.import_module(f"funml.experiments.{module}")
    rank = {f"funml.experiments.{module}": i for i, module in enumerate(MODULES)}
    # Within a module, registration order (dicts and sorted() keep it); experiments
    # registered elsewhere (a plug-in, a test) come last.
    ordered = sorted(_REGISTRY.values(), key=lambda e: rank.get(e.func.__module__, len(rank)))
    return {e.name: e for e in ordered}


def resolve(names: list[str] | tuple[str, ...]) -> list[str]:
    """Expand ``all`` and check names; return the experiment names in report order."""
    known = experiments()
    if not names or "all" in names:
        return list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise FunmlError(
            f"Unknown experiment '{unknown[0]}'; run `funml run --list` to see them "
            f"(one of: all, {', '.join(known)})."
        )
    return [n for n in known if n in names]
