"""ImageNet evaluation preprocessing, as torchvision defines it, with PIL and torch only.

torchvision's ``ImageClassification`` preset on a PIL image does: resize so the shorter side
is ``resize_size`` (bilinear; PIL's resampling antialiases when shrinking), centre-crop
``crop_size``, scale to [0, 1], subtract ``mean`` and divide by ``std`` per channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# EfficientNet-Lite (TensorFlow's efficientnet/lite) was trained on (x - 127) / 128 with x in
# 0..255, "inception-style" constants chosen for post-quantisation; on the [0, 1] scale that
# is mean 127/255 and std 128/255 for every channel.
LITE_MEAN = (127 / 255,) * 3
LITE_STD = (128 / 255,) * 3


@dataclass(frozen=True)
class Preprocess:
    """How one model wants its input; defaults are torchvision's ImageNet evaluation."""

    resize_size: int = 256  # shorter side after resizing, in pixels
    crop_size: int = 224  # side of the square centre crop, in pixels
    mean: tuple[float, float, float] = IMAGENET_MEAN  # per RGB channel, on the [0, 1] scale
    std: tuple[float, float, float] = IMAGENET_STD  # per RGB channel, on the [0, 1] scale

    def __post_init__(self) -> None:
        if not 0 < self.crop_size <= self.resize_size:
            raise ValueError(
                f"crop_size must be between 1 and resize_size ({self.resize_size}), "
                f"got {self.crop_size}."
            )


def resized_size(width: int, height: int, shorter: int) -> tuple[int, int]:
    """(width, height) with the shorter side ``shorter``; the longer side is truncated, as
    torchvision does (``int(shorter * long / short)``)."""
    if width <= height:
        return shorter, int(shorter * height / width)
    return int(shorter * width / height), shorter


def center_crop_box(width: int, height: int, crop: int) -> tuple[int, int, int, int]:
    """PIL crop box (left, top, right, bottom) of the centred ``crop`` x ``crop`` square."""
    left = round((width - crop) / 2.0)
    top = round((height - crop) / 2.0)
    return left, top, left + crop, top + crop


def preprocess(image: Image.Image, settings: Preprocess = Preprocess()) -> torch.Tensor:
    """Turn one PIL image into a normalised tensor of shape (3, crop_size, crop_size).

    The image is converted to RGB first; its pixels are not changed in place.
    """
    s = settings
    image = image if image.mode == "RGB" else image.convert("RGB")
    image = image.resize(resized_size(*image.size, s.resize_size), Image.Resampling.BILINEAR)
    image = image.crop(center_crop_box(*image.size, s.crop_size))
    x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0)  # (H, W, 3)
    x = x.permute(2, 0, 1)  # (3, H, W)
    mean = torch.tensor(s.mean, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(s.std, dtype=torch.float32).view(3, 1, 1)
    return ((x - mean) / std).contiguous()


def preprocess_batch(
    images: Sequence[Image.Image], settings: Preprocess = Preprocess()
) -> torch.Tensor:
    """Preprocess several images into one batch of shape (N, 3, crop_size, crop_size)."""
    if len(images) == 0:
        return torch.empty(0, 3, settings.crop_size, settings.crop_size)
    return torch.stack([preprocess(image, settings) for image in images])
