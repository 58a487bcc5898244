"""Run experiments by name into a fresh run folder, then write the report.

A run folder holds ``settings.json``, ``metrics.json`` (one object per experiment with its
status and numbers), ``figures/*.png`` and ``report.html``. One experiment failing does not
stop the others: its status and message say what went wrong and how to fix it.
"""

from __future__ import annotations

import dataclasses
import io
import os
import platform
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funml import __version__
from funml.errors import FunmlError
from funml.experiments.context import Context
from funml.experiments.registry import Experiment, experiments, resolve
from funml.experiments.result import Result
from funml.experiments.settings import RunSettings, sizes
from funml.files import FIGURE_DPI, new_run_dir, save_figure, write_json, write_text


@dataclass
class Outcome:
    """One experiment as it ran: its :class:`Result` unchanged, or why it failed.

    Attributes
    ----------
    experiment : Experiment
        What ran: its name, summary and question.
    status : str
        ``"ok"`` or ``"failed"``.
    seconds : float
        Wall time of the experiment, figures included.
    result : Result or None
        What the experiment returned (None when it failed). Its figures are dropped once
        saved; ``figure_files`` says where they are.
    figure_files : dict of str to str
        Caption -> PNG path relative to the run folder, in the order the result gave them.
    sources : dict
        The data sets it read, with their source and checksums.
    error, traceback : str or None
        For a failed experiment: one sentence saying what to do, and a traceback for a bug.
    """

    experiment: Experiment
    status: str
    seconds: float
    result: Result | None = None
    figure_files: dict[str, str] = field(default_factory=dict)
    sources: dict[str, dict] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    folder: Path | None = None  # the run folder that figure_files are relative to

    @property
    def name(self) -> str:
        return self.experiment.name

    @property
    def figures(self) -> dict[str, Any]:
        """The result's live matplotlib Figures by caption (kept by in-process runs)."""
        return self.result.figures if self.result is not None else {}

    def figure_pngs(self) -> Iterator[tuple[str, bytes]]:
        """``(caption, PNG bytes)`` of each figure: the saved file, else the live Figure."""
        if self.figure_files and self.folder is not None:
            for caption, rel in self.figure_files.items():
                yield caption, (self.folder / rel).read_bytes()
            return
        for caption, fig in self.figures.items():
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
            yield caption, buffer.getvalue()

    def __repr__(self) -> str:
        said = self.result.verdict if self.result is not None else self.error
        return f"<{self.name}: {self.status} in {self.seconds:.1f} s. {said}>"

    def _repr_html_(self) -> str:
        from funml.experiments.report.html import render_section

        return render_section(self)

    def to_json(self) -> dict[str, Any]:
        """This outcome's entry in ``metrics.json``."""
        entry = {"status": self.status, "seconds": round(self.seconds, 3), "sources": self.sources}
        if self.result is None:
            return entry | {"error": self.error, "traceback": self.traceback}
        r = self.result
        return entry | {
            "metrics": r.metrics,
            "verdict": r.verdict,
            "answer": r.answer,
            "references": [dataclasses.asdict(ref) for ref in r.references],
            "figures": list(self.figure_files.values()),
            "notes": r.notes,
        }


@dataclass
class Run:
    """A finished run: where it is, what it was asked, and each experiment's outcome."""

    path: Path | None  # None for a run kept in memory (``write=False``)
    settings: RunSettings
    names: list[str]
    outcomes: list[Outcome]
    seconds: float
    machine: dict[str, Any]
    pdf_error: str | None = None  # why report.pdf was not written, when it was asked for

    @property
    def failed(self) -> list[str]:
        return [o.name for o in self.outcomes if o.status != "ok"]

    @property
    def report(self) -> Path | None:
        """``report.html``, or None for a run kept in memory."""
        return None if self.path is None else self.path / "report.html"

    @property
    def pdf(self) -> Path | None:
        """``report.pdf`` when the run was asked for it and it was written."""
        path = None if self.path is None else self.path / "report.pdf"
        return path if self.settings.pdf and path is not None and path.is_file() else None

    def __getitem__(self, name: str) -> Outcome:
        """The outcome of the experiment ``name``."""
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        raise KeyError(f"{name!r} was not run; this run has: {', '.join(self.names)}.")

    def __repr__(self) -> str:
        failed = f", {len(self.failed)} failed" if self.failed else ""
        where = f" in {self.path}" if self.path is not None else ""
        return f"<Run of {len(self.outcomes)} experiment(s){failed}, {self.seconds:.1f} s{where}>"

    def _repr_html_(self) -> str:
        from funml.experiments.report.html import render_body

        return render_body(self)


def run_experiments(
    settings: RunSettings,
    names: list[str] | tuple[str, ...] = ("all",),
    on_done: Callable[[Outcome], None] | None = None,
    *,
    write: bool = True,
    keep_figures: bool = False,
) -> Run:
    """Run the named experiments (``all`` for every one) and write the run folder.

    ``on_done`` is called with each outcome as it finishes, e.g. to print a line. With
    ``write=False`` nothing is written: the run stays in memory, figures included, for a
    notebook. ``keep_figures`` keeps the live Figures of a written run too (by default they
    are dropped once saved, as a full run makes dozens).
    """
    settings.validate()
    names = resolve(list(names))
    if not write and settings.jobs > 1:
        raise FunmlError("A run kept in memory runs in one process; pass out= to use jobs.")
    path = None
    if write:
        prefix = "all" if len(names) == len(experiments()) else "-".join(names[:3])
        path = new_run_dir(settings.out, prefix)
        write_json(path / "settings.json", _settings_json(settings, names))
    start = time.perf_counter()
    outcomes = _run_all(names, settings, path, on_done or (lambda o: None), keep_figures)
    run = Run(path, settings, names, outcomes, time.perf_counter() - start, machine_info(settings))
    if write:
        _write_reports(run)
    return run


def _write_reports(run: Run) -> None:
    """``metrics.json``, ``report.html`` and, when asked for, ``report.pdf``."""
    from funml.experiments.report import render_report

    write_json(run.path / "metrics.json", _metrics_json(run))
    write_text(run.report, render_report(run))
    if run.settings.pdf:
        from funml.experiments.report.pdf import print_pdf

        try:
            print_pdf(run.report, run.path / "report.pdf")
        except FunmlError as e:  # the HTML stands; say why there is no PDF
            run.pdf_error = str(e)


def _run_all(names, settings, path, on_done, keep_figures) -> list[Outcome]:
    if settings.jobs == 1 or len(names) == 1:
        outcomes = []
        for i, name in enumerate(names):
            try:
                outcomes.append(run_one(name, settings, path, keep_figures))
            except KeyboardInterrupt as e:
                # Ctrl-C or SIGTERM (funml.cli.main): keep what finished, mark the rest, and
                # still write the report.
                how = e.args[0] if e.args and isinstance(e.args[0], str) else "Ctrl-C"
                for rest in names[i:]:
                    message = f"Interrupted ({how}); run it again with `funml run {rest}`."
                    outcomes.append(_failed_outcome(rest, 0.0, message, None))
                    on_done(outcomes[-1])
                return outcomes
            on_done(outcomes[-1])
        return outcomes
    import concurrent.futures as cf
    import multiprocessing as mp

    # spawn, not fork: a forked torch/OpenMP runtime can deadlock in the child.
    done: dict[str, Outcome] = {}
    pool = cf.ProcessPoolExecutor(settings.jobs, mp_context=mp.get_context("spawn"))
    try:
        futures = {pool.submit(run_one, name, settings, path): name for name in names}
        for future in cf.as_completed(futures):
            name = futures[future]
            try:
                outcome = future.result()
            except Exception as e:  # the worker process itself died
                message = (
                    f"{name}'s worker process died ({e}); run it alone with `funml run {name}`."
                )
                outcome = _failed_outcome(name, 0.0, message, e)
            done[name] = outcome
            on_done(outcome)
    except KeyboardInterrupt as e:
        # Ctrl-C or SIGTERM: stop the workers instead of waiting for every experiment,
        # keep what finished, and mark the rest, as in one process.
        pool.shutdown(wait=False, cancel_futures=True)
        for child in mp.active_children():
            child.terminate()
        how = e.args[0] if e.args and isinstance(e.args[0], str) else "Ctrl-C"
        for rest in (n for n in names if n not in done):
            message = f"Interrupted ({how}); run it again with `funml run {rest}`."
            done[rest] = _failed_outcome(rest, 0.0, message, None)
            on_done(done[rest])
    finally:
        pool.shutdown(wait=True)
    return [done[name] for name in names]


def run_one(
    name: str, settings: RunSettings, path: Path | None, keep_figures: bool = False
) -> Outcome:
    """Run one experiment, save its figures under ``path/figures``, and return its outcome.

    With ``path`` None nothing is saved and the figures stay live in the result.
    """
    exp = experiments()[name]
    if settings.jobs > 1:
        import torch

        torch.set_num_threads(settings.threads)
    context = Context(settings)
    start = time.perf_counter()
    try:
        result = exp.func(settings, context)
        files = {} if path is None else _save_figures(result, name, path, keep_figures)
    except FunmlError as e:
        if _is_interrupt(e):  # keep what interrupted training (Ctrl-C or SIGTERM)
            cause = e.__context__
            raise KeyboardInterrupt(*getattr(cause, "args", ())) from e
        return _failed_outcome(name, time.perf_counter() - start, str(e), e, context.sources)
    except Exception as e:
        message = (
            f"{type(e).__name__}: {e}. This is a bug in funml; please report it with the "
            "traceback saved in metrics.json."
        )
        return _failed_outcome(name, time.perf_counter() - start, message, e, context.sources)
    seconds = time.perf_counter() - start
    return Outcome(exp, "ok", seconds, result, files, context.sources, folder=path)


def _save_figures(result: Result, name: str, path: Path, keep: bool) -> dict[str, str]:
    """Save ``result``'s figures as ``figures/<name>-<caption>.png``; drop them unless ``keep``.

    A figure holds its pixels until it is collected, and a full run makes dozens.
    """
    files = {}
    try:
        for caption, fig in result.figures.items():
            rel = Path("figures") / f"{name}-{_slug(caption)}.png"
            save_figure(fig, path / rel)
            files[caption] = rel.as_posix()
    finally:
        if not keep:
            result.figures.clear()
    return files


def _failed_outcome(name, seconds, message, error, sources=None) -> Outcome:
    plain = error is None or isinstance(error, FunmlError)  # a message the user can act on
    tb = None if plain else "".join(traceback.format_exception(error))
    return Outcome(
        experiments()[name], "failed", seconds, sources=sources or {}, error=message, traceback=tb
    )


def _is_interrupt(e: Exception) -> bool:
    # funml.nn.train turns Ctrl-C into TrainingInterrupted; only look if torch is loaded.
    train = sys.modules.get("funml.nn.train")
    return train is not None and isinstance(e, train.TrainingInterrupted)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "figure"


def _settings_json(settings: RunSettings, names: list[str]) -> dict:
    return {
        "settings": dataclasses.asdict(settings),
        "experiments": names,
        "sizes": dataclasses.asdict(sizes(settings)),
        "funml_version": __version__,
    }


def _metrics_json(run: Run) -> dict:
    return {o.name: o.to_json() for o in run.outcomes}


def machine_info(settings: RunSettings) -> dict[str, Any]:
    """CPU, cores, torch threads and library versions, for the report's header."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("torch", "numpy", "scikit-learn", "scipy", "matplotlib"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "torch_threads": settings.threads,
        "jobs": settings.jobs,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "versions": versions,
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
