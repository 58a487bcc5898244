"""How long loading the full Fashion-MNIST takes, next to the simplest possible reader.

    python benchmarks/data_load.py [--repeat 5]

funml's loader finds the files, decompresses them straight into their arrays and checks
four SHA-256 digests; the reference only gunzips and wraps the bytes (no checks). Both run
in this one process, alternately, so a busy machine slows both alike.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
from pathlib import Path

import numpy as np

from funml.data import load_dataset
from funml.timing import alternated

FOLDER = Path("/usr/share/datasets/fashion-mnist")


def reference() -> int:
    n = 0
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        with gzip.open(FOLDER / name) as f:
            n += len(np.frombuffer(f.read(), np.uint8, offset=16))
    for name in ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        with gzip.open(FOLDER / name) as f:
            n += len(np.frombuffer(f.read(), np.uint8, offset=8))
    return n


def funml() -> int:
    ds = load_dataset("fashion-mnist", download=False)
    return ds.train.images.size + ds.test.images.size + len(ds.train) + len(ds.test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not FOLDER.is_dir():
        raise SystemExit(f"{FOLDER} is missing: apt install dataset-fashion-mnist")
    times = alternated({"funml (verified)": funml, "gzip + frombuffer": reference}, args.repeat)
    for label, ts in times.items():
        print(f"{label:<20} median {statistics.median(ts):.3f} s   min {min(ts):.3f} s")
    ratio = statistics.median(times["funml (verified)"]) / statistics.median(
        times["gzip + frombuffer"]
    )
    print(f"ratio funml / reference: {ratio:.2f}")


if __name__ == "__main__":
    main()
