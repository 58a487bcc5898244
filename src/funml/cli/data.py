"""`funml data`: inspect, download and show the data sets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

_data_dir = click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Look here first for the data files (downloads go to DIR/<dataset>/).",
)
_download = click.option(
    "--download/--no-download",
    default=True,
    show_default=True,
    help="Download MNIST or Fashion-MNIST files that are missing.",
)


@click.group()
def data() -> None:
    """Inspect, download and show the data sets.

    DATASET is one of: mnist, fashion-mnist, digits, csv:TRAIN[,TEST] (label-first rows of
    785 integers), or folder:PATH (one subfolder per class).
    """


@data.command()
@click.argument("dataset", metavar="DATASET")
@_data_dir
@_download
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
def info(dataset: str, data_dir: Path | None, download: bool, as_json: bool) -> None:
    """Print the splits, shapes, pixel range, class counts and where the files are."""
    from funml.data import describe

    summary = describe(_load(dataset, data_dir, download))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(_format_info(summary))


@data.command()
@click.argument("dataset", metavar="DATASET")
@_data_dir
def fetch(dataset: str, data_dir: Path | None) -> None:
    """Download MNIST or Fashion-MNIST (what is missing) and verify every file's hash."""
    from funml.data.mnist import IDX_DATASETS, fetch
    from funml.data.registry import canonical_name

    key = canonical_name(dataset)
    if key not in IDX_DATASETS:
        from funml.data import load_dataset

        load_dataset(dataset, data_dir=data_dir)  # unknown names and bad paths fail here
        click.echo(f"'{dataset}' is local; there is nothing to download.")
        return
    for name, hit in fetch(IDX_DATASETS[key], data_dir=data_dir, progress=True).items():
        click.echo(f"ok  {name:<28} {hit.path}")
    click.echo(f"All {key} files are present and match their known hashes.")


@data.command()
@click.argument("dataset", metavar="DATASET")
@_data_dir
@_download
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Image file to write (PNG, PDF, SVG, ...); default <dataset>-classes.png.",
)
@click.option("--split", type=click.Choice(["train", "test"]), default="train", show_default=True)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def show(
    dataset: str, data_dir: Path | None, download: bool, out: Path | None, split: str, force: bool
) -> None:
    """Save a grid with one sample image per class (the course's first figure)."""
    from funml.data.plots import class_gallery
    from funml.errors import FunmlError
    from funml.files import save_figure

    if out is None:
        out = Path(re.sub(r"[^A-Za-z0-9_.-]+", "-", dataset).strip("-.") + "-classes.png")
    if out.exists() and not force:
        raise FunmlError(f"'{out}' already exists; choose another --out or pass --force.")
    fig = class_gallery(_load(dataset, data_dir, download), split=split)
    formats = fig.canvas.get_supported_filetypes()
    if out.suffix.lstrip(".").lower() not in formats:
        raise FunmlError(
            f"Cannot save a figure as '{out.suffix or out.name}'; "
            f"use one of: {', '.join('.' + f for f in sorted(formats))}."
        )
    try:
        save_figure(fig, out)
    except OSError as e:
        raise FunmlError(
            f"Cannot write '{out}' ({e.strerror or e}); choose a writable location for --out."
        ) from None
    click.echo(f"Wrote {out}")


def _load(dataset: str, data_dir: Path | None, download: bool):
    import warnings

    from funml.data import load_dataset
    from funml.data.registry import canonical_name

    options = {}
    if canonical_name(dataset) in ("mnist", "fashion-mnist"):
        options = {"download": download}
    # Skipped files in a photo folder warn; show each as one line, not Python's format.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        ds = load_dataset(dataset, data_dir=data_dir, **options)
    for w in caught:
        click.echo(f"Warning: {w.message}", err=True)
    return ds


def _format_info(s: dict) -> str:
    lines = [
        f"Data set:    {s['dataset']}",
        f"Source:      {s['source']}",
        f"Image shape: {s['image_shape'][0]} x {s['image_shape'][1]}, {s['dtype']}, "
        f"pixel values 0..{s['pixel_max']}",
    ]
    for split in ("train", "test"):
        part = s[split]
        lo_hi = part["pixel_range"]
        seen = f", pixels seen {lo_hi[0]}..{lo_hi[1]}" if lo_hi else ""
        lines.append(f"{split.capitalize() + ':':<12} {part['n']:,} images {part['shape']}{seen}")
    width = max(len(c) for c in s["classes"])
    lines.append("")
    lines.append(f"{'#':>3}  {'class':<{width}}  {'train':>7}  {'test':>7}")
    for i, name in enumerate(s["classes"]):
        train_n, test_n = s["train"]["label_counts"][name], s["test"]["label_counts"][name]
        lines.append(f"{i:>3}  {name:<{width}}  {train_n:>7,}  {test_n:>7,}")
    if s["checksums"]:
        lines.append("")
        lines.append("SHA-256:")
        lines += [f"  {digest}  {name}" for name, digest in s["checksums"].items()]
    return "\n".join(lines)
