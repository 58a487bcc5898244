"""Hardening, flags outside TrainSettings and small ones (issue 16 §7 and §8): a graph
exponent of hundreds of digits, --at names as Python reads them, `run --seed` out of range,
and `classify --out` that is a file or a folder the results cannot replace: one sentence,
before any work."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from funml.autodiff.parse import ExpressionError, backprop
from funml.cli import cli
from funml.errors import FunmlError
from funml.experiments.settings import RunSettings
from helpers import assert_one_sentence_error


def _invoke(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("expression", ["x**" + "9" * 400, "x**-" + "9" * 400, "x*" + "9" * 400])
def test_a_number_of_400_digits_is_one_sentence(expression):
    result = _invoke("graph", expression, "--at", "x=1.5")
    assert_one_sentence_error(result, "is too large for a float")


def test_at_names_are_read_as_python_reads_identifiers():
    # Python's parser reads the ligature 'ﬁ' as 'fi' (NFKC); so does --at.
    result = _invoke("graph", "ﬁ*2", "--at", "ﬁ=3", "--json")
    assert result.exit_code == 0, result.output
    assert '"fi"' in result.output
    g = backprop("ﬁ*2", {"ﬁ": 3.0})
    assert g.nodes[g.output].value == 6.0
    result = _invoke("graph", "x*2", "--at", "ｘ=2", "--at", "x=3")
    assert_one_sentence_error(result, "gives 'x' twice")
    with pytest.raises(ExpressionError, match="names variable 'x' again"):
        backprop("x*2", {"ｘ": 2.0, "x": 3.0})


@pytest.mark.parametrize("seed", [-1, 2**32, 10**400])
def test_run_seed_outside_32_bits_is_one_sentence_and_makes_no_folder(seed, tmp_path):
    out = tmp_path / "run"
    result = _invoke("run", "tensors", "--seed", str(seed), "--out", str(out))
    assert_one_sentence_error(result, "--seed must be a whole number from 0 to 4294967295")
    assert not out.exists()
    with pytest.raises(FunmlError, match="--seed"):
        RunSettings(seed=seed).validate()


def test_run_seed_at_the_limits_is_accepted():
    assert RunSettings(seed=0).validate().seed == 0
    assert RunSettings(seed=2**32 - 1).validate().seed == 2**32 - 1


@pytest.fixture
def no_classifying(monkeypatch):
    """Fail the test if a photo gets classified: the refusals must come first."""
    import funml.zoo.run

    def refuse(settings):
        raise AssertionError("classified before checking --out")

    monkeypatch.setattr(funml.zoo.run, "run_classify", refuse)


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    return folder


def test_classify_out_dot_is_refused_before_classifying(
    photos, tmp_path, monkeypatch, no_classifying
):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)  # even an empty current folder cannot be replaced
    for out in (".", "..", str(Path.cwd())):
        result = _invoke("classify", str(photos), "--out", out)
        assert_one_sentence_error(result, "is the current folder or holds it")


def test_classify_out_at_the_photo_folder_is_refused(photos, no_classifying):
    result = _invoke("classify", str(photos), "--out", str(photos))
    assert_one_sentence_error(result, "is the photo folder or holds it")


def test_classify_out_file_says_it_is_a_file(photos, tmp_path, no_classifying):
    file = tmp_path / "results.txt"
    file.write_text("not a folder")
    result = _invoke("classify", str(photos), "--out", str(file))
    assert_one_sentence_error(result, "is a file")
    assert file.read_text() == "not a folder"
