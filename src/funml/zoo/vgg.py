"""VGG16 (configuration D) as torchvision defines it, with its state_dict keys.

Keys: ``features.{0,2,5,7,10,12,14,17,19,21,24,26,28}`` and ``classifier.{0,3,6}``.
138,357,544 parameters.
"""

from __future__ import annotations

import torch
from torch import nn

# Configuration D of Simonyan & Zisserman: output channels of each 3x3 convolution, "M" for
# a 2x2 max-pool.
CONFIG_D: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip


def make_features(config: tuple[int | str, ...] = CONFIG_D) -> nn.Sequential:
    """The convolutional part: each number is a 3x3 conv + ReLU, each "M" a 2x2 max-pool."""
    layers: list[nn.Module] = []
    in_channels = 3
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_channels, item, kernel_size=3, padding=1), nn.ReLU(True)]
            in_channels = item
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG: a stack of 3x3 convolutions, then three linear layers on a 7x7 pooled map."""

    def __init__(
        self, config: tuple[int | str, ...] = CONFIG_D, num_classes: int = 1000, dropout=0.5
    ) -> None:
        super().__init__()
        self.features = make_features(config)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),  # 0
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),  # 3
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),  # 6
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # (B, 512, 7, 7) for 224x224 input
        x = self.avgpool(x)
        x = torch.flatten(x, 1)  # (B, 25088)
        return self.classifier(x)  # (B, num_classes) logits


def vgg16(num_classes: int = 1000) -> VGG:
    """Build a VGG16 (configuration D, no batch norm) with random weights."""
    return VGG(CONFIG_D, num_classes=num_classes)
