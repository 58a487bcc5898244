"""Random shifts and horizontal flips of a whole batch at once, on the preloaded tensors.

``augment_batch`` pads a batch (B, C, H, W) with the background value and cuts one
H x W window per image at a random offset: every image moves by up to ``shift`` pixels in
each direction (the "random crop with padding" of the image-classification recipes). With
``flip`` each image is also mirrored left-right with probability 1/2. The ``augment``
setting names which: ``none``, ``shift``, ``flip`` or ``shift-flip``. Both are a handful of
tensor operations on the batch, with no Python per sample, and draw from torch's global
generator, whose state every checkpoint saves, so a resumed run draws the same numbers.

Flips suit clothes (a mirrored shirt is a shirt) but not digits (a mirrored 2 is no digit),
so :func:`check_augment` refuses them on the digit data sets.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from funml.errors import FunmlError

AUGMENTS = ("none", "shift", "flip", "shift-flip")
DIGIT_DATASETS = ("digits", "mnist")  # and their variants (digits-28x28, mnist-test-halves)


def check_augment(augment: str, dataset: str | None) -> None:
    """Raise FunmlError if ``augment`` is unknown, or flips images of digits."""
    if augment not in AUGMENTS:
        choices = ", ".join(AUGMENTS)
        raise FunmlError(f"Augmentation '{augment}' is unknown; choose one of: {choices}.")
    if "flip" in augment and dataset is not None and dataset.startswith(DIGIT_DATASETS):
        raise FunmlError(
            f"Horizontal flips turn digits into other shapes, so '{augment}' is refused on "
            f"'{dataset}'; use --augment shift."
        )


def shift_for(image_shape: tuple[int, int]) -> int:
    """Pixels of shift: 2 for 28x28 images (7%), 1 for 8x8 Digits."""
    return max(1, min(image_shape) // 14)


def augment_batch(x: torch.Tensor, shift: int, flip: bool, fill: float = 0.0) -> torch.Tensor:
    """A randomly shifted (and, with ``flip``, mirrored) copy of the batch ``x`` (B, C, H, W).

    ``fill`` is the value of the uncovered border: the normalised value of a black pixel.
    """
    b, _, h, w = x.shape
    if shift > 0:
        padded = F.pad(x, (shift, shift, shift, shift), value=fill)  # (B, C, H+2s, W+2s)
        dy = torch.randint(0, 2 * shift + 1, (b, 1), device=x.device)  # window offsets
        dx = torch.randint(0, 2 * shift + 1, (b, 1), device=x.device)
        rows = (dy + torch.arange(h, device=x.device))[:, :, None]  # (B, H, 1)
        cols = (dx + torch.arange(w, device=x.device))[:, None, :]  # (B, 1, W)
        batch = torch.arange(b, device=x.device)[:, None, None]
        x = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)  # (B, C, H, W)
    if flip:
        mirrored = torch.rand(b, device=x.device) < 0.5
        x = torch.where(mirrored[:, None, None, None], x.flip(-1), x)
    return x.contiguous()
