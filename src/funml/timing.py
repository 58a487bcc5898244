"""Wall-clock timing: the one timer that the lab, the trainer and the benchmarks share.

>>> with timer() as t:
...     total = sum(range(1000))
>>> t.seconds >= 0
True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass
class Timer:
    """Seconds measured by :func:`timer`; set when the ``with`` block ends."""

    seconds: float = 0.0


@contextmanager
def timer() -> Iterator[Timer]:
    """``with timer() as t: ...`` then ``t.seconds`` (wall clock, ``perf_counter``)."""
    t = Timer()
    start = time.perf_counter()
    try:
        yield t
    finally:
        t.seconds = time.perf_counter() - start


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``(fn(), seconds)``."""
    with timer() as t:
        result = fn()
    return result, t.seconds


def best_of(fn: Callable[[], Any], repeats: int = 5, warmup: bool = True) -> float:
    """The shortest of ``repeats`` timed calls of ``fn``, after one untimed call.

    The minimum, not the mean: on a shared machine every disturbance only adds time.
    """
    if warmup:
        fn()
    return min(timed(fn)[1] for _ in range(repeats))


def alternated(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """Each callable's times over ``repeats`` rounds, called in turn within each round.

    Alternating spreads any load on the machine over all of them, so their ratios hold.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(timed(fn)[1])
    return times


def duration(seconds: float) -> str:
    """A time for a sentence: '3 ms' below a tenth of a second, else '1.96 s'."""
    return f"{1000 * seconds:.0f} ms" if seconds < 0.1 else f"{seconds:.2f} s"
