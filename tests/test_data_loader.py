"""The batch loader: every sample once per epoch, a seeded order, shards, normalisation."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from conftest import FASHION_DIR
from funml.data import Split, load_dataset
from funml.data.loader import (
    BatchLoader,
    Normalization,
    TensorImageDataset,
    epoch_indices,
    split_tensors,
)


def _split(n=37, h=4, w=5, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, h, w), dtype=np.uint8)
    return Split(images, np.arange(n, dtype=np.int64) % 10)


@pytest.mark.parametrize("batch_size", [1, 8, 37, 100])
def test_every_sample_exactly_once_per_epoch(batch_size):
    x = torch.arange(37.0).reshape(37, 1, 1, 1)
    loader = BatchLoader(x, torch.arange(37), batch_size, seed=3)
    for epoch in range(3):
        loader.set_epoch(epoch)
        batches = list(loader)
        assert len(batches) == len(loader) == -(-37 // batch_size)
        seen = torch.cat([yb for _, yb in batches])
        assert sorted(seen.tolist()) == list(range(37))
        for xb, yb in batches:  # images travel with their labels
            assert torch.equal(xb.flatten(), yb.float())
        assert all(len(yb) == batch_size for _, yb in batches[:-1])


def test_order_is_a_function_of_seed_and_epoch():
    a = epoch_indices(100, seed=1, epoch=0)
    assert torch.equal(a, epoch_indices(100, seed=1, epoch=0))
    assert not torch.equal(a, epoch_indices(100, seed=1, epoch=1))
    assert not torch.equal(a, epoch_indices(100, seed=2, epoch=0))
    assert not torch.equal(a, torch.arange(100))
    assert torch.equal(epoch_indices(100, seed=1, epoch=5, shuffle=False), torch.arange(100))
    # Iterating does not consume any global random state.
    torch.manual_seed(0)
    before = torch.get_rng_state()
    list(BatchLoader(torch.zeros(10, 1), torch.arange(10), 3, seed=4))
    assert torch.equal(before, torch.get_rng_state())


def test_shards_are_disjoint_and_match_distributed_sampler():
    n, world = 37, 4
    full = epoch_indices(n, seed=7, epoch=2)
    shards = [epoch_indices(n, seed=7, epoch=2, rank=r, world_size=world) for r in range(world)]
    assert {len(s) for s in shards} == {-(-n // world)}  # padded to equal length
    covered = set(torch.cat(shards).tolist())
    assert covered == set(range(n))
    # Global batch k of 8 splits into per-rank batches of 2: same samples, same step.
    for k in range(4):
        per_rank = torch.cat([s[2 * k : 2 * k + 2] for s in shards])
        assert sorted(per_rank.tolist()) == sorted(full[8 * k : 8 * k + 8].tolist())
    # Against torch's own DistributedSampler.
    ds = torch.utils.data.TensorDataset(torch.zeros(n))
    for r in range(world):
        sampler = torch.utils.data.DistributedSampler(ds, world, r, shuffle=True, seed=5)
        sampler.set_epoch(3)
        ours = epoch_indices(n, seed=5, epoch=3, rank=r, world_size=world)
        assert ours.tolist() == list(sampler)
    # Without padding the shards count every sample exactly once (for evaluation).
    unpadded = [
        epoch_indices(n, seed=0, epoch=0, rank=r, world_size=world, pad=False) for r in range(world)
    ]
    assert sorted(torch.cat(unpadded).tolist()) == list(range(n))
    loaders = [
        BatchLoader(torch.zeros(n, 1), torch.arange(n), 3, rank=r, world_size=world, pad=False)
        for r in range(world)
    ]
    assert [len(b) for b in loaders] == [len(list(b)) for b in loaders]
    with pytest.raises(ValueError, match="rank"):
        epoch_indices(n, seed=0, epoch=0, rank=4, world_size=4)


def test_normalization_statistics_and_scaling():
    split = _split()
    norm = Normalization.fit(split, 255)
    scaled = split.images / 255.0
    assert_allclose([norm.mean, norm.std], [scaled.mean(), scaled.std()], rtol=1e-12)
    images_before = split.images.copy()
    x, y = split_tensors(split, norm)
    assert x.shape == (37, 1, 4, 5) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert_allclose(x.mean().item(), 0.0, atol=1e-5)
    assert_allclose(x.std(unbiased=False).item(), 1.0, atol=1e-5)
    assert np.array_equal(split.images, images_before)  # the caller's arrays are untouched
    x_plain, _ = split_tensors(split, Normalization(255))
    assert_allclose(x_plain.squeeze(1).numpy(), scaled, rtol=1e-6)


def test_pixel_scaling_respects_pixel_max_of_digits():
    ds = load_dataset("digits")
    assert ds.pixel_max == 16
    x, _ = split_tensors(ds.train, Normalization(ds.pixel_max))
    assert x.max().item() == 1.0 and x.min().item() == 0.0
    norm = Normalization.fit(ds.train, ds.pixel_max)
    assert 0.2 < norm.mean < 0.4  # Digits' strokes fill about a third of the 8x8 grid


@pytest.mark.skipif(
    not (FASHION_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason=f"Fashion-MNIST is not installed in {FASHION_DIR}",
)
def test_fashion_mnist_statistics_match_the_published_values():
    ds = load_dataset("fashion-mnist", download=False)
    norm = Normalization.fit(ds.train, ds.pixel_max)
    assert_allclose([norm.mean, norm.std], [0.2860, 0.3530], atol=5e-4)


def test_dataset_wrapper_for_the_standard_interface():
    split = _split()
    norm = Normalization.fit(split, 255)
    wrapped = TensorImageDataset(split, norm)
    x, y = split_tensors(split, norm)
    assert len(wrapped) == 37
    xb, yb = next(iter(torch.utils.data.DataLoader(wrapped, batch_size=5)))
    assert torch.equal(xb, x[:5]) and torch.equal(yb, y[:5])


def test_bad_loader_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        BatchLoader(torch.zeros(3, 1), torch.zeros(3), 0)
    with pytest.raises(ValueError, match="differ in length"):
        BatchLoader(torch.zeros(3, 1), torch.zeros(4), 2)
