"""What an experiment hands back: numbers, figures, a verdict, and its reference numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reference:
    """One row of an experiment's measured-against-reference table.

    Attributes
    ----------
    quantity : str
        What is measured, e.g. ``"test accuracy, k=3"``.
    measured : float or str
        funml's value.
    reference : float, str or None
        The value it is compared with; None where there is nothing to compare.
    source : str
        Where the reference comes from: ``"scikit-learn, same data"``, or a published anchor
        such as ``"published: LeCun et al. (1998), full MNIST"``.
    unit : str
        ``"%"``, ``"s"``, ``"x"`` or empty; used only for display. With ``"%"`` the numbers
        are fractions (0.9 for 90%), as every accuracy in funml's records, and the report
        shows them as percent.
    """

    quantity: str
    measured: float | str
    reference: float | str | None = None
    source: str = ""
    unit: str = ""


@dataclass(frozen=True)
class Table:
    """A small table of values for the report (e.g. a computational graph's nodes)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass
class Result:
    """What one experiment returns.

    Attributes
    ----------
    metrics : dict
        Numbers (and short strings) for ``metrics.json``; plain JSON types or NumPy scalars.
    verdict : str
        One line: what the numbers say about the course's question.
    answer : str
        The course's question answered in words (2-6 sentences), quoting this run's numbers.
        Where the course's published answer was wrong, it says so and gives the right one.
    references : list of Reference
        Measured values next to their references.
    figures : dict of str to matplotlib Figure
        Saved by the runner as ``figures/<experiment>-<key>.png``, in insertion order.
    tables : list of Table
        Extra tables for the report.
    texts : dict of str to str
        Preformatted text for the report, e.g. a model summary.
    notes : list of str
        What data was used and any substitution made, shown above the figures.
    """

    metrics: dict[str, Any] = field(default_factory=dict)
    verdict: str = ""
    answer: str = ""
    references: list[Reference] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
