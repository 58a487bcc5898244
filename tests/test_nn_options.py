"""The trainer's options: precision, weight decay, label smoothing, augmentation, schedules,
and the constraints every setting is checked against."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from funml.data import Split, load_dataset
from funml.data.dataset import ImageDataset
from funml.errors import FunmlError
from funml.nn import TrainSettings, load_checkpoint, settings_from_checkpoint, train
from funml.nn import precision as precision_module
from funml.nn.augment import augment_batch, check_augment, shift_for
from helpers import small_training

needs_bf16 = pytest.mark.skipif(
    not precision_module.bf16_supported(torch.device("cpu")), reason="no bfloat16 on this CPU"
)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


# --- precision ---------------------------------------------------------------------------


@needs_bf16
def test_bf16_training_lowers_the_loss(digits):
    result = train(small_training(precision="bf16", epochs=4), dataset=digits)
    losses = [r.train_loss for r in result.history]
    assert losses[-1] < losses[0] and result.info["environment"]["precision"] == "bf16"


@needs_bf16
def test_a_bf16_checkpoint_resumes_exactly(digits, tmp_path):
    whole = train(small_training(precision="bf16"), dataset=digits)
    train(small_training(precision="bf16", epochs=2), dataset=digits, out_dir=tmp_path / "run")
    ckpt = tmp_path / "run" / "model.pt"
    saved = settings_from_checkpoint(ckpt)
    assert saved.precision == "bf16"
    resumed = train(dataclasses.replace(saved, epochs=3), dataset=digits, resume=ckpt)
    assert [r.test_accuracy for r in resumed.history] == [r.test_accuracy for r in whole.history]
    assert resumed.test == whole.test


def test_a_cpu_without_bf16_gets_one_sentence(digits, monkeypatch):
    monkeypatch.setattr(precision_module, "bf16_supported", lambda device: False)
    with pytest.raises(FunmlError, match=r"^This CPU has no native bfloat16 support .*fp32\.$"):
        train(small_training(precision="bf16"), dataset=digits)


def test_the_lab_refuses_bf16_where_unsupported(monkeypatch):
    from funml.experiments.settings import RunSettings

    monkeypatch.setattr(precision_module, "bf16_supported", lambda device: False)
    with pytest.raises(FunmlError, match="no native bfloat16 support"):
        RunSettings(precision="bf16").validate()
    with pytest.raises(FunmlError, match="--recipe 'best' is unknown"):
        RunSettings(recipe="best").validate()
    assert RunSettings().recipe == "course" and RunSettings().precision == "fp32"
    with pytest.raises(FunmlError, match=r"^--quick must be true or false, got 'yes'\.$"):
        RunSettings(quick="yes").validate()


# --- augmentation ------------------------------------------------------------------------


def test_shifts_move_whole_images_and_fill_the_border():
    torch.manual_seed(0)
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).reshape(2, 3, 6, 6)
    out = augment_batch(x, shift=1, flip=False, fill=-9.0)
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), value=-9.0)
    for b in range(2):  # each image is one 6x6 window of its padded self, all channels alike
        windows = [padded[b, :, i : i + 6, j : j + 6] for i in range(3) for j in range(3)]
        assert any(torch.equal(out[b], w) for w in windows)


def test_flips_mirror_some_images_and_leave_the_rest():
    torch.manual_seed(0)
    x = torch.randn(64, 1, 5, 5)
    out = augment_batch(x, shift=0, flip=True)
    mirrored = [torch.equal(o, i.flip(-1)) for o, i in zip(out, x, strict=True)]
    kept = [torch.equal(o, i) for o, i in zip(out, x, strict=True)]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    assert 0 < sum(mirrored) < 64


def test_digits_are_never_flipped(digits):
    assert shift_for((28, 28)) == 2 and shift_for((8, 8)) == 1
    for name in ("digits", "mnist", "digits-28x28", "mnist-test-halves"):
        with pytest.raises(FunmlError, match="flips turn digits into other shapes"):
            check_augment("shift-flip", name)
    check_augment("shift-flip", "fashion-mnist")
    with pytest.raises(FunmlError, match="flips turn digits"):
        TrainSettings("cnn", "mnist", augment="shift-flip")
    fake = dataclasses.replace(digits, name="csv:x")  # allowed by name, refused by data
    train(small_training(augment="shift-flip", epochs=1, dataset="csv:x"), dataset=fake)


def test_augmented_training_is_seeded_and_resumes_exactly(digits, tmp_path):
    s = small_training(augment="shift")
    a, b = train(s, dataset=digits), train(s, dataset=digits)
    assert a.test == b.test
    train(dataclasses.replace(s, epochs=2), dataset=digits, out_dir=tmp_path / "run")
    resumed = train(s, dataset=digits, resume=tmp_path / "run" / "model.pt")
    assert resumed.test == a.test


# --- optimizers, losses and schedules -----------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"optimizer": "adamw", "weight_decay": 0.05},
        {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4},
        {"label_smoothing": 0.1},
        {"schedule": "cosine"},
        {"schedule": "onecycle", "optimizer": "adamw"},
        {"schedule": "onecycle", "optimizer": "sgd", "lr": 0.3, "momentum": 0.0},
    ],
)
def test_each_option_trains(digits, changes):
    result = train(small_training(**changes), dataset=digits)
    assert result.history[-1].train_loss < result.history[0].train_loss
    assert result.test.accuracy > 0.5


def test_per_batch_schedules_end_near_zero(digits):
    s = small_training(schedule="cosine", epochs=2)
    result = train(s, dataset=digits)
    assert result.history[0].lr == pytest.approx(3e-3) and result.history[1].lr < 3e-3
    onecycle = train(small_training(schedule="onecycle", epochs=3), dataset=digits)
    lrs = [r.lr for r in onecycle.history]  # warms up from lr/25, peaks, anneals
    assert lrs[0] < lrs[1] and lrs[0] == pytest.approx(3e-3 / 25)


def test_a_planned_schedule_cannot_be_stretched_on_resume(digits, tmp_path):
    train(small_training(schedule="cosine", epochs=1), dataset=digits, out_dir=tmp_path / "run")
    ckpt = tmp_path / "run" / "model.pt"
    with pytest.raises(FunmlError, match="cosine schedule of this run was planned over 1"):
        train(small_training(schedule="cosine", epochs=3), dataset=digits, resume=ckpt)


def test_a_checkpoint_from_before_the_options_resumes(digits, tmp_path):
    train(small_training(epochs=1), dataset=digits, out_dir=tmp_path / "run")
    ckpt = load_checkpoint(tmp_path / "run" / "model.pt")
    for name in ("weight_decay", "label_smoothing", "schedule", "augment", "precision", "recipe"):
        del ckpt["settings"][name]
    saved = settings_from_checkpoint(ckpt)
    assert (saved.weight_decay, saved.schedule, saved.augment, saved.precision) == (
        0.0,
        "step",
        "none",
        "fp32",
    )
    resumed = train(dataclasses.replace(saved, epochs=2), dataset=digits, resume=ckpt)
    assert len(resumed.history) == 2


# --- the constraints of the settings ------------------------------------------------------


@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"seed": -1}, r"--seed must be in 0\.\.4294967295, got -1"),
        ({"seed": 2**32}, "--seed must be in"),
        ({"threads": 0}, "--threads must be at least 1, got 0"),
        ({"momentum": -0.1}, "--momentum must be finite and at least 0"),
        ({"momentum": math.inf}, "--momentum must be finite"),
        ({"lr": 0.0}, "--lr must be finite and a positive number"),
        ({"lr": math.nan}, "--lr must be finite"),
        ({"lr": math.inf}, "--lr must be finite"),
        ({"gamma": 0.0}, r"--gamma must be finite and in \(0, 1\]"),
        ({"gamma": math.nan}, "--gamma must be finite"),
        ({"gamma": 1.5}, "--gamma must be finite"),
        ({"weight_decay": math.nan}, "--weight-decay must be finite and at least 0"),
        ({"label_smoothing": 1.0}, r"--label-smoothing must be finite and in \[0, 1\)"),
        ({"schedule": "linear"}, "--schedule 'linear' is unknown; choose one of: step"),
        ({"augment": "rotate"}, "--augment 'rotate' is unknown; choose one of: none"),
        ({"precision": "fp16"}, "--precision 'fp16' is unknown; choose one of: fp32, bf16"),
        ({"optimizer": "rmsprop"}, "--optimizer 'rmsprop' is unknown"),
        ({"device": "meta"}, "Device 'meta' cannot train here; use auto, cpu or cuda"),
        ({"device": "mps"}, "Device 'mps' cannot train here"),
    ],
)
def test_bad_settings_are_refused_in_one_sentence(changes, needle):
    with pytest.raises(FunmlError, match=needle) as e:
        TrainSettings("cnn", **changes)
    assert str(e.value).count(". ") == 0 and str(e.value).endswith(".")


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"lr": "0.1"}, "--lr must be a number, got '0.1'."),
        ({"epochs": "3"}, "--epochs must be a whole number, got '3'."),
        ({"batch_size": 2.5}, "--batch-size must be a whole number, got 2.5."),
        ({"seed": True}, "--seed must be a whole number, got True."),
        ({"normalize": "yes"}, "--normalize must be true or false, got 'yes'."),
        ({"optimizer": 3}, "--optimizer must be text, got 3."),
    ],
)
def test_values_of_the_wrong_kind_are_refused_in_one_sentence(changes, needle):
    # From a notebook (funml.train(lr="0.1")) or an edited job.json, not from the flags.
    with pytest.raises(FunmlError) as caught:
        TrainSettings("cnn", **changes)
    assert str(caught.value) == needle


def test_numpy_numbers_are_numbers():
    s = TrainSettings("cnn", epochs=np.int64(3), lr=np.float32(0.5), gamma=np.float64(0.9))
    assert s.epochs == 3 and s.lr == pytest.approx(0.5)


def test_good_edges_are_accepted():
    TrainSettings("cnn", seed=0, gamma=1.0, momentum=0.0, weight_decay=0.0, label_smoothing=0.0)
    TrainSettings("cnn", seed=2**32 - 1, device="cpu")


def test_cuda_without_cuda_and_empty_splits_are_refused(digits, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(FunmlError, match="CUDA is not available; use cpu"):
        train(small_training(device="cuda"), dataset=digits)
    empty = ImageDataset(
        "empty-test",
        digits.train,
        Split(digits.test.images[:0], digits.test.labels[:0]),
        classes=digits.classes,
        pixel_max=digits.pixel_max,
    )
    with pytest.raises(FunmlError, match="'empty-test' has an empty test split"):
        train(small_training(device="cpu"), dataset=empty)


def test_bf16_is_the_default_only_where_the_cpu_computes_in_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(precision_module, "bf16_supported", lambda device: True)
    assert TrainSettings("cnn").resolved().precision == "bf16"
    assert TrainSettings("cnn", precision="fp32").resolved().precision == "fp32"
    monkeypatch.setattr(precision_module, "bf16_supported", lambda device: False)
    assert TrainSettings("cnn").resolved().precision == "fp32"
    assert TrainSettings("cnn", device="cuda").resolved().precision == "fp32"


def test_gamma_belongs_to_the_step_schedule():
    with pytest.raises(FunmlError, match="--gamma sets the step schedule's decay, but this run's"):
        TrainSettings("cnn", gamma=0.7).resolved()  # the tuned cnn runs onecycle
    assert TrainSettings("cnn", gamma=0.7, schedule="step").resolved().gamma == 0.7
    # A recipe's decay is dropped, not kept unused, when another schedule is asked for.
    assert TrainSettings("mlp2", recipe="course", schedule="cosine").resolved().gamma is None
