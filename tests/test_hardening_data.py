"""Hardening of funml.data (issue 16): no hang, bounded memory, every file name, clear errors."""

import gzip
import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image

from funml.data import csvfile, idx
from funml.data.csvfile import load_csv_dataset, read_csv_images
from funml.data.folder import load_image_folder, load_photos
from funml.data.idx import read_idx, read_idx_hashed, write_idx
from funml.errors import DataError


@pytest.fixture
def alarm():
    """Fail a test that blocks instead of hanging the suite."""

    def timeout(*args):
        raise TimeoutError("blocked for 20 s")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


# ---- hangs: only regular files are opened ------------------------------------------------


def test_hangs_pipes_sockets_and_devices_in_a_photo_folder_are_skipped(tmp_path, alarm):
    d = tmp_path / "photos"
    d.mkdir()
    Image.new("RGB", (4, 4), (9, 9, 9)).save(d / "a.png")
    os.mkfifo(d / "b_pipe.png")
    (d / "c_null.png").symlink_to("/dev/null")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(d / "d_socket.png"))
        with pytest.warns(UserWarning) as caught:
            photos = load_photos(d)
    assert [p.name for p in photos.paths] == ["a.png"]
    assert {p.name: reason for p, reason in photos.skipped} == {
        "b_pipe.png": "not a regular file (a named pipe)",
        "c_null.png": "not a regular file (a character device)",
        "d_socket.png": "not a regular file (a socket)",
    }
    assert sorted(str(w.message) for w in caught) == [
        f"Skipped '{d / 'b_pipe.png'}': not a regular file (a named pipe)",
        f"Skipped '{d / 'c_null.png'}': not a regular file (a character device)",
        f"Skipped '{d / 'd_socket.png'}': not a regular file (a socket)",
    ]


def test_hangs_a_folder_data_set_with_a_pipe_still_loads(tmp_path, alarm):
    for c in ("cat", "dog"):
        (tmp_path / c).mkdir()
        for i in range(3):
            Image.new("L", (6, 6), 50 * i).save(tmp_path / c / f"{i}.png")
    os.mkfifo(tmp_path / "cat" / "pipe.png")
    with pytest.warns(UserWarning, match="a named pipe"):
        ds = load_image_folder(tmp_path, image_size=(4, 4))
    assert ds.classes == ("cat", "dog") and len(ds.train) + len(ds.test) == 6


def test_unreadable_class_subfolder_is_reported_not_dropped(tmp_path, monkeypatch):
    for c in ("cat", "dog"):
        (tmp_path / c).mkdir()
        Image.new("L", (6, 6), 9).save(tmp_path / c / "0.png")
    real = os.scandir

    def scandir(path="."):  # tests run as root, which chmod cannot lock out
        if os.fspath(path).endswith("dog"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.warns(UserWarning, match=r"Skipped '.*dog': the folder cannot be read \(Perm"):
        photos = load_photos(tmp_path)
    assert [p.name for p, _ in photos.skipped] == ["dog"]


# ---- bounded memory: IDX headers ---------------------------------------------------------


def _header(code, shape):
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def test_bounded_memory_idx_header_asking_for_93_gb_is_refused_before_allocating(tmp_path):
    path = tmp_path / "evil-idx3-ubyte"
    path.write_bytes(_header(0x08, (60000, 40000, 38750)) + b"\0" * 100)
    start = time.perf_counter()
    with pytest.raises(DataError, match=r"is truncated: its header declares shape .* holds 100"):
        read_idx(path)
    with pytest.raises(DataError, match="is truncated"):
        read_idx_hashed(path)
    assert time.perf_counter() - start < 1


def test_bounded_memory_gzip_idx_header_is_checked_against_what_it_can_hold(tmp_path, monkeypatch):
    path = tmp_path / "evil-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_header(0x0E, (2**31, 2**31, 2)) + b"\0" * 1000))
    with pytest.raises(DataError, match=r"more than its \d+ compressed bytes can hold"):
        read_idx(path)
    # A shape the compression ratio allows is counted by decompressing, keeping nothing.
    monkeypatch.setattr(idx, "_TRUSTED_BYTES", 1000)
    noise = np.random.default_rng(0).bytes(5000)  # incompressible: the ratio allows 1 MB
    path.write_bytes(gzip.compress(_header(0x08, (100, 100, 100)) + noise))
    with pytest.raises(DataError, match=r"is truncated: .* \(1,000,000 bytes of data\).* 5,000"):
        read_idx(path)
    write_idx(tmp_path / "ok.gz", np.arange(5000, dtype=np.uint8).reshape(50, 100))
    assert read_idx(tmp_path / "ok.gz").shape == (50, 100)  # a true file still loads


def test_bounded_memory_idx_dimensions_are_capped(tmp_path):
    path = tmp_path / "many-dims"
    path.write_bytes(_header(0x08, (1,) * 200) + b"\0")
    with pytest.raises(DataError, match="declares 200 dimensions, more than the 32 funml reads"):
        read_idx(path)


# ---- bounded memory and clear errors: CSV ------------------------------------------------


def _csv(tmp_path, *rows, name="m.csv", prefix=b""):
    path = tmp_path / name
    path.write_bytes(prefix + "\n".join(rows).encode() + b"\n")
    return path


def _row(label, pixel="0"):
    return ",".join([str(label)] + [pixel] * 4)


def test_bounded_memory_csv_label_far_above_the_classes_is_refused_at_once(tmp_path):
    path = _csv(tmp_path, _row(1), _row(10**12), _row(2))
    start = time.perf_counter()
    with pytest.raises(DataError, match=r"line 2 has label 1000000000000, but labels must be"):
        load_csv_dataset(str(path), image_shape=(2, 2))
    assert time.perf_counter() - start < 1
    ds = load_csv_dataset(
        f"{_csv(tmp_path, _row(0), _row(1499), name='a.csv')},{_csv(tmp_path, _row(1))}",
        image_shape=(2, 2),
        max_classes=1500,
    )
    assert len(ds.classes) == 1500


def test_bounded_memory_csv_is_read_in_blocks(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(11, 4))
    rows = [",".join(map(str, [i % 3, *p])) for i, p in enumerate(pixels)]
    monkeypatch.setattr(csvfile, "_BLOCK_ROWS", 3)
    x, y = read_csv_images(_csv(tmp_path, "label,a,b,c,d", *rows), image_shape=(2, 2))
    assert_array_equal(x.reshape(11, 4), pixels)
    assert_array_equal(y, np.arange(11) % 3)
    monkeypatch.setattr(csvfile, "_BLOCK_ROWS", 4)
    with pytest.raises(DataError, match="line 10 has a pixel outside"):
        read_csv_images(_csv(tmp_path, *rows[:9], _row(1, "300"), *rows), image_shape=(2, 2))


def test_bounded_memory_csv_line_without_end_is_refused(tmp_path):
    path = tmp_path / "one-line.csv"
    path.write_bytes(b"1," * 10**6)
    with pytest.raises(DataError, match="line 1 is longer than 122 characters"):
        read_csv_images(path, image_shape=(2, 2))


def test_csv_with_a_byte_order_mark_and_a_header_is_read(tmp_path):
    path = _csv(tmp_path, "label,p1,p2,p3,p4", _row(3, "7"), prefix=b"\xef\xbb\xbf")
    x, y = read_csv_images(path, image_shape=(2, 2))
    assert_array_equal(y, [3]) and (x == 7).all()


@pytest.mark.parametrize(
    ("field", "match"),
    [
        ("99999999999999999999", r"line 2, field 3 is 99999999999999999999, too large"),
        ("\u0663", r"line 2, field 3 is '\u0663', not an integer"),  # ARABIC-INDIC DIGIT THREE
        ("\uff11", r"line 2, field 3 is '\uff11', not an integer"),  # FULLWIDTH DIGIT ONE
        ("\xff", r"line 2, field 3 is '\ufffd', not an integer"),  # not UTF-8 at all
    ],
    ids=["overflow", "arabic-indic", "fullwidth", "not-utf8"],
)
def test_csv_errors_name_the_line_for_overflow_and_non_ascii_digits(tmp_path, field, match):
    bad = ",".join(["1", "0", field, "0", "0"]).encode("utf-8", "surrogateescape")
    if field == "\xff":
        bad = b"1,0,\xff,0,0"
    path = tmp_path / "bad.csv"
    path.write_bytes(_row(1).encode() + b"\n" + bad + b"\n")
    with pytest.raises(DataError, match=match):
        read_csv_images(path, image_shape=(2, 2))


# ---- bounded memory: photos are shrunk as they are decoded -------------------------------


def test_bounded_memory_big_photos_are_shrunk_while_decoding(tmp_path):
    Image.new("L", (3000, 1000), 120).save(tmp_path / "big.png")
    Image.new("RGB", (4000, 2000), (10, 200, 30)).save(tmp_path / "big.jpg", quality=90)
    Image.new("RGB", (300, 200), (1, 2, 3)).save(tmp_path / "small.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": kept through the shrink
    Image.new("RGB", (1000, 400), (0, 120, 0)).save(tmp_path / "turned.jpg", exif=exif)
    photos = load_photos(tmp_path, max_side=512)
    sizes = {p.name: im.size for p, im in zip(photos.paths, photos.images, strict=True)}
    assert sizes == {
        "big.jpg": (512, 256),
        "big.png": (512, 171),
        "small.png": (300, 200),
        "turned.jpg": (205, 512),
    }
    assert all(im.mode == "RGB" for im in photos.images)
    assert abs(int(np.asarray(photos.images[0])[100, 100, 1]) - 200) < 8
    assert load_photos(tmp_path, max_side=None).images[1].size == (3000, 1000)


def test_bounded_memory_decompression_bomb_protection_stays_on(tmp_path, monkeypatch):
    assert Image.MAX_IMAGE_PIXELS == 89_478_485  # Pillow's own default, untouched by funml
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    Image.new("L", (100, 100)).save(tmp_path / "bomb.png")
    Image.new("L", (10, 10)).save(tmp_path / "fine.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        photos = load_photos(tmp_path)
    assert [p.name for p in photos.paths] == ["fine.png"]
    assert "decompression bomb" in photos.skipped[0][1]


# ---- every file name, every locale -------------------------------------------------------

_NAMES_SCRIPT = textwrap.dedent(
    """
    import os, sys, warnings
    from PIL import Image
    root = os.fsencode(sys.argv[1])
    for cls in (b"cat\\xff", b"dog"):
        os.makedirs(os.path.join(root, cls))
        for i in range(3):
            Image.new("L", (5, 5), 60 * i).save(os.path.join(root, cls, b"\\xfe%d.png" % i))
    open(os.path.join(root, b"dog", b"notes\\xff.txt"), "wb").write(b"not an image")
    from funml.data import describe, load_dataset
    from funml.data.folder import load_photos
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_dataset("folder:" + sys.argv[1])
        photos = load_photos(os.fsdecode(root))
    print(ds.classes, len(ds.train) + len(ds.test), photos.names[0])
    print(describe(ds)["dataset"], list(ds.checksums))
    print(*sorted({str(w.message) for w in caught}), sep="\\n")
    """
)


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_every_file_name_not_utf8_in_every_locale(tmp_path, locale):
    env = {**os.environ, "LC_ALL": locale, "PYTHONIOENCODING": ""}
    proc = subprocess.run(
        [sys.executable, "-c", _NAMES_SCRIPT, str(tmp_path / "photos")],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    out = proc.stdout.decode("utf-8")
    assert "('cat\ufffd', 'dog') 6" in out
    assert "cat\ufffd/\ufffd0.png" in out
    assert "notes\ufffd.txt': not an image Pillow can read" in out
    assert "\\udc" not in out  # no raw surrogate escapes leak out


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_classify_and_the_report_show_file_names_not_utf8(tmp_path, locale):
    # funml classify's printed table and figure titles, and `funml run pretrained --images`'s
    # report, with a photo whose name is not UTF-8.
    photos = os.fsencode(tmp_path / "photos")
    os.makedirs(photos)
    Image.new("RGB", (64, 48), (200, 40, 40)).save(os.path.join(photos, b"caf\xff.png"))
    env = {**os.environ, "LC_ALL": locale, "PYTHONIOENCODING": ""}
    for args in (
        ["classify", str(tmp_path / "photos"), "--out", str(tmp_path / "out")],
        ["run", "pretrained", "--images", str(tmp_path / "photos"), "--out", str(tmp_path / "r")],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "funml", *args], capture_output=True, env=env, timeout=300
        )
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
        assert b"Traceback" not in proc.stderr
    assert "caf\ufffd.png" in _utf8_text(tmp_path / "out" / "predictions.csv")
    assert "caf\ufffd.png" in _utf8_text(tmp_path / "r" / "report.html")


def _utf8_text(path) -> str:
    return path.read_text(encoding="utf-8")
