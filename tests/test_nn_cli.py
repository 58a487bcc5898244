"""`funml train`, `funml evaluate` and `funml summary`: outputs, resume, and one-sentence errors."""

import json

import pytest
import torch
from click.testing import CliRunner

from funml.cli import cli
from helpers import assert_one_sentence_error

TRAIN = [
    "train",
    "digits-cnn",
    "-d",
    "digits",
    "--n-train",
    "100",
    "--batch-size",
    "25",
    "--lr",
    "0.003",
    "--threads",
    "1",
    "--schedule",
    "step",  # a resumed run may then train for more epochs than planned
    "-q",
]


def _invoke(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    result = _invoke(*TRAIN, "--epochs", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out, result


def test_train_writes_metrics_checkpoint_and_figures(trained):
    out, result = trained
    metrics = json.loads((out / "metrics.json").read_text())
    assert f"test accuracy {metrics['test_accuracy']:.2%}" in result.output
    assert f"({metrics['history'][-1]['test_correct']:,}/1,297) after 2 epochs" in result.output
    assert metrics["settings"]["model"] == "digits-cnn" and metrics["settings"]["n_train"] == 100
    assert len(metrics["history"]) == 2
    assert {
        "model.pt",
        "metrics.json",
        "curves.png",
        "confusion.png",
        "kernels.png",
        "misclassified.png",
    } <= {p.name for p in out.iterdir()}


def test_evaluate_prints_the_full_test_accuracy(trained):
    out, _ = trained
    metrics = json.loads((out / "metrics.json").read_text())
    result = _invoke("evaluate", str(out / "model.pt"), "--dataset", "digits", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["count"] == 1297
    assert report["accuracy"] == metrics["test_accuracy"]
    assert report["epoch"] == 2 and report["model"] == "digits-cnn"
    text = _invoke("evaluate", str(out / "model.pt"))  # the data set it was trained on
    assert text.exit_code == 0 and f"{metrics['test_accuracy']:.2%}" in text.output


def test_resume_continues_in_the_run_folder(trained, tmp_path):
    out, _ = trained
    bad = _invoke("train", "--resume", str(out / "model.pt"), "--lr", "0.1")
    assert_one_sentence_error(bad, "--lr 0.1 differs from the checkpoint's 0.003")
    # Into a new folder, so the module's run stays as it was for the other tests.
    result = _invoke(
        "train",
        "--resume",
        str(out / "model.pt"),
        "--epochs",
        "3",
        "-q",
        "--out",
        str(tmp_path / "more"),
    )
    assert result.exit_code == 0, result.output
    assert "after 3 epochs" in result.output
    ckpt = torch.load(tmp_path / "more" / "model.pt", weights_only=True)
    assert ckpt["epoch"] == 3 and ckpt["settings"]["lr"] == 0.003


def test_default_run_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _invoke(*TRAIN, "--epochs", "1").exit_code == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.startswith("train-digits-cnn-digits-")
    assert (run / "model.pt").is_file() and (run / "metrics.json").is_file()


def test_summary():
    result = _invoke("summary", "cnn")
    assert result.exit_code == 0
    assert "Total params: 62,346" in result.output and "[-1, 64, 4, 4]" in result.output
    result = _invoke("summary", "digits-cnn", "--dataset", "digits")
    assert "Total params: 9,930" in result.output


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["train", "resnet", "-d", "digits"], ["Unknown model 'resnet'", "cnn-small"]),
        (["train", "cnn", "-d", "digits"], ["Model 'cnn' does not fit data set 'digits'"]),
        (["train", "-d", "digits"], ["Name a MODEL"]),
        (["summary", "cnn", "-d", "digits"], ["16x16"]),
        (["evaluate", "missing.pt"], ["does not exist"]),
        (["evaluate", "/dev/null"], ["'/dev/null' is not a file"]),
        (["train", "digits-cnn", "-d", "digits", "--lr", "nan"], ["--lr must be finite"]),
        (["train", "digits-cnn", "-d", "digits", "--seed", "-3"], ["--seed must be in 0.."]),
        (["train", "digits-cnn", "-d", "digits", "--threads", "0"], ["--threads must be at"]),
        (["train", "digits-cnn", "-d", "digits", "--momentum", "inf"], ["--momentum must be"]),
        (["train", "digits-cnn", "-d", "digits", "--gamma", "0"], ["--gamma must be finite"]),
        (["train", "digits-cnn", "-d", "digits", "--device", "meta"], ["cannot train here"]),
        (["train", "digits-cnn", "-d", "digits", "--augment", "flip"], ["flips turn digits"]),
    ],
)
def test_bad_input_is_one_sentence(args, needles, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_one_sentence_error(_invoke(*args), *needles)
    assert not (tmp_path / "runs").exists()  # nothing made for a run that could not start


def test_refuses_a_non_empty_out_and_a_corrupt_checkpoint(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert_one_sentence_error(_invoke(*TRAIN, "--out", str(out)), "already exists and is not empty")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    assert_one_sentence_error(
        _invoke("evaluate", str(tmp_path / "bad.pt")), "not a PyTorch checkpoint"
    )
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    assert_one_sentence_error(
        _invoke("evaluate", str(tmp_path / "foreign.pt"), "-d", "digits"),
        "not a funml training checkpoint",
    )


def test_flags_not_given_come_from_the_models_recipe(tmp_path):
    from funml.nn import recipe

    out = tmp_path / "run"
    args = ["train", "digits-cnn", "-d", "digits", "--epochs", "1", "--n-train", "64", "-q"]
    result = _invoke(*args, "--out", str(out))
    assert result.exit_code == 0, result.output
    job = json.loads((out / "job.json").read_text())
    r = recipe("digits-cnn")
    assert (job["settings"]["batch_size"], job["settings"]["lr"]) == (r.batch_size, r.lr)
    assert job["settings"]["epochs"] == 1 and job["out_dir"] == str(out)
    assert job["settings"] == json.loads((out / "metrics.json").read_text())["settings"]


def test_the_job_option_is_for_torchrun_workers(trained, tmp_path):
    out, _ = trained
    assert_one_sentence_error(_invoke("train", "--job", str(out / "job.json")), "under torchrun")


def test_recipe_and_precision_flags(tmp_path, monkeypatch):
    from funml.nn import precision, recipe

    out = tmp_path / "run"
    args = ["train", "digits-cnn", "-d", "digits", "--epochs", "1", "--n-train", "64", "-q"]
    result = _invoke(*args, "--recipe", "course", "--out", str(out))
    assert result.exit_code == 0, result.output
    settings = json.loads((out / "job.json").read_text())["settings"]
    r = recipe("digits-cnn", "course")
    assert (settings["recipe"], settings["batch_size"], settings["optimizer"]) == (
        "course",
        r.batch_size,
        r.optimizer,
    )
    assert settings["precision"] == precision.default_precision("auto")
    monkeypatch.setattr(precision, "bf16_supported", lambda device: False)
    monkeypatch.chdir(tmp_path)
    assert_one_sentence_error(
        _invoke(*args, "--precision", "bf16"), "no native bfloat16 support", "fp32"
    )
    assert not (tmp_path / "runs").exists()
