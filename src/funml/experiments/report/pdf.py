"""Print the HTML report to PDF with a real browser engine (headless Chromium).

The report's print style sheet starts every experiment on a new page and keeps figures and
tables whole; Chromium lays it out exactly as a reader's "Print to PDF" would. The page is
funml's own file with no scripts and no links outside it, and host resolution is switched
off, so printing it reaches no network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from funml.errors import FunmlError
from funml.files import atomic_path

# Browser commands tried in order; Debian's package is `chromium`.
ENGINES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 180  # seconds; a full report prints in a few


def find_engine() -> str | None:
    """The path of the first browser in :data:`ENGINES` on ``PATH``, or None."""
    return next((path for name in ENGINES if (path := shutil.which(name))), None)


def print_pdf(html: str | os.PathLike, pdf: str | os.PathLike, timeout: float = TIMEOUT) -> Path:
    """Print the HTML file ``html`` to ``pdf`` (written atomically) and return its path.

    Raises
    ------
    FunmlError
        No engine is installed, or it failed or timed out; ``pdf`` is then not written.
    """
    engine = find_engine()
    if engine is None:
        raise FunmlError(
            "No PDF engine found: install Chromium (apt-get install chromium) to get "
            "report.pdf; the HTML report is written."
        )
    pdf = Path(pdf)
    with tempfile.TemporaryDirectory(prefix="funml-chromium-") as profile, atomic_path(pdf) as tmp:
        command = [
            engine,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={tmp}",
            Path(html).resolve().as_uri(),
        ]
        if os.geteuid() == 0:  # Chromium refuses to start its sandbox as root
            command.insert(1, "--no-sandbox")
        try:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise FunmlError(
                f"{Path(engine).name} did not print the report within {timeout:.0f} s; "
                "open report.html and print it from the browser."
            ) from None
        if done.returncode != 0 or tmp.stat().st_size == 0:
            last = (done.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
            raise FunmlError(
                f"{Path(engine).name} could not print the report ({last[:200]}); "
                "open report.html and print it from the browser."
            )
    return pdf
