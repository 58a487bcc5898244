"""`gallery`: one image per class, the course's first figure."""

from __future__ import annotations

from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result, Table


@experiment(
    "gallery",
    summary="One image per class of the data set, with its sizes and class counts.",
    question="What do the images of each class look like, and how many are there of each?",
)
def run_gallery(settings, context) -> Result:
    from funml.data import describe
    from funml.data.plots import class_gallery

    ds = context.dataset()
    info = describe(ds)
    figures = {f"{ds.name}: the first training image of each class": class_gallery(ds)}
    notes = [
        f"{ds.name}: {len(ds.train):,} training and {len(ds.test):,} test images of "
        f"{ds.image_shape[0]}x{ds.image_shape[1]} pixels (0..{ds.pixel_max}), from "
        f"{ds.source}."
    ]
    ds28, note28 = context.images28()
    if ds28.name != ds.name:
        figures[f"{ds28.name}: what the 28x28 torch models train on"] = class_gallery(ds28)
        notes.append(note28)
    counts = info["train"]["label_counts"]
    test_counts = info["test"]["label_counts"]
    rows = tuple((name, counts[name], test_counts[name]) for name in ds.classes)
    balance = min(counts.values()) / max(max(counts.values()), 1)
    return Result(
        metrics={"dataset": info, "train_min_to_max_class_ratio": round(balance, 3)},
        verdict=(
            f"{ds.n_classes} classes of {ds.image_shape[0]}x{ds.image_shape[1]} images; the "
            f"smallest training class has {balance:.0%} as many images as the largest."
        ),
        references=[
            Reference(
                "training images",
                len(ds.train),
                _expected(ds.name, "train"),
                "the data set's published size",
            ),
            Reference(
                "test images",
                len(ds.test),
                _expected(ds.name, "test"),
                "the data set's published size",
            ),
        ],
        figures=figures,
        tables=[Table("Images per class", ("class", "train", "test"), rows)],
        notes=notes,
    )


def _expected(name: str, split: str):
    # Digits: the course's seeded 500 / 1,297 split of scikit-learn's 1,797 images.
    sizes = {"digits": (500, 1297), "mnist": (60000, 10000), "fashion-mnist": (60000, 10000)}
    if name not in sizes:
        return None
    return sizes[name][0 if split == "train" else 1]
