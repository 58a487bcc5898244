"""Classify a folder of photos: the work behind ``funml classify``, without the command line.

:class:`ClassifySettings` is what the command's flags become; :func:`run_classify` loads the
photos and models and classifies; :func:`write_outputs` writes the figures, a CSV and the
settings into a new folder, all at once or not at all.
"""

from __future__ import annotations

import csv
import os
import secrets
import shutil
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from funml.errors import FunmlError
from funml.files import atomic_open, check_free_folder, display_name, save_figure, write_json
from funml.zoo.classify import Prediction, check_top_k, classify
from funml.zoo.figures import plot_comparison_table, plot_prediction_grid
from funml.zoo.registry import DEFAULT_MODEL, parse_model_names
from funml.zoo.weights import ZooModel, load_available_models, load_model


@dataclass(frozen=True)
class ClassifySettings:
    """What to classify and where the results go."""

    folder: str  # a folder of photos, searched recursively
    model: str = DEFAULT_MODEL  # "NAME[,NAME...]" or "all" (every model whose weights are here)
    top_k: int = 5  # classes kept per image and model
    weights: str | None = None  # an explicit weights file, for a single model
    out: str | None = None  # a new or empty folder for figures and a CSV; None writes nothing
    batch_size: int | None = None  # images per forward pass; None: each model's own


@dataclass
class ClassifyRun:
    """Everything one run produced, for printing and saving."""

    settings: ClassifySettings
    paths: tuple[Path, ...]  # the photos classified, in sorted order
    images: tuple  # their PIL images, RGB
    skipped_files: tuple[tuple[Path, str], ...]  # (file, reason) for files that are not images
    models: list[ZooModel]
    skipped_models: list[tuple[str, str]] = field(default_factory=list)  # (model, reason)
    predictions: list[Prediction] = field(default_factory=list)


def run_classify(settings: ClassifySettings) -> ClassifyRun:
    """Load the photos and models that ``settings`` names and classify every photo."""
    s = settings
    check_top_k(s.top_k)
    if s.out is not None:
        check_free_folder(Path(s.out))
    from funml.data.folder import load_photos

    with warnings.catch_warnings():
        # Each unreadable file warns; the run reports them all in skipped_files instead.
        warnings.simplefilter("ignore", UserWarning)
        photos = load_photos(s.folder)
    models, skipped = _load_models(s)
    predictions = classify(
        photos.images,
        models,
        s.top_k,
        names=list(photos.names),  # printable even where a file name is not UTF-8
        batch_size=s.batch_size,
    )
    return ClassifyRun(s, photos.paths, photos.images, photos.skipped, models, skipped, predictions)


def _load_models(s: ClassifySettings) -> tuple[list[ZooModel], list[tuple[str, str]]]:
    names = parse_model_names(s.model)
    every = "all" in [part.strip() for part in s.model.split(",")]
    if s.weights is not None and len(names) != 1:
        raise FunmlError(
            f"--weights gives one file, so name exactly one --model (got: {', '.join(names)})."
        )
    if not every:
        return [load_model(name, s.weights) for name in names], []
    return load_available_models()  # "all": every model whose weights are already here


def format_table(predictions: list[Prediction]) -> str:
    """A plain-text table: image, model, top-1 class, probability."""
    rows = [("image", "model", "top-1 class", "prob")]
    rows += [(p.image, p.model, p.top[0].name, f"{p.top[0].prob:.3f}") for p in predictions]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(row[i].ljust(widths[i]) for i in range(3)) + "  " + row[3] for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def predictions_json(predictions: list[Prediction]) -> list[dict]:
    """The ``--json`` list: ``[{"image", "model", "top": [{"class", "index", "prob"}]}]``."""
    return [p.to_json() for p in predictions]


def write_outputs(run: ClassifyRun, out: str | os.PathLike) -> Path:
    """Write a grid figure per model, the comparison table, ``predictions.csv`` and
    ``settings.json`` into ``out``, which must be new or empty.

    Everything is written into a hidden folder beside ``out`` that is renamed to ``out`` only
    when complete, so a failure leaves nothing behind.
    """
    out = Path(out)
    check_free_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # mkdir (not mkdtemp, which makes it private) so the folder gets the usual permissions.
    tmp = out.parent / f".{out.name}.{secrets.token_hex(4)}.part"
    tmp.mkdir()
    try:
        for model in run.models:
            fig = plot_prediction_grid(run.images, run.predictions, model.name)
            save_figure(fig, tmp / f"grid_{model.name}.png")
        save_figure(plot_comparison_table(run.predictions), tmp / "comparison.png")
        _write_csv(run.predictions, tmp / "predictions.csv")
        write_json(tmp / "settings.json", _settings_record(run))
        os.replace(tmp, out)  # an empty existing folder is replaced, a non-empty one refused
    except OSError as e:
        raise FunmlError(
            f"Could not write results to '{out}' ({e.strerror or e}); choose a writable --out."
        ) from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _write_csv(predictions: list[Prediction], path: Path) -> None:
    with atomic_open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "model", "rank", "class", "index", "prob"])
        for p in predictions:
            for rank, t in enumerate(p.top, start=1):
                writer.writerow([p.image, p.model, rank, t.name, t.index, f"{t.prob:.6f}"])


def _settings_record(run: ClassifyRun) -> dict:
    return {
        "settings": asdict(run.settings),
        "models": {
            m.name: {"weights": str(m.weights.path), "source": m.weights.source}
            for m in run.models
            if m.weights is not None
        },
        "skipped_models": dict(run.skipped_models),
        "skipped_files": {display_name(path): reason for path, reason in run.skipped_files},
    }
