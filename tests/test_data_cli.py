"""`funml data info/fetch/show`, the registry of names, and the class gallery."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure

from conftest import FASHION_DIR
from funml.cli import cli
from funml.data import describe, load_dataset
from funml.data.plots import class_gallery
from funml.errors import FunmlError
from helpers import assert_one_sentence_error

CLI_MAIN = "from funml.cli import main; main()"


def _run(*args):
    return CliRunner().invoke(cli, ["data", *args])


def test_registry_names_and_unknown_name():
    ds = load_dataset("Digits")
    assert (len(ds.train), len(ds.test), ds.pixel_max) == (500, 1297, 16)
    with pytest.raises(FunmlError, match=r"'mnsit' is unknown \(did you mean 'mnist'\?\)"):
        load_dataset("mnsit")
    with pytest.raises(FunmlError, match="choose one of: digits, mnist, fashion-mnist, csv:PATH"):
        load_dataset("cifar")


def test_describe_counts_classes_and_pixels():
    s = describe(load_dataset("digits"))
    assert s["dataset"] == "digits" and s["image_shape"] == [8, 8]
    assert s["train"]["n"] == 500 and sum(s["train"]["label_counts"].values()) == 500
    assert s["test"]["pixel_range"] == [0, 16] and s["pixel_max"] == 16


def test_class_gallery_new_figure_and_given_axes():
    ds = load_dataset("digits")
    fig = class_gallery(ds)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == [str(d) for d in range(10)]
    tiled = ax.images[0].get_array()
    # Tile 3 holds the first train image of class 3, enlarged 4x (8x8 -> 32x32).
    first3 = ds.train.images[np.flatnonzero(ds.train.labels == 3)[0]]
    band, pad = round(0.3 * 32), 2
    tile = tiled[band : band + 32, 3 * (32 + pad) : 3 * (32 + pad) + 32]
    np.testing.assert_array_equal(tile[::4, ::4], first3)
    other = Figure()
    ax2 = other.add_subplot()
    assert class_gallery(ds, ax=ax2, split="test") is other


def test_info_text_and_json():
    result = _run("info", "digits")
    assert result.exit_code == 0, result.output
    assert "Train:       500 images" in result.output and "1,297" in result.output
    result = _run("info", "digits", "--json")
    summary = json.loads(result.output)
    assert summary["train"]["n"] == 500 and summary["test"]["n"] == 1297
    assert summary["classes"] == [str(d) for d in range(10)]
    assert {"dataset", "image_shape", "source"} <= summary.keys()


def test_info_errors_are_one_sentence(tmp_path):
    assert_one_sentence_error(_run("info", "nosuch"), "Error: Data set 'nosuch' is unknown")
    result = _run("info", "mnist", "--data-dir", str(tmp_path), "--no-download")
    assert_one_sentence_error(
        result, "missing train-images-idx3-ubyte.gz", f"'{tmp_path / 'mnist'}'"
    )
    (tmp_path / "bad.csv").write_text("1,2,3\n")
    assert_one_sentence_error(_run("info", f"csv:{tmp_path / 'bad.csv'}"), "line 1 has 3 fields")


def test_show_writes_a_figure_and_never_overwrites(tmp_path):
    out = tmp_path / "figs" / "digits.png"
    result = _run("show", "digits", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")
    before = out.read_bytes()
    assert_one_sentence_error(_run("show", "digits", "--out", str(out)), "already exists")
    assert out.read_bytes() == before
    assert _run("show", "digits", "--out", str(out), "--force").exit_code == 0


def test_show_rejects_unwritable_and_unknown_formats(tmp_path):
    (tmp_path / "afile").write_text("x")
    result = _run("show", "digits", "--out", str(tmp_path / "afile" / "x.png"))
    assert_one_sentence_error(result, "Error: Cannot")
    result = _run("show", "digits", "--out", str(tmp_path / "x.xyz"))
    assert_one_sentence_error(result, "Cannot save a figure as '.xyz'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_fetch_local_data_sets_have_nothing_to_fetch():
    result = _run("fetch", "digits")
    assert result.exit_code == 0 and "nothing to download" in result.output


@pytest.mark.skipif(
    not (FASHION_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason=f"Fashion-MNIST is not installed in {FASHION_DIR}",
)
def test_fetch_verifies_files_already_present():
    result = _run("fetch", "fashion-mnist")
    assert result.exit_code == 0, result.output
    assert result.output.count("ok  ") == 4 and "match their known hashes" in result.output


def test_real_process_prints_no_traceback(tmp_path):
    # The installed console script when there is one (as a user runs it), else its target.
    script = Path(sys.executable).with_name("funml")
    command = [str(script)] if script.is_file() else [sys.executable, "-c", CLI_MAIN]
    proc = subprocess.run(
        [*command, "data", "info", "mnsit"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: Data set 'mnsit' is unknown")
    assert "Traceback" not in proc.stderr + proc.stdout


def test_info_on_a_photo_folder_warns_about_skipped_files(tmp_path):
    from PIL import Image

    (tmp_path / "cats").mkdir()
    for i in range(3):
        Image.new("RGB", (30, 20), (i, 2 * i, 3 * i)).save(tmp_path / "cats" / f"{i}.png")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    result = _run("info", f"folder:{tmp_path}", "--json")
    assert result.exit_code == 0, result.output
    assert f"Warning: Skipped '{tmp_path / 'cats' / 'notes.txt'}'" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["classes"] == ["cats"] and summary["train"]["n"] + summary["test"]["n"] == 3


def test_digits_records_the_digest_of_the_file_it_read():
    (name, digest), *_ = load_dataset("digits").checksums.items()
    assert name.endswith("digits.csv.gz") and len(digest) == 64
