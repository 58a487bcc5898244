"""`gallery`: one image per class, the course's first figure."""

from __future__ import annotations

from dataclasses import dataclass

from funml.data.dataset import ImageDataset
from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result, Table

# The data sets' published sizes (train, test). Digits: the course's seeded 500 / 1,297
# split of scikit-learn's 1,797 images.
PUBLISHED_SIZES = {"digits": (500, 1297), "mnist": (60000, 10000), "fashion-mnist": (60000, 10000)}


@dataclass(frozen=True)
class GalleryMeasurement:
    """A data set's sizes and class counts."""

    description: dict  # funml.data.describe(ds): sizes, shapes, pixel range, counts, source
    train_counts: dict[str, int]  # images per class, by class name
    test_counts: dict[str, int]
    min_to_max_class_ratio: float  # smallest training class / largest, a fraction


@experiment(
    "gallery",
    summary="One image per class of the data set, with its sizes and class counts.",
    question="What do the images of each class look like, and how many are there of each?",
)
def run_gallery(settings, context) -> Result:
    ds = context.dataset()
    ds28, note28 = context.images28()
    extra = None if ds28.name == ds.name else (ds28, note28)
    return present_gallery(measure_gallery(ds), ds, extra)


def measure_gallery(ds: ImageDataset) -> GalleryMeasurement:
    """Describe ``ds`` and count its images per class."""
    from funml.data import describe

    info = describe(ds)
    counts = info["train"]["label_counts"]
    return GalleryMeasurement(
        description=info,
        train_counts=counts,
        test_counts=info["test"]["label_counts"],
        min_to_max_class_ratio=min(counts.values()) / max(max(counts.values()), 1),
    )


def present_gallery(
    m: GalleryMeasurement,
    ds: ImageDataset,
    extra: tuple[ImageDataset, str] | None = None,
) -> Result:
    """The counts and a gallery of ``ds``; ``extra`` is ``(data set, note)`` for a second one
    (the 28x28 images the torch models train on, when they differ from ``ds``)."""
    from funml.data.plots import class_gallery

    info = m.description
    (h, w), sizes = info["image_shape"], PUBLISHED_SIZES.get(ds.name, (None, None))
    figures = {f"{ds.name}: the first training image of each class": class_gallery(ds)}
    notes = [
        f"{ds.name}: {info['train']['n']:,} training and {info['test']['n']:,} test images of "
        f"{h}x{w} pixels (0..{info['pixel_max']}), from {info['source']}."
    ]
    if extra is not None:
        ds28, note28 = extra
        figures[f"{ds28.name}: what the 28x28 torch models train on"] = class_gallery(ds28)
        notes.append(note28)
    rows = tuple((name, m.train_counts[name], m.test_counts[name]) for name in info["classes"])
    return Result(
        metrics={"dataset": info, "train_min_to_max_class_ratio": m.min_to_max_class_ratio},
        verdict=(
            f"{len(info['classes'])} classes of {h}x{w} images; the "
            f"smallest training class has {m.min_to_max_class_ratio:.0%} as many images as the "
            "largest."
        ),
        answer=answer_gallery(m),
        references=[
            Reference(
                "training images", info["train"]["n"], sizes[0], "the data set's published size"
            ),
            Reference("test images", info["test"]["n"], sizes[1], "the data set's published size"),
        ],
        figures=figures,
        tables=[Table("Images per class", ("class", "train", "test"), rows)],
        notes=notes,
    )


def answer_gallery(m: GalleryMeasurement) -> str:
    """How many images each class has, and what that means for accuracy."""
    info, train, test = m.description, m.train_counts, m.test_counts
    (h, w), k = info["image_shape"], len(info["classes"])
    fewest, most = min(train, key=train.get), max(train, key=train.get)
    if train[fewest] == train[most] and min(test.values()) == max(test.values()):
        counts = (
            f"The classes are exactly balanced: {train[most]:,} training and "
            f"{max(test.values()):,} test images each."
        )
    else:
        balance = "close to balanced" if m.min_to_max_class_ratio >= 0.5 else "unbalanced"
        counts = (
            f"The classes are {balance}: from {train[fewest]:,} training images (class "
            f"{fewest}) to {train[most]:,} (class {most}), the smallest "
            f"{m.min_to_max_class_ratio:.0%} of the largest, and from {min(test.values()):,} "
            f"to {max(test.values()):,} test images per class."
        )
    return (
        f"The first figure shows the first training image of each of the {k} classes: {h}x{w} "
        f"grey images with pixels from 0 to {info['pixel_max']}. {counts} So accuracy is a "
        f"fair summary, and always guessing one class would score about 1/{k} = {1 / k:.0%}."
    )
