"""Hash-verified downloads that never leave a partial or wrong file in place.

A :class:`RemoteFile` names a file, its mirrors in the order to try them, and its known
hashes. :func:`download` streams it to a temporary file beside the destination, checks
the hash, and only then renames it into place. A connection that drops mid-file is
retried, resuming with an HTTP Range request where the server supports it. Used by the
data sets and the model zoo.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from funml import __version__
from funml.errors import DownloadError
from funml.files import atomic_path, stale_temporaries, temporary_name

USER_AGENT = f"funml/{__version__} (+https://pypi.org/project/funml/)"
CHUNK = 1 << 16
MAX_BYTES = 4 << 30  # the size cap for a file whose size is not known: 4 GiB
STALL_BYTES = 16 << 10  # a transfer that brings less than this in stall_timeout has stalled


class HashMismatchError(DownloadError):
    """What the mirrors served does not match the file's known hash; nothing was kept."""


class MirrorsFailedError(DownloadError):
    """No mirror could deliver the file. ``failures`` holds one short line per attempt."""

    def __init__(self, message: str, failures: list[str]) -> None:
        super().__init__(message)
        self.failures = failures


@dataclass(frozen=True)
class RemoteFile:
    """A file to fetch: its name on disk, its mirrors in order, and its known hashes.

    At least one of ``sha256`` and ``md5`` must be given; every given hash must match.
    ``size`` in bytes, when known, caps what a download may receive.
    """

    name: str
    urls: tuple[str, ...]
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None

    def __post_init__(self) -> None:
        if not (self.sha256 or self.md5):
            raise ValueError(f"RemoteFile {self.name!r} needs a sha256 or md5 to verify against.")


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_mismatch(file: RemoteFile, path: str | os.PathLike) -> str | None:
    """Return a sentence describing the first hash that does not match, or None if all match."""
    for algorithm in ("sha256", "md5"):
        expected = getattr(file, algorithm)
        if expected:
            actual = file_digest(path, algorithm)
            if actual != expected.lower():
                return (
                    f"'{file.name}' failed its {algorithm.upper()} check: "
                    f"expected {expected.lower()}, got {actual}"
                )
    return None


def download(
    file: RemoteFile,
    dest_dir: str | os.PathLike,
    *,
    timeout: float = 30.0,
    retries: int = 2,
    progress: bool | None = None,
    deadline: float = 1800.0,
    stall_timeout: float = 60.0,
) -> Path:
    """Fetch ``file`` into ``dest_dir`` and return its path.

    A destination that already holds a file with the right hash is returned as it is.
    Each mirror is tried up to ``1 + retries`` times on network errors, resuming a
    dropped transfer with a Range request when the server allows it (HTTP 4xx moves on to
    the next mirror at once). What arrives is checked against every known hash; the
    destination is written only by an atomic rename after a successful check, so a
    failed, interrupted or wrong download never leaves a file behind.

    Three limits keep a hostile or broken server from holding a download forever:
    ``deadline`` seconds for the whole download, ``stall_timeout`` seconds without
    :data:`STALL_BYTES` arriving (a server that trickles bytes), and a size cap of
    ``file.size`` when it is known, else :data:`MAX_BYTES`. ``timeout`` bounds each wait
    for the network. The temporary file of a killed earlier download of the same file
    is resumed (Range) when the server supports it, and otherwise discarded.

    Raises
    ------
    HashMismatchError
        A mirror served bytes that do not match; names the file and both hashes.
    MirrorsFailedError
        Every attempt on every mirror failed (stalled and oversized transfers included).
    DownloadError
        The deadline passed.
    """
    dest = Path(dest_dir) / file.name
    if dest.is_file() and hash_mismatch(file, dest) is None:
        return dest
    if progress is None:
        progress = sys.stderr.isatty()
    limits = _Limits(
        time.monotonic() + deadline, deadline, stall_timeout, timeout, file.size or MAX_BYTES
    )
    failures: list[str] = []
    mismatches: list[str] = []
    leftover = _adopt_stale_part(dest)
    with atomic_path(dest) as tmp:
        if leftover is not None:
            os.replace(leftover, tmp)
        for i, url in enumerate(file.urls):
            if i or leftover is None:
                tmp.write_bytes(b"")  # every mirror starts from the first byte
            for attempt in range(1 + retries):
                if attempt:
                    time.sleep(0.2 * attempt)
                try:
                    resumed = _fetch(url, tmp, limits, progress=progress, label=file.name)
                except urllib.error.HTTPError as e:
                    failures.append(f"{url}: HTTP {e.code}")
                    if e.code == 416:  # our Range was refused: start this mirror over
                        tmp.write_bytes(b"")
                    elif 400 <= e.code < 500:
                        break  # the mirror does not have it; retrying will not help
                    continue
                except _TooLarge as e:
                    failures.append(f"{url}: {e}")
                    break  # a mirror serving too much will keep doing so
                except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
                    limits.check_deadline(file, dest)
                    failures.append(f"{url}: {_reason(e)}")
                    continue
                mismatch = hash_mismatch(file, tmp)
                if mismatch is None:
                    return dest  # leaving the block renames tmp onto dest
                mismatches.append(f"{mismatch} (from {url})")
                if not resumed:
                    break  # a mirror serving the wrong bytes will keep doing so
                tmp.write_bytes(b"")  # the resumed part may not fit the first: refetch whole
        if mismatches:
            raise HashMismatchError(
                f"{mismatches[-1]}; the download was discarded and nothing was saved."
            )
        failures = _tally(failures)
        raise MirrorsFailedError(
            f"Could not download '{file.name}' from any mirror ({'; '.join(failures)}); "
            f"check your network, or place the file in '{dest.parent}' yourself.",
            failures,
        )


@dataclass
class _Limits:
    """The bounds on one download: when it must end, stalls, waits and size."""

    end: float  # time.monotonic() by which the whole download must be done
    deadline: float  # the same, as the seconds the caller gave
    stall_timeout: float
    timeout: float
    max_bytes: int

    def wait(self) -> float:
        """How long one network wait may block: never past the deadline."""
        return max(0.01, min(self.timeout, self.stall_timeout, self.end - time.monotonic()))

    def check_deadline(self, file: RemoteFile, dest: Path) -> None:
        if time.monotonic() >= self.end:
            raise DownloadError(
                f"Downloading '{file.name}' did not finish within its deadline of "
                f"{self.deadline:g} s, so it was abandoned; check your network, or place the "
                f"file in '{dest.parent}' yourself."
            )


class _TooLarge(Exception):
    """The server sends more bytes than the file can have."""


class _Stalled(OSError):
    """Too few bytes arrived for too long."""


def _adopt_stale_part(dest: Path) -> Path | None:
    """Take over the largest temporary a killed download of ``dest`` left, to resume it.

    It is renamed to a temporary name of this process, so that no other process takes it
    too; the other stale temporaries are removed (by :func:`atomic_path`).
    """
    stale = [p for p in stale_temporaries(dest.parent) if p.name.startswith(f".{dest.name}.")]
    for part in sorted(stale, key=lambda p: p.stat().st_size if p.exists() else 0)[::-1]:
        mine = temporary_name(dest)
        try:
            os.rename(part, mine)  # atomic: if another process took it first, this fails
        except OSError:
            continue
        return mine
    return None


def _fetch(url: str, path: Path, limits: _Limits, *, progress: bool, label: str) -> bool:
    """Append the rest of ``url`` to ``path`` (or rewrite it); return True if it resumed."""
    have = path.stat().st_size
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=limits.wait()) as response:
        resumed = have > 0 and response.status == 206 and _range_start(response) == have
        if response.status == 206 and not resumed:
            path.write_bytes(b"")  # a range we did not ask for: the retry starts over
            raise http.client.HTTPException("the server sent an unexpected byte range")
        if not resumed:
            have = 0  # the server sent the whole file (or ignores ranges): start over
        remaining = response.length  # None when the server sends no Content-Length
        total = None if remaining is None else have + remaining
        if total is not None and total > limits.max_bytes:
            raise _TooLarge(f"offers {total:,} bytes, over the size cap of {limits.max_bytes:,}")
        bar = _progress_bar(total, have, label) if progress else None
        received = 0
        try:
            with open(path, "ab" if resumed else "wb") as out:
                _copy(response, out, limits, have, bar)
                received = out.tell() - have
        finally:
            if bar is not None:
                bar.close()
        if remaining is not None and received < remaining:
            raise http.client.IncompleteRead(b"", remaining - received)
    return resumed


def _copy(response, out, limits: _Limits, have: int, bar) -> None:
    """Copy the body to ``out`` within ``limits``: size, stalls and the deadline."""
    sock = _socket_of(response)
    mark, since_mark = time.monotonic(), 0
    while True:
        if sock is not None:
            sock.settimeout(limits.wait())
        chunk = response.read1(CHUNK)  # whatever one read brings: a trickle cannot hide
        if not chunk:
            return
        out.write(chunk)
        if out.tell() > limits.max_bytes:
            raise _TooLarge(f"sent more than the size cap of {limits.max_bytes:,} bytes")
        if bar is not None:
            bar.update(len(chunk))
        now = time.monotonic()
        since_mark += len(chunk)
        if since_mark >= STALL_BYTES:
            mark, since_mark = now, 0
        elif now - mark > limits.stall_timeout:
            raise _Stalled(
                f"stalled (less than {STALL_BYTES // 1024} KiB in {limits.stall_timeout:g} s)"
            )
        if now >= limits.end:
            raise _Stalled("the deadline passed")


def _socket_of(response) -> socket.socket | None:
    """The socket under an HTTP response, to bound each read by the limits' wait."""
    raw = getattr(getattr(response, "fp", None), "raw", None)
    return getattr(raw, "_sock", None)


def _range_start(response) -> int | None:
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None


def _progress_bar(total: int | None, initial: int, label: str):
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=label,
        leave=False,
    )


def _tally(failures: list[str]) -> list[str]:
    """Repeated failures once each, with a count: 'url: timed out (3 times)'."""
    counts: dict[str, int] = {}
    for f in failures:
        counts[f] = counts.get(f, 0) + 1
    return [f if n == 1 else f"{f} ({n} times)" for f, n in counts.items()]


def _reason(e: BaseException) -> str:
    if isinstance(e, urllib.error.URLError) and not isinstance(e, urllib.error.HTTPError):
        e = e.reason if isinstance(e.reason, BaseException) else e
    if isinstance(e, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(e, http.client.IncompleteRead):
        return "connection closed before the file was complete"
    if isinstance(e, _Stalled):
        return str(e)
    if isinstance(e, OSError) and e.strerror:
        return e.strerror  # "Name or service not known", without "[Errno -2]"
    return str(e) or type(e).__name__
