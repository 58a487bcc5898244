"""`pretrained`: ImageNet CNNs on the packaged photos and on your own (``--images``)."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result, Table
from funml.timing import timer

if TYPE_CHECKING:
    from funml.zoo import Prediction

TOP_K = 5


@dataclass(frozen=True)
class PhotoTruth:
    """What one packaged photo shows, as ImageNet classes (a person's reading, not a label)."""

    shows: str
    right: tuple[str, ...]  # classes that name something in the photo
    near: tuple[str, ...]  # wrong, but from the same ImageNet branch: a near miss


# scikit-learn's two sample photos. ImageNet has neither a pagoda nor a dahlia class, so
# "right" is the closest ImageNet has; any class in neither list counts as a miss.
EXPECTED = {
    "packaged/china.jpg": PhotoTruth(
        "a pagoda of Beijing's Summer Palace above a lake (ImageNet has no pagoda class)",
        right=("palace", "monastery", "lakeside"),
        # other buildings, towers and roofs: ImageNet's "structure" branch
        near=("stupa", "bell cote", "church", "mosque", "dome", "boathouse", "castle", "tile roof"),
    ),
    "packaged/flower.jpg": PhotoTruth(
        "an orange pompon dahlia (ImageNet has no dahlia; daisy is its class of the same family)",
        right=("daisy",),
        # ImageNet's other flower and plant classes; "pot" is "pot, flowerpot"
        near=("yellow lady's slipper", "rapeseed", "hip", "cardoon", "corn", "acorn", "pot"),
    ),
}
# Output channels of AlexNet's five convolutions in Krizhevsky, Sutskever & Hinton (2012),
# Figure 2 (the two GPUs' halves added), and its local response normalisation layers.
PAPER_ALEXNET_CHANNELS = (96, 256, 384, 384, 256)
PAPER_ALEXNET_LRN_LAYERS = 2


@dataclass(frozen=True)
class Photos:
    """The photos to classify: scikit-learn's packaged two, then those in your folder."""

    names: tuple[str, ...]  # "packaged/<file>", then paths relative to your folder
    images: tuple  # PIL images, in the order of names
    folder: str | None = None  # your folder (--images), if any
    n_yours: int = 0  # photos read from it
    skipped_files: tuple[tuple[str, str], ...] = ()  # (file, reason) for unreadable files


@dataclass(frozen=True)
class AlexNetShape:
    """AlexNet's layer sizes read from the architecture funml builds (no weights needed)."""

    conv_channels: tuple[int, ...]  # output channels of each convolution
    lrn_layers: int  # LocalResponseNorm layers
    n_params: int


@dataclass(frozen=True)
class PretrainedMeasurement:
    """Every available ImageNet model's top classes for every photo."""

    photos: Photos
    models: tuple[str, ...]  # the models that ran
    skipped_models: dict[str, str]  # model -> why it did not run (no weights here)
    seconds_per_image_and_model: float  # classify's wall clock, preprocessing included
    predictions: tuple[Prediction, ...]
    # (photo, model) -> a right or near class of EXPECTED is in the top TOP_K; packaged photos
    expected_in_top: dict[tuple[str, str], bool] = field(default_factory=dict)
    # (photo, model) -> "right", "near" or "miss" for each of the top classes; packaged photos
    verdicts: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    alexnet: AlexNetShape | None = None  # torchvision's AlexNet as funml builds it


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
    from funml.files import display_name  # names that are not UTF-8 stay printable

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # skipped files are listed in the record
        photos = load_photos(folder)
    return Photos(
        names=tuple(names + [display_name(p.relative_to(folder)) for p in photos.paths]),
        images=tuple(images + list(photos.images)),
        folder=str(folder),
        n_yours=len(photos.paths),
        skipped_files=tuple((display_name(p), reason) for p, reason in photos.skipped),
    )


def measure_pretrained(photos: Photos, top_k: int = TOP_K) -> PretrainedMeasurement:
    """Classify ``photos`` with every model whose weights are here; nothing is downloaded."""
    from funml.zoo import classify, load_available_models

    models, skipped = load_available_models()
    with timer() as t:
        predictions = classify(photos.images, models, top_k, names=photos.names)
    verdicts = {
        (p.image, p.model): tuple(verdict(c.name, EXPECTED[p.image]) for c in p.top)
        for p in predictions
        if p.image in EXPECTED
    }
    return PretrainedMeasurement(
        photos=photos,
        models=tuple(m.name for m in models),
        skipped_models=dict(skipped),
        seconds_per_image_and_model=t.seconds / (len(photos.images) * len(models)),
        predictions=tuple(predictions),
        expected_in_top={key: any(v != "miss" for v in vs) for key, vs in verdicts.items()},
        verdicts=verdicts,
        alexnet=measure_alexnet(),
    )


def verdict(name: str, truth: PhotoTruth) -> str:
    """``"right"``, ``"near"`` or ``"miss"``: ImageNet class ``name`` for a photo's ``truth``."""
    return "right" if name in truth.right else "near" if name in truth.near else "miss"


def measure_alexnet() -> AlexNetShape:
    """Read AlexNet's layers from its architecture, built on the meta device (no memory)."""
    from torch import nn

    from funml.zoo import build_architecture, conv_channels

    module = build_architecture("alexnet", device="meta").module
    return AlexNetShape(
        conv_channels=conv_channels(module),
        lrn_layers=sum(isinstance(m, nn.LocalResponseNorm) for m in module.modules()),
        n_params=sum(p.numel() for p in module.parameters()),
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
            "top5_verdicts": {
                f"{image} | {model}": list(v) for (image, model), v in m.verdicts.items()
            },
            "predictions": [p.to_json() for p in predictions],
            "alexnet": asdict(m.alexnet) if m.alexnet else None,
            "paper_alexnet_conv_channels": list(PAPER_ALEXNET_CHANNELS),
        },
        verdict=(
            f"{len(m.models)} model(s) classified {len(photos.images)} photo(s); on the packaged "
            f"photos a right class or a near miss is in the top 5 for {hits} of {checked} "
            "(photo, model) pairs."
        ),
        answer=answer_pretrained(m),
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
        expected = " / ".join(EXPECTED[p.image].right)
        refs.append(
            Reference(
                f"{p.image}, {p.model}: top-1 ({p.top[0].prob:.0%})",
                p.top[0].name,
                expected + (" (a right or near class in top 5)" if hit else " (NOT in top 5)"),
                "what the photo shows",
            )
        )
    if m.alexnet is not None:
        refs.append(
            Reference(
                "AlexNet convolution channels (built here)",
                _dashed(m.alexnet.conv_channels),
                _dashed(PAPER_ALEXNET_CHANNELS),
                "Krizhevsky, Sutskever & Hinton (2012), Figure 2",
            )
        )
    return refs


def answer_pretrained(m: PretrainedMeasurement) -> str:
    """The course's questions on the photos' top 5 and on AlexNet, with this run's numbers."""
    sentences = []
    for image, truth in EXPECTED.items():
        runs = [p for p in m.predictions if p.image == image]
        if not runs:
            continue
        top1 = ", ".join(
            f"{p.top[0].name} ({p.top[0].prob:.0%}, {m.verdicts[image, p.model][0]}) from {p.model}"
            for p in runs
        )
        groups = {"right": [], "near": [], "miss": []}
        for p in runs:
            for c, v in zip(p.top, m.verdicts[image, p.model], strict=True):
                if c.name not in groups[v]:
                    groups[v].append(c.name)
        found = "; ".join(f"{k}: {', '.join(v)}" for k, v in groups.items() if v)
        sentences.append(
            f"{image.split('/')[-1]} shows {truth.shows}: top-1 {top1}; in the top 5, {found}."
        )
    sentences.append(
        "A near miss is a wrong class from the same ImageNet branch (another building, another "
        "plant); a miss is context or a look-alike from another branch."
    )
    if m.alexnet is not None:
        a = m.alexnet
        sentences.append(
            f"The AlexNet funml builds (torchvision's) has {_dashed(a.conv_channels)} "
            f"convolution channels, {a.lrn_layers} local response normalisation layers and "
            f"{a.n_params:,} parameters; the paper's has {_dashed(PAPER_ALEXNET_CHANNELS)} "
            f"channels (two GPUs' halves added) and {PAPER_ALEXNET_LRN_LAYERS} LRN layers: "
            "torchvision follows Krizhevsky's 2014 one-GPU variant, so its printed "
            "architecture does not match the paper's."
        )
    return " ".join(sentences)


def _dashed(channels) -> str:
    return "-".join(str(c) for c in channels)


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
