"""The IDX reader and writer: round trips, the byte layout, and every rejection path."""

import gzip
import hashlib
import struct

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from funml.data.idx import IDX_DTYPES, read_idx, read_idx_hashed, write_idx
from funml.errors import DataError, FunmlError

SHAPES = {1: (7,), 2: (3, 5), 3: (4, 3, 2), 4: (2, 3, 2, 3)}


def _random(dtype: np.dtype, shape, rng) -> np.ndarray:
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype.newbyteorder("="))
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(
        dtype.newbyteorder("=")
    )


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
@pytest.mark.parametrize("code", sorted(IDX_DTYPES))
def test_round_trip_every_type_and_ndim(tmp_path, code, ndim, suffix):
    rng = np.random.default_rng(code * 10 + ndim)
    array = _random(IDX_DTYPES[code], SHAPES[ndim], rng)
    path = write_idx(tmp_path / f"a-idx{ndim}{suffix}", array)
    raw = path.read_bytes()
    assert raw.startswith(b"\x1f\x8b") == (suffix == ".gz")
    back = read_idx(path)
    assert back.shape == array.shape
    assert back.dtype == array.dtype and back.dtype.isnative
    assert back.flags.writeable
    assert_array_equal(back, array)


def test_layout_matches_lecun_big_endian(tmp_path):
    # Build the file by hand, independently of write_idx: int32, shape (2, 3), big-endian.
    values = [1, -2, 3, 70000, -70000, 2**31 - 1]
    raw = bytes([0, 0, 0x0C, 2]) + struct.pack(">2I", 2, 3) + struct.pack(">6i", *values)
    (tmp_path / "hand.idx").write_bytes(raw)
    assert_array_equal(read_idx(tmp_path / "hand.idx"), np.array(values).reshape(2, 3))
    # ... and write_idx produces exactly those bytes.
    out = write_idx(tmp_path / "mine.idx", np.array(values, dtype=np.int32).reshape(2, 3))
    assert out.read_bytes() == raw


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    plain = write_idx(tmp_path / "named.gz", array, compress=False)
    packed = write_idx(tmp_path / "named.idx", array, compress=True)
    assert_array_equal(read_idx(plain), array)
    assert_array_equal(read_idx(packed), array)


def test_memory_map_plain_file(tmp_path):
    array = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    path = write_idx(tmp_path / "f.idx", array)
    mapped = read_idx(path, mmap=True)
    assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
    assert_array_equal(mapped, array)


def test_hashed_read_gives_file_and_content_digests(tmp_path):
    array = np.arange(100, dtype=np.uint8).reshape(10, 10)
    plain = write_idx(tmp_path / "x-idx2-ubyte", array)
    packed = write_idx(tmp_path / "x-idx2-ubyte.gz", array)
    a, b = read_idx_hashed(plain), read_idx_hashed(packed)
    assert a.file_sha256 == hashlib.sha256(plain.read_bytes()).hexdigest()
    assert b.file_sha256 == hashlib.sha256(packed.read_bytes()).hexdigest()
    assert a.content_sha256 == b.content_sha256 == a.file_sha256  # same content
    # A different compression of the same content keeps the content digest.
    (tmp_path / "fast.gz").write_bytes(gzip.compress(plain.read_bytes(), compresslevel=1))
    c = read_idx_hashed(tmp_path / "fast.gz")
    assert c.content_sha256 == a.content_sha256 and c.file_sha256 != b.file_sha256
    assert_array_equal(c.array, array)


def _idx_bytes(array: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08}[array.dtype]
    return (
        bytes([0, 0, code, array.ndim])
        + struct.pack(f">{array.ndim}I", *array.shape)
        + (array.tobytes())
    )


GOOD = _idx_bytes(np.arange(60, dtype=np.uint8).reshape(3, 4, 5))


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"\x08\x03" + GOOD[2:], "not an IDX file: it starts with bytes 08 03"),
        (GOOD[:2] + b"\x0a" + GOOD[3:], "unknown IDX type code 0x0A"),
        (GOOD[:-1], "is truncated: its header declares shape \\(3, 4, 5\\)"),
        (GOOD + b"\x00", "is padded with extra bytes"),
        (GOOD[:10], "ends inside its header"),
        (b"\x00\x00", "too short to be an IDX file"),
        (b"\x00\x00\x08\x00", "declares 0 dimensions"),
    ],
    ids=["magic", "type", "truncated", "padded", "short-header", "tiny", "ndim0"],
)
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_rejects_bad_files(tmp_path, raw, match, compress):
    path = tmp_path / ("bad.gz" if compress else "bad")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    with pytest.raises(DataError, match=match):
        read_idx(path)
    if not compress and len(raw) >= 4:
        with pytest.raises(DataError, match=match):
            read_idx(path, mmap=True)


def test_gzip_that_ends_early_names_the_file(tmp_path):
    packed = gzip.compress(GOOD)
    path = tmp_path / "cut-idx3-ubyte.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataError, match=r"cut-idx3-ubyte\.gz' is a gzip file that ends early"):
        read_idx(path)


def test_corrupt_gzip_stream(tmp_path):
    packed = bytearray(gzip.compress(GOOD))
    packed[12:20] = b"\xff" * 8  # inside the deflate stream
    path = tmp_path / "corrupt.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(DataError, match=r"corrupt\.gz"):
        read_idx(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_idx(tmp_path / "nope")
    with pytest.raises(DataError, match="is a folder"):
        read_idx(tmp_path)


def test_writer_refuses_bad_input_and_existing_files(tmp_path):
    with pytest.raises(DataError, match="cannot store dtype uint16"):
        write_idx(tmp_path / "a", np.zeros(3, np.uint16))
    with pytest.raises(DataError, match="1 to 32 dimensions"):
        write_idx(tmp_path / "b", np.array(3, np.uint8))
    path = write_idx(tmp_path / "c", np.zeros(3, np.uint8))
    with pytest.raises(FunmlError, match="already exists"):
        write_idx(path, np.ones(3, np.uint8))
    assert_array_equal(read_idx(path), np.zeros(3))  # untouched
    write_idx(path, np.ones(3, np.uint8), overwrite=True)
    assert_array_equal(read_idx(path), np.ones(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]  # no temporary files left
