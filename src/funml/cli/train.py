"""``funml train``, ``funml evaluate`` and ``funml summary``: the course's torch models."""

from __future__ import annotations

import json
from pathlib import Path

import click

from funml.cli.complete import DATASETS, MODELS, names

CONTEXT = {"help_option_names": ["-h", "--help"]}


RECIPE = "[default: the model's recipe]"


@click.command(context_settings=CONTEXT)
@click.argument("model", required=False, shell_complete=names(MODELS))
@click.option(
    "--dataset",
    "-d",
    default=None,
    shell_complete=names(DATASETS),
    help="Data set: mnist, fashion-mnist, digits, csv:PATH, folder:PATH [default: fashion-mnist].",
)
@click.option(
    "--epochs",
    type=int,
    default=None,
    help=f"Total epochs (with --resume: train on up to this many) {RECIPE}.",
)
@click.option(
    "--batch-size",
    type=int,
    default=None,
    help=f"Samples per optimizer step: the GLOBAL batch, split evenly over all processes {RECIPE}.",
)
@click.option(
    "--recipe",
    type=click.Choice(["tuned", "course"]),
    default=None,
    help="Recipe set the settings not given come from: tuned (measured best here) or course "
    "(the course's own) [default: tuned].",
)
@click.option("--optimizer", type=click.Choice(["adam", "adamw", "sgd"]), default=None, help=RECIPE)
@click.option("--lr", type=float, default=None, help=f"Learning rate {RECIPE}.")
@click.option("--momentum", type=float, default=None, help=f"SGD momentum {RECIPE}.")
@click.option(
    "--gamma",
    type=float,
    default=None,
    help=f"Multiply the learning rate by GAMMA after every epoch; 1 keeps it constant {RECIPE}.",
)
@click.option(
    "--schedule",
    type=click.Choice(["step", "cosine", "onecycle"]),
    default=None,
    help=f"Learning-rate schedule: step (--gamma per epoch), cosine or onecycle (per batch; "
    f"--lr is the peak) {RECIPE}.",
)
@click.option("--weight-decay", type=float, default=None, help=f"Weight decay {RECIPE}.")
@click.option(
    "--label-smoothing",
    type=float,
    default=None,
    help=f"Weight of the uniform target in the loss, in [0, 1) {RECIPE}.",
)
@click.option(
    "--augment",
    type=click.Choice(["none", "shift", "flip", "shift-flip"]),
    default=None,
    help=f"Random shifts of up to 2 pixels (1 on 8x8) and/or left-right mirror images (not "
    f"for digits) of each training batch {RECIPE}.",
)
@click.option("--seed", type=int, default=None, help="Random seed, 0..2**32-1 [default: 0].")
@click.option(
    "--normalize/--no-normalize",
    default=None,
    help="Standardise pixels by the training split's mean and std [default: normalize].",
)
@click.option("--n-train", type=int, default=None, help="Train on the first N images only.")
@click.option("--device", default=None, help="auto, cpu or cuda [default: auto].")
@click.option(
    "--precision",
    type=click.Choice(["fp32", "bf16"]),
    default=None,
    help="bf16: forward passes in bfloat16 (torch.autocast), for CPUs with AVX-512 BF16 or "
    "AMX and GPUs [default: bf16 on such a CPU, else fp32].",
)
@click.option(
    "--threads",
    type=int,
    default=None,
    help="CPU threads [default: all cores for cnn on 28x28 images, else 1].",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="New or empty folder [default: runs/train-MODEL-DATASET-TIME].",
)
@click.option(
    "--resume",
    type=click.Path(path_type=Path),
    default=None,
    help="Continue from this checkpoint (a run's model.pt), in its own folder.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no per-epoch lines.")
@click.option(
    "--nproc",
    type=int,
    default=1,
    show_default=True,
    help="Worker processes on this machine, started by torch's elastic launcher (torchrun).",
)
@click.option("--nnodes", type=int, default=1, show_default=True, help="Machines in the job.")
@click.option(
    "--node-rank", type=int, default=0, show_default=True, help="This machine's number, from 0."
)
@click.option(
    "--master-addr",
    default=None,
    help="Address of node 0, which every node can reach [default: 127.0.0.1, one machine].",
)
@click.option(
    "--master-port",
    type=int,
    default=None,
    help="Port on node 0 where the processes meet [default: a free one; 29500 on several].",
)
@click.option(
    "--max-restarts",
    type=int,
    default=0,
    show_default=True,
    help="Restart the workers this many times after one fails; they resume from model.pt.",
)
@click.option(
    "--job",
    "job_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Run the job in FILE (a run's job.json) as a torchrun worker: what --nproc starts.",
)
def train(out, resume, job_file, **flags):
    """Train MODEL (mlp, mlp2, cnn, cnn-small, digits-cnn, logreg) on a data set.

    Settings not given come from the model's recipe (funml.nn.recipes): the tuned set
    measured best on a CPU, or with --recipe course the course's own settings. Writes
    job.json (the resolved settings), metrics.json, model.pt (a checkpoint after every
    epoch) and figures, then prints the final accuracy over the full test split. Ctrl-C
    keeps the last finished epoch.

    With --nproc N (and --nnodes M ...) the same loop runs in N x M processes with
    DistributedDataParallel, each on its shard of every epoch; the command prints the
    torchrun line it runs. Running this command under torchrun also works: it then joins
    the job torchrun started.
    """
    from funml.errors import FunmlError
    from funml.nn import distributed
    from funml.nn.job import launch_workers, run_job, start_job
    from funml.nn.settings import TrainSettings

    launch = distributed.LaunchSettings(**{k: flags.pop(k) for k in LAUNCH_OPTIONS})
    settings = TrainSettings(**flags)
    if distributed.under_torchrun():
        _train_as_worker(launch, settings, out, resume, job_file)
        return
    if job_file is not None:
        raise FunmlError(
            "--job FILE is what the workers of funml train --nproc run under torchrun; "
            "start a run with MODEL and options instead."
        )
    launch.validate(gpus=settings.device != "cpu" and _cuda())
    if launch.needed:
        folder = launch_workers(launch, settings, out=out, resume=resume)
        if folder is not None:  # node 0: its rank 0 wrote the run
            _wrote(folder)
        return
    world = distributed.World()
    job = start_job(settings, out=out, resume=resume, world=world)
    finished = run_job(job, world)
    _report(finished, job)
    if finished is not None:
        _wrote(job.out_dir)


def _train_as_worker(launch, settings, out, resume, job_file) -> None:
    """In a process torchrun started: the job file's run, or the flags' (resolved once)."""
    from funml.errors import FunmlError
    from funml.nn import distributed
    from funml.nn.job import TrainJob, run_job, start_job
    from funml.nn.settings import TrainSettings

    if launch != distributed.LaunchSettings():
        raise FunmlError(
            "--nproc, --nnodes and the other launch options start workers, but this is a "
            "worker that torchrun started; pass the counts to torchrun instead "
            "(--nproc-per-node ...)."
        )
    job = None
    if job_file is not None:
        if (settings, out, resume) != (TrainSettings(quiet=settings.quiet), None, None):
            raise FunmlError("--job FILE holds the whole run; drop the other options.")
        job = TrainJob.read(job_file)
    device = job.settings.device if job else settings.device or "auto"
    with distributed.process_group(device) as world:
        job = job or start_job(settings, out=out, resume=resume, world=world)
        finished = run_job(job, world)
        _report(finished, job)
        if finished is not None and job_file is None:  # else the launcher says it
            _wrote(job.out_dir)


LAUNCH_OPTIONS = ("nproc", "nnodes", "node_rank", "master_addr", "master_port", "max_restarts")


def _report(finished, job) -> None:
    """On the process that writes: the figures, and the final accuracy."""
    from funml.nn.figures import save_training_figures

    if finished is None:
        return  # not the process that writes
    result, ds = finished
    save_training_figures(result, ds, job.out_dir)
    click.echo(
        f"{result.settings.model} on {result.settings.dataset}: test accuracy "
        f"{result.test.accuracy:.2%} ({result.test.correct:,}/{result.test.count:,}) "
        f"after {len(result.history)} epochs"
    )


def _wrote(folder) -> None:
    click.echo(f"Wrote job.json, metrics.json, model.pt and figures to {folder}", err=True)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@click.command(context_settings=CONTEXT)
@click.argument("checkpoint", type=click.Path(path_type=Path))
@click.option(
    "--dataset",
    "-d",
    default=None,
    help="Data set to test on [default: the one it was trained on].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def evaluate(checkpoint, dataset, as_json):
    """Evaluate a training CHECKPOINT on every image of a data set's test split."""
    from funml.nn.checkpoint import load_checkpoint
    from funml.nn.evaluate import evaluate_checkpoint

    if dataset is None:
        dataset = load_checkpoint(checkpoint)["settings"]["dataset"]
    result = evaluate_checkpoint(checkpoint, _dataset(dataset))
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(
            f"{result['model']} (epoch {result['epoch']}, trained on {result['trained_on']}) on "
            f"{result['dataset']}: test accuracy {result['accuracy']:.2%} "
            f"({result['correct']:,}/{result['count']:,}), loss {result['loss']:.4f}"
        )


@click.command(context_settings=CONTEXT)
@click.argument("model", shell_complete=names(MODELS))
@click.option(
    "--dataset",
    "-d",
    default=None,
    shell_complete=names(DATASETS),
    help="Size the model for this data set's images [default: 28x28].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def summary(model, dataset, as_json):
    """Print MODEL's layers, output shapes, parameters and FLOPs per image.

    MODEL is a course model or an ImageNet model (alexnet, vgg16, resnet18,
    efficientnet-lite0), which needs no weights file for this.
    """
    import dataclasses

    from funml.api import summary as model_summary

    table = model_summary(model, dataset=dataset)
    if as_json:
        click.echo(json.dumps({"model": model, **dataclasses.asdict(table)}, indent=2))
    else:
        click.echo(str(table))


def _dataset(name: str):
    from funml.data import load_dataset

    return load_dataset(name)
