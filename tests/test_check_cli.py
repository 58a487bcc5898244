"""`funml check` on the command line: table, JSON, exit codes, the bug list, templates,
Gradescope's results.json, notebooks, and a folder of submissions."""

import csv
import inspect
import json

import nbformat
import pytest
from click.testing import CliRunner

from funml.check import BUGS
from funml.check.reference import graph as graph_reference
from funml.check.templates import template_source
from funml.cli import cli

FAST = ["--timeout", "20", "--memory-mb", "1024"]
GRAPH_OK = inspect.getsource(graph_reference)
GRAPH_BUGGY = """
import math
def graph_answers():
    f = math.exp(-(0.1 * 0.3 - 0.2 * 0.4))
    return {"f": f, "e": f - 1, "de_dw1": -0.3, "de_dw2": -0.4}
"""


def invoke(args):
    return CliRunner().invoke(cli, args)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_passing_submission_prints_table_and_exits_0(tmp_path):
    result = invoke(["check", "graph", write(tmp_path, "ok.py", GRAPH_OK), *FAST])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["check", "points", "passed", "message"]
    assert lines[2].split()[:3] == ["graph-forward", "1/1", "yes"]
    assert lines[-1] == "score: 2/2"


def test_failing_submission_names_the_bug_and_exits_1(tmp_path):
    result = invoke(["check", "graph", write(tmp_path, "bad.py", GRAPH_BUGGY), *FAST])
    assert result.exit_code == 1
    assert "[bug: graph-gradient-at-target]" in result.output
    assert "-0.3154" not in result.output and "0.4205" not in result.output  # no answers
    assert result.output.splitlines()[-1] == "score: 1/2"


def test_json_has_the_documented_fields(tmp_path):
    result = invoke(["check", "graph", write(tmp_path, "bad.py", GRAPH_BUGGY), "--json", *FAST])
    data = json.loads(result.output)
    assert list(data) == ["topic", "score", "max_score", "checks"]
    assert data["topic"] == "graph" and data["score"] == 1 and data["max_score"] == 2
    assert [list(c) for c in data["checks"]] == [
        ["name", "passed", "score", "max_score", "message", "bug"]
    ] * 2
    assert data["checks"][0]["bug"] is None
    assert data["checks"][1]["bug"] == "graph-gradient-at-target"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["check", "nope", "x.py"], "Topic 'nope' is unknown"),
        (["check", "graph", "missing.py"], "does not exist"),
        (["check", "graph", "notes.txt"], "must be a .py file"),
        (["check", "graph"], "Give a TOPIC and a SUBMISSION"),
    ],
)
def test_unreadable_input_exits_2_with_one_sentence(tmp_path, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    result = invoke(args)
    assert result.exit_code == 2
    assert match in result.output and "Traceback" not in result.output


def test_list_bugs_table_and_json():
    table = invoke(["check", "--list-bugs"])
    assert table.exit_code == 0
    assert all(b.id in table.output for b in BUGS)
    data = json.loads(invoke(["check", "--list-bugs", "--json"]).output)
    assert len(data) == len(BUGS)
    assert set(data[0]) == {
        "id",
        "topic",
        "description",
        "function",
        "check",
        "buggy_line",
        "fixed_line",
        "reported",
    }


def test_gradescope_results_json(tmp_path):
    out = tmp_path / "results.json"
    sub = write(tmp_path, "bad.py", GRAPH_BUGGY)
    result = invoke(["check", "graph", sub, "--gradescope", str(out), *FAST])
    assert result.exit_code == 1
    data = json.loads(out.read_text())
    assert data["score"] == 1 and isinstance(data["execution_time"], float)
    assert data["stdout_visibility"] in ("hidden", "visible")
    for test in data["tests"]:
        assert {"name", "score", "max_score", "output", "visibility", "status"} <= set(test)
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert test["status"] in ("passed", "failed")
    assert "graph-gradient-at-target" in data["tests"][1]["output"]


@pytest.mark.parametrize("topic", ["graph", "conv2d", "softmax", "pca"])
@pytest.mark.parametrize("suffix", [".py", ".ipynb"])
def test_untouched_template_scores_zero_without_a_crash(tmp_path, topic, suffix):
    out = tmp_path / f"starter{suffix}"
    assert invoke(["check", "--template", topic, "--out", str(out)]).exit_code == 0
    result = invoke(["check", topic, str(out), "--json", *FAST])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["score"] == 0
    assert all("Not implemented yet" in c["message"] for c in data["checks"])


def test_template_is_never_overwritten(tmp_path):
    out = tmp_path / "mine.py"
    out.write_text("my work")
    result = invoke(["check", "--template", "knn", "--out", str(out)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert out.read_text() == "my work"


def test_template_round_trip_keeps_the_course_names():
    from funml.check import TOPICS, get_topic
    from funml.check.submission import reduce_source

    for topic in TOPICS:
        defined = reduce_source(template_source(topic)).defined
        assert set(get_topic(topic).FUNCTIONS) <= set(defined)


def test_notebook_and_py_with_the_same_code_agree(tmp_path):
    py = write(tmp_path, "bad.py", GRAPH_BUGGY)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\nimport math"),
        nbformat.v4.new_code_cell(GRAPH_BUGGY.replace("import math\n", "")),
        nbformat.v4.new_code_cell("graph_answers()\nprint('plots')"),
    ]
    ipynb = tmp_path / "bad.ipynb"
    nbformat.write(nb, ipynb)
    a = json.loads(invoke(["check", "graph", py, "--json", *FAST]).output)
    b = json.loads(invoke(["check", "graph", str(ipynb), "--json", *FAST]).output)
    assert a == b


def test_a_folder_of_submissions_gives_one_table(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    write(folder, "alice.py", GRAPH_OK)
    write(folder, "bob.py", GRAPH_BUGGY)
    write(folder, "carol.ipynb", "{broken")
    write(folder, "readme.txt", "not a submission")
    out = tmp_path / "grades.csv"
    result = invoke(["check", "graph", str(folder), "--out", str(out), "--jobs", "2", *FAST])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol"]
    assert [float(r["score"]) for r in rows] == [2.0, 1.0, 0.0]
    assert rows[1]["bugs"] == "graph-gradient-at-target" and rows[1]["graph-gradients"] == "0.0"
    assert "not a readable Jupyter notebook" in rows[2]["error"]
    as_json = tmp_path / "grades.json"
    invoke(["check", "graph", str(folder), "--out", str(as_json), *FAST])
    assert [r["score"] for r in json.loads(as_json.read_text())] == [2.0, 1.0, 0.0]


def test_existing_tables_and_results_are_replaced_only_with_force(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    sub = write(folder, "alice.py", GRAPH_OK)
    table, results = tmp_path / "grades.csv", tmp_path / "results.json"
    table.write_text("the instructor's own file\n")
    results.write_text("{}")
    refused = invoke(["check", "graph", str(folder), "--out", str(table), *FAST])
    assert refused.exit_code == 2 and refused.output.strip() == (
        f"Error: '{table}' already exists; choose another --out or pass --force."
    )
    refused = invoke(["check", "graph", sub, "--gradescope", str(results), *FAST])
    assert refused.exit_code == 2 and "choose another --gradescope or pass --force" in (
        refused.output
    )
    assert table.read_text() == "the instructor's own file\n" and results.read_text() == "{}"
    assert (
        invoke(["check", "graph", str(folder), "--out", str(table), "--force", *FAST]).exit_code
        == 0
    )
    assert table.read_text().startswith("student,file,score")
    invoke(["check", "graph", sub, "--gradescope", str(results), "--force", *FAST])
    assert json.loads(results.read_text())["score"] == 2.0


def test_a_folder_needs_a_table_to_write(tmp_path):
    result = invoke(["check", "graph", str(tmp_path)])
    assert result.exit_code == 2 and "--out FILE (.csv or .json)" in result.output


def test_printed_output_is_shown_cut_short(tmp_path):
    source = GRAPH_OK.replace("    values =", "    print('x' * 500)\n    values =")
    result = invoke(["check", "graph", write(tmp_path, "ok.py", source), *FAST])
    assert result.exit_code == 0
    printed = [line for line in result.output.splitlines() if " printed: " in line]
    assert len(printed) == 2 and printed[0].endswith("x" * 200 + "…")


def test_threaded_folder_grading_gives_every_copy_the_same_references(tmp_path):
    # The loops probes seed torch's global generator; graded at once they must not mix.
    from funml.check.batch import grade_folder
    from funml.check.reference import loops

    for name in ("a", "b", "c"):
        write(tmp_path, f"{name}.py", inspect.getsource(loops))
    rows = grade_folder("loops", tmp_path, jobs=3)
    assert [r["score"] for r in rows] == [6.0, 6.0, 6.0]


def test_a_timeout_of_nan_is_one_sentence(tmp_path):
    # click's FloatRange lets nan through (every comparison with nan is false).
    result = invoke(["check", "graph", write(tmp_path, "ok.py", GRAPH_OK), "--timeout", "nan"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.strip() == (
        "Error: --timeout must be a number of seconds from 0.5 to 600, got nan."
    )
