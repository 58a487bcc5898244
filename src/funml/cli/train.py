"""``funml train``, ``funml evaluate`` and ``funml summary``: the course's torch models."""

from __future__ import annotations

import dataclasses
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
@click.option("--batch-size", type=int, default=64, show_default=True)
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
@click.pass_context
def train(ctx, out, resume, **flags):
    """Train MODEL (mlp, mlp2, cnn, cnn-small, digits-cnn, logreg) on a data set.

    Writes metrics.json, model.pt (a checkpoint after every epoch) and figures, then prints
    the final accuracy over the full test split. Ctrl-C keeps the last finished epoch.
    """
    from funml.errors import FunmlError
    from funml.files import new_run_dir
    from funml.nn.figures import save_training_figures
    from funml.nn.train import (
        RESUMABLE,
        TrainingInterrupted,
        TrainSettings,
        check,
        settings_from_checkpoint,
    )
    from funml.nn.train import train as run_training

    given = {k for k in flags if ctx.get_parameter_source(k) != click.core.ParameterSource.DEFAULT}
    if resume is None:
        if flags["model"] is None:
            raise FunmlError("Name a MODEL to train (e.g. funml train cnn), or pass --resume.")
        settings = TrainSettings(**flags)
    else:
        saved = settings_from_checkpoint(resume)
        for k in sorted(given - set(RESUMABLE)):  # the flags that define a run must agree
            if flags[k] != getattr(saved, k):
                raise FunmlError(
                    f"--{k.replace('_', '-')} {flags[k]} differs from the checkpoint's "
                    f"{getattr(saved, k)}; a resumed run keeps its settings, so drop the flag."
                )
        settings = dataclasses.replace(saved, **{k: flags[k] for k in given})
        if out is None and resume.name != "model.pt":
            raise FunmlError(f"Resume '{resume}' into a new folder with --out DIR.")

    ds = _dataset(settings.dataset)
    check(settings, ds)  # bad settings fail here, before any folder is made
    if resume is not None and out is None:
        out_dir = resume.parent  # continue the run in its own folder
    else:
        out_dir = new_run_dir(out, f"train-{settings.model}-{settings.dataset.replace(':', '_')}")
    try:
        result = run_training(settings, dataset=ds, out_dir=out_dir, resume=resume)
    except TrainingInterrupted:
        if not any(out_dir.iterdir()):
            out_dir.rmdir()  # interrupted before the first checkpoint: leave no empty run
        raise
    save_training_figures(result, ds, out_dir)
    click.echo(
        f"{settings.model} on {settings.dataset}: test accuracy {result.test.accuracy:.2%} "
        f"({result.test.correct:,}/{result.test.count:,}) after {len(result.history)} epochs"
    )
    click.echo(f"Wrote metrics.json, model.pt and figures to {out_dir}", err=True)


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
