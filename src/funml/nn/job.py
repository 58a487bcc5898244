"""A training job as ``funml train`` runs it.

The command line parses flags and calls :func:`run_here` (train in this process, alone or as
one torchrun worker) or :func:`launch_workers` (start this machine's workers through torch's
elastic launcher). What lives here: where a job's settings come from (the flags, or the
checkpoint it resumes), which folder it writes to, and how a failed launch is reported.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

from funml.data import ImageDataset, load_dataset
from funml.errors import FunmlError
from funml.files import new_run_dir
from funml.nn import distributed
from funml.nn.checkpoint import load_checkpoint
from funml.nn.train import (
    CHECKPOINT_NAME,
    RESUMABLE,
    TrainingInterrupted,
    TrainResult,
    TrainSettings,
    check,
    settings_from_checkpoint,
    train,
)


def run_here(
    world: distributed.World, flags: dict, given: set[str], out: Path | None, resume: Path | None
) -> tuple[TrainResult, ImageDataset, Path] | None:
    """Train in this process: alone, or as one worker of several (``world``).

    ``flags`` are :class:`TrainSettings` fields and ``given`` the names the user set. Returns
    the result, the data set and the run folder on the process that writes (rank 0), else None.
    """
    # Rank 0 reads the checkpoint and makes the run folder; the others get what it found,
    # so that only one machine needs the files.
    start = world.share(lambda: _checkpoint_to_start_from(world, out, resume))
    settings = resolve_settings(flags, given, start)
    ds = load_dataset(settings.dataset)
    check(settings, ds, processes=world.size)  # bad settings fail here, before any folder
    out_dir = Path(world.share(lambda: str(run_folder(settings, world, out, resume))))
    try:
        result = train(settings, dataset=ds, out_dir=out_dir, resume=start, world=world)
    except TrainingInterrupted:
        if world.leader and not any(out_dir.iterdir()):
            out_dir.rmdir()  # interrupted before the first checkpoint: leave no empty run
        raise
    return (result, ds, out_dir) if world.leader else None


def launch_workers(
    launch: distributed.LaunchSettings,
    flags: dict,
    given: set[str],
    out: Path | None,
    resume: Path | None,
    worker_args: Callable[[Path | None], list[str]],
) -> None:
    """Start this machine's workers with torch's elastic launcher, and wait for them.

    ``worker_args(out)`` gives the ``funml train`` arguments each worker runs with, given the
    run folder node 0 made for them (None when a run resumes in its own folder).
    """
    settings = resolve_settings(flags, given, load_checkpoint(resume) if resume else None)
    check(settings, load_dataset(settings.dataset), processes=launch.world_size)
    launch = launch.resolved()  # the port, checked free
    # Node 0 makes the run folder now and names it to the workers, so that restarted workers
    # find it; a run resumed in its own folder keeps it.
    folder = (
        run_folder(settings, distributed.World(), out, resume) if launch.node_rank == 0 else None
    )
    made = None if resume is not None and out is None else folder
    command = ["-m", "funml", "train", *worker_args(made)]
    _say(
        f"Starting {launch.nproc} worker process{'es' if launch.nproc > 1 else ''} with "
        f"torch's elastic launcher ({launch.world_size} in all); the same on each machine "
        f"by hand:\n  {distributed.torchrun_command(launch, command)}"
    )
    if launch.nnodes > 1:
        _say("  (with --node-rank=R on machine R)")
    try:
        distributed.launch(launch, command)
    except distributed.WorkersFailed as e:
        if launch.node_rank != 0:
            raise FunmlError(f"{e}; node 0 holds the checkpoints.") from None
        distributed.remove_partial_files(folder)  # from a process killed while writing
        checkpoint = folder / CHECKPOINT_NAME
        if not checkpoint.is_file():
            if made is not None and made.is_dir() and not any(made.iterdir()):
                made.rmdir()  # (rank 0 may have removed it already)
            raise FunmlError(f"{e}, before any epoch finished; start again.") from None
        epoch = load_checkpoint(checkpoint)["epoch"]
        raise FunmlError(
            f"{e}; the checkpoint of epoch {epoch} is in '{checkpoint}', so resume with: "
            f"funml train --resume {checkpoint} --nproc {launch.nproc}"
        ) from None


def resolve_settings(flags: dict, given: set[str], start: dict | None) -> TrainSettings:
    """The run's settings: the flags, or the checkpoint's with the flags it allows to change."""
    if start is None:
        if flags["model"] is None:
            raise FunmlError("Name a MODEL to train (e.g. funml train cnn), or pass --resume.")
        return TrainSettings(**flags)
    saved = settings_from_checkpoint(start)
    for k in sorted(given - set(RESUMABLE)):  # the flags that define a run must agree
        if flags[k] != getattr(saved, k):
            raise FunmlError(
                f"--{k.replace('_', '-')} {flags[k]} differs from the checkpoint's "
                f"{getattr(saved, k)}; a resumed run keeps its settings, so drop the flag."
            )
    return dataclasses.replace(saved, **{k: flags[k] for k in given})


def run_folder(
    settings: TrainSettings, world: distributed.World, out: Path | None, resume: Path | None
) -> Path:
    """Where the run writes: a new (or empty) --out, the resumed run's folder, or runs/..."""
    if world.restart > 0 and out is not None:
        out.mkdir(parents=True, exist_ok=True)
        return out  # the first attempt's folder, with its checkpoint
    if resume is not None and out is None:
        if resume.name != CHECKPOINT_NAME:
            raise FunmlError(f"Resume '{resume}' into a new folder with --out DIR.")
        return resume.parent  # continue the run in its own folder
    if out is None and world.max_restarts > 0:
        raise FunmlError(
            "Pass --out DIR when torchrun may restart the workers (--max-restarts), so that "
            "restarted workers find the run's checkpoint in it."
        )
    return new_run_dir(out, f"train-{settings.model}-{settings.dataset.replace(':', '_')}")


def _checkpoint_to_start_from(
    world: distributed.World, out: Path | None, resume: Path | None
) -> dict | None:
    """The checkpoint to resume, read: after a restart the run's own, else --resume's."""
    folder = out if out is not None else resume.parent if resume is not None else None
    if world.restart > 0 and folder is not None and (folder / CHECKPOINT_NAME).is_file():
        ckpt = load_checkpoint(folder / CHECKPOINT_NAME)
        _say(
            f"Restart {world.restart} of {world.max_restarts}: resuming from "
            f"{folder / CHECKPOINT_NAME} (epoch {ckpt['epoch']})"
        )
        return ckpt
    return load_checkpoint(resume) if resume is not None else None


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
