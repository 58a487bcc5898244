"""LeCun's IDX format, the container MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic ``00 00 <type> <ndim>``, then ``ndim`` big-endian uint32
sizes, then the values in C order, big-endian. Files may be gzip-compressed; a reader
tells the two apart by gzip's own magic bytes, not by the file name.

Reading allocates the output array once and decompresses (or reads) straight into it,
so a 47 MB image file costs 47 MB, not two or three times that. Nothing is allocated for a
header's shape before it is checked: at most :data:`MAX_NDIM` dimensions, and exactly the
data a plain file holds. For a gzip file, a shape that its compressed size could not hold
is refused at once, and a large one is first checked by decompressing without keeping.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from funml.errors import DataError, FunmlError
from funml.files import atomic_path

# type code -> dtype as stored on disk (big-endian)
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
MAX_NDIM = 32  # the most dimensions funml reads or writes (the format allows 255)
_MAX_GZIP_RATIO = 1100  # deflate cannot expand more than about 1032:1
_TRUSTED_BYTES = 256 << 20  # a gzip body declared larger is counted before it is allocated


@dataclass(frozen=True)
class IdxContents:
    """An IDX array together with the digests needed to verify where it came from.

    Attributes
    ----------
    array : ndarray
        The values, in native byte order.
    file_sha256 : str
        SHA-256 of the bytes on disk (the compressed bytes for a ``.gz`` file).
    content_sha256 : str
        SHA-256 of the uncompressed IDX bytes: the same for every compression of one file.
    """

    array: np.ndarray
    file_sha256: str
    content_sha256: str


def read_idx(path: str | os.PathLike, *, mmap: bool = False) -> np.ndarray:
    """Read an IDX file, plain or gzip-compressed, into an array of native byte order.

    Parameters
    ----------
    path : path-like
    mmap : bool, default False
        Memory-map a plain (uncompressed) file instead of reading it. The result is a
        read-only ``numpy.memmap`` in the file's big-endian byte order. Ignored for gzip.

    Raises
    ------
    DataError
        If the magic or type code is wrong, the sizes in the header do not match the
        amount of data (truncated or padded), or a gzip stream is corrupt or ends early.
    """
    path = Path(path)
    if mmap and not _is_gzip(path):
        with _open(path) as f:
            dtype, shape, header = _read_header(f, path)
        _check_plain_length(path, dtype, shape, len(header))
        return np.memmap(path, dtype=dtype, mode="r", offset=len(header), shape=shape)
    return _read(path, hashed=False).array


def read_idx_hashed(path: str | os.PathLike) -> IdxContents:
    """Read an IDX file like :func:`read_idx` and hash it in the same pass."""
    return _read(Path(path), hashed=True)


def write_idx(
    path: str | os.PathLike,
    array: np.ndarray,
    *,
    compress: bool | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``array`` as an IDX file, atomically.

    Parameters
    ----------
    path : path-like
    array : ndarray of 1 to MAX_NDIM dimensions
        dtype uint8, int8, int16, int32, float32 or float64 (any byte order).
    compress : bool, optional
        gzip the file; by default, when ``path`` ends in ``.gz``.
    overwrite : bool, default False
        Replace an existing file. Without it an existing file is refused.
    """
    path = Path(path)
    array = np.asarray(array)
    code = _type_code(array.dtype)
    if not 1 <= array.ndim <= MAX_NDIM:
        raise DataError(f"funml stores IDX arrays of 1 to {MAX_NDIM} dimensions, not {array.ndim}.")
    if any(n >= 2**32 for n in array.shape):
        raise DataError(f"IDX sizes must fit in 32 bits; shape {array.shape} does not.")
    if path.exists() and not overwrite:
        raise FunmlError(f"'{path}' already exists; choose another path or remove it first.")
    if compress is None:
        compress = path.suffix == ".gz"
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body = np.ascontiguousarray(array, dtype=IDX_DTYPES[code])
    with atomic_path(path) as tmp, open(tmp, "wb") as raw:
        # mtime=0 and no file name in the gzip header: the same array gives the same bytes.
        f = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if compress else raw
        f.write(header)
        f.write(memoryview(body.reshape(-1).view(np.uint8)))
        if compress:
            f.close()
    return path


def _type_code(dtype: np.dtype) -> int:
    for code, stored in IDX_DTYPES.items():
        if dtype.kind == stored.kind and dtype.itemsize == stored.itemsize:
            return code
    allowed = "uint8, int8, int16, int32, float32, float64"
    raise DataError(f"IDX cannot store dtype {dtype}; convert the array to one of: {allowed}.")


def _is_gzip(path: Path) -> bool:
    with _open(path) as f:
        return f.read(2) == _GZIP_MAGIC


def _open(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"IDX file '{path}' does not exist; check the path.") from None
    except IsADirectoryError:
        raise DataError(f"'{path}' is a folder, not an IDX file; give the file's path.") from None


def _read(path: Path, *, hashed: bool) -> IdxContents:
    with _open(path) as raw:
        source = _HashingReader(raw) if hashed else raw
        size = os.fstat(raw.fileno()).st_size
        try:
            if raw.read(2) == _GZIP_MAGIC:
                raw.seek(0)

                def check(dtype, shape, n_header):
                    _check_gzip_length(path, dtype, shape, n_header, size)

                with gzip.GzipFile(fileobj=source, mode="rb") as f:
                    array, content_sha256 = _read_body(f, path, hashed=hashed, check=check)
            else:
                raw.seek(0)

                def check(dtype, shape, n_header):
                    if size - n_header != math.prod(shape) * dtype.itemsize:
                        _length_error(path, dtype, shape, size - n_header)

                array, content_sha256 = _read_body(source, path, hashed=hashed, check=check)
        except EOFError:
            raise DataError(
                f"'{path}' is a gzip file that ends early (the download or copy was cut "
                "short); delete it and fetch it again."
            ) from None
        except (gzip.BadGzipFile, zlib.error) as e:
            raise DataError(
                f"'{path}' is not a valid gzip file ({e}); delete it and fetch it again."
            ) from None
        file_sha256 = source.finish() if hashed else ""
    if not hashed:
        content_sha256 = ""
    return IdxContents(array, file_sha256, content_sha256)


def _read_body(f: BinaryIO, path: Path, *, hashed: bool, check) -> tuple[np.ndarray, str]:
    dtype, shape, header = _read_header(f, path)
    check(dtype, shape, len(header))  # before the array is allocated
    out = np.empty(shape, dtype=dtype)
    flat = memoryview(out.reshape(-1).view(np.uint8))
    got = _readinto_full(f, flat)
    extra = f.read(1)
    if got < out.nbytes or extra:
        n_data = got + len(extra) + len(f.read())
        _length_error(path, dtype, shape, n_data)
    digest = ""
    if hashed:
        h = hashlib.sha256()
        h.update(header)
        h.update(flat)
        digest = h.hexdigest()
    if dtype.byteorder == ">":
        # Swap in place, then reinterpret: native order without a second array.
        out = out.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return out, digest


def _readinto_full(f: BinaryIO, buf: memoryview) -> int:
    got = 0
    while got < len(buf):
        # Bounded chunks: gzip's readinto reads into a temporary bytes object first.
        n = f.readinto(buf[got : got + _CHUNK])
        if not n:
            break
        got += n
    return got


def _read_header(f: BinaryIO, path: Path) -> tuple[np.dtype, tuple[int, ...], bytes]:
    """Parse the header; return the stored dtype, the shape and the header's bytes."""
    magic = f.read(4)
    if len(magic) < 4:
        raise DataError(f"'{path}' is too short to be an IDX file ({len(magic)} bytes).")
    if magic[0] != 0 or magic[1] != 0:
        raise DataError(
            f"'{path}' is not an IDX file: it starts with bytes {magic.hex(' ')}, "
            "not 00 00 <type> <ndim>; check that it is the right file."
        )
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(
            f"'{path}' has unknown IDX type code 0x{code:02X} (known: {known}); "
            "the file is corrupt or not an IDX file."
        )
    if ndim == 0:
        raise DataError(f"'{path}' declares 0 dimensions; an IDX file needs at least one.")
    if ndim > MAX_NDIM:
        raise DataError(
            f"'{path}' declares {ndim} dimensions, more than the {MAX_NDIM} funml reads; "
            "the file is corrupt or not an IDX file."
        )
    sizes = f.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DataError(f"'{path}' ends inside its header; the file is truncated.")
    shape = struct.unpack(f">{ndim}I", sizes)
    return IDX_DTYPES[code], shape, magic + sizes


def _check_plain_length(path: Path, dtype: np.dtype, shape: tuple[int, ...], offset: int):
    n_data = path.stat().st_size - offset
    if n_data != math.prod(shape) * dtype.itemsize:
        _length_error(path, dtype, shape, n_data)


def _check_gzip_length(path: Path, dtype, shape, n_header: int, compressed: int) -> None:
    """Refuse a declared shape that the gzip file's data cannot fill, before allocating it."""
    expected = math.prod(shape) * dtype.itemsize
    if expected > compressed * _MAX_GZIP_RATIO:
        raise DataError(
            f"'{path}' declares shape {shape} of {dtype.name} ({expected:,} bytes of data), "
            f"more than its {compressed:,} compressed bytes can hold; the file is corrupt, "
            "so fetch it again."
        )
    if expected > _TRUSTED_BYTES:
        # Stream and stop: count what decompresses, keeping nothing, up to one byte more.
        with gzip.open(path, "rb") as f:
            f.read(n_header)
            n_data = 0
            while n_data <= expected and (chunk := f.read(_CHUNK)):
                n_data += len(chunk)
        if n_data != expected:
            _length_error(path, dtype, shape, n_data)


def _length_error(path: Path, dtype: np.dtype, shape: tuple[int, ...], n_data: int):
    expected = math.prod(shape) * dtype.itemsize
    state = "truncated" if n_data < expected else "padded with extra bytes"
    raise DataError(
        f"'{path}' is {state}: its header declares shape {shape} of {dtype.name} "
        f"({expected:,} bytes of data) but it holds {n_data:,}; fetch the file again."
    )


class _HashingReader:
    """A read-only file wrapper that hashes every byte read through it."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._h = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._f.read(size)
        self._h.update(data)
        return data

    def readinto(self, buf) -> int:
        n = self._f.readinto(buf)
        self._h.update(memoryview(buf)[:n])
        return n

    def finish(self) -> str:
        """Hash whatever was not read yet, and return the hex digest of the whole file."""
        while chunk := self._f.read(_CHUNK):
            self._h.update(chunk)
        return self._h.hexdigest()

    def seek(self, *args):  # gzip seeks back over bytes it read ahead; refuse to lie
        raise OSError("hashing reader cannot seek")

    def tell(self) -> int:
        return self._f.tell()
