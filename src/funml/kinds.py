"""What kind of value a setting holds: checked where a file or a notebook can give anything.

Python's ``bool`` is an ``int``, so neither whole numbers nor numbers include it here;
NumPy's integer and float scalars count as whole numbers and numbers. ``KINDS`` maps the
types settings are declared with to the test and to the words an error sentence uses.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable


def is_whole(value) -> bool:
    """An integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value) -> bool:
    """An integer or a float (nan and infinity included), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


KINDS: dict[type, tuple[Callable[[object], bool], str]] = {
    bool: (lambda value: isinstance(value, bool), "true or false"),
    int: (is_whole, "a whole number"),
    float: (is_number, "a number"),
    str: (lambda value: isinstance(value, str), "text"),
}
