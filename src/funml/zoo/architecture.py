"""Any zoo model's architecture without its weights: to print its layers or read its shapes.

No weights file is looked up, read or downloaded: the model keeps its random initial
weights, so ``funml summary alexnet`` works on a machine without AlexNet's 233 MB file::

    arch = build_architecture("efficientnet-lite0")
    summary(arch.module, arch.input_shape)  # funml.nn.summary
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from funml.zoo.registry import MODELS, get_spec


@dataclass(frozen=True)
class Architecture:
    """One zoo model with random weights, and the image shape it expects."""

    name: str  # the zoo's name, e.g. "efficientnet_lite0"
    module: nn.Module  # in eval mode; on the "meta" device when built there (shapes only)
    input_shape: tuple[int, int, int]  # one image: (3, crop_size, crop_size)


def zoo_name(name: str) -> str | None:
    """The zoo's name for ``name`` (``"EfficientNet-Lite0"`` gives ``"efficientnet_lite0"``),
    or None when ``name`` is not a zoo model."""
    key = name.strip().lower().replace("-", "_")
    return key if key in MODELS else None


def build_architecture(name: str, *, device: str | torch.device | None = None) -> Architecture:
    """Build zoo model ``name`` (``-`` or ``_``, any case) without its ImageNet weights.

    ``device="meta"`` allocates no memory and takes milliseconds: enough to read layer sizes
    and parameter counts, not to run the model. An unknown name is a :class:`FunmlError`
    listing the choices.
    """
    spec = get_spec(zoo_name(name) or name)
    with torch.device(device or "cpu"):
        module = spec.build()
    crop = spec.preprocess.crop_size
    return Architecture(spec.name, module.eval(), (3, crop, crop))


def conv_channels(module: nn.Module) -> tuple[int, ...]:
    """The output channels of every ``Conv2d`` of ``module``, in the order they are defined."""
    return tuple(m.out_channels for m in module.modules() if isinstance(m, nn.Conv2d))
