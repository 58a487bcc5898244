"""The course's networks, by name, with its exact architectures.

Every model takes images of shape (B, 1, H, W) and returns logits of shape (B, n_classes);
the loss is cross-entropy on the logits. Layer widths written in the course for 28x28
images (the 784 of an MLP, the 1024 of ``cnn``'s last layer) follow the image size, so
``mlp`` also runs on 8x8 Digits (64 inputs); where the convolutions and poolings do not
fit the image, :func:`build_model` says so.

Parameter counts for 28x28 images and 10 classes (weights + biases):

==============  =============================================================  =========
``logreg``      784·10 + 10                                                        7,850
``mlp2``        784·128 + 128 + 128·10 + 10                                      101,770
``mlp``         784·1024 + 1024 + 1024·10 + 10                                   814,090
``cnn-small``   (25·10 + 10) + (250·20 + 20) + (320·128 + 128) + (128·10 + 10)    47,658
``cnn``         (25·32 + 32) + (800·64 + 64) + (1024·10 + 10)                     62,346
``digits-cnn``  (9·16 + 16) + (144·32 + 32) + (512·10 + 10), on 8x8 images         9,930
==============  =============================================================  =========
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from torch import nn

from funml.errors import FunmlError

# ReLUs work in place: the layer before them does not need its output for its gradient, and
# skipping the copy measured about 7% faster training for cnn on this CPU.


def _out(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    # Output length of a convolution or pooling along one axis (floor, as PyTorch does).
    return (size + 2 * padding - kernel) // stride + 1


def _mlp(hidden: int | None) -> Callable[[int, int, int], nn.Sequential]:
    def build(h: int, w: int, n_classes: int) -> nn.Sequential:
        if hidden is None:  # logistic regression: one linear layer on the raw pixels
            layers = [("flatten", nn.Flatten()), ("fc", nn.Linear(h * w, n_classes))]
        else:
            layers = [
                ("flatten", nn.Flatten()),  # (B, 1, H, W) -> (B, H*W)
                ("fc1", nn.Linear(h * w, hidden)),
                ("relu", nn.ReLU(inplace=True)),
                ("fc2", nn.Linear(hidden, n_classes)),
            ]
        return nn.Sequential(OrderedDict(layers))

    return build


def _cnn(h: int, w: int, n_classes: int) -> nn.Sequential:
    # 28x28 -> conv5 24x24 -> pool 12x12 -> conv5 8x8 -> pool 4x4; 64*4*4 = 1024 features.
    fh, fw = (_out(_out(_out(_out(s, 5), 2, 2), 5), 2, 2) for s in (h, w))
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, 32, kernel_size=5)),
                ("relu1", nn.ReLU(inplace=True)),
                ("pool1", nn.MaxPool2d(2)),
                ("conv2", nn.Conv2d(32, 64, kernel_size=5)),
                ("relu2", nn.ReLU(inplace=True)),
                ("pool2", nn.MaxPool2d(2)),
                ("flatten", nn.Flatten()),
                ("fc", nn.Linear(64 * fh * fw, n_classes)),
            ]
        )
    )


def _cnn_small(h: int, w: int, n_classes: int) -> nn.Sequential:
    # 28x28 -> conv5 24x24 -> pool 12x12 -> conv5 8x8 -> pool 4x4; 20*4*4 = 320 features.
    # As the course wrote it: no non-linearity between the two linear layers.
    fh, fw = (_out(_out(_out(_out(s, 5), 2, 2), 5), 2, 2) for s in (h, w))
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, 10, kernel_size=5)),
                ("relu1", nn.ReLU(inplace=True)),
                ("pool1", nn.MaxPool2d(2)),
                ("conv2", nn.Conv2d(10, 20, kernel_size=5)),
                ("relu2", nn.ReLU(inplace=True)),
                ("pool2", nn.MaxPool2d(2)),
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(20 * fh * fw, 128)),
                ("fc2", nn.Linear(128, n_classes)),
            ]
        )
    )


def _digits_cnn(h: int, w: int, n_classes: int) -> nn.Sequential:
    # 8x8 -> conv3 pad 1 8x8 -> conv3 pad 1 8x8 -> pool 4x4; 32*4*4 = 512 features.
    fh, fw = (_out(s, 2, 2) for s in (h, w))
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, 16, kernel_size=3, padding=1)),
                ("relu1", nn.ReLU(inplace=True)),
                ("conv2", nn.Conv2d(16, 32, kernel_size=3, padding=1)),
                ("relu2", nn.ReLU(inplace=True)),
                ("pool", nn.MaxPool2d(2)),
                ("flatten", nn.Flatten()),
                ("fc", nn.Linear(32 * fh * fw, n_classes)),
            ]
        )
    )


# name -> (builder, smallest square image side it accepts, one-line description)
MODELS: dict[str, tuple[Callable[[int, int, int], nn.Sequential], int, str]] = {
    "logreg": (_mlp(None), 1, "linear 784→10 (logistic regression)"),
    "mlp": (_mlp(1024), 1, "784 → 1024 → ReLU → 10"),
    "mlp2": (_mlp(128), 1, "784 → 128 → ReLU → 10"),
    "cnn": (_cnn, 16, "conv5x5 32 → pool → conv5x5 64 → pool → linear 1024→10"),
    "cnn-small": (_cnn_small, 16, "conv5x5 10 → pool → conv5x5 20 → pool → 320→128→10"),
    "digits-cnn": (_digits_cnn, 2, "conv3x3 16 → conv3x3 32 → pool → linear 512→10"),
}


def build_model(
    name: str,
    image_shape: tuple[int, int] = (28, 28),
    n_classes: int = 10,
    *,
    dataset: str | None = None,
) -> nn.Sequential:
    """Build the named model for single-channel images of ``image_shape``.

    Parameters
    ----------
    name : str
        One of :data:`MODELS`.
    image_shape : (int, int)
        (height, width) of the input images.
    n_classes : int
    dataset : str, optional
        Only used to name the data set in an error message.

    Returns
    -------
    nn.Sequential whose forward maps (B, 1, H, W) images to (B, n_classes) logits.
    """
    if name not in MODELS:
        raise FunmlError(f"Unknown model '{name}'; choose one of: {', '.join(MODELS)}.")
    build, min_side, _ = MODELS[name]
    h, w = image_shape
    if min(h, w) < min_side:
        fits = [m for m, (_, side, _) in MODELS.items() if min(h, w) >= side]
        where = f"data set '{dataset}' ({h}x{w} images)" if dataset else f"{h}x{w} images"
        raise FunmlError(
            f"Model '{name}' does not fit {where}: its convolutions and poolings need images "
            f"of at least {min_side}x{min_side}; choose one of: {', '.join(fits)}."
        )
    return build(h, w, n_classes)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
