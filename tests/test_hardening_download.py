"""Hardening of funml.download (issue 16): no hang, a size cap, resume only with ranges.

A loopback server local to this file trickles, floods or serves ranges; every test is
bounded in time by the download's own limits.
"""

import hashlib
import http.server
import re
import subprocess
import sys
import threading
import time

import pytest

from funml.download import MirrorsFailedError, RemoteFile, download
from funml.errors import DownloadError
from funml.files import temporary_name

PAYLOAD = bytes(range(256)) * 400  # 100 kB
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    """/trickle/: one byte every 20 ms; /slow/: 20 kB every 50 ms of an endless file;
    /nolength/: PAYLOAD without Content-Length; /good/: PAYLOAD, with Range;
    /norange/: PAYLOAD, ignoring Range."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.log.append((self.path, self.headers.get("Range")))
        kind = self.path.split("/")[1]
        try:
            if kind == "trickle":
                self._headers(200, len(PAYLOAD))
                for b in PAYLOAD:
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                    time.sleep(0.02)
            elif kind == "slow":
                self._headers(200, 1 << 30)
                while True:
                    self.wfile.write(b"x" * 20_000)
                    self.wfile.flush()
                    time.sleep(0.05)
            elif kind == "nolength":
                self.protocol_version = "HTTP/1.0"  # the body ends when the connection does
                self.send_response(200)
                self.end_headers()
                self.wfile.write(PAYLOAD)
                self.close_connection = True
            else:
                match = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
                if match and kind == "good":
                    start = int(match.group(1))
                    self._headers(206, len(PAYLOAD) - start, f"bytes {start}-{len(PAYLOAD) - 1}")
                    self.wfile.write(PAYLOAD[start:])
                else:
                    self._headers(200, len(PAYLOAD))
                    self.wfile.write(PAYLOAD)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def _headers(self, status, length, content_range=None):
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        if content_range:
            self.send_header("Content-Range", f"{content_range}/{len(PAYLOAD)}")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.log = []
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _file(url, size=None):
    return RemoteFile("file.bin", (url,), sha256=SHA256, size=size)


def test_hangs_a_trickling_server_stalls_and_nothing_is_left(server, tmp_path):
    start = time.monotonic()
    with pytest.raises(MirrorsFailedError, match=r"trickle/file.bin: stalled \(less than 16 KiB"):
        download(_file(f"{server.url}/trickle/file.bin"), tmp_path, retries=0, stall_timeout=0.5)
    assert time.monotonic() - start < 5
    assert list(tmp_path.iterdir()) == []


def test_hangs_the_deadline_ends_a_download_that_keeps_going(server, tmp_path):
    start = time.monotonic()
    with pytest.raises(DownloadError, match=r"did not finish within its deadline of 0.6 s"):
        download(_file(f"{server.url}/slow/file.bin"), tmp_path, deadline=0.6, stall_timeout=5)
    assert time.monotonic() - start < 5
    assert list(tmp_path.iterdir()) == []


def test_hangs_size_cap_refuses_a_larger_file_before_reading_it(server, tmp_path):
    with pytest.raises(MirrorsFailedError, match=r"offers 102,400 bytes, over the size cap of 1,"):
        download(_file(f"{server.url}/good/file.bin", size=1000), tmp_path)
    assert [path for path, _ in server.log] == ["/good/file.bin"]  # not retried
    assert list(tmp_path.iterdir()) == []


def test_hangs_size_cap_stops_a_body_without_a_length(server, tmp_path):
    with pytest.raises(MirrorsFailedError, match=r"sent more than the size cap of 1,000 bytes"):
        download(_file(f"{server.url}/nolength/file.bin", size=1000), tmp_path)
    assert list(tmp_path.iterdir()) == []
    path = download(_file(f"{server.url}/nolength/file.bin", size=len(PAYLOAD)), tmp_path)
    assert path.read_bytes() == PAYLOAD


def _killed_download_left(folder, n_bytes):
    """What a download killed after ``n_bytes`` leaves: a temporary of a dead process."""
    code = (
        "import sys; from funml.files import temporary_name; "
        "temporary_name(sys.argv[1]).write_bytes(sys.stdin.buffer.read())"
    )
    folder.mkdir(exist_ok=True)
    subprocess.run(
        [sys.executable, "-c", code, str(folder / "file.bin")], input=PAYLOAD[:n_bytes], check=True
    )
    [part] = list(folder.iterdir())
    assert part.name.endswith(".part")


def test_leftover_files_a_killed_download_resumes_where_the_server_has_ranges(server, tmp_path):
    _killed_download_left(tmp_path, 60_000)
    live = temporary_name(tmp_path / "file.bin")  # another live download's: not touched
    live.write_bytes(b"mine")
    path = download(_file(f"{server.url}/good/file.bin"), tmp_path)
    assert path.read_bytes() == PAYLOAD
    assert server.log == [("/good/file.bin", "bytes=60000-")]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["file.bin", live.name])


def test_leftover_files_are_discarded_where_the_server_has_no_ranges(server, tmp_path):
    _killed_download_left(tmp_path, 60_000)
    path = download(_file(f"{server.url}/norange/file.bin"), tmp_path)
    assert path.read_bytes() == PAYLOAD  # the whole file again, not the part twice
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]
