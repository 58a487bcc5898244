"""Hash-verified downloads against a loopback HTTP server the tests start."""

import hashlib
import http.server
import re
import socket

import pytest

from funml.download import (
    USER_AGENT,
    HashMismatchError,
    MirrorsFailedError,
    RemoteFile,
    download,
)
from helpers import loopback_server

PAYLOAD = bytes(range(256)) * 400  # 100 kB, several read chunks
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Paths: /good/ serves PAYLOAD (with Range), /wrong/ other bytes, /missing/ a 404,
    /drop/ sends half of PAYLOAD then closes while ``server.drops`` > 0 (then behaves
    like /good/), /norange/ is /drop/ but ignores Range requests."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        server = self.server
        server.log.append((self.path, dict(self.headers)))
        kind = self.path.split("/")[1]
        if kind == "missing":
            self.send_error(404)
            return
        body = b"not the file you want" * 100 if kind == "wrong" else PAYLOAD
        if kind in ("drop", "norange") and server.drops > 0:
            server.drops -= 1
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        match = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
        if match and kind != "norange":
            start = int(match.group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            body = body[start:]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    with loopback_server(_Handler) as httpd:
        httpd.log, httpd.drops = [], 0
        yield httpd


@pytest.fixture
def dead_url():
    """A loopback port with nothing listening: connections are refused at once."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/file.bin"


def _file(*urls, sha256=SHA256, md5=MD5):
    return RemoteFile("file.bin", tuple(urls), sha256=sha256, md5=md5)


def test_remote_file_needs_a_hash():
    with pytest.raises(ValueError, match="needs a sha256 or md5"):
        RemoteFile("x", ("http://127.0.0.1/x",))


def test_fails_over_from_dead_and_missing_mirrors(server, dead_url, tmp_path):
    file = _file(dead_url, f"{server.url}/missing/file.bin", f"{server.url}/good/file.bin")
    path = download(file, tmp_path, retries=1, timeout=5)
    assert path == tmp_path / "file.bin" and path.read_bytes() == PAYLOAD
    paths = [p for p, _ in server.log]
    assert paths == ["/missing/file.bin", "/good/file.bin"]  # a 404 is not retried
    assert all(headers["User-Agent"] == USER_AGENT for _, headers in server.log)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin"]


def test_hash_mismatch_leaves_nothing(server, tmp_path):
    file = _file(f"{server.url}/wrong/file.bin")
    with pytest.raises(HashMismatchError) as info:
        download(file, tmp_path / "cache", timeout=5)
    message = str(info.value)
    actual = hashlib.sha256(b"not the file you want" * 100).hexdigest()
    assert "'file.bin' failed its SHA256 check" in message
    assert f"expected {SHA256}" in message and f"got {actual}" in message
    assert list((tmp_path / "cache").iterdir()) == []
    assert len(server.log) == 1  # wrong bytes are not fetched again from the same mirror


def test_dropped_connection_leaves_nothing_then_a_retry_succeeds(server, tmp_path):
    server.drops = 1
    file = _file(f"{server.url}/drop/file.bin")
    with pytest.raises(MirrorsFailedError, match="connection closed before the file"):
        download(file, tmp_path, retries=0, timeout=5)
    assert list(tmp_path.iterdir()) == []
    # The fault is over: the next attempt succeeds.
    assert download(file, tmp_path, retries=0, timeout=5).read_bytes() == PAYLOAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin"]


def test_resumes_a_dropped_transfer_with_a_range_request(server, tmp_path):
    server.drops = 1
    path = download(_file(f"{server.url}/drop/file.bin"), tmp_path, retries=1, timeout=5)
    assert path.read_bytes() == PAYLOAD
    (_, first), (_, second) = server.log
    assert "Range" not in first
    assert second["Range"] == f"bytes={len(PAYLOAD) // 2}-"


def test_server_without_range_support_sends_it_all_again(server, tmp_path):
    server.drops = 1
    path = download(_file(f"{server.url}/norange/file.bin"), tmp_path, retries=1, timeout=5)
    assert path.read_bytes() == PAYLOAD
    assert len(server.log) == 2


def test_all_mirrors_down_says_what_happened_and_where_to_put_the_file(dead_url, tmp_path):
    with pytest.raises(MirrorsFailedError) as info:
        download(_file(dead_url), tmp_path, retries=1, timeout=5)
    assert f"place the file in '{tmp_path}'" in str(info.value)
    assert info.value.failures[0].startswith(dead_url)
    assert "(2 times)" in info.value.failures[0]
    assert list(tmp_path.iterdir()) == []


def test_existing_verified_file_is_not_fetched_again(server, tmp_path):
    (tmp_path / "file.bin").write_bytes(PAYLOAD)
    assert download(_file(f"{server.url}/good/file.bin"), tmp_path).read_bytes() == PAYLOAD
    assert server.log == []


def test_existing_wrong_file_is_replaced_only_by_a_verified_one(server, tmp_path):
    (tmp_path / "file.bin").write_bytes(b"stale")
    with pytest.raises(HashMismatchError):
        download(_file(f"{server.url}/wrong/file.bin"), tmp_path, timeout=5)
    assert (tmp_path / "file.bin").read_bytes() == b"stale"
    download(_file(f"{server.url}/good/file.bin"), tmp_path, timeout=5)
    assert (tmp_path / "file.bin").read_bytes() == PAYLOAD


def test_md5_only_files_are_checked_too(server, tmp_path):
    file = _file(f"{server.url}/good/file.bin", sha256=None, md5="0" * 32)
    with pytest.raises(HashMismatchError, match=r"MD5 check: expected 0{32}"):
        download(file, tmp_path, timeout=5)
