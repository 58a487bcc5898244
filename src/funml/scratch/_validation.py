"""Checks for hyper-parameters, shared by the from-scratch estimators.

Each check raises ``ValueError`` with one sentence that quotes the bad value and says what
is allowed, as scikit-learn does. Array checks use scikit-learn's own validation.
"""

from __future__ import annotations

import numbers

import numpy as np


def check_int(name: str, value, *, low: int = 1, high: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in ``[low, high]``."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok and value >= low and (high is None or value <= high):
        return int(value)
    allowed = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
    raise ValueError(f"{name} must be {allowed}, got {value!r}.")


def check_float(name: str, value, *, low: float = 0.0, high: float = np.inf) -> float:
    """Return ``value`` as a float if it is a finite real number in ``(low, high]``."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and np.isfinite(value) and low < value <= high:
        return float(value)
    allowed = f"a number > {low}" if high == np.inf else f"a number in ({low}, {high}]"
    raise ValueError(f"{name} must be {allowed}, got {value!r}.")


def check_option(name: str, value, options: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``options``."""
    if isinstance(value, str) and value in options:
        return value
    raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}.")


def check_pair(name: str, value, *, low: int) -> tuple[int, int]:
    """Return ``value`` as an (int, int) pair; an int means the same value twice."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    if isinstance(value, tuple | list) and len(value) == 2:
        return tuple(check_int(name, v, low=low) for v in value)
    raise ValueError(f"{name} must be an integer >= {low} or a pair of them, got {value!r}.")


def check_finite_array(name: str, a, *, ndim: int) -> np.ndarray:
    """Return ``a`` as a float array of ``ndim`` dimensions with no NaN or inf.

    Float32 stays float32; anything else becomes float64, so integer pixels cannot wrap.
    """
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers, got dtype {a.dtype}.")
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}.")
    a = a.astype(np.float32 if a.dtype == np.float32 else np.float64, copy=False)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf; remove or replace those values.")
    return a


def check_rng(random_state) -> np.random.Generator | np.random.RandomState:
    """The random number generator that ``random_state`` names, as the estimators draw from it.

    An int seeds NumPy's ``default_rng`` (the generator funml has always used, so a seed
    gives the numbers it always gave); a Generator or RandomState is drawn from as it is;
    None draws from NumPy's global RandomState, as in scikit-learn.
    """
    if random_state is None or isinstance(random_state, np.random.RandomState):
        from sklearn.utils import check_random_state

        return check_random_state(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    ok = isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
    if not ok or random_state < 0:
        raise ValueError(
            f"random_state must be None, a non-negative integer, a numpy Generator or a "
            f"RandomState, got {random_state!r}."
        )
    return np.random.default_rng(int(random_state))
