"""Hardening, checkpoints (issue 16 §5): a damaged, edited or foreign checkpoint or weights
file gets one sentence before any use, with no traceback and no run folder left behind."""

import copy

import pytest
import torch
from click.testing import CliRunner

from funml.cli import cli
from funml.data import load_dataset
from funml.errors import FunmlError
from funml.nn import TrainSettings, load_checkpoint, train
from funml.zoo.registry import get_spec
from funml.zoo.weights import load_model, read_state_dict
from helpers import assert_one_sentence_error


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """The model.pt of one short run (logreg on 100 Digits images), and its contents."""
    out = tmp_path_factory.mktemp("ckpt") / "run"
    settings = TrainSettings(
        model="logreg", dataset="digits", epochs=1, n_train=100, threads=1, quiet=True
    )
    train(settings.resolved(), dataset=load_dataset("digits"), out_dir=out)
    path = out / "model.pt"
    return path, torch.load(path, weights_only=True)


def _edited(tmp_path, ckpt, edit):
    ckpt = copy.deepcopy(ckpt)
    edit(ckpt)
    path = tmp_path / "edited.pt"
    torch.save(ckpt, path)
    return path


def _weight(ckpt) -> str:
    return next(k for k in ckpt["model"] if k.endswith("weight"))


def _resume(path, out):
    return CliRunner().invoke(cli, ["train", "--resume", str(path), "--out", str(out), "-q"])


def test_flipped_bytes_are_found_by_the_zip_checksums(checkpoint, tmp_path):
    path, _ = checkpoint
    data = bytearray(path.read_bytes())
    # A byte in the middle of the weights' data, far from the zip's headers.
    data[data.index(b"data/0") + 200] ^= 0x40
    damaged = tmp_path / "model.pt"
    damaged.write_bytes(bytes(data))
    with pytest.raises(FunmlError, match="is damaged"):
        load_checkpoint(damaged)
    result = _resume(damaged, tmp_path / "new")
    assert_one_sentence_error(result, "is damaged")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda c: c["model"].pop(_weight(c)), "missing"),
        (lambda c: c["model"].update({_weight(c): torch.zeros(3, 3)}), "has shape (3, 3)"),
        (lambda c: c["model"].update({_weight(c): c["model"][_weight(c)].long()}), "int64"),
        (lambda c: c["settings"].update({"model": "mlp"}), "do not fit model 'mlp'"),
        (lambda c: c["rng"].update({"torch": torch.zeros(10, dtype=torch.uint8)}), "random"),
        (lambda c: c.pop("rng"), "'rng' is missing"),
        (lambda c: c.update({"history": [{"epoch": 1}]}), "history record 1 is damaged"),
        (lambda c: c.update({"history": []}), "one record for each"),
        (lambda c: c.update({"optimizer": {"state": {}, "param_groups": []}}), "for 0 weights"),
    ],
    ids=[
        "missing-key",
        "wrong-shape",
        "integer-weights",
        "another-model",
        "damaged-rng",
        "no-rng",
        "damaged-history",
        "short-history",
        "damaged-optimizer",
    ],
)
def test_edited_checkpoints_get_one_sentence(checkpoint, tmp_path, edit, needle):
    path = _edited(tmp_path, checkpoint[1], edit)
    with pytest.raises(FunmlError, match="is damaged or does not belong to its model") as e:
        load_checkpoint(path)
    assert needle in str(e.value)
    result = _resume(path, tmp_path / "new")
    assert_one_sentence_error(result, "does not belong to its model")
    assert not (tmp_path / "new").exists()


def test_an_optimizer_state_of_the_wrong_shape_is_refused(checkpoint, tmp_path):
    def edit(c):
        state = {i: dict(s) for i, s in c["optimizer"]["state"].items()}
        name = next(k for k, v in state[0].items() if torch.is_tensor(v) and v.numel() > 1)
        state[0][name] = torch.zeros(7, 7)
        c["optimizer"] = {**c["optimizer"], "state": state}

    path = _edited(tmp_path, checkpoint[1], edit)
    with pytest.raises(FunmlError, match=r"has shape \(7, 7\)"):
        load_checkpoint(path)


def test_an_intact_checkpoint_still_loads(checkpoint):
    assert load_checkpoint(checkpoint[0])["epoch"] == 1


@pytest.fixture(scope="module")
def resnet_state():
    return get_spec("resnet18").build().state_dict()


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda t: t.to("meta"), "is a meta tensor"),
        (lambda t: t.to_sparse(), "is a sparse_coo tensor"),
        (lambda t: t.to(torch.int32), "holds torch.int32"),
        (lambda t: t.to(torch.complex64), "is a complex tensor"),
    ],
    ids=["meta", "sparse", "integer", "complex"],
)
def test_weights_that_are_not_dense_numbers_get_one_sentence(
    resnet_state, tmp_path, change, needle
):
    state = dict(resnet_state)
    state["fc.weight"] = change(state["fc.weight"])
    path = tmp_path / "odd.pth"
    torch.save(state, path)
    with pytest.raises(FunmlError, match="do not fit ResNet18") as e:
        load_model("resnet18", path)
    assert needle in str(e.value)


def test_weights_with_flipped_bytes_get_one_sentence(resnet_state, tmp_path):
    path = tmp_path / "flipped.pth"
    torch.save({"fc.bias": resnet_state["fc.bias"]}, path)
    data = bytearray(path.read_bytes())
    data[data.index(b"data/0") + 100] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(FunmlError, match=r"Weights file .* is damaged"):
        read_state_dict(path)
