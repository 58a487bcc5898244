"""A training job as ``funml train`` runs it: resolved once, written down, then trained.

A :class:`TrainJob` is the run's resolved settings, its folder and the checkpoint it
continues. :func:`resolve_job` decides it once, from the open settings the command line
built: a new run takes the model's recipe, a resumed run its checkpoint's settings. The job
is written into the run folder as ``job.json``; the workers that :func:`launch_workers`
starts read that file (``funml train --job FILE``) instead of parsing flags again, and a
restarted worker reads the same file and continues from the run's last checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from funml.data import ImageDataset, load_dataset
from funml.errors import FunmlError
from funml.files import new_run_dir, remove_stale_temporaries, write_json
from funml.nn import distributed
from funml.nn.checkpoint import load_checkpoint
from funml.nn.settings import TrainSettings
from funml.nn.train import (
    CHECKPOINT_NAME,
    TrainingInterrupted,
    TrainResult,
    check,
    settings_from_checkpoint,
    train,
)

JOB_NAME = "job.json"


@dataclass(frozen=True)
class TrainJob:
    """One training run, decided: what :func:`run_job` trains."""

    settings: TrainSettings  # resolved: no open field
    out_dir: Path | None  # the run folder; None before a new one is made under runs/
    resume: Path | None = None  # the checkpoint the run continues; None: from scratch

    def to_dict(self) -> dict:
        return {
            "settings": dataclasses.asdict(self.settings),
            "out_dir": None if self.out_dir is None else str(self.out_dir),
            "resume": None if self.resume is None else str(self.resume),
        }

    @classmethod
    def from_dict(cls, d: dict) -> TrainJob:
        return cls(
            TrainSettings(**d["settings"]),
            None if d["out_dir"] is None else Path(d["out_dir"]),
            None if d["resume"] is None else Path(d["resume"]),
        )

    def write(self, path: Path) -> Path:
        return write_json(path, self.to_dict())

    @classmethod
    def read(cls, path: str | Path) -> TrainJob:
        """The job in a ``job.json`` file; FunmlError if it is missing or not a job."""
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except OSError as e:
            raise FunmlError(f"Job file '{path}' cannot be read ({e.strerror}).") from e
        except (ValueError, KeyError, TypeError) as e:
            raise FunmlError(
                f"'{path}' is not a job file that funml train wrote ({e}); pass a run's job.json."
            ) from e


def resolve_job(
    settings: TrainSettings, *, out: Path | None = None, resume: Path | None = None
) -> TrainJob:
    """Decide the run: its settings (once), its folder and the checkpoint it continues.

    A new run takes every open field from the model's recipe; a resumed run takes its
    checkpoint's settings, with only the RESUMABLE fields that ``settings`` decides changed
    (any other decided field must agree). Without ``out`` a resumed run continues in the
    checkpoint's own folder.
    """
    if resume is None:
        return TrainJob(settings.resolved(), out)
    saved = settings_from_checkpoint(Path(resume))
    if out is None and Path(resume).name != CHECKPOINT_NAME:
        raise FunmlError(f"Resume '{resume}' into a new folder with --out DIR.")
    folder = out if out is not None else Path(resume).parent
    return TrainJob(settings.continued_from(saved), folder, Path(resume))


def make_run_folder(job: TrainJob, world: distributed.World) -> TrainJob:
    """Make the job's folder (the resumed run's own, a new --out, or runs/...) and write
    job.json into it. Returns the job with its folder."""
    if world.restart > 0 and job.out_dir is not None:
        job.out_dir.mkdir(parents=True, exist_ok=True)  # the first attempt's, with its checkpoint
    elif job.resume is not None and job.out_dir == job.resume.parent:
        pass  # the resumed run continues in its own folder
    elif job.out_dir is None and world.max_restarts > 0:
        raise FunmlError(
            "Pass --out DIR when torchrun may restart the workers (--max-restarts), so that "
            "restarted workers find the run's checkpoint in it."
        )
    else:
        name = f"train-{job.settings.model}-{job.settings.dataset.replace(':', '_')}"
        job = dataclasses.replace(job, out_dir=new_run_dir(job.out_dir, name))
    job.write(job.out_dir / JOB_NAME)
    return job


def start_job(
    settings: TrainSettings, *, out: Path | None, resume: Path | None, world: distributed.World
) -> TrainJob:
    """Resolve the job, check it and make its folder, on rank 0; every process gets it.

    Bad settings fail here, before any folder is made.
    """

    def lead() -> dict:
        job = resolve_job(settings, out=out, resume=resume)
        check(job.settings, load_dataset(job.settings.dataset), processes=world.size)
        return make_run_folder(job, world).to_dict()

    return TrainJob.from_dict(world.share(lead))


def run_job(job: TrainJob, world: distributed.World) -> tuple[TrainResult, ImageDataset] | None:
    """Train ``job`` in this process: alone, or as one worker of several (``world``).

    Returns the result and the data set on the process that writes (rank 0), else None.
    """
    # Rank 0 reads the checkpoint; the others get what it read, so that only one machine
    # needs the files.
    start = world.share(lambda: _checkpoint_to_start_from(job, world))
    ds = load_dataset(job.settings.dataset)
    try:
        result = train(job.settings, dataset=ds, out_dir=job.out_dir, resume=start, world=world)
    except TrainingInterrupted:
        if world.leader:
            remove_if_unstarted(job.out_dir)
        raise
    return (result, ds) if world.leader else None


def launch_workers(
    launch: distributed.LaunchSettings,
    settings: TrainSettings,
    *,
    out: Path | None,
    resume: Path | None,
) -> Path | None:
    """Start this machine's workers with torch's elastic launcher, and wait for them.

    The job is resolved and checked here, once; node 0 makes the run folder and writes the
    job into it, and every worker runs ``funml train --job FOLDER/job.json``. (Other nodes
    write their job to a temporary folder: only rank 0, on node 0, writes the run.)
    Returns the run folder on node 0, None on the others.
    """
    job = resolve_job(settings, out=out, resume=resume)
    check(job.settings, load_dataset(job.settings.dataset), processes=launch.world_size)
    launch = launch.resolved()  # the port, checked free
    if launch.node_rank == 0:
        job = make_run_folder(job, distributed.World())
        _launch(launch, job, job.out_dir / JOB_NAME)
        return job.out_dir
    with tempfile.TemporaryDirectory(prefix="funml-job-") as tmp:
        _launch(launch, job, job.write(Path(tmp) / JOB_NAME))
    return None


def finished_result(folder: Path) -> TrainResult:
    """What the run in ``folder`` trained, read back from its files: the model with its last
    checkpoint's weights, the settings, the history and the final test evaluation, as
    :func:`train` returned them in the process that wrote them (``funml train --nproc``)."""
    from funml.nn.evaluate import model_from_checkpoint
    from funml.nn.train import METRICS_NAME, EpochRecord

    ckpt = load_checkpoint(folder / CHECKPOINT_NAME)
    settings = settings_from_checkpoint(ckpt)
    model, norm = model_from_checkpoint(ckpt, load_dataset(settings.dataset))
    history = [EpochRecord.from_dict(r) for r in ckpt["history"]]
    recorded = json.loads((folder / METRICS_NAME).read_text())
    info = {k: recorded[k] for k in ("model", "dataset", "environment") if k in recorded}
    return TrainResult(model, settings, history, norm, history[-1].test, folder, info)


def _launch(launch: distributed.LaunchSettings, job: TrainJob, job_file: Path) -> None:
    command = ["-m", "funml", "train", "--job", str(job_file)]
    _say(
        f"Starting {launch.nproc} worker process{'es' if launch.nproc > 1 else ''} with "
        f"torch's elastic launcher ({launch.world_size} in all), as torchrun does:\n"
        f"  {distributed.torchrun_command(launch, command)}"
    )
    try:
        distributed.launch(launch, command)
    except distributed.WorkersFailed as e:
        raise _failure(e, launch, job.out_dir) from None


def remove_if_unstarted(folder: Path | None) -> None:
    """Remove the job file, and the folder if then empty, of a run that wrote no checkpoint."""
    if folder is None or not folder.is_dir() or (folder / CHECKPOINT_NAME).is_file():
        return
    (folder / JOB_NAME).unlink(missing_ok=True)
    if not any(folder.iterdir()):
        folder.rmdir()


def _failure(e: distributed.WorkersFailed, launch, folder: Path) -> FunmlError:
    """The one sentence for failed workers, after cleaning up what they left half-done."""
    if launch.node_rank != 0:
        return FunmlError(f"{e}; node 0 holds the checkpoints.")
    remove_stale_temporaries(folder)  # of the workers killed while writing
    checkpoint = folder / CHECKPOINT_NAME
    if not checkpoint.is_file():
        remove_if_unstarted(folder)
        return FunmlError(f"{e}, before any epoch finished; start again.")
    epoch = load_checkpoint(checkpoint)["epoch"]
    return FunmlError(
        f"{e}; the checkpoint of epoch {epoch} is in '{checkpoint}', so resume with: "
        f"funml train --resume {checkpoint} --nproc {launch.nproc}"
    )


def _checkpoint_to_start_from(job: TrainJob, world: distributed.World) -> dict | None:
    """The checkpoint to continue, read: after a restart the run's own, else the job's."""
    own = job.out_dir / CHECKPOINT_NAME if job.out_dir is not None else None
    if world.restart > 0 and own is not None and own.is_file():
        ckpt = load_checkpoint(own)
        _say(
            f"Restart {world.restart} of {world.max_restarts}: resuming from {own} "
            f"(epoch {ckpt['epoch']})"
        )
        return ckpt
    return load_checkpoint(job.resume) if job.resume is not None else None


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
