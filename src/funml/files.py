"""Writing files so that nothing half-written is left behind and nothing is overwritten.

Every writer here writes to a temporary file in the destination's folder and renames it
into place, which is atomic on POSIX file systems. A temporary's name carries the host, pid
and start time of the process writing it (``.NAME.<host>-<pid>-<start>.<random>.part``), so
a later process can prove that one left by a killed process is stale and remove it.

An output folder is claimed when it is checked: a lock file named for the folder's real
path, in a private folder of the user's temporary directory (so nothing appears beside or
in the output), is locked with ``flock`` for the life of the process and holds the owner's
pid and start time. A second run into the same folder is thus refused even before the
first has written anything; the kernel drops the lock when its owner dies, however it dies.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import errno
import hashlib
import json
import os
import re
import secrets
import socket
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
    remove_stale_temporaries(path.parent, once=True)
    tmp = temporary_name(path)
    # O_EXCL as mkstemp does, but with the permissions a plain open() would give.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
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
    """Write ``text`` to ``path`` atomically (UTF-8).

    A lone surrogate (an undecodable byte of a file name) is written as ``?``, not refused.
    """
    with atomic_open(path, "w", encoding="utf-8", errors="replace") as f:
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
    """Claim ``out`` for this process if it is new or an empty folder; return it as a Path.

    The claim (see the module docstring) holds until this process exits or calls
    :func:`release_folder`; the folder itself is not created. Checking a folder this process
    (or a parent process, e.g. the launcher of training workers) already claimed succeeds.

    Raises
    ------
    FunmlError
        If ``out`` is a file, a folder that is not empty, or claimed by another live run.
    """
    path = Path(out)
    _check_empty(path)
    _claim(path)
    try:
        _check_empty(path)  # a run that finished between the first check and the claim
    except FunmlError:
        release_folder(path)
        raise
    return path


def release_folder(out: str | os.PathLike) -> None:
    """Give up this process's claim on ``out`` (done for every claim when the process exits)."""
    lock = _LOCKS.pop(_lock_path(Path(out)), None)
    if lock is not None and lock[1] == os.getpid():
        with contextlib.suppress(OSError):
            os.unlink(_lock_path(Path(out)))
        os.close(lock[0])


@contextlib.contextmanager
def claimed_folder(
    out: str | os.PathLike | None, prefix: str, root: str | os.PathLike = "runs"
) -> Iterator[Path]:
    """:func:`new_run_dir` as a context manager: the claim ends with the block."""
    path = new_run_dir(out, prefix, root)
    try:
        yield path
    finally:
        release_folder(path)


def new_run_dir(
    out: str | os.PathLike | None, prefix: str, root: str | os.PathLike = "runs"
) -> Path:
    """Create and return a fresh output folder for one run.

    With ``out=None`` the folder is ``root/<prefix>-<timestamp>`` (a numeric suffix is added
    if that exists). An explicit ``out`` may be new or an empty folder; a non-empty folder
    is refused, so an earlier run is never overwritten. The folder is claimed for this
    process (see :func:`check_free_folder`), so a second run into it is refused too, even
    before the first has written anything.
    """
    if out is not None:
        path = check_free_folder(out)
        try:
            _mkdir(path)
        except FunmlError:
            release_folder(path)
            raise
        return path
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{prefix}-{stamp}"
    _mkdir(base.parent)
    for i in range(1000):
        path = base if i == 0 else base.with_name(f"{base.name}-{i}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        try:
            return check_free_folder(path)
        except FunmlError:
            continue  # claimed by an explicit --out between our mkdir and our claim
    raise FunmlError(f"Could not create a new run folder under '{root}'; clean it up and retry.")


def temporary_name(path: str | os.PathLike) -> Path:
    """A fresh temporary name beside ``path`` that says which process writes it."""
    path = Path(path)
    name = path.name[:150]  # the tag must fit in a file name's 255 bytes
    return path.with_name(f".{name}.{_process_tag()}.{secrets.token_hex(4)}.part")


def stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """The temporaries in ``folder`` that processes now dead left behind.

    Only files named by :func:`temporary_name` on this host whose process is provably gone
    (no such pid, or a pid reused by a process started later) count; the files of live
    processes, of other hosts and of other programs do not.
    """
    folder = Path(folder)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    stale = []
    for name in names:
        match = _TEMP_NAME.fullmatch(name)
        mine = match and match["host"] == _host_tag()
        if mine and not _alive(int(match["pid"]), match["start"]):
            stale.append(folder / name)
    return stale


def remove_stale_temporaries(folder: str | os.PathLike, *, once: bool = False) -> list[Path]:
    """Remove :func:`stale_temporaries` from ``folder``; return the paths removed.

    With ``once``, a folder this process has already cleaned is not scanned again.
    """
    key = (os.getpid(), os.path.abspath(folder))
    if once and key in _CLEANED:
        return []
    _CLEANED.add(key)
    removed = []
    for path in stale_temporaries(folder):
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def display_name(path: str | os.PathLike) -> str:
    """``path`` as text that can always be printed: undecodable bytes become U+FFFD.

    File names are bytes on POSIX; Python keeps the bytes that are not UTF-8 as lone
    surrogates, which cannot be encoded for printing or writing. Open files by the real
    path; show them by this name.
    """
    return os.fsencode(path).decode("utf-8", errors="replace")


# ---- claiming output folders ---------------------------------------------------------

_LOCKS: dict[Path, tuple[int, int]] = {}  # lock file -> (fd, pid that took it)
_CLEANED: set[tuple[int, str]] = set()
_TEMP_NAME = re.compile(r"\..+\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-(?P<start>\d+)\.[0-9a-f]+\.part")


def _check_empty(path: Path) -> None:
    if path.is_dir():
        if any(path.iterdir()):
            raise FunmlError(
                f"Output folder '{display_name(path)}' already exists and is not empty; "
                "choose a new --out or remove it first."
            )
    elif path.exists() or path.is_symlink():
        raise FunmlError(
            f"Output folder '{display_name(path)}' is a file, not a folder; "
            "choose a new --out or remove the file first."
        )


def _lock_path(path: Path) -> Path:
    """The lock file of output folder ``path``: one per real path, whatever the spelling."""
    real = os.fsencode(os.path.realpath(path))
    return _lock_dir() / f"{hashlib.sha256(real).hexdigest()[:32]}.lock"


def _lock_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / f"funml-{os.getuid()}" / "claims"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.parent.stat().st_uid != os.getuid():
        raise FunmlError(f"'{folder.parent}' belongs to another user; remove it or set TMPDIR.")
    return folder


def _claim(path: Path) -> None:
    import fcntl

    lock = _lock_path(path)
    if lock in _LOCKS:
        return  # this process claimed it already
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            owner = os.read(fd, 200).decode("ascii", "replace").split()
            os.close(fd)
            if e.errno not in (errno.EAGAIN, errno.EACCES):
                raise FunmlError(
                    f"Cannot lock '{display_name(lock)}' ({e.strerror}); choose another --out."
                ) from None
            if len(owner) >= 2 and owner[0].isdigit() and _is_ancestor(int(owner[0]), owner[1]):
                return  # our launcher's claim: its workers write into the folder
            who = f" (pid {owner[0]})" if owner and owner[0].isdigit() else ""
            raise FunmlError(
                f"Output folder '{display_name(path)}' is in use by another funml run{who}; "
                "wait for it to finish or choose another --out."
            ) from None
        # The previous owner may have removed the file while we waited to lock it.
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()} {_start_time(os.getpid())} {socket.gethostname()}\n".encode())
    _LOCKS[lock] = (fd, os.getpid())
    _remove_dead_claims(lock.parent)


def _remove_dead_claims(folder: Path) -> None:
    """Remove the lock files of killed runs: those nobody holds (checked by locking them)."""
    import fcntl

    for lock in folder.glob("*.lock"):
        if lock in _LOCKS:
            continue
        try:
            fd = os.open(lock, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # Holding it, remove it; a claimer that opened it meanwhile sees a new inode.
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                os.unlink(lock)
        except OSError:
            pass  # held by a live run, or gone already
        finally:
            os.close(fd)


@atexit.register
def _release_all() -> None:
    for lock, (fd, pid) in list(_LOCKS.items()):
        if pid == os.getpid():  # not in a forked child, which inherited the table
            with contextlib.suppress(OSError):
                os.unlink(lock)
            os.close(fd)
    _LOCKS.clear()


# ---- which process is which --------------------------------------------------------------


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot, or "0" where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return "0"
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return stat[stat.rindex(b")") + 2 :].split()[19].decode()


def _alive(pid: int, start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    return start in ("0", _start_time(pid)) or _start_time(pid) == "0"


def _is_ancestor(pid: int, start: str) -> bool:
    here = os.getpid()
    for _ in range(64):
        if here == pid:
            return _start_time(pid) == start
        try:
            with open(f"/proc/{here}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            return pid == os.getppid()
        here = int(stat[stat.rindex(b")") + 2 :].split()[1])
        if here <= 1:
            return False
    return False


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _process_tag() -> str:
    return f"{_host_tag()}-{os.getpid()}-{_start_time(os.getpid())}"


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
