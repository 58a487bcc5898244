"""Photo folders: every image mode to RGB, EXIF orientation, skipped files, ``folder:PATH``."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image

from funml.data import load_dataset
from funml.data.folder import PhotoFolder, load_image_folder, load_photos, to_rgb
from funml.errors import DataError


@pytest.fixture
def photos(tmp_path):
    """A folder with one image of each awkward kind, plus files that are not images."""
    d = tmp_path / "photos"
    d.mkdir()
    Image.new("RGB", (6, 4), (200, 30, 30)).save(d / "a_rgb.jpg", quality=95)
    Image.new("L", (5, 5), 77).save(d / "b_gray.png")
    pal = Image.new("P", (4, 4), 1)
    pal.putpalette([0, 0, 0, 10, 200, 10] + [0] * 762)
    pal.save(d / "c_palette.png")
    rgba = Image.new("RGBA", (4, 4), (0, 0, 255, 255))
    rgba.putpixel((0, 0), (0, 0, 0, 0))  # fully transparent: must become white
    rgba.save(d / "d_rgba.png")
    Image.new("CMYK", (4, 4), (0, 255, 255, 0)).save(d / "e_cmyk.jpg")  # red in CMYK
    sixteen = np.array([[0, 32768], [65535, 257]], dtype=np.uint16)
    Image.fromarray(sixteen).save(d / "f_16bit.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.new("RGB", (8, 3), (0, 120, 0)).save(d / "g_exif.jpg", exif=exif)
    (d / "h_notes.txt").write_text("not an image")
    good = d / "a_rgb.jpg"
    (d / "i_truncated.jpg").write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    Image.new("RGB", (2, 2)).save(d / ".hidden.png")
    (d / ".git").mkdir()
    Image.new("RGB", (2, 2)).save(d / ".git" / "x.png")
    sub = d / "sub"
    sub.mkdir()
    Image.new("RGB", (3, 3), (1, 2, 3)).save(sub / "nested.png")
    return d


def test_loads_every_mode_as_rgb_and_skips_the_rest(photos):
    with pytest.warns(UserWarning) as caught:
        result = load_photos(photos)
    assert isinstance(result, PhotoFolder)
    names = [p.name for p in result.paths]
    assert names == [
        "a_rgb.jpg",
        "b_gray.png",
        "c_palette.png",
        "d_rgba.png",
        "e_cmyk.jpg",
        "f_16bit.png",
        "g_exif.jpg",
        "nested.png",
    ]
    assert all(im.mode == "RGB" for im in result.images)
    skipped = {p.name: reason for p, reason in result.skipped}
    assert set(skipped) == {"h_notes.txt", "i_truncated.jpg"}
    assert skipped["h_notes.txt"] == "not an image Pillow can read"
    assert "truncated" in skipped["i_truncated.jpg"]
    messages = sorted(str(w.message) for w in caught)
    assert messages == [f"Skipped '{photos / n}': {skipped[n]}" for n in sorted(skipped)]

    pix = {name: np.asarray(im) for name, im in zip(names, result.images, strict=True)}
    assert_array_equal(pix["b_gray.png"][0, 0], [77, 77, 77])
    assert_array_equal(pix["c_palette.png"][0, 0], [10, 200, 10])
    assert_array_equal(pix["d_rgba.png"][0, 0], [255, 255, 255])  # transparent -> white
    assert_array_equal(pix["d_rgba.png"][1, 1], [0, 0, 255])
    assert pix["e_cmyk.jpg"][0, 0, 0] > 200 and pix["e_cmyk.jpg"][0, 0, 1:].max() < 60
    # 16-bit is scaled, not clipped: 65535 -> 255, 32768 -> 128, 257 -> 1.
    assert_array_equal(pix["f_16bit.png"][..., 0], [[0, 128], [255, 1]])
    assert pix["g_exif.jpg"].shape == (8, 3, 3)  # 8 wide, 3 high, rotated upright


def test_not_recursive_ignores_subfolders(photos):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = load_photos(photos, recursive=False)
    assert "nested.png" not in [p.name for p in result.paths]


def test_to_rgb_handles_32_bit_and_float_images():
    wide = Image.fromarray(np.array([[-100, 0], [100, 155]], dtype=np.int32), "I")
    assert_array_equal(np.asarray(to_rgb(wide))[..., 0], [[0, 100], [200, 255]])
    unit = Image.fromarray(np.array([[0.0, 0.5], [1.0, 0.25]], dtype=np.float32), "F")
    assert_array_equal(np.asarray(to_rgb(unit))[..., 0], [[0, 128], [255, 64]])


def test_folder_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_photos(tmp_path / "nope")
    (tmp_path / "file.jpg").write_bytes(b"x")
    with pytest.raises(DataError, match="is not a folder"):
        load_photos(tmp_path / "file.jpg")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".DS_Store").write_bytes(b"x")  # hidden: still empty
    with pytest.raises(DataError, match="is empty"):
        load_photos(tmp_path / "empty")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.txt").write_text("hello")
    with pytest.warns(UserWarning, match="a.txt"), pytest.raises(DataError, match="no readable"):
        load_photos(tmp_path / "junk")


def _class_folder(root, classes, n, size=(10, 14)):
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.new("L", size, 40 * k + i).save(root / name / f"{i}.png")
    return root


def test_folder_data_set_takes_classes_from_subfolders(tmp_path):
    root = _class_folder(tmp_path / "shapes", ["circle", "square", "star"], n=5)
    ds = load_dataset(f"folder:{root}")
    assert ds.classes == ("circle", "square", "star")
    assert (len(ds.train), len(ds.test)) == (12, 3)  # one of five per class held out
    assert_array_equal(np.bincount(ds.test.labels), [1, 1, 1])
    assert ds.image_shape == (28, 28) and ds.train.images.dtype == np.uint8
    # Uniform images keep their grey level through the resize.
    first = ds.train.images[ds.train.labels == 1][0]
    assert np.ptp(first) == 0 and 40 <= first[0, 0] < 45
    assert ds.source == str(root.resolve())
    (key, digest), *_ = ds.checksums.items()
    assert key == "shapes/ (15 images)" and len(digest) == 64


def test_folder_data_set_with_train_and_test_subfolders(tmp_path):
    _class_folder(tmp_path / "ds" / "train", ["cat", "dog"], n=3)
    _class_folder(tmp_path / "ds" / "test", ["cat", "dog"], n=2)
    ds = load_image_folder(tmp_path / "ds", image_size=None)
    assert (len(ds.train), len(ds.test)) == (6, 4)
    assert ds.classes == ("cat", "dog") and ds.image_shape == (14, 10)


def test_folder_data_set_needs_one_size_without_image_size(tmp_path):
    root = _class_folder(tmp_path / "a", ["x"], n=2)
    Image.new("L", (3, 3)).save(root / "x" / "odd.png")
    with pytest.raises(DataError, match="different sizes; pass image_size"):
        load_image_folder(root, image_size=None)
