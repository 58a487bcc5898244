"""`pretrained`: ImageNet CNNs on the packaged photos and on your own (``--images``)."""

from __future__ import annotations

import warnings
from pathlib import Path

from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result, Table
from funml.timing import timer

TOP_K = 5
# What a person sees in scikit-learn's two sample photos, as ImageNet classes: a Chinese
# temple roof and a flower. A model "gets it" when one of these is in its top 5.
EXPECTED = {
    "packaged/china.jpg": ("palace", "monastery", "stupa", "bell cote", "church", "mosque", "dome"),
    # ImageNet's few flower classes; "pot" is ImageNet's "pot, flowerpot".
    "packaged/flower.jpg": ("daisy", "yellow lady's slipper", "rapeseed", "hip", "cardoon", "pot"),
}


@experiment(
    "pretrained",
    summary="ImageNet CNNs (EfficientNet-Lite0 offline; others when their weights are here).",
    question=(
        "What do ImageNet-pretrained networks see in real photos, and do the available "
        "models agree with each other?"
    ),
)
def run_pretrained(settings, context) -> Result:
    from PIL import Image
    from sklearn.datasets import load_sample_images

    from funml.errors import FunmlError
    from funml.zoo import (
        MODELS,
        classify,
        get_spec,
        load_model,
        plot_comparison_table,
        plot_prediction_grid,
        resolve_weights,
    )

    sample = load_sample_images()
    names = [f"packaged/{Path(f).name}" for f in sample.filenames]
    images = [Image.fromarray(a) for a in sample.images]
    notes = [f"Packaged photos: {', '.join(names)} (scikit-learn's load_sample_images)."]
    skipped_files = []
    if settings.images is not None:
        from funml.data.folder import load_photos

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # skipped files are listed below
            photos = load_photos(settings.images)
        names += [str(p.relative_to(settings.images)) for p in photos.paths]
        images += list(photos.images)
        skipped_files = [(str(p), reason) for p, reason in photos.skipped]
        notes.append(
            f"Your photos: {len(photos.paths)} from {settings.images}"
            + (f"; skipped {len(skipped_files)} unreadable file(s)." if skipped_files else ".")
        )
    models, skipped = [], []
    for name in MODELS:
        try:
            # Look for the file first: building VGG16 only to find no weights takes seconds.
            resolve_weights(get_spec(name), None, allow_download=False)
            models.append(load_model(name, allow_download=False))
        except FunmlError as e:  # weights not here: say so, download nothing large
            skipped.append((name, str(e)))
    if not models:
        raise FunmlError(f"No ImageNet model has its weights available: {skipped[0][1]}")
    with timer() as t:
        predictions = classify(images, models, TOP_K, names=names)
    figures = {
        f"{m.name}: each photo titled with its top-1 class": plot_prediction_grid(
            images, predictions, m.name
        )
        for m in models
    }
    figures["Top-1 class of every model, per photo"] = plot_comparison_table(predictions)

    refs, hits = [], 0
    for p in predictions:
        expected = EXPECTED.get(p.image)
        if expected is None:
            continue
        top = [c.name for c in p.top]
        hit = any(e in top for e in expected)
        hits += hit
        refs.append(
            Reference(
                f"{p.image}, {p.model}: top-1 ({p.top[0].prob:.0%})",
                p.top[0].name,
                " / ".join(expected[:3]) + (" ... (in top 5)" if hit else " (NOT in top 5)"),
                "what the photo shows",
            )
        )
    checked = sum(p.image in EXPECTED for p in predictions)
    if skipped:
        notes.append(
            "Models without weights here (skipped, nothing downloaded): "
            + "; ".join(f"{n}" for n, _ in skipped)
            + ". Put torchvision's weight files in $TORCH_HOME/hub/checkpoints to add them."
        )
    rows = tuple(
        (p.image, p.model, *(f"{c.name} ({c.prob:.2f})" for c in p.top[:3])) for p in predictions
    )
    return Result(
        metrics={
            "models": [m.name for m in models],
            "skipped_models": dict(skipped),
            "skipped_files": skipped_files,
            "n_images": len(images),
            "seconds_per_image_and_model": t.seconds / (len(images) * len(models)),
            "expected_class_in_top5": f"{hits}/{checked}",
            "predictions": [p.to_json() for p in predictions],
        },
        verdict=(
            f"{len(models)} model(s) classified {len(images)} photo(s); on the packaged photos "
            f"the expected class is in the top 5 for {hits} of {checked} (photo, model) pairs."
        ),
        references=refs,
        figures=figures,
        tables=[
            Table(
                "Top-3 classes per photo and model", ("photo", "model", "1st", "2nd", "3rd"), rows
            )
        ],
        notes=notes,
    )
