"""The quick run's report: one self-contained HTML file with every figure embedded."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
import torch

from funml import __version__
from funml.experiments import experiments


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("img", "meta", "br", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def report(quick_run):
    assert quick_run.returncode == 0, quick_run.stderr[-3000:]
    html = (quick_run.path / "report.html").read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(html)
    parser.close()
    return html, parser


def test_report_parses_with_balanced_tags(report):
    _, parser = report
    assert parser.stack == []
    assert parser.tags[0][0] == "html"


def test_every_figure_is_embedded_as_png(report, quick_run):
    _, parser = report
    images = [attrs for tag, attrs in parser.tags if tag == "img"]
    figures = sorted((quick_run.path / "figures").glob("*.png"))
    assert len(images) == len(figures) > 0
    embedded = {base64.b64decode(a["src"].split(",", 1)[1]) for a in images}
    assert embedded == {f.read_bytes() for f in figures}
    for a in images:
        assert a["src"].startswith("data:image/png;base64,")
        assert a.get("alt")


def test_no_external_references(report):
    html, parser = report
    for _, attrs in parser.tags:
        for key in ("src", "href", "srcset", "data", "action", "poster"):
            value = (attrs.get(key) or "").lower()
            # A URL needs a scheme with a colon, which base64 never contains.
            assert not re.search(r"(https?|ftp|ws)s?:|^//", value), (key, value[:80])
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "url(" not in html


def test_every_link_points_at_an_id(report):
    _, parser = report
    ids = {attrs["id"] for _, attrs in parser.tags if "id" in attrs}
    hrefs = [attrs["href"] for tag, attrs in parser.tags if tag == "a" and "href" in attrs]
    assert hrefs
    for href in hrefs:
        assert href.startswith("#") and href[1:] in ids, href


def test_header_contents_and_sections(report, quick_run):
    html, parser = report
    text = " ".join(" ".join(parser.text).split())  # whitespace runs become one space
    assert f"funml {__version__}" in text
    metrics = json.loads((quick_run.path / "metrics.json").read_text())
    n = len(metrics)
    assert f"{n} of {n} experiments ok; total time" in text
    assert re.search(r"\(\d+ logical cores\) torch threads per experiment \d+ ", text)
    assert f"torch {torch.__version__}, numpy {np.__version__}" in text
    for name in metrics:
        assert f'id="exp-{name}"' in html
        assert f'href="#exp-{name}"' in html  # in the table of contents
        assert experiments()[name].question in text
    # Data sources with their checksums: every hashed file is named in the header.
    settings = json.loads((quick_run.path / "settings.json").read_text())
    if settings["settings"]["data_dir"]:
        assert "t10k-images-idx3-ubyte.gz" in text
    assert "Measured against reference" in text and "Verdict." in text


def test_machine_table_says_how_each_model_trained(report):
    html, _ = report
    # The recipe and precision of the run, then each trained model's precision and threads.
    assert "<th>recipe</th><td>course (how the torch models train)</td>" in html
    for model in ("mlp", "cnn", "mlp2", "cnn-small", "logreg", "digits-cnn"):
        assert re.search(rf"<th>{model} trained in</th><td>(fp32|bf16), \d+ thread", html), model
