"""Writing files so that nothing half-written is left behind and nothing is overwritten.

Every writer here writes to a temporary file in the destination's folder and renames it
into place, which is atomic on POSIX file systems.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from funml.errors import FunmlError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    _ensure_parent(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    # mkstemp creates the file private (0600); give it the permissions a plain open() would.
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file for writing that becomes ``path`` when the block succeeds."""
    if not mode.startswith(("w", "x")):
        raise ValueError(f"atomic_open writes files; got mode {mode!r}, expected 'w' or 'wb'.")
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as f:
        yield f


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return Path(path)


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    return write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


FIGURE_DPI = 110  # sharp on a screen and in print, small enough to embed in the report


def save_figure(fig, path: str | os.PathLike, **kwargs: Any) -> Path:
    """Save a matplotlib Figure atomically; the format follows the file's suffix."""
    path = Path(path)
    kwargs.setdefault("dpi", FIGURE_DPI)
    kwargs.setdefault("bbox_inches", "tight")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", **kwargs)
    return path


def check_free_folder(out: str | os.PathLike) -> Path:
    """Refuse an ``out`` that exists and is not an empty folder; return it as a Path."""
    path = Path(out)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FunmlError(
            f"Output folder '{path}' already exists and is not empty; "
            "choose a new --out or remove it first."
        )
    return path


def new_run_dir(
    out: str | os.PathLike | None, prefix: str, root: str | os.PathLike = "runs"
) -> Path:
    """Create and return a fresh output folder for one run.

    With ``out=None`` the folder is ``root/<prefix>-<timestamp>`` (a numeric suffix is added
    if that exists). An explicit ``out`` may be new or an empty folder; a non-empty folder
    is refused, so an earlier run is never overwritten.
    """
    if out is not None:
        path = check_free_folder(out)
        _mkdir(path)
        return path
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{prefix}-{stamp}"
    for i in range(1000):
        path = base if i == 0 else base.with_name(f"{base.name}-{i}")
        try:
            _mkdir(path.parent)
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise FunmlError(f"Could not create a new run folder under '{root}'; clean it up and retry.")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _mkdir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FunmlError(
            f"Cannot create folder '{path}' ({e.strerror}); choose a writable location."
        ) from e


def _ensure_parent(path: Path) -> None:
    if not path.parent.is_dir():
        _mkdir(path.parent)
    if not os.access(path.parent, os.W_OK):
        raise FunmlError(f"Cannot write to '{path.parent}'; choose a writable location.")


def _json_default(obj: Any) -> Any:
    # NumPy scalars and arrays, paths and dataclass-like settings become plain JSON.
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")
