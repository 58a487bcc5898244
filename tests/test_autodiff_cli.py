"""`funml graph`: the course example, JSON, files, and one-sentence errors."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from funml.cli import cli
from funml.cli.graph import parse_assignments
from funml.errors import FunmlError
from helpers import assert_one_sentence_error

COURSE = ["graph", "exp(-(w1*x1 + w2*x2))", "--at", "w1=0.1", "--at", "x1=0.3"]
COURSE += ["--at", "w2=-0.2", "--at", "x2=0.4", "--target", "1"]


def invoke(args):
    return CliRunner().invoke(cli, args)


def test_course_example_table():
    result = invoke(COURSE)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "f = 1.05127, e = f - f* = 0.0512711 (f* = 1)"
    rows = {line.split()[0]: line.split() for line in lines[3:] if line.strip()}
    assert list(rows) == ["w1", "x1", "z1", "w2", "x2", "z2", "z3", "z4", "f", "f*", "e"]
    assert round(float(rows["f"][-2]), 3) == 1.051
    assert round(float(rows["e"][-2]), 3) == 0.051
    assert round(float(rows["w1"][-1]), 4) == -0.3154
    assert round(float(rows["w2"][-1]), 4) == -0.4205


def test_course_example_json():
    result = invoke([*COURSE, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == ["value", "error", "grads", "nodes"]
    assert round(data["value"], 3) == 1.051
    assert round(data["error"], 3) == 0.051
    assert list(data["grads"]) == ["w1", "x1", "w2", "x2"]
    assert round(data["grads"]["w1"], 4) == -0.3154
    assert round(data["grads"]["w2"], 4) == -0.4205
    assert [n["name"] for n in data["nodes"]][-3:] == ["f", "f*", "e"]
    assert {n["kind"] for n in data["nodes"]} == {
        "input",
        "intermediate",
        "output",
        "const",
        "error",
    }


def test_json_without_target_has_null_error():
    result = invoke(["graph", "x*x", "--at", "x=3", "--json"])
    data = json.loads(result.output)
    assert data["value"] == 9.0 and data["error"] is None and data["grads"] == {"x": 6.0}


@pytest.mark.parametrize(("name", "magic"), [("g.png", b"\x89PNG"), ("g.svg", b"<?xml")])
def test_out_draws_the_graph(tmp_path, name, magic):
    out = tmp_path / "sub" / name
    result = invoke([*COURSE, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic)
    assert f"Graph written to {out}" in result.output
    assert [p.name for p in out.parent.iterdir()] == [name]  # no temporary file left


def test_out_dot(tmp_path):
    out = tmp_path / "g.dot"
    assert invoke([*COURSE, "--out", str(out)]).exit_code == 0
    text = out.read_text()
    assert text.startswith("digraph funml {") and "n16" in text


def test_existing_out_is_not_overwritten(tmp_path):
    out = tmp_path / "g.png"
    out.write_bytes(b"mine")
    result = invoke([*COURSE, "--out", str(out)])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert out.read_bytes() == b"mine"


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["graph", "w*x + b", "--at", "w=1", "--at", "x=2"], ["Variable 'b' has no value"]),
        (["graph", "x +", "--at", "x=1"], ["malformed"]),
        (
            ["graph", "__import__('os').system('true')"],
            ["Attribute access \"__import__('os').system\""],
        ),
        (["graph", "x.real"], ["Attribute access 'x.real'"]),
        (["graph", "x", "--at", "x"], ["--at 'x' must look like NAME=VALUE"]),
        (["graph", "x", "--at", "x=abc"], ["'abc' is not a number"]),
        (["graph", "x", "--at", "x=1", "--at", "x=2"], ["gives 'x' twice"]),
        (["graph", "x", "--at", "x=nan"], ["finite number"]),
        (["graph", "x", "--at", "x=1", "--at", "y=2"], ["'y', which is not a variable"]),
        (["graph", "log(x)", "--at", "x=-1"], ["log(-1) is undefined"]),
        (["graph", "x", "--at", "x=1", "--target", "inf"], ["--target must be a finite number"]),
        (["graph", "x", "--at", "x=1", "--out", "g.txt"], ["must end in .png, .svg, .pdf or .dot"]),
    ],
)
def test_errors_are_one_sentence(args, fragments):
    assert_one_sentence_error(invoke(args), *fragments)


def test_unwritable_out_is_one_sentence(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = invoke([*COURSE, "--out", str(blocker / "g.png")])
    assert_one_sentence_error(result, "Cannot create folder")
    assert blocker.read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_folder_is_one_sentence(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = invoke([*COURSE, "--out", str(folder / "g.png")])
    finally:
        folder.chmod(0o700)
    assert_one_sentence_error(result, "Cannot write to")


def test_parse_assignments():
    assert parse_assignments(["w1=0.1", " x = -2e-3 "]) == {"w1": 0.1, "x": -0.002}
    with pytest.raises(FunmlError, match="NAME=VALUE"):
        parse_assignments(["1x=2"])
    with pytest.raises(FunmlError, match="NAME=VALUE"):
        parse_assignments(["x="])


def test_real_process_error_has_no_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "funml", "graph", "x[0] + os.system('echo hacked')"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Subscript 'x[0]' is not allowed")
    assert "Traceback" not in result.stderr
    assert "hacked" not in result.stdout + result.stderr
