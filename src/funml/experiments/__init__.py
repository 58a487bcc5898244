"""Every course experiment by name, the runner, and the HTML report.

>>> from funml.experiments import RunSettings, run_experiments
>>> run = run_experiments(RunSettings(quick=True), ["knn", "pca"])  # doctest: +SKIP
>>> run.report  # doctest: +SKIP
PosixPath('runs/knn-pca-20260101-120000/report.html')

An experiment is a function ``(settings, context) -> Result`` registered with
:func:`experiment`; see :mod:`funml.experiments.registry`.
"""

from funml.experiments.registry import Experiment, experiment, experiments, resolve
from funml.experiments.result import Reference, Result, Table
from funml.experiments.runner import Outcome, Run, run_experiments
from funml.experiments.settings import DATASETS, RunSettings, Sizes, sizes

__all__ = [
    "DATASETS",
    "Experiment",
    "Outcome",
    "Reference",
    "Result",
    "Run",
    "RunSettings",
    "Sizes",
    "Table",
    "experiment",
    "experiments",
    "resolve",
    "run_experiments",
    "sizes",
]
