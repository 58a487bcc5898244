"""Preprocessing as torchvision defines it: shorter side to 256 (bilinear, antialiased),
centre crop 224, [0, 1], per-channel mean and std, checked by hand on small images."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose
from PIL import Image

from funml.zoo.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    LITE_MEAN,
    LITE_STD,
    Preprocess,
    center_crop_box,
    preprocess,
    preprocess_batch,
    resized_size,
)
from funml.zoo.registry import get_spec


def _halve_by_hand(a: np.ndarray, axis: int) -> np.ndarray:
    """Shrink an axis by 2 with bilinear antialiasing, as PIL computes it.

    The triangle filter is stretched by the scale (2), so output pixel i, centred on input
    coordinate 2i+1, weighs input pixels 2i-1, 2i, 2i+1, 2i+2 by 1/8, 3/8, 3/8, 1/8; at
    the border the weights that fall outside are dropped and the rest renormalised. PIL
    rounds to 8 bits after each pass.
    """
    a = np.moveaxis(a.astype(np.float64), axis, 0)
    n = a.shape[0]
    out = []
    for i in range(n // 2):
        js = [j for j in (2 * i - 1, 2 * i, 2 * i + 1, 2 * i + 2) if 0 <= j < n]
        w = np.array([1 - abs(j + 0.5 - (2 * i + 1)) / 2 for j in js])
        out.append(np.tensordot(w / w.sum(), a[js], axes=1))
    return np.moveaxis(np.floor(np.array(out) + 0.5), 0, axis)


def test_matches_a_hand_computation_on_a_small_image():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(8, 12, 3), dtype=np.uint8)  # (H, W, C)
    settings = Preprocess(resize_size=4, crop_size=2, mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3))

    # Resize: the shorter side 8 -> 4, so the longer 12 -> int(4 * 12 / 8) = 6, a factor 2.
    small = _halve_by_hand(_halve_by_hand(pixels, axis=1), axis=0)  # horizontal pass first
    assert small.shape == (4, 6, 3)
    # Centre crop 2x2 of 4x6: top = round((4 - 2) / 2) = 1, left = round((6 - 2) / 2) = 2.
    crop = small[1:3, 2:4]
    expected = (crop / 255 - np.array(settings.mean)) / np.array(settings.std)  # (2, 2, 3)

    got = preprocess(Image.fromarray(pixels), settings).numpy()  # (3, 2, 2)
    assert got.shape == (3, 2, 2)
    # Exact to float precision: the same 8-bit levels as PIL (plain 2x2 averaging, with no
    # antialiasing, is off by up to 50 levels on this image).
    assert_allclose(got, expected.transpose(2, 0, 1), rtol=0, atol=1e-5)


def test_matches_torch_antialiased_bilinear_on_a_photo_sized_image():
    # An independent reference for a non-integer scale: torch's antialiased bilinear.
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(427, 640, 3), dtype=np.uint8)
    plain = Preprocess(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    got = preprocess(Image.fromarray(pixels), plain)  # (3, 224, 224)
    x = torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255  # (1, 3, 427, 640)
    w, h = resized_size(640, 427, 256)
    ref = F.interpolate(x, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
    left, top, right, bottom = center_crop_box(w, h, 224)
    ref = ref[0, :, top:bottom, left:right]
    assert_allclose(got.numpy(), ref.numpy(), rtol=0, atol=2.5 / 255)


@pytest.mark.parametrize(
    ("size", "expected"),
    [((640, 427), (383, 256)), ((427, 640), (256, 383)), ((256, 256), (256, 256)),
     ((300, 200), (384, 256))],
)  # fmt: skip
def test_shorter_side_becomes_256_and_the_longer_is_truncated(size, expected):
    assert resized_size(*size, 256) == expected


def test_centre_crop_rounds_like_torchvision():
    assert center_crop_box(383, 256, 224) == (80, 16, 304, 240)  # round(79.5) = 80
    assert center_crop_box(385, 256, 224) == (80, 16, 304, 240)  # round(80.5) = 80 (to even)
    assert center_crop_box(224, 224, 224) == (0, 0, 224, 224)


def test_any_mode_becomes_rgb_and_the_input_is_left_alone():
    gray = Image.fromarray(np.full((300, 260), 128, dtype=np.uint8), "L")
    before = np.asarray(gray).copy()
    x = preprocess(gray)
    assert x.shape == (3, 224, 224)
    expected = (128 / 255 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    assert_allclose(x.mean(dim=(1, 2)).numpy(), expected, rtol=1e-5)
    assert gray.mode == "L"
    assert np.array_equal(np.asarray(gray), before)


def test_batch_stacks_single_images():
    rng = np.random.default_rng(2)
    images = [
        Image.fromarray(rng.integers(0, 256, (240 + 20 * i, 300, 3), np.uint8)) for i in range(3)
    ]
    batch = preprocess_batch(images)
    assert batch.shape == (3, 3, 224, 224)
    for i, image in enumerate(images):
        assert torch.equal(batch[i], preprocess(image))
    assert preprocess_batch([]).shape == (0, 3, 224, 224)


def test_each_model_has_its_own_constants():
    assert get_spec("resnet18").preprocess == Preprocess(256, 224, IMAGENET_MEAN, IMAGENET_STD)
    lite = get_spec("efficientnet_lite0").preprocess
    assert (lite.resize_size, lite.crop_size) == (256, 224)
    assert_allclose(lite.mean, [127 / 255] * 3)
    assert_allclose(lite.std, [128 / 255] * 3)
    assert lite.mean == LITE_MEAN and lite.std == LITE_STD


def test_crop_larger_than_resize_is_refused():
    with pytest.raises(ValueError, match="crop_size must be between 1 and resize_size"):
        Preprocess(resize_size=200, crop_size=224)
