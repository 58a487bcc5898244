"""`funml run --pdf`: the report printed by headless Chromium, checked page by page.

The pages are rendered with poppler's ``pdftoppm`` and read back: enough pages for every
experiment to start on its own, every figure embedded, and no blank page.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from funml.experiments import RunSettings, run_experiments
from funml.experiments.report.pdf import find_engine

NAMES = ["tensors", "linear"]  # cheap, and with figures and tables


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    if find_engine() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    out = tmp_path_factory.mktemp("pdf") / "run"
    return run_experiments(RunSettings(out=out, pdf=True), NAMES)


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (apt-get install poppler-utils)")
    return path


def test_pdf_is_written_beside_the_html(printed):
    assert printed.pdf_error is None
    assert printed.pdf == printed.path / "report.pdf"
    assert printed.pdf.read_bytes().startswith(b"%PDF-")
    assert not list(printed.path.glob("*.part"))


def test_every_experiment_starts_on_a_new_page(printed):
    info = subprocess.run(
        [_poppler("pdfinfo"), str(printed.pdf)], capture_output=True, text=True, check=True
    ).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    # The header and contents, then each experiment from the top of a page.
    assert pages >= 1 + len(NAMES)
    text = subprocess.run(
        [_poppler("pdftotext"), "-layout", str(printed.pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    page_texts = text.split("\f")
    for name in NAMES:
        starts = [i for i, page in enumerate(page_texts) if page.lstrip().startswith(name)]
        assert starts, f"no page starts with the section {name!r}"


def test_every_figure_is_embedded(printed):
    listing = subprocess.run(
        [_poppler("pdfimages"), "-list", str(printed.pdf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    images = [line for line in listing.splitlines()[2:] if line.strip()]
    figures = sum(len(o.figure_files) for o in printed.outcomes)
    assert figures > 0
    assert len(images) >= figures


def test_no_page_is_blank(printed, tmp_path):
    subprocess.run(
        [_poppler("pdftoppm"), "-r", "30", "-png", str(printed.pdf), str(tmp_path / "page")],
        check=True,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages
    for page in pages:
        pixels = np.asarray(Image.open(page).convert("L"))
        inked = np.mean(pixels < 200)  # dark enough to be text, lines or a figure
        assert inked > 0.002, f"{page.name} is blank ({inked:.4%} inked)"


def test_without_an_engine_the_html_is_written_and_one_sentence_says_what_to_install(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    run = run_experiments(RunSettings(out=tmp_path / "run", pdf=True), ["tensors"])
    assert run.report.is_file()
    assert run.pdf is None and not (run.path / "report.pdf").exists()
    assert "install Chromium" in run.pdf_error
    assert run.pdf_error.count(". ") == 0 and run.pdf_error.endswith(".")
