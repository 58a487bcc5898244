"""The models funml knows: name, builder, parameter count, official weight files, preprocessing.

Weight file names follow torchvision's convention: the hex digits after the last ``-`` are
the start of the file's SHA-256. Where the full digest is published it is recorded too;
``alexnet-owt-4df8aa71.pth`` (the pre-0.13 AlexNet name) is known only by its prefix.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from torch import nn

from funml.errors import FunmlError
from funml.zoo.alexnet import alexnet
from funml.zoo.efficientnet import efficientnet_lite0, packaged_lite0_weights
from funml.zoo.preprocess import LITE_MEAN, LITE_STD, Preprocess
from funml.zoo.resnet import resnet18
from funml.zoo.vgg import vgg16

TORCHVISION_URL = "https://download.pytorch.org/models/"
DEFAULT_PREPROCESS = Preprocess()  # torchvision's ImageNet evaluation transform


@dataclass(frozen=True)
class WeightFile:
    """One known weights file: its name, its SHA-256 (or only the prefix in its name), its URL."""

    name: str
    sha256: str  # the full hex digest, or the prefix in the name where that is all we know
    url: str | None = None  # where to download it; None if funml never downloads this one

    @property
    def full_hash(self) -> bool:
        return len(self.sha256) == 64


@dataclass(frozen=True)
class ModelSpec:
    """Everything funml needs to build, load and feed one ImageNet model."""

    name: str  # the name users type: --model NAME
    title: str  # for figures and tables
    build: Callable[[], nn.Module]  # a builder returning the model with random weights
    n_params: int  # exact trainable parameter count
    weights: tuple[WeightFile, ...]  # official files, the one to download first
    preprocess: Preprocess = DEFAULT_PREPROCESS
    packaged: Callable[[], Path] | None = None  # weights shipped by an installed package
    # Images per forward pass on a CPU, measured with benchmarks/zoo.py: Lite0's large
    # depthwise activations fall out of cache past ~4, AlexNet's 240 MB of linear weights
    # are amortised over big batches.
    batch_size: int = 8


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "efficientnet_lite0",
            "EfficientNet-Lite0",
            efficientnet_lite0,
            4_652_008,
            (
                WeightFile(
                    "efficientnet-lite0-57934424.pth",
                    "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
                ),
            ),
            Preprocess(mean=LITE_MEAN, std=LITE_STD),
            packaged=packaged_lite0_weights,
            batch_size=4,
        ),
        ModelSpec(
            "alexnet",
            "AlexNet",
            alexnet,
            61_100_840,
            (
                WeightFile(
                    "alexnet-owt-7be5be79.pth",
                    "7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02",
                    TORCHVISION_URL + "alexnet-owt-7be5be79.pth",
                ),
                WeightFile("alexnet-owt-4df8aa71.pth", "4df8aa71"),
            ),
            batch_size=32,
        ),
        ModelSpec(
            "vgg16",
            "VGG16",
            vgg16,
            138_357_544,
            (
                WeightFile(
                    "vgg16-397923af.pth",
                    "397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0",
                    TORCHVISION_URL + "vgg16-397923af.pth",
                ),
            ),
        ),
        ModelSpec(
            "resnet18",
            "ResNet18",
            resnet18,
            11_689_512,
            (
                WeightFile(
                    "resnet18-f37072fd.pth",
                    "f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec",
                    TORCHVISION_URL + "resnet18-f37072fd.pth",
                ),
                WeightFile(
                    "resnet18-5c106cde.pth",
                    "5c106cde386e87d4033832f2996f5493238eda96ccf559d1d62760c4de0613f8",
                ),
            ),
        ),
    )
}

DEFAULT_MODEL = "efficientnet_lite0"


def get_spec(name: str) -> ModelSpec:
    """The spec of model ``name``; an unknown name is a :class:`FunmlError` listing the choices."""
    try:
        return MODELS[name]
    except KeyError:
        raise FunmlError(
            f"Model '{name}' is unknown; choose one of: {', '.join(MODELS)} (or 'all')."
        ) from None


def parse_model_names(text: str) -> list[str]:
    """Turn ``"alexnet,resnet18"`` or ``"all"`` into a list of known model names."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise FunmlError(f"No model named in '{text}'; choose from: {', '.join(MODELS)}, all.")
    if "all" in names:
        return list(MODELS)
    for name in names:
        get_spec(name)
    return list(dict.fromkeys(names))  # drop repeats, keep order


@functools.cache
def imagenet_classes() -> tuple[str, ...]:
    """The 1,000 ImageNet class names in index order (torchvision's short names)."""
    text = resources.files("funml.zoo").joinpath("imagenet_classes.txt").read_text("utf-8")
    return tuple(text.splitlines())


@functools.cache
def expected_keys(name: str) -> tuple[str, ...]:
    """The state_dict keys of the official weights file of model ``name``, in order."""
    text = resources.files("funml.zoo").joinpath("state_dict_keys.json").read_text("utf-8")
    return tuple(json.loads(text)[get_spec(name).name])
