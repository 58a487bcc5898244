"""The files a child process hands back: one JSON record per check, arrays as ``.npy``.

Only data crosses: JSON numbers, strings, booleans and null, and ``.npy`` files of numeric
arrays read with ``allow_pickle=False``. File names are made by the reader from integers,
never taken from the child's JSON, and every file is size-checked before it is read.
Nothing the child wrote is ever unpickled or evaluated.
"""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

MAX_JSON_BYTES = 2 * 2**20
MAX_ARRAY_BYTES = 64 * 2**20
MAX_VALUES = 64  # a probe returns a handful of values; more is the child misbehaving
MAX_RECORD_BYTES = 256 * 2**20  # all arrays of one record together
MAX_TEXT = 2000  # characters of captured output or an error message kept per check


class ExchangeError(Exception):
    """A record from the child is missing, too large or malformed."""


def record_path(folder: Path, index: int) -> Path:
    return folder / f"{int(index)}.json"


def array_path(folder: Path, index: int, item: int) -> Path:
    return folder / f"{int(index)}-{int(item)}.npy"


def write_record(folder: Path, index: int, record: dict[str, Any]) -> None:
    """Write a check's record (child side). ``record["values"]`` may hold arrays."""
    values = {}
    for item, (key, value) in enumerate(dict(record.get("values") or {}).items()):
        if isinstance(value, np.ndarray):
            arr = value if value.dtype.kind in "biuf" else value.astype(np.float64)
            np.save(array_path(folder, index, item), arr, allow_pickle=False)
            values[str(key)] = {"npy": item}
        else:
            values[str(key)] = _scalar(value)
    out = dict(record, values=values)
    record_path(folder, index).write_text(json.dumps(out), encoding="utf-8")


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, refusing links, pipes, devices and anything
    larger than ``limit`` (the child could have put any of those in its place)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        raise ExchangeError("missing or not a plain file") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            raise ExchangeError("not a plain file, or too large")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ExchangeError("too large")
    return data


def read_record(folder: Path, index: int) -> dict[str, Any]:
    """Read a check's record (parent side); arrays are loaded without pickle."""
    data = read_limited(record_path(folder, index), MAX_JSON_BYTES)
    try:
        record = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ExchangeError("not JSON") from None
    if not isinstance(record, dict) or not isinstance(record.get("values", {}), dict):
        raise ExchangeError("not a record")
    if len(record.get("values", {})) > MAX_VALUES:
        raise ExchangeError("too many values")
    values, total = {}, 0
    for key, value in record.get("values", {}).items():
        if isinstance(value, dict):
            item = value.get("npy")
            if not isinstance(item, int) or isinstance(item, bool):
                raise ExchangeError("bad array reference")
            values[key] = _load_array(array_path(folder, index, item))
            total += values[key].nbytes
            if total > MAX_RECORD_BYTES:
                raise ExchangeError("arrays too large together")
        elif value is None or isinstance(value, bool | int | float | str):
            values[key] = value
        else:
            raise ExchangeError("bad value")
    record["values"] = values
    return record


def _load_array(path: Path) -> np.ndarray:
    data = read_limited(path, MAX_ARRAY_BYTES)
    try:
        f = io.BytesIO(data)
        version = np.lib.format.read_magic(f)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(f)
        # The header's claim must fit the bytes that follow, before anything is allocated.
        if dtype.hasobject or int(np.prod(shape, dtype=object)) * dtype.itemsize > len(data):
            raise ExchangeError("the array header does not match its data")
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except ExchangeError:
        raise
    except Exception:  # numpy's header parser raises several kinds (even SyntaxError)
        raise ExchangeError("bad array file") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise ExchangeError("not a numeric array")
    return arr


def _scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value[:MAX_TEXT] if isinstance(value, str) else value
    if isinstance(value, float):
        return value  # Python's json writes and reads NaN and Infinity
    return str(value)[:MAX_TEXT]
