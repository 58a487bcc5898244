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
>>> cnn = funml.train("digits-cnn", dataset="digits", epochs=3)  # doctest: +SKIP
>>> funml.summary("cnn")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from funml.errors import FunmlError
from funml.experiments import Outcome, Run, RunSettings, run_experiments
from funml.kinds import is_whole

if TYPE_CHECKING:  # torch is imported by train() and summary() only
    from funml.nn.settings import TrainSettings
    from funml.nn.summary import ModelSummary
    from funml.nn.train import TrainResult

# funml.check(topic, path), the grader, is the funml.check package itself (callable; see
# funml.check.api), so that it is one object whether or not the package was imported.


def run(
    name: str,
    *,
    dataset: str = "digits",
    data_dir: str | os.PathLike | None = None,
    images: str | os.PathLike | None = None,
    quick: bool = False,
    seed: int = 0,
    recipe: str = "course",
    precision: str = "fp32",
    out: str | os.PathLike | None = None,
) -> Outcome:
    """Run the experiment ``name`` in this process and return its outcome.

    Parameters
    ----------
    name : str
        An experiment, as ``funml run --list`` names them (``"pca"``, ``"knn"``, ...).
    dataset, data_dir, images, quick, seed, recipe, precision
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
        [name],
        dataset=dataset,
        data_dir=data_dir,
        images=images,
        quick=quick,
        seed=seed,
        recipe=recipe,
        precision=precision,
        out=out,
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
    recipe: str = "course",
    precision: str = "fp32",
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
        data_dir=_path(data_dir, "data_dir"),
        images=_path(images, "images"),
        quick=quick,
        seed=seed,
        recipe=recipe,
        precision=precision,
        out=_path(out, "out"),
        jobs=jobs,
        pdf=pdf,
    )
    return run_experiments(settings, list(names), write=out is not None, keep_figures=True)


def train(
    model: str,
    *,
    dataset: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    optimizer: str | None = None,
    lr: float | None = None,
    momentum: float | None = None,
    gamma: float | None = None,
    weight_decay: float | None = None,
    label_smoothing: float | None = None,
    schedule: str | None = None,
    augment: str | None = None,
    recipe: str | None = None,
    precision: str | None = None,
    seed: int | None = None,
    normalize: bool | None = None,
    n_train: int | None = None,
    device: str | None = None,
    threads: int | None = None,
    quiet: bool = False,
    resume: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    nproc: int = 1,
) -> TrainResult:
    """Train a course model in this process, as ``funml train MODEL`` does, and return it.

    Every keyword is the command line's flag of the same name
    (:class:`funml.nn.TrainSettings`); one left ``None`` comes from the model's recipe
    (:mod:`funml.nn.recipes`) or the command's default, as there. With ``nproc`` > 1 it
    trains in that many worker processes on this machine, as ``funml train --nproc``.

    Parameters
    ----------
    model : str
        ``mlp``, ``mlp2``, ``cnn``, ``cnn-small``, ``digits-cnn`` or ``logreg``.
    dataset : str, optional
        ``digits`` (offline, bundled), ``mnist``, ``fashion-mnist`` (the default, as on the
        command line), ``csv:PATH`` or ``folder:PATH``.
    epochs, batch_size, optimizer, lr, momentum, gamma, weight_decay, label_smoothing
        As ``funml train``'s flags.
    schedule, augment, recipe, precision, seed, normalize, n_train, device, threads
        As ``funml train``'s flags (``recipe``: ``tuned``, the default, or ``course``).
    quiet : bool
        No progress bar and no per-epoch lines.
    resume : path, optional
        A checkpoint (a run's ``model.pt``) to continue from; ``epochs`` may raise its total.
    out : path, optional
        A new or empty folder for ``job.json``, ``metrics.json``, ``model.pt`` (after every
        epoch) and the figures, as the command writes; None writes nothing.
    nproc : int
        Worker processes (DistributedDataParallel, started by torch's elastic launcher), at
        most one per CPU core (GPU with ``device="cuda"``). The workers hand their model
        back through the run folder: ``out``, or a temporary one removed afterwards.

    Returns
    -------
    TrainResult
        ``.model`` (the trained torch module), ``.history`` (one record per epoch), ``.test``
        (the full test split after the last epoch), ``.settings`` (resolved). Displayed in a
        notebook it shows the final accuracy and the curves.
    """
    from funml.data import load_dataset
    from funml.nn import distributed
    from funml.nn.figures import save_training_figures
    from funml.nn.job import run_job, start_job
    from funml.nn.settings import TrainSettings
    from funml.nn.train import check, settings_from_checkpoint
    from funml.nn.train import train as train_loop

    settings = TrainSettings(
        model=model,
        dataset=dataset,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        lr=lr,
        momentum=momentum,
        gamma=gamma,
        weight_decay=weight_decay,
        label_smoothing=label_smoothing,
        schedule=schedule,
        augment=augment,
        recipe=recipe,
        precision=precision,
        seed=seed,
        normalize=normalize,
        n_train=n_train,
        device=device,
        threads=threads,
        quiet=quiet,
    )
    out, resume = _path(out, "out"), _path(resume, "resume")
    if not is_whole(nproc):
        raise FunmlError(f"nproc= must be a whole number of processes, got {nproc!r}.")
    if nproc != 1:
        return _train_in_processes(settings, nproc, out=out, resume=resume)
    if out is not None:  # the command's own path: a run folder with everything in it
        world = distributed.World()
        job = start_job(settings, out=out, resume=resume, world=world)
        result, ds = run_job(job, world)
        save_training_figures(result, ds, job.out_dir)
        return result
    if resume is None:
        settings = settings.resolved()
    else:
        settings = settings.continued_from(settings_from_checkpoint(resume))
    ds = load_dataset(settings.dataset)
    check(settings, ds)
    return train_loop(settings, dataset=ds, resume=resume)


def _train_in_processes(
    settings: TrainSettings, nproc: int, *, out: Path | None, resume: Path | None
) -> TrainResult:
    """``funml train --nproc`` from Python: the workers write the run, then it is read back."""
    import tempfile

    import torch

    from funml.nn import distributed
    from funml.nn.job import finished_result, launch_workers

    launch = distributed.LaunchSettings(nproc=nproc)
    launch.validate(gpus=settings.device != "cpu" and torch.cuda.is_available())
    if out is not None:
        launch_workers(launch, settings, out=out, resume=resume)
        return finished_result(out)
    with tempfile.TemporaryDirectory(prefix="funml-train-") as tmp:
        launch_workers(launch, settings, out=Path(tmp) / "run", resume=resume)
        return dataclasses.replace(finished_result(Path(tmp) / "run"), out_dir=None)


def summary(model: str, *, dataset: str | None = None) -> ModelSummary:
    """The layers, output shapes, parameters and FLOPs of a model, as ``funml summary``.

    Parameters
    ----------
    model : str
        A course model's name (see :func:`train`), or an ImageNet model of the zoo
        (``alexnet``, ``vgg16``, ``resnet18``, ``efficientnet-lite0``), which is built
        without its weights: the architecture is all a summary needs.
    dataset : str, optional
        Size a course model for this data set's images; None: 28x28 images and 10 classes.

    Returns
    -------
    ModelSummary
        ``print()`` gives the table; in a notebook it displays as an HTML table.
    """
    from funml.data import load_dataset
    from funml.nn.models import build_model
    from funml.nn.summary import summary as model_summary
    from funml.zoo import build_architecture, zoo_name

    _text(model, "model", "cnn")
    if dataset is not None:
        _text(dataset, "dataset=", "digits")
    if zoo_name(model) is not None:
        arch = build_architecture(model)
        return model_summary(arch.module, arch.input_shape)
    shape, n_classes = (28, 28), 10
    if dataset is not None:
        ds = load_dataset(dataset)
        shape, n_classes = ds.image_shape, ds.n_classes
    return model_summary(build_model(model, shape, n_classes, dataset=dataset), shape)


def _path(value: str | os.PathLike | None, name: str) -> Path | None:
    """The path given as keyword ``name``; FunmlError for anything that is not a path."""
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike):
        raise FunmlError(f"{name}= must be a path (text or pathlib.Path), got {value!r}.")
    return Path(value)


def _text(value, name: str, example: str) -> str:
    if not isinstance(value, str):
        raise FunmlError(f"{name} must be text, such as '{example}', got {value!r}.")
    return value
