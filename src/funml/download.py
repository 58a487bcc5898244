"""Hash-verified downloads that never leave a partial or wrong file in place.

A :class:`RemoteFile` names a file, its mirrors in the order to try them, and its known
hashes. :func:`download` streams it to a temporary file beside the destination, checks
the hash, and only then renames it into place. Used by the data sets and the model zoo.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from funml import __version__
from funml.errors import DownloadError
from funml.files import atomic_path

USER_AGENT = f"funml/{__version__} (+https://pypi.org/project/funml/)"
CHUNK = 1 << 16


@dataclass(frozen=True)
class RemoteFile:
    """A file to fetch: its name on disk, its mirrors in order, and its known hashes.

    At least one of ``sha256`` and ``md5`` must be given; every given hash must match.
    """

    name: str
    urls: tuple[str, ...]
    sha256: str | None = None
    md5: str | None = None

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
) -> Path:
    """Fetch ``file`` into ``dest_dir`` and return its path.

    Each mirror is tried up to ``1 + retries`` times on network errors (HTTP 4xx moves on
    to the next mirror at once). A file whose hash does not match is discarded; that is
    reported as a :class:`DownloadError` naming the file and both hashes. The destination
    is written only by an atomic rename after a successful check.
    """
    dest = Path(dest_dir) / file.name
    if progress is None:
        progress = sys.stderr.isatty()
    failures: list[str] = []
    mismatches: list[str] = []
    for url in file.urls:
        for attempt in range(1 + retries):
            try:
                with atomic_path(dest) as tmp:
                    _fetch(url, tmp, timeout=timeout, progress=progress, label=file.name)
                    mismatch = hash_mismatch(file, tmp)
                    if mismatch:
                        raise _Mismatch(mismatch)
                return dest
            except _Mismatch as e:
                # A mirror serving the wrong bytes will keep doing so: try the next one.
                mismatches.append(f"{e} (from {url})")
                break
            except urllib.error.HTTPError as e:
                failures.append(f"{url}: HTTP {e.code}")
                if 400 <= e.code < 500:
                    break  # the mirror does not have it; retrying will not help
            except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
                failures.append(f"{url}: {_reason(e)}")
            if attempt < retries:
                time.sleep(0.2 * (attempt + 1))
    if mismatches:
        raise DownloadError(f"{mismatches[0]}; the file was discarded, nothing was cached.")
    raise DownloadError(
        f"Could not download '{file.name}' from any mirror ({'; '.join(failures)}); "
        f"check your network, or place the file in '{dest.parent}' yourself."
    )


class _Mismatch(Exception):
    pass


def _fetch(url: str, path: Path, *, timeout: float, progress: bool, label: str) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(path, "wb") as out:
        total = response.length  # None when the server sends no Content-Length
        bar = _progress_bar(total, label) if progress else None
        received = 0
        while chunk := response.read(CHUNK):
            out.write(chunk)
            received += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        if total is not None and received < total:
            raise http.client.IncompleteRead(b"", total - received)


def _progress_bar(total: int | None, label: str):
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label, leave=False)


def _reason(e: BaseException) -> str:
    if isinstance(e, urllib.error.URLError) and not isinstance(e, urllib.error.HTTPError):
        e = e.reason if isinstance(e.reason, BaseException) else e
    if isinstance(e, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(e, http.client.IncompleteRead):
        return "connection closed before the file was complete"
    return str(e) or type(e).__name__
