"""Classifying photos: real EfficientNet-Lite0 weights on scikit-learn's sample photos, the
normalisation those weights need, batching, the result's shape, and the figures."""

import dataclasses
import math
import sys

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from numpy.testing import assert_allclose
from PIL import Image

from funml.errors import FunmlError
from funml.zoo.classify import classify
from funml.zoo.efficientnet import packaged_lite0_weights
from funml.zoo.figures import plot_comparison_table, plot_prediction_grid
from funml.zoo.preprocess import Preprocess
from funml.zoo.registry import imagenet_classes
from funml.zoo.weights import ZooModel, load_model

# china.jpg is the Summer Palace's Tower of Buddhist Incense; flower.jpg a dahlia, which
# ImageNet lacks, so its nearest class is 'daisy' (the only garden-flower class).
TEMPLE_LIKE = {"palace", "monastery", "stupa", "bell cote", "church", "mosque", "castle"}
FLOWER_LIKE = {"daisy"}


@pytest.fixture(scope="module")
def photos():
    from sklearn.datasets import load_sample_images

    data = load_sample_images()
    names = [name.rsplit("/", 1)[-1] for name in data.filenames]
    assert names == ["china.jpg", "flower.jpg"]
    return [Image.fromarray(a) for a in data.images], names


@pytest.fixture(scope="module")
def lite0():
    # The packaged file, named explicitly, so no cache is consulted.
    return load_model("efficientnet_lite0", packaged_lite0_weights())


def test_real_weights_classify_the_sample_photos_sensibly(photos, lite0):
    images, names = photos
    china, flower = classify(images, [lite0], top_k=5, names=names)
    assert (china.image, flower.image) == ("china.jpg", "flower.jpg")
    assert TEMPLE_LIKE & {t.name for t in china.top}
    assert FLOWER_LIKE & {t.name for t in flower.top}
    # With the constants the weights were trained with, the expected classes come first.
    assert china.top[0].name == "palace"
    assert flower.top[0].name == "daisy"


def test_the_normalisation_constants_matter(photos, lite0):
    # The same weights fed ImageNet mean/std instead of (x - 127) / 128.
    images, names = photos
    wrong = ZooModel(dataclasses.replace(lite0.spec, preprocess=Preprocess()), lite0.module, None)
    right_p = _probabilities(classify(images, [lite0], top_k=1000, names=names))
    wrong_p = _probabilities(classify(images, [wrong], top_k=1000, names=names))
    for image, expected in (("china.jpg", "palace"), ("flower.jpg", "daisy")):
        assert wrong_p[image][expected] < right_p[image][expected]
    # The flower suffers most: daisy loses more than half its probability.
    assert wrong_p["flower.jpg"]["daisy"] < 0.5 * right_p["flower.jpg"]["daisy"]


def _probabilities(predictions) -> dict[str, dict[str, float]]:
    return {p.image: {t.name: t.prob for t in p.top} for p in predictions}


def test_batching_and_chunking_do_not_change_the_result(photos, lite0, monkeypatch):
    images, _ = photos
    images = images + [im.transpose(Image.Transpose.FLIP_LEFT_RIGHT) for im in images]
    names = ["a", "b", "c", "d"]
    # Chunks of 3 images, forward passes of 1, 2 (2 + 1 per chunk) and 4 (Lite0's own).
    monkeypatch.setattr(sys.modules["funml.zoo.classify"], "CHUNK", 3)
    runs = [classify(images, [lite0], 3, names=names, batch_size=b) for b in (1, 2, None)]
    for run in runs:
        assert [p.image for p in run] == names
    for a, b, c in zip(*runs, strict=True):
        assert [t.index for t in a.top] == [t.index for t in b.top] == [t.index for t in c.top]
        assert_allclose([t.prob for t in a.top], [t.prob for t in b.top], rtol=1e-4, atol=1e-6)
        assert_allclose([t.prob for t in a.top], [t.prob for t in c.top], rtol=1e-4, atol=1e-6)


def test_results_are_image_major_sorted_and_named(photos, lite0):
    images, _ = photos
    torch.manual_seed(0)
    random_resnet = load_model("resnet18", pretrained=False)
    preds = classify(images, [lite0, random_resnet], top_k=4)
    assert [(p.image, p.model) for p in preds] == [
        ("image 0", "efficientnet_lite0"),
        ("image 0", "resnet18"),
        ("image 1", "efficientnet_lite0"),
        ("image 1", "resnet18"),
    ]
    classes = imagenet_classes()
    for p in preds:
        probs = [t.prob for t in p.top]
        assert len(p.top) == 4
        assert probs == sorted(probs, reverse=True)
        assert 0 < sum(probs) <= 1 + 1e-6
        assert all(classes[t.index] == t.name for t in p.top)
    assert preds[0].to_json() == {
        "image": "image 0",
        "model": "efficientnet_lite0",
        "top": [{"class": t.name, "index": t.index, "prob": t.prob} for t in preds[0].top],
    }


def test_images_are_not_changed(photos, lite0):
    images, _ = photos
    before = [np.asarray(im).copy() for im in images]
    classify(images, [lite0], top_k=1)
    for im, b in zip(images, before, strict=True):
        assert np.array_equal(np.asarray(im), b)


@pytest.mark.parametrize("top_k", [0, 1001, 2.5, True])
def test_top_k_out_of_range_is_refused(photos, lite0, top_k):
    images, _ = photos
    with pytest.raises(FunmlError, match="must be from 1 to 1000"):
        classify(images, [lite0], top_k=top_k)


def test_unknown_model_name_lists_the_choices(photos):
    images, _ = photos
    with pytest.raises(FunmlError, match="Model 'resnet1' is unknown; choose one of: "):
        classify(images, ["resnet1"])


def test_the_1000_class_names_ship_in_index_order():
    classes = imagenet_classes()
    assert len(classes) == len(set(classes)) == 1000
    assert classes[0] == "tench"
    assert (classes[388], classes[698], classes[985], classes[999]) == (
        "giant panda", "palace", "daisy", "toilet tissue",
    )  # fmt: skip


def test_prediction_grid_titles_each_image_with_its_top_class(photos, lite0):
    images, names = photos
    images = images * 3  # 6 images in a 4-column grid: 2 rows, 2 empty cells
    preds = classify(images, [lite0], top_k=1, names=names * 3)
    fig = plot_prediction_grid(images, preds, "efficientnet_lite0", ncols=4)
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() == "EfficientNet-Lite0"
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 8 and len(shown) == 6
    assert [ax.get_title() for ax in shown][:2] == [
        f"palace ({preds[0].top[0].prob:.0%})",
        f"daisy ({preds[1].top[0].prob:.0%})",
    ]
    # Thumbnails are drawn, not the full 640x427 photos.
    assert max(shown[0].images[0].get_array().shape[:2]) <= 320


def test_comparison_table_has_a_row_per_image_and_a_column_per_model(photos, lite0):
    images, names = photos
    random_resnet = load_model("resnet18", pretrained=False)
    preds = classify(images, [lite0, random_resnet], top_k=1, names=names)
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_comparison_table(preds, ax=ax) is fig
    texts = {cell.get_text().get_text() for cell in ax.tables[0].get_celld().values()}
    assert {"efficientnet_lite0", "resnet18", "china.jpg", "flower.jpg"} <= texts
    assert f"palace ({preds[0].top[0].prob:.0%})" in texts
    own = plot_comparison_table(preds)
    assert isinstance(own, Figure) and own is not fig
    assert not math.isnan(own.get_figwidth())
