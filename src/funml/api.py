"""funml from Python and notebooks: the command line's jobs as functions.

Keyword arguments mirror the command line's flags and fill the same settings object
(:class:`funml.experiments.RunSettings`). Nothing is written unless ``out=`` names a folder;
results display themselves in a notebook (the report's section, figures inline) and keep
their figures as live matplotlib Figures.

>>> import funml
>>> pca = funml.run("pca")  # doctest: +SKIP
>>> pca.result.metrics["components_needed"]  # doctest: +SKIP
{'0.9': 20, '0.95': 28, '0.99': 41}
>>> fig = pca.figures[next(iter(pca.figures))]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from funml.experiments import Outcome, Run, RunSettings, run_experiments


def run(
    name: str,
    *,
    dataset: str = "digits",
    data_dir: str | os.PathLike | None = None,
    images: str | os.PathLike | None = None,
    quick: bool = False,
    seed: int = 0,
    out: str | os.PathLike | None = None,
) -> Outcome:
    """Run the experiment ``name`` in this process and return its outcome.

    Parameters
    ----------
    name : str
        An experiment, as ``funml run --list`` names them (``"pca"``, ``"knn"``, ...).
    dataset, data_dir, images, quick, seed
        As ``funml run``'s flags of the same names.
    out : path, optional
        A new or empty folder to write the run to (``report.html``, ``metrics.json``,
        figures); None writes nothing.

    Returns
    -------
    Outcome
        ``.result`` holds the numbers, verdict and answer; ``.figures`` the live Figures.
    """
    kept = run_all(
        [name], dataset=dataset, data_dir=data_dir, images=images, quick=quick, seed=seed, out=out
    )
    return kept[name]


def run_all(
    names: Sequence[str] = ("all",),
    *,
    dataset: str = "digits",
    data_dir: str | os.PathLike | None = None,
    images: str | os.PathLike | None = None,
    quick: bool = False,
    seed: int = 0,
    out: str | os.PathLike | None = None,
    jobs: int = 1,
    pdf: bool = False,
) -> Run:
    """Run several experiments (default: all) and return the run; ``run["knn"]`` is one.

    Parameters are those of :func:`run`, plus ``jobs`` and ``pdf`` as on the command line
    (both need ``out``). Displayed in a notebook, the run shows the whole report.
    """
    settings = RunSettings(
        dataset=dataset,
        data_dir=_path(data_dir),
        images=_path(images),
        quick=quick,
        seed=seed,
        out=_path(out),
        jobs=jobs,
        pdf=pdf,
    )
    return run_experiments(settings, list(names), write=out is not None, keep_figures=True)


def _path(value):
    from pathlib import Path

    return None if value is None else Path(value)
