"""``funml classify``: a mixed folder, the table, --json, --out, --model all, --weights, and
one-sentence errors with exit code 1 and no traceback."""

import csv
import dataclasses
import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from funml.cli import cli
from funml.zoo import registry
from funml.zoo.resnet import resnet18


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A corrupt JPEG, a PNG with alpha, a grayscale image, a 16-bit TIFF and a text file."""
    from sklearn.datasets import load_sample_images

    china, flower = (Image.fromarray(a).resize((240, 160)) for a in load_sample_images().images)
    folder = tmp_path_factory.mktemp("mixed")
    jpeg = io.BytesIO()
    china.save(jpeg, "JPEG")
    (folder / "corrupt.jpg").write_bytes(jpeg.getvalue()[:2000])  # cut off mid-scan
    rgba = flower.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(flower.size))
    rgba.save(folder / "alpha.png")
    china.convert("L").save(folder / "gray.png")
    deep = (np.asarray(flower.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    Image.fromarray(deep).save(folder / "deep.tif")  # mode I;16
    (folder / "notes.txt").write_text("not a photo\n")
    assert Image.open(folder / "deep.tif").mode == "I;16"
    return folder


def _run(*args):
    result = CliRunner().invoke(cli, ["classify", *map(str, args)])
    assert "Traceback" not in result.output
    return result


def test_mixed_folder_gives_three_classified_and_two_named_skips(mixed):
    result = _run(mixed, "--json", "--top", "3")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["image"] for r in records] == [
        str(mixed / "alpha.png"),
        str(mixed / "deep.tif"),
        str(mixed / "gray.png"),
    ]
    skipped = [line for line in result.stderr.splitlines() if line.startswith("Skipped file")]
    assert len(skipped) == 2
    assert "corrupt.jpg" in skipped[0] and "notes.txt" in skipped[1]


def test_json_has_the_documented_shape(mixed):
    records = json.loads(_run(mixed, "--json", "--top", "2").stdout)
    for r in records:
        assert set(r) == {"image", "model", "top"}
        assert r["model"] == "efficientnet_lite0"
        assert [set(t) for t in r["top"]] == [{"class", "index", "prob"}] * 2
        assert all(isinstance(t["index"], int) and 0 <= t["prob"] <= 1 for t in r["top"])


def test_table_lists_image_model_class_and_probability(mixed):
    result = _run(mixed)
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["image", "model", "top-1", "class", "prob"]
    assert len(lines) == 4
    for line, name in zip(lines[1:], ["alpha.png", "deep.tif", "gray.png"], strict=True):
        assert name in line and "efficientnet_lite0" in line
        assert 0 < float(line.split()[-1]) <= 1


def test_out_writes_figures_csv_and_settings_and_refuses_a_non_empty_folder(mixed, tmp_path):
    out = tmp_path / "results"
    result = _run(mixed, "--out", out, "--top", "2")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "comparison.png",
        "grid_efficientnet_lite0.png",
        "predictions.csv",
        "settings.json",
    ]
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert len(rows) == 3 * 2
    assert rows[0].keys() == {"image", "model", "rank", "class", "index", "prob"}
    settings = json.loads((out / "settings.json").read_text())
    assert settings["settings"]["top_k"] == 2
    assert set(settings["skipped_files"]) == {str(mixed / "corrupt.jpg"), str(mixed / "notes.txt")}
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = _run(mixed, "--out", out)
    assert again.exit_code == 1
    assert "already exists and is not empty" in again.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_out_may_be_an_existing_empty_folder(mixed, tmp_path):
    assert _run(mixed, "--out", tmp_path, "--top", "1").exit_code == 0
    assert (tmp_path / "predictions.csv").is_file()


def test_model_all_uses_what_is_available_and_says_what_was_skipped(mixed):
    result = _run(mixed, "--model", "all")
    assert result.exit_code == 0, result.output
    for name in ("alexnet", "vgg16", "resnet18"):
        assert f"Skipped model {name}: No weights for '{name}' were found" in result.stderr
    assert result.stdout.count("efficientnet_lite0") == 3


def test_explicit_weights_for_another_model(mixed, tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "my_resnet.pth"
    torch.save(resnet18().state_dict(), path)
    result = _run(mixed, "--model", "resnet18", "--weights", path, "--json")
    assert result.exit_code == 0, result.output
    assert {r["model"] for r in json.loads(result.stdout)} == {"resnet18"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "resnet"], "Error: Model 'resnet' is unknown; choose one of:"),
        (["--top", "0"], "Error: The number of top classes (--top) must be from 1 to 1000"),
        (["--model", "alexnet,resnet18", "--weights", "w.pth"], "name exactly one --model"),
        (["--model", "resnet18", "--weights", "missing.pth"], "does not exist"),
        (["--model", "vgg16"], "Error: Could not download 'vgg16-397923af.pth'"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_code_1(mixed, args, message, monkeypatch):
    # vgg16's download goes to a closed loopback port: no network is used.
    vgg = registry.MODELS["vgg16"]
    local = dataclasses.replace(vgg.weights[0], url="http://127.0.0.1:9/vgg16-397923af.pth")
    monkeypatch.setitem(registry.MODELS, "vgg16", dataclasses.replace(vgg, weights=(local,)))
    result = _run(mixed, *args)
    assert result.exit_code == 1
    assert message in result.output
    errors = [line for line in result.output.splitlines() if not line.startswith("Skipped file")]
    assert len(errors) == 1


@pytest.mark.parametrize("content", [None, "text"])
def test_empty_or_imageless_folder_is_refused(tmp_path, content):
    if content:
        (tmp_path / "readme.txt").write_text(content)
    result = _run(tmp_path)
    assert result.exit_code == 1
    assert ("is empty" if content is None else "holds no readable image") in result.output


def test_help_does_not_import_torch():
    code = (
        "import sys; from funml.cli import cli; "
        "cli(['classify', '--help'], standalone_mode=False); "
        "assert 'torch' not in sys.modules, 'classify --help imported torch'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "--model" in done.stdout and "--weights" in done.stdout
