"""``funml classify``: classify a folder of photos with ImageNet CNNs."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--model",
    default="efficientnet_lite0",
    show_default=True,
    help="Model name(s), comma-separated: efficientnet_lite0, alexnet, vgg16, resnet18; "
    "or 'all' for every model whose weights are available.",
)
@click.option("--top", "top_k", type=int, default=5, show_default=True, help="Classes per image.")
@click.option(
    "--weights",
    type=click.Path(path_type=Path),
    default=None,
    help="Weights file for the (single) model, instead of the cache or a download.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="New or empty folder for the figures, predictions.csv and settings.json.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the predictions as JSON.")
def classify(folder, model, top_k, weights, out, as_json):
    """Classify every photo in FOLDER and print image, model, top-1 class and probability."""
    from funml.zoo.run import (
        ClassifySettings,
        format_table,
        predictions_json,
        run_classify,
        write_outputs,
    )

    if out is not None:
        check_out(out, folder)
    settings = ClassifySettings(
        folder=str(folder),
        model=model,
        top_k=top_k,
        weights=None if weights is None else str(weights),
        out=None if out is None else str(out),
    )
    run = run_classify(settings)
    from funml.files import display_name

    for path, reason in run.skipped_files:
        click.echo(f"Skipped file {display_name(path)}: {reason}", err=True)
    for name, reason in run.skipped_models:
        click.echo(f"Skipped model {name}: {reason}", err=True)
    if as_json:
        click.echo(json.dumps(predictions_json(run.predictions), indent=2))
    else:
        click.echo(format_table(run.predictions))
    if out is not None:
        written = write_outputs(run, out)
        click.echo(f"Wrote figures and predictions.csv to {written}", err=True)


def check_out(out: Path, folder: Path) -> None:
    """Refuse, before any photo is classified, an ``--out`` that is a file, or a folder the
    results cannot replace: the current folder or one above it (``--out .``), or the photo
    folder or one above it."""
    from funml.errors import FunmlError

    if out.exists() and not out.is_dir():
        raise FunmlError(f"--out '{out}' is a file; give a new or empty folder for the results.")
    target = out.resolve()
    for what, inside in (("the current folder", Path.cwd()), ("the photo folder", folder)):
        inside = inside.resolve()
        if target == inside or target in inside.parents:
            raise FunmlError(
                f"--out '{out}' is {what} or holds it, which the results cannot replace; "
                "give a new folder, such as --out results."
            )
