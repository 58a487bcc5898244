"""What one check is: a probe that runs the course's functions, and a judge of its outputs.

A :class:`Check` has two halves that never meet in one process for untrusted code:

- ``run(ns)`` calls the course's functions found in the namespace ``ns`` on probe inputs it
  makes itself (seeded, so every process makes the same ones) and returns plain data: a
  dict of names to numeric NumPy arrays, numbers, booleans, strings or None. It runs in the
  child process on the student's namespace, and in funml's process on the reference's and
  on each buggy variant's (all funml's own code).
- ``judge(got, want)`` compares the student's outputs with the reference's and raises
  :class:`Fail` with one or two sentences that say what is wrong, never the right answer.

The helpers below turn a student's return value into data (``ProbeError`` when it cannot
be) and compare arrays with messages that describe the difference, not the expected values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


class ProbeError(Exception):
    """Raised in a probe when the submission's output cannot be used; the message is shown."""


class Fail(Exception):
    """Raised by a judge: the check failed, for the reason in the message."""


@dataclass(frozen=True)
class Check:
    """One check of a topic.

    Attributes
    ----------
    name : str
        Short and stable, e.g. ``"softmax-large-logits"``.
    description : str
        What it verifies, one line (the table and the templates show it).
    run : callable ns -> dict
        The probe; see the module docstring.
    judge : callable (got, want) -> None
        Raises :class:`Fail` when ``got`` is wrong.
    points : float, default=1.0
    optional : str or None, default=None
        A function beyond the course's table: when the submission does not define it,
        the check is skipped and counts no points.
    """

    name: str
    description: str
    run: Callable[[Mapping[str, Any]], dict]
    judge: Callable[[dict, dict], None]
    points: float = 1.0
    optional: str | None = None


def need(ns: Mapping[str, Any], name: str) -> Any:
    """The callable ``name`` from the submission's namespace, or a clear ProbeError."""
    obj = ns.get(name)
    if obj is None:
        raise ProbeError(f"The submission defines no '{name}'; write it with the course's name.")
    if not callable(obj):
        raise ProbeError(f"'{name}' in the submission is a {type(obj).__name__}, not a function.")
    return obj


def as_array(value: Any, what: str) -> np.ndarray:
    """``value`` as a float64 array, or a ProbeError saying what ``what`` returned."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ProbeError(
            f"{what} returned a {type(value).__name__}, not an array of numbers."
        ) from None
    return arr


def as_number(value: Any, what: str) -> float:
    """``value`` as a Python float, or a ProbeError."""
    arr = as_array(value, what)
    if arr.size != 1:
        raise ProbeError(f"{what} returned {arr.size} numbers where one was expected.")
    return float(arr.reshape(()))


def unpack(value: Any, n: int, what: str) -> tuple:
    """``value`` as a tuple of ``n`` items, or a ProbeError."""
    try:
        items = tuple(value)
    except TypeError:
        raise ProbeError(f"{what} returned a {type(value).__name__}, not {n} values.") from None
    if len(items) != n:
        raise ProbeError(f"{what} returned {len(items)} values where {n} were expected.")
    return items


# ---- judges' helpers: they describe a difference, never the expected value ----------------


def get(got: dict, key: str) -> Any:
    if key not in got:
        raise Fail(f"The probe returned no '{key}'.")
    return got[key]


def same_shape(got: dict, want: dict, key: str, what: str) -> np.ndarray:
    """``got[key]`` as an array of ``want[key]``'s shape, or Fail."""
    g = get(got, key)
    if not isinstance(g, np.ndarray):
        g = np.asarray(g, dtype=np.float64) if isinstance(g, int | float) else None
    if g is None or g.dtype.kind not in "biuf":
        raise Fail(f"{what} is not an array of numbers.")
    w = np.asarray(want[key])
    if g.shape != w.shape:
        raise Fail(f"{what} has shape {g.shape}; the course's inputs call for {w.shape}.")
    return g


def close(got: dict, want: dict, key: str, what: str, rtol=1e-5, atol=1e-8) -> None:
    """Fail unless ``got[key]`` equals ``want[key]`` within tolerances; a nan or inf passes
    only where ``want`` has the same."""
    g = same_shape(got, want, key, what)
    w = np.asarray(want[key], dtype=np.float64)
    g = g.astype(np.float64)
    bad = ~np.isfinite(g)
    if bad.any() and np.isfinite(w).all():
        raise Fail(f"{what} contains {int(bad.sum())} nan or inf value(s).")
    with np.errstate(invalid="ignore"):
        err = np.abs(g - w)
        # the same nan or inf in both counts as equal: a buggy variant's outputs may hold them
        ok = (err <= atol + rtol * np.abs(w)) | (g == w) | (np.isnan(g) & np.isnan(w))
    if not ok.all():
        where = f" in {int((~ok).sum())} of {ok.size} entries" if ok.size > 1 else ""
        tolerance = f"relative tolerance {rtol:g}" if rtol else f"absolute tolerance {atol:g}"
        raise Fail(f"{what} is wrong{where} ({tolerance}).")
