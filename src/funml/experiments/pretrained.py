"""`pretrained`: ImageNet CNNs on the packaged photos and on your own (``--images``)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result, Table
from funml.timing import timer

if TYPE_CHECKING:
    from funml.zoo import Prediction

TOP_K = 5
# What a person sees in scikit-learn's two sample photos, as ImageNet classes: a Chinese
# temple roof and a flower. A model "gets it" when one of these is in its top 5.
EXPECTED = {
    "packaged/china.jpg": ("palace", "monastery", "stupa", "bell cote", "church", "mosque", "dome"),
    # ImageNet's few flower classes; "pot" is ImageNet's "pot, flowerpot".
    "packaged/flower.jpg": ("daisy", "yellow lady's slipper", "rapeseed", "hip", "cardoon", "pot"),
}


@dataclass(frozen=True)
class Photos:
    """The photos to classify: scikit-learn's packaged two, then those in your folder."""

    names: tuple[str, ...]  # "packaged/<file>", then paths relative to your folder
    images: tuple  # PIL images, in the order of names
    folder: str | None = None  # your folder (--images), if any
    n_yours: int = 0  # photos read from it
    skipped_files: tuple[tuple[str, str], ...] = ()  # (file, reason) for unreadable files


@dataclass(frozen=True)
class PretrainedMeasurement:
    """Every available ImageNet model's top classes for every photo."""

    photos: Photos
    models: tuple[str, ...]  # the models that ran
    skipped_models: dict[str, str]  # model -> why it did not run (no weights here)
    seconds_per_image_and_model: float  # classify's wall clock, preprocessing included
    predictions: tuple[Prediction, ...]
    # (photo, model) -> one of EXPECTED's classes is in the top TOP_K; packaged photos only
    expected_in_top: dict[tuple[str, str], bool] = field(default_factory=dict)


@experiment(
    "pretrained",
    summary="ImageNet CNNs (EfficientNet-Lite0 offline; others when their weights are here).",
    question=(
        "What do ImageNet-pretrained networks see in real photos, and do the available "
        "models agree with each other?"
    ),
)
def run_pretrained(settings, context) -> Result:
    return present_pretrained(measure_pretrained(gather_photos(settings.images)))


def gather_photos(folder: str | Path | None = None) -> Photos:
    """scikit-learn's two sample photos, then every readable photo in ``folder``."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    sample = load_sample_images()
    names = [f"packaged/{Path(f).name}" for f in sample.filenames]
    images = [Image.fromarray(a) for a in sample.images]
    if folder is None:
        return Photos(tuple(names), tuple(images))
    from funml.data.folder import load_photos

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # skipped files are listed in the record
        photos = load_photos(folder)
    return Photos(
        names=tuple(names + [str(p.relative_to(folder)) for p in photos.paths]),
        images=tuple(images + list(photos.images)),
        folder=str(folder),
        n_yours=len(photos.paths),
        skipped_files=tuple((str(p), reason) for p, reason in photos.skipped),
    )


def measure_pretrained(photos: Photos, top_k: int = TOP_K) -> PretrainedMeasurement:
    """Classify ``photos`` with every model whose weights are here; nothing is downloaded."""
    from funml.zoo import classify, load_available_models

    models, skipped = load_available_models()
    with timer() as t:
        predictions = classify(photos.images, models, top_k, names=photos.names)
    expected_in_top = {
        (p.image, p.model): any(c.name in EXPECTED[p.image] for c in p.top)
        for p in predictions
        if p.image in EXPECTED
    }
    return PretrainedMeasurement(
        photos=photos,
        models=tuple(m.name for m in models),
        skipped_models=dict(skipped),
        seconds_per_image_and_model=t.seconds / (len(photos.images) * len(models)),
        predictions=tuple(predictions),
        expected_in_top=expected_in_top,
    )


def present_pretrained(m: PretrainedMeasurement) -> Result:
    """Metrics, verdict, a reference per packaged photo and model, the figures and a table."""
    from funml.zoo import plot_comparison_table, plot_prediction_grid

    photos, predictions = m.photos, list(m.predictions)
    hits, checked = sum(m.expected_in_top.values()), len(m.expected_in_top)
    figures = {
        f"{name}: each photo titled with its top-1 class": plot_prediction_grid(
            photos.images, predictions, name
        )
        for name in m.models
    }
    figures["Top-1 class of every model, per photo"] = plot_comparison_table(predictions)
    rows = tuple(
        (p.image, p.model, *(f"{c.name} ({c.prob:.2f})" for c in p.top[:3])) for p in predictions
    )
    return Result(
        metrics={
            "models": list(m.models),
            "skipped_models": m.skipped_models,
            "skipped_files": [list(f) for f in photos.skipped_files],
            "n_images": len(photos.images),
            "seconds_per_image_and_model": m.seconds_per_image_and_model,
            "expected_class_in_top5": f"{hits}/{checked}",
            "predictions": [p.to_json() for p in predictions],
        },
        verdict=(
            f"{len(m.models)} model(s) classified {len(photos.images)} photo(s); on the packaged "
            f"photos the expected class is in the top 5 for {hits} of {checked} (photo, model) "
            "pairs."
        ),
        references=_references(m),
        figures=figures,
        tables=[
            Table(
                "Top-3 classes per photo and model", ("photo", "model", "1st", "2nd", "3rd"), rows
            )
        ],
        notes=_notes(m),
    )


def _references(m: PretrainedMeasurement) -> list[Reference]:
    refs = []
    for p in m.predictions:
        hit = m.expected_in_top.get((p.image, p.model))
        if hit is None:
            continue
        expected = " / ".join(EXPECTED[p.image][:3])
        refs.append(
            Reference(
                f"{p.image}, {p.model}: top-1 ({p.top[0].prob:.0%})",
                p.top[0].name,
                expected + (" ... (in top 5)" if hit else " (NOT in top 5)"),
                "what the photo shows",
            )
        )
    return refs


def _notes(m: PretrainedMeasurement) -> list[str]:
    photos = m.photos
    packaged = photos.names[: len(photos.names) - photos.n_yours]
    notes = [f"Packaged photos: {', '.join(packaged)} (scikit-learn's load_sample_images)."]
    if photos.folder is not None:
        skipped = len(photos.skipped_files)
        notes.append(
            f"Your photos: {photos.n_yours} from {photos.folder}"
            + (f"; skipped {skipped} unreadable file(s)." if skipped else ".")
        )
    if m.skipped_models:
        notes.append(
            "Models without weights here (skipped, nothing downloaded): "
            + "; ".join(m.skipped_models)
            + ". Put torchvision's weight files in $TORCH_HOME/hub/checkpoints to add them."
        )
    return notes
