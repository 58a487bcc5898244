"""Where data sets are looked for, in order, and where downloads go."""

from __future__ import annotations

import os
from pathlib import Path

# Well-known system locations. Debian's ``dataset-fashion-mnist`` package installs into
# /usr/share/datasets/fashion-mnist, which the DIR/<dataset>/ rule finds from here.
SYSTEM_DATA_DIRS: tuple[Path, ...] = (
    Path("/usr/share/datasets"),
    Path("/usr/local/share/datasets"),
)


def cache_dir() -> Path:
    """funml's user cache: ``$XDG_CACHE_HOME/funml``, by default ``~/.cache/funml``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative path is invalid and must be ignored.
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "funml"


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for data files, in order.

    1. ``data_dir`` when given; 2. each folder in ``$FUNML_DATA`` (``os.pathsep``-separated);
    3. :func:`cache_dir`; 4. :data:`SYSTEM_DATA_DIRS`. In each folder ``DIR``, a data set's
    files are accepted in ``DIR/<dataset>/`` and directly in ``DIR``.
    """
    dirs: list[Path] = []
    if data_dir is not None:
        dirs.append(Path(data_dir).expanduser())
    env = os.environ.get("FUNML_DATA", "")
    dirs += [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    dirs.append(cache_dir())
    dirs += SYSTEM_DATA_DIRS
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def download_dir(dataset: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Where a download of ``dataset`` goes: ``<data_dir or $FUNML_DATA or cache>/<dataset>``."""
    if data_dir is not None:
        return Path(data_dir).expanduser() / dataset
    env = [p for p in os.environ.get("FUNML_DATA", "").split(os.pathsep) if p]
    return (Path(env[0]).expanduser() if env else cache_dir()) / dataset
