"""The quick run's report in headless Chromium: images decode, links resolve, no network.

Chromium is driven over its DevTools pipe (``--remote-debugging-pipe``: NUL-separated JSON
on file descriptors 3 and 4), so the test needs no extra package. Every request the page
makes is recorded from the Network domain; host resolution is also disabled, so a stray
request could not leave the machine even if the check were wrong.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

CHROMIUM = next(
    (p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
)

CHECK_PAGE = """JSON.stringify({
  images: [...document.images].map(i => ({alt: i.alt, w: i.naturalWidth, h: i.naturalHeight,
                                          complete: i.complete})),
  links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  title: document.title,
  width: document.documentElement.scrollWidth,
})"""


class DevTools:
    """A minimal Chrome DevTools Protocol client over a pipe."""

    def __init__(self, profile: Path):
        self._out_r, self._out_w = os.pipe()  # we write, Chromium reads on fd 3
        self._in_r, self._in_w = os.pipe()  # Chromium writes on fd 4, we read
        args = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        out_r, in_w = self._out_r, self._in_w

        def fds() -> None:
            os.dup2(out_r, 3)
            os.dup2(in_w, 4)

        self.proc = subprocess.Popen(
            args,
            pass_fds=(3, 4),
            preexec_fn=fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(self._out_r)
        os.close(self._in_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        self.session = None

    def call(self, method: str, params: dict | None = None, timeout: float = 60) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if self.session:
            msg["sessionId"] = self.session
        os.write(self._out_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply["result"]
                self.events.append(reply)
            ready, _, _ = select.select([self._in_r], [], [], 0.5)
            if ready:
                chunk = os.read(self._in_r, 1 << 22)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buf += chunk
        raise TimeoutError(f"Chromium did not answer {method} within {timeout} s")

    def open(self, url: str) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.call("Network.enable")
        self.call("Page.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1000, "height": 1400, "deviceScaleFactor": 1, "mobile": False},
        )
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + 60
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError("the report did not finish loading within 60 s")
            self.call("Runtime.evaluate", {"expression": "document.readyState"})
            time.sleep(0.1)

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})[
            "result"
        ]["value"]

    def close(self) -> None:
        try:
            self.session = None
            self.call("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._out_w)
        os.close(self._in_r)


@pytest.fixture(scope="module")
def browser_page(quick_run, tmp_path_factory):
    report = quick_run.path / "report.html"
    browser = DevTools(tmp_path_factory.mktemp("chromium-profile"))
    try:
        browser.open(report.resolve().as_uri())
        page = json.loads(browser.evaluate(CHECK_PAGE))
        shot = browser.call("Page.captureScreenshot", {"format": "png"})["data"]
        pdf = browser.call("Page.printToPDF", {"printBackground": False})["data"]
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
        )
        phone_width = browser.evaluate("document.documentElement.scrollWidth")
        requests = [
            e["params"]["request"]["url"]
            for e in browser.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
    finally:
        browser.close()
    shot_path = tmp_path_factory.mktemp("screenshot") / "report.png"
    shot_path.write_bytes(base64.b64decode(shot))
    return {
        "report": report,
        "page": page,
        "screenshot": shot_path,
        "pdf": base64.b64decode(pdf),
        "phone_width": phone_width,
        "requests": requests,
    }


def test_every_image_decodes(browser_page, quick_run):
    images = browser_page["page"]["images"]
    n_figures = len(list((quick_run.path / "figures").glob("*.png")))
    assert len(images) == n_figures > 0
    broken = [i["alt"] for i in images if not (i["complete"] and i["w"] > 0 and i["h"] > 0)]
    assert broken == []


def test_every_link_resolves(browser_page):
    page = browser_page["page"]
    ids = set(page["ids"])
    assert page["links"], "the report has a table of contents"
    for href in page["links"]:
        assert href.startswith("#"), f"link leaves the report: {href}"
        assert href[1:] in ids, f"broken link {href}"


def test_nothing_requested_over_the_network(browser_page):
    report_url = browser_page["report"].resolve().as_uri()
    others = [u for u in browser_page["requests"] if u != report_url and not u.startswith("data:")]
    assert others == []
    assert report_url in browser_page["requests"]


def test_screenshot_and_pdf_are_taken(browser_page):
    png = browser_page["screenshot"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert browser_page["pdf"][:5] == b"%PDF-"


def test_readable_on_a_phone(browser_page):
    # No horizontal scrolling of the page itself on a 390-pixel-wide phone screen.
    assert browser_page["phone_width"] <= 390
