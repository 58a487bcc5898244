"""Batches for training: preloaded tensors indexed by a seeded permutation.

The course fed its networks through a per-sample ``Dataset`` and a ``DataLoader``: every
image is converted, normalised and collated one at a time, every epoch. Here a split is
converted once into one float tensor, and a batch is a single index into it, which is what
makes the training loop fast on a CPU.

The order of an epoch is a pure function of ``(seed, epoch)``, as with PyTorch's
``DistributedSampler``: a run that resumes at epoch k sees the same batches an uninterrupted
run would, and several processes can each take a disjoint shard of the same permutation
(``rank``, ``world_size``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from funml.data.dataset import Split


@dataclass(frozen=True)
class Normalization:
    """Pixel scaling and standardisation: ``x = (pixel / pixel_max - mean) / std``.

    ``mean`` and ``std`` are in units of the scaled pixel (0..1); ``mean=0, std=1`` only
    scales. MNIST's training split gives about ``mean=0.1307, std=0.3081``.
    """

    pixel_max: int = 255
    mean: float = 0.0
    std: float = 1.0

    @classmethod
    def fit(cls, split: Split, pixel_max: int) -> Normalization:
        """Mean and standard deviation of every pixel of ``split`` (the training split)."""
        # From the histogram of the uint8 values: exact, and no float copy of the images.
        counts = np.bincount(split.images.ravel(), minlength=256).astype(np.float64)
        values = np.arange(len(counts)) / pixel_max
        n = counts.sum()
        mean = (counts @ values) / n
        std = np.sqrt((counts @ (values - mean) ** 2) / n)
        return cls(pixel_max=int(pixel_max), mean=float(mean), std=float(std))

    def to_dict(self) -> dict:
        return {"pixel_max": self.pixel_max, "mean": self.mean, "std": self.std}


def split_tensors(
    split: Split, norm: Normalization, device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Convert a split once into ``x`` float32 of shape (N, 1, H, W) and ``y`` int64 (N,)."""
    x = torch.from_numpy(split.images).to(torch.float32)  # (N, H, W), a copy of the images
    x = x.div_(norm.pixel_max).sub_(norm.mean).div_(norm.std).unsqueeze(1)  # (N, 1, H, W)
    y = torch.from_numpy(split.labels).clone()  # (N,)
    return x.to(device), y.to(device)


def epoch_indices(
    n: int,
    *,
    seed: int,
    epoch: int,
    shuffle: bool = True,
    rank: int = 0,
    world_size: int = 1,
    pad: bool = True,
) -> torch.Tensor:
    """The sample indices one process visits in one epoch, in order.

    With ``world_size=1`` this is a permutation of ``range(n)`` seeded by ``seed + epoch``
    (or ``range(n)`` itself without shuffling). With several processes it follows
    ``DistributedSampler`` with ``drop_last=False``: the permutation is padded with its own
    first indices to a multiple of ``world_size`` and rank ``r`` takes every
    ``world_size``-th index from position ``r``. So consecutive global batches of ``B``
    samples split into equal per-rank batches of ``B / world_size``. With ``pad=False``
    nothing is repeated and the shards differ in length by at most one, which is what an
    evaluation that counts every sample exactly once needs.
    """
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in 0..{world_size - 1}, got {rank}.")
    if shuffle:
        g = torch.Generator().manual_seed(seed + epoch)
        order = torch.randperm(n, generator=g)
    else:
        order = torch.arange(n)
    if world_size > 1:
        if pad:
            order = torch.cat([order, order[: -n % world_size]])
        order = order[rank::world_size]
    return order


class BatchLoader:
    """Batches of preloaded tensors, selected by index in a seeded per-epoch order.

    Parameters
    ----------
    x : Tensor of shape (N, ...)
    y : Tensor of shape (N,)
    batch_size : int
        Samples per batch (per process when ``world_size > 1``). The last batch may be smaller.
    shuffle : bool
        Visit the samples in a new seeded order each epoch; otherwise in order.
    seed : int
    rank, world_size, pad
        This process's shard of every epoch (see :func:`epoch_indices`).

    Call :meth:`set_epoch` before iterating, as with ``DistributedSampler``.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        pad: bool = True,
    ) -> None:
        if len(x) != len(y):
            raise ValueError(f"x and y differ in length: {len(x)} and {len(y)}.")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.rank, self.world_size, self.pad = rank, world_size, pad
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def indices(self) -> torch.Tensor:
        """This epoch's sample indices for this process, in visiting order."""
        return epoch_indices(
            len(self.y),
            seed=self.seed,
            epoch=self.epoch,
            shuffle=self.shuffle,
            rank=self.rank,
            world_size=self.world_size,
            pad=self.pad,
        ).to(self.y.device)

    def __len__(self) -> int:
        n, ws = len(self.y), self.world_size
        n_rank = -(-n // ws) if self.pad else len(range(self.rank, n, ws))  # this shard's size
        return -(-n_rank // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self.indices()
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            yield self.x[idx], self.y[idx]  # (B, 1, H, W), (B,)


class TensorImageDataset(torch.utils.data.Dataset):
    """The standard ``Dataset`` interface over a split, for users of ``DataLoader``.

    Each item is ``(image, label)``: a float32 tensor of shape (1, H, W), normalised by
    ``norm``, and an int64 scalar. The conversion happens once, here, not per item.
    """

    def __init__(self, split: Split, norm: Normalization) -> None:
        self.x, self.y = split_tensors(split, norm)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]
