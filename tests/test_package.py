"""A well-kept package: license, changelog, type marker, JSON output, shell completion,
re-running a run from its settings.json."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import funml
from funml.cli import cli
from funml.cli.complete import DATASETS, EXPERIMENTS, MODELS, TOPICS
from helpers import assert_one_sentence_error

ROOT = Path(__file__).resolve().parents[1]


def test_license_is_the_mit_license_pyproject_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text


def test_changelog_has_the_current_version_and_an_unreleased_section():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(funml.__version__)}\]", text, re.M)


def test_py_typed_marker_ships_in_the_package():
    assert (Path(funml.__file__).parent / "py.typed").is_file()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "py.typed" in data["package-data"]["funml"]


def test_the_public_api_is_annotated():
    import inspect

    from funml import api
    from funml.check import api as check_api

    functions = [getattr(api, n) for n in ("run", "run_all", "train", "summary")]
    for function in (*functions, check_api.check):
        name = function.__name__
        sig = inspect.signature(function)
        assert sig.return_annotation is not inspect.Signature.empty, name
        missing = [p for p in sig.parameters.values() if p.annotation is inspect.Parameter.empty]
        assert not missing, f"{name}: {missing}"


# -- completion ------------------------------------------------------------------------------


def test_completion_names_are_the_registries_names():
    from funml.data.registry import DATASETS as REGISTERED
    from funml.experiments import experiments
    from funml.nn import MODELS as BUILT

    assert list(EXPERIMENTS) == list(experiments())
    assert set(MODELS) == set(BUILT)
    assert set(REGISTERED) <= set(DATASETS)


def test_completion_topics_are_funml_checks_topics():
    check = pytest.importorskip("funml.check", reason="funml.check (branch h5) is not merged")
    assert TOPICS == check.TOPICS


def _complete(words: str) -> list[str]:
    env = {"_FUNML_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": "2"}
    proc = subprocess.run(
        [sys.executable, "-m", "funml"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return [line.split(",", 1)[1] for line in proc.stdout.splitlines()]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("funml run p", ["pca", "pretrained"]),
        ("funml run a", ["activations", "all"]),
        ("funml train cnn", ["cnn", "cnn-small"]),
        ("funml summary digits", ["digits-cnn"]),
    ],
)
def test_shell_completion_offers_experiment_and_model_names(words, expected):
    assert _complete(words) == expected


def test_completion_script_is_printed_for_bash():
    env = {**os.environ, "_FUNML_COMPLETE": "bash_source"}
    proc = subprocess.run(
        [sys.executable, "-m", "funml"], env=env, capture_output=True, text=True, check=True
    )
    assert "_funml_completion" in proc.stdout and "complete " in proc.stdout


# -- JSON output -----------------------------------------------------------------------------


def test_run_list_json_names_every_experiment():
    result = CliRunner().invoke(cli, ["run", "--list", "--json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)
    assert [e["name"] for e in entries] == list(EXPERIMENTS)
    assert all(e["summary"] and e["question"] for e in entries)


def test_summary_json_has_every_layer_and_the_totals():
    result = CliRunner().invoke(cli, ["summary", "cnn", "--json"])
    assert result.exit_code == 0, result.output
    table = json.loads(result.stdout)
    assert table["model"] == "cnn" and table["input_shape"] == [1, 28, 28]
    assert table["total_params"] == sum(r["params"] for r in table["rows"]) > 0
    assert table["rows"][0]["name"] == "conv1"


@pytest.fixture(scope="module")
def json_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("json-run") / "run"
    result = CliRunner().invoke(cli, ["run", "tensors", "--seed", "3", "--json", "--out", folder])
    assert result.exit_code == 0, result.output
    return folder, result


def test_run_json_prints_the_runs_summary_alone_on_stdout(json_run):
    folder, result = json_run
    summary = json.loads(result.stdout)
    assert summary["folder"] == str(folder) and summary["report"] == str(folder / "report.html")
    assert summary["failed"] == [] and list(summary["experiments"]) == ["tensors"]
    tensors = summary["experiments"]["tensors"]
    assert tensors["status"] == "ok" and tensors["seconds"] > 0 and "18" in tensors["verdict"]
    assert "tensors" in result.stderr  # the progress line


# -- funml run --config ----------------------------------------------------------------------


def test_config_reruns_a_run_with_its_settings_and_the_flags_given(json_run, tmp_path):
    folder, _ = json_run
    out = tmp_path / "again"
    args = ["run", "--config", folder / "settings.json", "--quick", "--out", out, "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "settings.json").read_text())
    assert saved["experiments"] == ["tensors"]  # from the file
    assert saved["settings"]["seed"] == 3  # from the file
    assert saved["settings"]["quick"] is True  # the flag given
    assert saved["settings"]["out"] == str(out)


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        (None, ["cannot be read"]),
        ("{not json", ["is not JSON"]),
        ('{"settings": {}}', ["is not a settings.json that funml run wrote"]),
        ('{"settings": {"speed": 1}, "experiments": []}', ["does not know (speed)"]),
        ('{"settings": {"seed": "x"}, "experiments": ["pca"]}', ['seed = "x"', "a whole number"]),
        ('{"settings": {"quick": 1}, "experiments": ["pca"]}', ["quick = 1", "true or false"]),
        ('{"settings": {"out": {"a": 1}}, "experiments": ["pca"]}', ["a folder name"]),
        ('{"settings": {"data_dir": 7}, "experiments": ["pca"]}', ["data_dir = 7"]),
    ],
)
def test_a_bad_config_is_one_sentence(content, needles, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "settings.json"
    if content is not None:
        path.write_text(content)
    result = CliRunner().invoke(cli, ["run", "--config", path])
    assert_one_sentence_error(result, *needles)
    assert not (tmp_path / "runs").exists()
