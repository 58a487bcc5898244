"""``funml train``, ``funml evaluate`` and ``funml summary``: the course's torch models."""

from __future__ import annotations

import json
from pathlib import Path

import click

CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.command(context_settings=CONTEXT)
@click.argument("model", required=False)
@click.option(
    "--dataset",
    "-d",
    default="fashion-mnist",
    show_default=True,
    help="Data set: mnist, fashion-mnist, digits, csv:PATH, folder:PATH.",
)
@click.option(
    "--epochs",
    type=int,
    default=10,
    show_default=True,
    help="Total epochs (with --resume: train on up to this many).",
)
@click.option(
    "--batch-size",
    type=int,
    default=64,
    show_default=True,
    help="Samples per optimizer step: the GLOBAL batch, split evenly over all processes.",
)
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default="adam", show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True, help="Learning rate.")
@click.option("--momentum", type=float, default=0.9, show_default=True, help="SGD momentum.")
@click.option(
    "--gamma",
    type=float,
    default=None,
    help="Multiply the learning rate by GAMMA after every epoch (step decay).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--normalize/--no-normalize",
    default=True,
    show_default=True,
    help="Standardise pixels by the training split's mean and std.",
)
@click.option("--n-train", type=int, default=None, help="Train on the first N images only.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
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
@click.pass_context
def train(ctx, out, resume, **flags):
    """Train MODEL (mlp, mlp2, cnn, cnn-small, digits-cnn, logreg) on a data set.

    Writes metrics.json, model.pt (a checkpoint after every epoch) and figures, then prints
    the final accuracy over the full test split. Ctrl-C keeps the last finished epoch.

    With --nproc N (and --nnodes M ...) the same loop runs in N x M processes with
    DistributedDataParallel, each on its shard of every epoch; the command prints the
    torchrun line that does the same on each machine. Running this command under torchrun
    also works: it then joins the job torchrun started.
    """
    from funml.errors import FunmlError
    from funml.nn import distributed

    launch = distributed.LaunchSettings(**{k: flags.pop(k) for k in LAUNCH_OPTIONS})
    given = {k for k in flags if ctx.get_parameter_source(k) != click.core.ParameterSource.DEFAULT}
    if distributed.under_torchrun():
        launching = [k for k in LAUNCH_OPTIONS if _given(ctx, k)]
        if launching:
            raise FunmlError(
                f"--{launching[0].replace('_', '-')} starts workers, but this is a worker that "
                "torchrun started; pass the counts to torchrun instead (--nproc-per-node ...)."
            )
        with distributed.process_group(flags["device"]) as world:
            _train_here(world, flags, given, out, resume)
        return
    launch.validate(gpus=flags["device"] != "cpu" and _cuda())
    if launch.needed:
        _launch(ctx, launch, flags, given, out, resume)
    else:
        _train_here(distributed.World(), flags, given, out, resume)


LAUNCH_OPTIONS = ("nproc", "nnodes", "node_rank", "master_addr", "master_port", "max_restarts")


def _train_here(world, flags, given, out, resume) -> None:
    """Train in this process (alone or as a torchrun worker) and report on rank 0."""
    from funml.nn.figures import save_training_figures
    from funml.nn.job import run_here

    finished = run_here(world, flags, given, out, resume)
    if finished is None:
        return  # not the process that writes
    result, ds, out_dir = finished
    save_training_figures(result, ds, out_dir)
    click.echo(
        f"{result.settings.model} on {result.settings.dataset}: test accuracy "
        f"{result.test.accuracy:.2%} ({result.test.correct:,}/{result.test.count:,}) "
        f"after {len(result.history)} epochs"
    )
    click.echo(f"Wrote metrics.json, model.pt and figures to {out_dir}", err=True)


def _launch(ctx, launch, flags, given, out, resume) -> None:
    from funml.nn.job import launch_workers

    launch_workers(launch, flags, given, out, resume, lambda made: _worker_args(ctx, made))


def _worker_args(ctx, out: Path | None) -> list[str]:
    """The command line of this run for the workers: the given flags, without launching."""
    args = [ctx.params["model"]] if ctx.params["model"] is not None else []
    for p in ctx.command.params:
        value = ctx.params[p.name]
        if p.name == "out" and out is not None:
            value = out
        elif p.name in (*LAUNCH_OPTIONS, "model") or not _given(ctx, p.name):
            continue
        name = max(p.opts, key=len)
        if p.is_flag and p.secondary_opts:
            args.append(name if value else max(p.secondary_opts, key=len))
        elif p.is_flag:
            args += [name] if value else []
        else:
            args += [name, str(value)]
    return args


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _given(ctx, name: str) -> bool:
    return ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT


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
@click.argument("model")
@click.option(
    "--dataset",
    "-d",
    default=None,
    help="Size the model for this data set's images [default: 28x28].",
)
def summary(model, dataset):
    """Print MODEL's layers, output shapes, parameters and FLOPs per image."""
    from funml.nn.models import build_model
    from funml.nn.summary import summary as model_summary

    shape, n_classes = (28, 28), 10
    if dataset is not None:
        ds = _dataset(dataset)
        shape, n_classes = ds.image_shape, ds.n_classes
    click.echo(
        str(model_summary(build_model(model, shape, n_classes, dataset=dataset), shape, show=False))
    )


def _dataset(name: str):
    from funml.data import load_dataset

    return load_dataset(name)
