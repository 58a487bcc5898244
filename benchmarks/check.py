"""How long `funml check` takes for one submission per topic: a right one and a buggy one.

    python benchmarks/check.py [--repeat 3]

The right submission is funml's reference in the course's signatures; the buggy one is the
topic's first catalogued variant, so its time includes recognising the bug (running the
variants here). Each time covers reading the file, the child processes (start-up, imports,
probes) and judging. The first run of a topic pays for the imports in this process (torch
for loops); the median of --repeat runs is printed next to it.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import statistics
import tempfile
import time
from pathlib import Path

from funml.check import TOPICS, bugs_for, check_submission, get_topic, variant_source


def _time(topic: str, source: str, folder: Path) -> tuple[float, float]:
    path = folder / f"{topic}.py"
    path.write_text(source)
    start = time.perf_counter()
    report = check_submission(topic, path)
    return time.perf_counter() - start, report.score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'topic':8} {'kind':6} {'first s':>8} {'median s':>9} score")
    with tempfile.TemporaryDirectory() as tmp:
        for topic in TOPICS:
            reference = inspect.getsource(importlib.import_module(get_topic(topic).REFERENCE))
            buggy = variant_source(bugs_for(topic)[0])
            for kind, source in (("right", reference), ("buggy", buggy)):
                runs = [_time(topic, source, Path(tmp)) for _ in range(args.repeat)]
                median = statistics.median(t for t, _ in runs)
                print(f"{topic:8} {kind:6} {runs[0][0]:8.2f} {median:9.2f} {runs[0][1]:g}")


if __name__ == "__main__":
    main()
