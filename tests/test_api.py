"""The notebook API: `funml.run` and `funml.run_all`, their display, and what they write."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from matplotlib.figure import Figure

import funml
from funml.errors import FunmlError


@pytest.fixture
def empty_cwd(tmp_path, monkeypatch):
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_import_funml_loads_neither_torch_nor_the_experiments():
    code = "import sys, funml; print('torch' in sys.modules, 'funml.experiments' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    assert {"run", "run_all"} <= set(dir(funml))


def test_run_returns_the_outcome_with_live_figures_and_writes_nothing(empty_cwd):
    outcome = funml.run("tensors")
    assert outcome.status == "ok" and outcome.name == "tensors"
    assert outcome.result.metrics["norm_sq"] == 18.0
    assert outcome.figures and all(isinstance(f, Figure) for f in outcome.figures.values())
    assert list(empty_cwd.iterdir()) == []


def test_an_outcome_displays_as_its_report_section(empty_cwd):
    outcome = funml.run("linear")
    page = outcome._repr_html_()
    assert 'id="exp-linear"' in page
    assert outcome.experiment.question[:40] in page
    assert page.count('<img src="data:image/png;base64,') == len(outcome.figures) > 0
    assert "Measured against reference" in page
    text = repr(outcome)
    assert text.startswith("<linear: ok in ") and "\n" not in text


def test_run_all_with_out_writes_the_run_folder_and_indexes_by_name(tmp_path):
    run = funml.run_all(["tensors", "linear"], out=tmp_path / "run")
    assert run.report.is_file() and (run.path / "metrics.json").is_file()
    assert run["linear"].status == "ok"
    assert run["linear"].figures, "an API run keeps its figures live after saving them"
    html = run._repr_html_()
    assert html.count("<section") == 2 and "<html" not in html
    with pytest.raises(KeyError, match="'knn' was not run"):
        run["knn"]


def test_a_run_in_memory_refuses_jobs_with_one_sentence(empty_cwd):
    with pytest.raises(FunmlError, match="pass out= to use jobs"):
        funml.run_all(["tensors", "linear"], jobs=2)


def test_an_unknown_experiment_is_named(empty_cwd):
    with pytest.raises(FunmlError, match="Unknown experiment 'pcaa'"):
        funml.run("pcaa")


def test_train_returns_a_result_that_displays_its_curves_and_writes_nothing(empty_cwd):
    result = funml.train("logreg", dataset="digits", epochs=2, n_train=200, quiet=True)
    assert len(result.history) == 2 and result.settings.lr == 1e-3  # the recipe's
    text = repr(result)
    assert text.startswith("<TrainResult: logreg on digits, test accuracy ") and "\n" not in text
    page = result._repr_html_()
    assert page.count('<img src="data:image/png;base64,') == 1
    assert f"{result.test.accuracy:.2%}" in page and "<th>n_train</th><td>200</td>" in page
    assert list(empty_cwd.iterdir()) == []


def test_train_with_out_writes_the_run_folder_and_resumes_from_it(empty_cwd):
    # A step schedule: a cosine or onecycle run is planned over its epochs and cannot go on.
    first = funml.train(
        "logreg", dataset="digits", epochs=1, n_train=100, schedule="step", quiet=True, out="a"
    )
    assert {"job.json", "metrics.json", "model.pt", "curves.png"} <= {
        p.name for p in (empty_cwd / "a").iterdir()
    }
    more = funml.train("logreg", epochs=2, quiet=True, resume=first.out_dir / "model.pt")
    assert [r.epoch for r in more.history] == [1, 2]
    assert more.history[0] == first.history[0]
    assert sorted(p.name for p in empty_cwd.iterdir()) == ["a"]


@pytest.mark.slow
@pytest.mark.xdist_group("processes")  # as tests/test_nn_distributed.py
def test_train_in_two_processes_returns_their_model_and_writes_nothing(empty_cwd, capfd):
    from funml.data import load_dataset
    from funml.data.loader import split_tensors
    from funml.nn import evaluate

    common = {"dataset": "digits", "epochs": 2, "n_train": 200, "schedule": "step", "quiet": True}
    environment = dict(os.environ)
    result = funml.train("digits-cnn", nproc=2, **common)
    assert dict(os.environ) == environment  # what the workers needed is not left behind
    assert result.info["environment"]["processes"] == 2 and result.out_dir is None
    assert [r.epoch for r in result.history] == [1, 2]
    x, y = split_tensors(load_dataset("digits").test, result.normalization)
    here = evaluate(result.model, x, y)  # the workers' final weights, evaluated here
    assert here.correct == result.test.correct  # (their loss was summed in two shards)
    assert here.loss == pytest.approx(result.test.loss, rel=1e-6)
    assert list(empty_cwd.iterdir()) == []  # the workers' run folder was temporary
    assert "Wrote" not in capfd.readouterr().err
    kept = funml.train("digits-cnn", nproc=2, out="run", **common)
    assert kept.out_dir.resolve() == empty_cwd / "run" and (kept.out_dir / "model.pt").is_file()
    assert [r.test_correct for r in kept.history] == [r.test_correct for r in result.history]


def test_train_rejects_bad_settings_with_one_sentence(empty_cwd):
    with pytest.raises(FunmlError, match=r"^Unknown model 'resnet'; choose one of: "):
        funml.train("resnet", dataset="digits")
    with pytest.raises(FunmlError, match="--lr must be finite and a positive number, got -1"):
        funml.train("logreg", dataset="digits", lr=-1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: funml.summary(3), "model must be text, such as 'cnn', got 3."),
        (
            lambda: funml.summary("cnn", dataset=4),
            "dataset= must be text, such as 'digits', got 4.",
        ),
        (
            lambda: funml.run("knn", data_dir=3),
            "data_dir= must be a path (text or pathlib.Path), got 3.",
        ),
        (lambda: funml.run_all(out=5), "out= must be a path (text or pathlib.Path), got 5."),
        (
            lambda: funml.train("logreg", resume=4),
            "resume= must be a path (text or pathlib.Path), got 4.",
        ),
        (lambda: funml.train("logreg", lr="0.1"), "--lr must be a number, got '0.1'."),
        (
            lambda: funml.train("logreg", nproc="2"),
            "nproc= must be a whole number of processes, got '2'.",
        ),
        (lambda: funml.train("logreg", nproc=0), "--nproc must be at least 1, got 0."),
    ],
)
def test_arguments_of_the_wrong_kind_get_one_sentence(call, message, empty_cwd):
    with pytest.raises(FunmlError) as caught:
        call()
    assert str(caught.value) == message
    assert list(empty_cwd.iterdir()) == []


def test_summary_displays_its_table_as_html():
    s = funml.summary("cnn")
    assert repr(s) == str(s) and "Total params: " in repr(s)
    page = s._repr_html_()
    assert page.count("<tr>") == len(s.rows) + 1 and f"{s.total_params:,} parameters" in page
    assert funml.summary("digits-cnn", dataset="digits").input_shape == (1, 8, 8)


SOFTMAX = """
import numpy as np


def softmax(x):
    x -= x.max()  # changes the caller's array: the course's bug
    e = np.exp(x)
    return e / e.sum()


def J(W, b, y_true, x):
    return -float(np.sum(y_true * np.log(softmax(W @ x + b))))


def dJ(W, b, y_true, x):
    g = softmax(W @ x + b) - y_true
    return np.outer(g, x), g
"""


def test_check_grades_a_submission_and_names_the_bug(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(SOFTMAX)

    report = funml.check("softmax", path, timeout=60)
    assert not report.passed and 0 < report.score < report.max_score
    assert "input-mutated" in {c.bug for c in report.checks}


def test_funml_check_is_callable_also_once_the_subsystem_is_imported():
    # `import funml.check` makes the attribute the package, which must then be callable too
    # (funml/check/__init__.py makes it so).
    import funml.check as package

    assert callable(funml.check) and callable(package)
