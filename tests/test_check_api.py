"""`funml.check(topic, path)` from Python: the Report it returns, its one-line repr and its
notebook table."""

import inspect

import pytest

import funml.check
from funml.check import Report, check
from funml.check.reference import graph as graph_reference
from funml.errors import FunmlError

FAST = {"timeout": 20, "memory_mb": 1024}
GRAPH_BUGGY = """
import math
def graph_answers():
    f = math.exp(-(0.1 * 0.3 - 0.2 * 0.4))
    return {"f": f, "e": f - 1, "de_dw1": -0.3, "de_dw2": -0.4}
"""


@pytest.fixture(scope="module")
def buggy(tmp_path_factory):
    path = tmp_path_factory.mktemp("api") / "alice <b>.py"
    path.write_text(GRAPH_BUGGY)
    return check("graph", path, **FAST)


def test_the_package_is_callable_like_the_function(tmp_path):
    path = tmp_path / "ok.py"
    path.write_text(inspect.getsource(graph_reference))
    report = funml.check("graph", path, **FAST)
    assert isinstance(report, Report)
    assert report.passed and report.score == report.max_score
    assert (
        repr(report)
        == f"<funml.check graph ok.py: {report.score:g}/{report.max_score:g}, every check passed>"
    )


def test_repr_is_one_line_with_the_score_and_the_bug(buggy):
    text = repr(buggy)
    assert "\n" not in text
    assert f"{buggy.score:g}/{buggy.max_score:g}" in text
    assert "failed graph-gradients [bug: graph-gradient-at-target]" in text


def test_html_is_the_table_and_the_score_escaped(buggy):
    page = buggy._repr_html_()
    assert page.count("<tr>") == len(buggy.checks) + 1  # header and one row per check
    assert "graph-gradient-at-target" in page
    assert f"score: {buggy.score:g}/{buggy.max_score:g}" in page
    assert "alice &lt;b&gt;.py" in page and "<b>.py" not in page


def test_points_weight_the_checks(tmp_path):
    path = tmp_path / "bug.py"
    path.write_text(GRAPH_BUGGY)
    report = check("graph", path, points={"graph-gradients": 3}, **FAST)
    assert report.max_score == len(report.checks) - 1 + 3


@pytest.mark.parametrize(
    ("topic", "make", "match"),
    [
        ("graph", lambda p: p, "is a folder"),
        ("nope", lambda p: p / "x.py", "nope"),
        ("graph", lambda p: p / "missing.py", "missing.py"),
    ],
)
def test_unreadable_input_is_one_sentence(tmp_path, topic, make, match):
    (tmp_path / "x.py").write_text("x = 1\n")
    with pytest.raises(FunmlError, match=match):
        check(topic, make(tmp_path))


def test_unknown_settings_are_refused(tmp_path):
    with pytest.raises(TypeError):
        funml.check("graph", tmp_path / "x.py", seconds=3)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (
            {"timeout": float("nan")},
            "--timeout must be a number of seconds from 0.5 to 600, got nan.",
        ),
        ({"timeout": "20"}, "--timeout must be a number of seconds from 0.5 to 600, got '20'."),
        ({"timeout": 0}, "--timeout must be a number of seconds from 0.5 to 600, got 0."),
        ({"memory_mb": -1}, "--memory-mb must be a whole number from 256 to 65536, got -1."),
        (
            {"memory_mb": 1024.5},
            "--memory-mb must be a whole number from 256 to 65536, got 1024.5.",
        ),
    ],
)
def test_limits_outside_their_range_are_one_sentence(tmp_path, limits, message):
    (tmp_path / "x.py").write_text("x = 1\n")
    with pytest.raises(FunmlError) as caught:
        funml.check("graph", tmp_path / "x.py", **limits)
    assert str(caught.value) == message
