"""The normalisation ablation: one model trained with and without mean/std normalisation."""

from __future__ import annotations

import dataclasses
import time

from funml.data.dataset import ImageDataset
from funml.nn.train import TrainSettings, train


def normalization_ablation(
    settings: TrainSettings, *, dataset: ImageDataset | None = None
) -> list[dict]:
    """Train ``settings`` twice, with ``normalize`` on and off, everything else equal.

    Returns one row per run (a list of two dicts with the same keys, ready for a table or
    :func:`funml.nn.figures.plot_table`): the pixel transform used, and the final and best
    full-test-split accuracy (fractions), the final train and test loss, the epochs and the
    wall time. ``settings`` are resolved settings.
    """
    return [normalization_run(settings, normalize, dataset=dataset) for normalize in (True, False)]


def normalization_run(
    settings: TrainSettings, normalize: bool, *, dataset: ImageDataset | None = None
) -> dict:
    """One row of :func:`normalization_ablation`: ``settings`` trained with ``normalize``."""
    start = time.perf_counter()
    run = dataclasses.replace(settings, normalize=normalize, quiet=True)
    result = train(run, dataset=dataset)
    last = result.history[-1]
    n = result.normalization
    return {
        "normalize": normalize,
        "transform": f"(x/{n.pixel_max} - {n.mean:.4f}) / {n.std:.4f}",
        "test_accuracy": result.test.accuracy,
        "best_test_accuracy": max(r.test_accuracy for r in result.history),
        "train_loss": last.train_loss,
        "test_loss": last.test_loss,
        "epochs": len(result.history),
        "seconds": round(time.perf_counter() - start, 1),
    }
