"""Classify images with one or more ImageNet models: top-k classes with softmax probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import Image

from funml.errors import FunmlError
from funml.zoo.preprocess import Preprocess, preprocess_batch
from funml.zoo.registry import DEFAULT_MODEL, imagenet_classes
from funml.zoo.weights import ZooModel, load_model

CHUNK = 32  # images preprocessed together (about 19 MB of input per preprocessing)


@dataclass(frozen=True)
class TopClass:
    """One of the k best classes: its name, its index in 0..999, its softmax probability."""

    name: str
    index: int
    prob: float


@dataclass(frozen=True)
class Prediction:
    """The top-k classes one model gives one image, best first."""

    image: str  # the image's name: its path when it came from a folder
    model: str  # the model's name, e.g. "efficientnet_lite0"
    top: tuple[TopClass, ...]

    def to_json(self) -> dict:
        """``{"image", "model", "top": [{"class", "index", "prob"}, ...]}``."""
        top = [{"class": t.name, "index": t.index, "prob": t.prob} for t in self.top]
        return {"image": self.image, "model": self.model, "top": top}


def classify(
    images: Sequence[Image.Image],
    models: Sequence[str | ZooModel] = (DEFAULT_MODEL,),
    top_k: int = 5,
    *,
    names: Sequence[str] | None = None,
    batch_size: int | None = None,
) -> list[Prediction]:
    """Classify every image with every model.

    Parameters
    ----------
    images : sequence of PIL images (any mode; converted to RGB, never changed in place).
    models : model names (loaded with :func:`funml.zoo.load_model`) or loaded ZooModels.
    top_k : how many classes to keep per image and model, 1..1000.
    names : a name per image for the results; default ``"image 0"``, ``"image 1"``, ...
    batch_size : images per forward pass; default each model's own (``ModelSpec.batch_size``).

    Returns
    -------
    list of Prediction, image-major: for image 0 every model in order, then image 1, ...

    Images are preprocessed in chunks, once per distinct preprocessing (the torchvision
    models share one), so memory stays bounded however many images there are.
    """
    classes = imagenet_classes()
    check_top_k(top_k)
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    if names is None:
        names = [f"image {i}" for i in range(len(images))]
    if len(names) != len(images):
        raise ValueError(f"Got {len(names)} names for {len(images)} images.")
    zoo = [m if isinstance(m, ZooModel) else load_model(m) for m in models]
    sizes = [batch_size or m.spec.batch_size for m in zoo]
    groups: dict[Preprocess, list[int]] = {}
    for j, m in enumerate(zoo):
        groups.setdefault(m.spec.preprocess, []).append(j)
    chunk_size = max([CHUNK, *sizes])
    results: list[Prediction] = []
    with torch.inference_mode():
        for start in range(0, len(images), chunk_size):
            chunk = images[start : start + chunk_size]
            tops: list[list[tuple[TopClass, ...]]] = [[] for _ in zoo]
            for settings, members in groups.items():
                x = preprocess_batch(chunk, settings)  # (B, 3, 224, 224)
                for j in members:
                    logits = torch.cat(
                        [zoo[j].module(x[i : i + sizes[j]]) for i in range(0, len(x), sizes[j])]
                    )  # (B, 1000)
                    values, indices = logits.softmax(dim=1).topk(top_k, dim=1)  # (B, k) each
                    tops[j] = [_top(v, i, classes) for v, i in zip(values, indices, strict=True)]
            for b in range(len(chunk)):
                for j, m in enumerate(zoo):
                    results.append(Prediction(names[start + b], m.name, tops[j][b]))
    return results


def check_top_k(top_k: int) -> None:
    """A :class:`FunmlError` unless ``top_k`` is a whole number from 1 to 1000."""
    n = len(imagenet_classes())
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= n:
        raise FunmlError(f"The number of top classes (--top) must be from 1 to {n}, got {top_k!r}.")


def _top(values: torch.Tensor, indices: torch.Tensor, classes) -> tuple[TopClass, ...]:
    return tuple(
        TopClass(classes[i], i, p) for p, i in zip(values.tolist(), indices.tolist(), strict=True)
    )
