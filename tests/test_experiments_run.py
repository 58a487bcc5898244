"""`funml run`: the quick run of every experiment (once per session), failures, refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from funml.cli import cli
from funml.experiments import RunSettings, experiments, run_experiments, sizes
from helpers import assert_one_sentence_error

PNG = b"\x89PNG\r\n\x1a\n"
NAMES = list(experiments())


@pytest.fixture(scope="module")
def metrics(quick_run):
    assert quick_run.returncode == 0, quick_run.stderr[-3000:]
    return json.loads((quick_run.path / "metrics.json").read_text())


def test_quick_run_records_every_experiment_in_order(quick_run, metrics):
    assert list(metrics) == NAMES
    assert "Report:" in quick_run.stdout


@pytest.mark.parametrize("name", NAMES)
def test_experiment_ran_ok(name, quick_run, metrics):
    m = metrics[name]
    assert m["status"] == "ok", m.get("error")
    # The run prints a line per experiment with its status and time.
    assert any(line.split()[:2] == [name, "ok"] for line in quick_run.stdout.splitlines())


@pytest.mark.parametrize("name", NAMES)
def test_experiment_has_a_verdict_references_and_figures(name, quick_run, metrics):
    m = metrics[name]
    assert m["verdict"]
    assert m["references"]
    assert m["figures"]
    for rel in m["figures"]:
        assert (quick_run.path / rel).read_bytes()[:8] == PNG, rel


def test_figures_on_disk_are_the_ones_listed(quick_run, metrics):
    on_disk = {p.name for p in (quick_run.path / "figures").iterdir()}
    listed = {rel.split("/")[-1] for m in metrics.values() for rel in m["figures"]}
    assert on_disk == listed


def test_settings_are_saved_beside_the_results(quick_run):
    saved = json.loads((quick_run.path / "settings.json").read_text())
    assert saved["settings"]["quick"] is True
    assert saved["settings"]["dataset"] == "digits"
    assert saved["experiments"] == NAMES
    assert saved["sizes"]["torch_epochs"] == sizes(RunSettings(quick=True)).torch_epochs


# -- each experiment's numbers against its reference ----------------------------------------


def test_graphs_gradients_match_the_course_and_torch(metrics):
    graphs = metrics["graphs"]["metrics"]
    assert round(graphs["de_dw1"], 4) == -0.3154
    assert round(graphs["de_dw2"], 4) == -0.4205
    assert graphs["max_abs_grad_difference_vs_torch"] < 1e-12


def test_tensors_match_the_course(metrics):
    tensors = metrics["tensors"]["metrics"]
    assert tensors["hadamard"] == [[1.0, 2.0], [0.0, -1.0]]
    assert tensors["matmul"] == [[-1.0, -1.0], [2.0, -1.0]]
    assert tensors["norm_sq"] == 18.0
    assert tensors["grad_v1"] == [6.0, 6.0]
    assert tensors["grad_v2"] == [-6.0, -6.0]


def test_pca_matches_scikit_learn(metrics):
    pca = metrics["pca"]["metrics"]
    assert pca["components_needed"] == pca["components_needed_sklearn"]
    assert pca["max_relative_variance_difference"] < 1e-6


@pytest.mark.parametrize("k", [1, 3, 5])  # funml.experiments.knn.KS
def test_knn_differs_from_scikit_learn_only_at_exact_ties(metrics, k):
    row = metrics["knn"]["metrics"]["by_k"][str(k)]
    assert row["disagreements"] == row["disagreements_at_exact_ties"]
    assert row["accuracy"] > 0.90


def test_softmax_gradients_match_finite_differences(metrics):
    assert metrics["softmax"]["metrics"]["gradient_check"]["relative_error"] < 1e-6


def test_conv2d_matches_torch(metrics):
    assert metrics["conv2d"]["metrics"]["max_abs_difference_float64"] < 1e-10


def test_harris_finds_every_checkerboard_corner(metrics):
    harris = metrics["harris"]["metrics"]
    assert harris["checkerboard_corners_found"] == harris["checkerboard_corners_expected"]


def test_l1_fit_beats_least_squares_on_outliers(metrics):
    linear = metrics["linear"]["metrics"]
    assert linear["l1_linprog"]["objective"] <= linear["l1_subgradient"]["objective"] + 1e-9
    assert abs(linear["l1_linprog"]["slope"] - 2) < abs(linear["least_squares"]["slope"] - 2)


def test_perceptron_network_sorts_every_random_input(metrics):
    assert metrics["linear"]["metrics"]["perceptron"]["random_accuracy"] == 1.0


@pytest.mark.parametrize(("model", "parameters"), [("mlp2", 101_770), ("cnn-small", 47_658)])
def test_course_models_have_their_parameter_counts(metrics, model, parameters):
    assert metrics["mlp2-vs-cnn-small"]["metrics"][model]["parameters"] == parameters


def test_digits_cnn_learns(metrics):
    assert metrics["digits-cnn"]["metrics"]["test_accuracy"] > 0.80


def test_pretrained_models_name_the_expected_classes(metrics):
    assert metrics["pretrained"]["metrics"]["expected_class_in_top5"] == "2/2"


def _offline_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "FUNML_DATA"}
    # Downloads go to a closed loopback port: refused at once, as on a machine offline.
    dead = "http://127.0.0.1:9"
    env.update(
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        TORCH_HOME=str(tmp_path / "torch"),
        http_proxy=dead,
        https_proxy=dead,
        HTTP_PROXY=dead,
        HTTPS_PROXY=dead,
        no_proxy="",
        NO_PROXY="",
        MPLBACKEND="Agg",
    )
    return env


@pytest.mark.slow
def test_missing_data_fails_one_experiment_and_the_others_run(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "run"
    args = [
        sys.executable,
        "-m",
        "funml",
        "run",
        "gallery",
        "tensors",
        "--dataset",
        "mnist",
        "--data-dir",
        str(empty),
        "--out",
        str(out),
    ]
    proc = subprocess.run(
        args, env=_offline_env(tmp_path), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "1 experiment(s) failed (gallery)" in proc.stderr
    m = json.loads((out / "metrics.json").read_text())
    assert m["tensors"]["status"] == "ok"
    assert m["gallery"]["status"] == "failed"
    error = m["gallery"]["error"]
    assert "t10k-images-idx3-ubyte.gz" in error and "funml data fetch mnist" in error
    report = (out / "report.html").read_text()
    assert 'id="exp-gallery"' in report and "What went wrong" in report
    assert "funml data fetch mnist" in report


def test_out_at_an_existing_run_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.json").write_text('{"mine": true}')
    result = CliRunner().invoke(cli, ["run", "tensors", "--out", str(out)])
    assert_one_sentence_error(result, "already exists and is not empty")
    assert (out / "metrics.json").read_text() == '{"mine": true}'
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json"]


def test_run_into_a_fresh_folder_and_default_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = run_experiments(RunSettings(), ["tensors"])
    assert run.path.resolve().parent == (tmp_path / "runs").resolve()
    assert run.path.name.startswith("tensors-")
    again = run_experiments(RunSettings(), ["tensors"])
    assert again.path != run.path  # never overwritten, even within the same second
    for r in (run, again):
        assert {p.name for p in r.path.iterdir()} == {
            "settings.json",
            "metrics.json",
            "figures",
            "report.html",
        }


def test_list_names_every_experiment_without_importing_torch():
    code = (
        "import sys; from funml.cli import cli; cli(['run', '--list'], standalone_mode=False); "
        "assert 'torch' not in sys.modules, 'run --list imported torch'"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert names == list(experiments())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "knnn"], "Unknown experiment 'knnn'"),
        (["run", "tensors", "--jobs", "0"], "--jobs must be a whole number, at least 1, got 0"),
        (["run", "pretrained", "--images", "/no/such/folder"], "is not a folder"),
    ],
)
def test_bad_input_is_one_sentence(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_one_sentence_error(CliRunner().invoke(cli, args), message)
    assert not (tmp_path / "runs").exists()  # nothing written for refused input


def test_unknown_dataset_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["run", "all", "--dataset", "cifar"])
    assert result.exit_code == 2  # click's code for bad usage
    assert "'cifar' is not one of 'digits', 'mnist', 'fashion-mnist'." in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow  # two worker processes: 2.9 s on an idle 2-core machine
def test_jobs_run_experiments_side_by_side(tmp_path):
    run = run_experiments(RunSettings(out=tmp_path / "run", jobs=2), ["tensors", "linear"])
    assert [o.name for o in run.outcomes] == ["tensors", "linear"]
    assert run.failed == []
    assert run.machine["torch_threads"] == max(1, (os.cpu_count() or 1) // 2)


def test_a_bug_in_one_experiment_is_reported_with_its_traceback(tmp_path, monkeypatch):
    from funml.experiments import registry

    def boom(settings, context):
        raise ZeroDivisionError("division by zero in a broken experiment")

    broken = registry.Experiment("boom", "A broken experiment.", "Does it break?", boom)
    monkeypatch.setitem(registry._REGISTRY, "boom", broken)
    run = run_experiments(RunSettings(out=tmp_path / "run"), ["boom", "tensors"])
    assert run.failed == ["boom"]
    m = json.loads((run.path / "metrics.json").read_text())
    assert m["tensors"]["status"] == "ok"
    assert m["boom"]["error"].startswith("ZeroDivisionError: division by zero")
    assert "bug in funml" in m["boom"]["error"]
    assert "Traceback" in m["boom"]["traceback"] and "def boom" not in m["boom"]["error"]
    report = run.report.read_text()
    assert "<summary>Traceback</summary>" in report
