"""The training loop: it learns, is reproducible, resumes exactly and evaluates honestly."""

import dataclasses
import json
import shlex
import signal
import subprocess
import sys
import time

import pytest
import torch
import torch.nn.functional as F

from funml.data import Split, load_dataset
from funml.data.loader import split_tensors
from funml.errors import FunmlError
from funml.nn import (
    EpochRecord,
    TrainingInterrupted,
    TrainSettings,
    evaluate,
    evaluate_checkpoint,
    load_checkpoint,
    predict,
    recipe,
    settings_from_checkpoint,
    threads_for,
    train,
)
from helpers import small_training

TIMING = ("train_time", "epoch_time", "images_per_second")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def _untimed(history):
    """The records (or their dicts) without the timings, which vary from run to run."""
    rows = [r if isinstance(r, dict) else r.to_dict() for r in history]
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


def _same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_digits_cnn_reaches_90_percent_in_a_few_epochs(digits):
    result = train(small_training(epochs=4, batch_size=16, n_train=None), dataset=digits)
    assert len(result.history) == 4
    assert result.test.count == len(digits.test) == 1297
    assert result.test.accuracy >= 0.90
    assert result.history[-1].examples_seen == 4 * 500


def test_same_seed_gives_identical_history(digits):
    a = train(small_training(), dataset=digits)
    b = train(small_training(), dataset=digits)
    assert _untimed(a.history) == _untimed(b.history)
    assert _same_weights(a.model, b.model)
    c = train(small_training(seed=1), dataset=digits)
    assert _untimed(c.history) != _untimed(a.history)


def test_sgd_with_step_decay(digits):
    result = train(
        small_training(optimizer="sgd", lr=0.05, momentum=0.9, gamma=0.5), dataset=digits
    )
    assert [r.lr for r in result.history] == pytest.approx([0.05, 0.025, 0.0125])
    assert result.history[-1].train_loss < result.history[0].train_loss


def _interrupt_after_epoch(k):
    def on_epoch_end(record):
        if record.epoch == k:
            raise KeyboardInterrupt

    return on_epoch_end, None


def _interrupt_mid_epoch(monkeypatch, training_step):
    # Ctrl-C inside the training pass of a later epoch: the n-th loss computed with gradients.
    calls = {"n": 0}
    real = F.cross_entropy

    def cross_entropy(*args, **kwargs):
        if torch.is_grad_enabled():
            calls["n"] += 1
            if calls["n"] == training_step:
                raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(F, "cross_entropy", cross_entropy)
    return None, lambda: monkeypatch.setattr(F, "cross_entropy", real)


@pytest.mark.parametrize("where", ["after epoch 2", "in epoch 3"])
def test_resume_after_interruption_equals_an_uninterrupted_run(
    digits, tmp_path, monkeypatch, where
):
    settings = small_training(epochs=4, gamma=0.7)  # Adam state and a scheduler to carry over
    full = train(settings, dataset=digits)

    out = tmp_path / "run"
    if where == "after epoch 2":
        callback, restore = _interrupt_after_epoch(2)
    else:
        callback, restore = _interrupt_mid_epoch(monkeypatch, training_step=7 * 2 + 3)
    with pytest.raises(TrainingInterrupted, match=r"resume with: funml train --resume .*model\.pt"):
        train(settings, dataset=digits, out_dir=out, on_epoch_end=callback)
    if restore:
        restore()
    assert load_checkpoint(out / "model.pt")["epoch"] == 2
    assert not list(out.glob(".*part"))  # no temporary file left behind
    # metrics.json for what finished: the two checkpointed epochs.
    finished = json.loads((out / "metrics.json").read_text())
    assert [h["epoch"] for h in finished["history"]] == [1, 2]
    assert finished["test_accuracy"] == full.history[1].test_accuracy

    resumed = train(settings, dataset=digits, out_dir=out, resume=out / "model.pt")
    assert _same_weights(resumed.model, full.model)
    assert _untimed(resumed.history) == _untimed(full.history)
    assert load_checkpoint(out / "model.pt")["epoch"] == 4
    assert json.loads((out / "metrics.json").read_text())["test_accuracy"] == full.test.accuracy


@pytest.mark.slow
def test_resume_after_the_process_is_killed(tmp_path, digits):
    """A real kill: SIGKILL `funml train` once it has checkpointed, then resume from disk."""
    out = tmp_path / "run"
    args = shlex.split(
        "digits-cnn -d digits --n-train 64 --batch-size 32 --lr 0.003 --threads 1 -q "
        "--optimizer adam --schedule step --weight-decay 0 --label-smoothing 0 --augment none "
        "--precision fp32"
    )
    cmd = [sys.executable, "-m", "funml", "train", *args, "--epochs", "100000", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (out / "model.pt").exists() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.1)
        time.sleep(0.2)  # into a later epoch: mid-step or mid-write
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    done = load_checkpoint(out / "model.pt")["epoch"]
    assert done >= 1

    saved = settings_from_checkpoint(out / "model.pt")
    assert saved == small_training(n_train=64, epochs=100000)
    more = dataclasses.replace(saved, epochs=done + 2)
    resumed = train(more, dataset=digits, out_dir=out, resume=out / "model.pt")
    assert load_checkpoint(out / "model.pt")["epoch"] == done + 2
    reference = train(more, dataset=digits)
    assert _same_weights(resumed.model, reference.model)
    assert _untimed(resumed.history) == _untimed(reference.history)


def test_evaluation_never_changes_the_weights(digits, tmp_path):
    result = train(small_training(epochs=1), dataset=digits, out_dir=tmp_path)
    model = result.model
    model.train()
    model.zero_grad(set_to_none=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = split_tensors(digits.test, result.normalization)
    first = evaluate(model, x, y)
    predict(model, x)
    second = evaluate(model, x, y)
    evaluate_checkpoint(tmp_path / "model.pt", digits)
    assert first == second
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())  # no backward pass ran
    assert model.training  # evaluation restores the mode it found


def test_accuracy_is_counted_over_every_test_sample(digits, tmp_path):
    result = train(small_training(epochs=1, eval_batch_size=1000), dataset=digits, out_dir=tmp_path)
    x, y = split_tensors(digits.test, result.normalization)
    with torch.no_grad():
        correct = (result.model.eval()(x).argmax(dim=1) == y).sum().item()  # one batch of all
    record = result.history[-1]
    assert record.test_count == len(digits.test) == 1297  # not a multiple of the batch
    assert record.test_correct == correct
    assert record.test_accuracy == correct / 1297
    for batch_size in (1, 7, 5000):
        assert evaluate(result.model, x, y, batch_size=batch_size).correct == correct
    from_disk = evaluate_checkpoint(tmp_path / "model.pt", digits)
    assert (from_disk["correct"], from_disk["count"]) == (correct, 1297)


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):  # unpickling would create the marker file
        return (open, (self.marker, "w"))


def test_a_checkpoint_with_a_pickled_object_is_refused(digits, tmp_path):
    train(small_training(epochs=1), dataset=digits, out_dir=tmp_path / "run")
    ckpt = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    marker = tmp_path / "pwned"
    ckpt["settings"]["note"] = _Payload(str(marker))
    torch.save(ckpt, tmp_path / "evil.pt")
    with pytest.raises(FunmlError, match="holds pickled Python objects"):
        load_checkpoint(tmp_path / "evil.pt")
    with pytest.raises(FunmlError, match="holds pickled Python objects"):
        evaluate_checkpoint(tmp_path / "evil.pt", digits)
    with pytest.raises(FunmlError, match="holds pickled Python objects"):
        train(small_training(), dataset=digits, resume=tmp_path / "evil.pt")
    assert not marker.exists()


def test_checkpoint_holds_plain_data_for_the_safe_loader(digits, tmp_path):
    result = train(small_training(epochs=2, gamma=0.5), dataset=digits, out_dir=tmp_path)
    ckpt = torch.load(tmp_path / "model.pt", weights_only=True)  # must not raise
    assert ckpt["epoch"] == 2
    assert ckpt["settings"] == dataclasses.asdict(result.settings)
    assert _untimed(ckpt["history"]) == _untimed(result.history)
    assert set(ckpt["optimizer"]) == {"state", "param_groups"}
    assert ckpt["scheduler"]["last_epoch"] == 2
    assert isinstance(ckpt["rng"]["torch"], torch.Tensor)
    assert ckpt["data"]["normalization"]["mean"] == result.normalization.mean
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["settings"]["model"] == "digits-cnn"
    assert len(metrics["history"]) == 2
    assert metrics["test_accuracy"] == result.test.accuracy == result.history[-1].test_accuracy
    assert _untimed(metrics["history"]) == _untimed(result.history)


def test_corrupt_and_foreign_checkpoints_are_refused(digits, tmp_path):
    train(small_training(epochs=1), dataset=digits, out_dir=tmp_path / "run")
    data = (tmp_path / "run" / "model.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(FunmlError, match="corrupt"):
        load_checkpoint(tmp_path / "cut.pt")
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "foreign.pt")
    with pytest.raises(FunmlError, match="not a funml training checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    with pytest.raises(FunmlError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    # Right format, wrong data: 16x16 images for a model trained on 8x8.
    big = Split(digits.test.images.repeat(2, axis=1).repeat(2, axis=2), digits.test.labels)
    wrong = dataclasses.replace(digits, name="big", train=big, test=big)
    with pytest.raises(FunmlError, match="trained on 8x8 images"):
        evaluate_checkpoint(tmp_path / "run" / "model.pt", wrong)


def test_bad_settings_are_one_sentence(digits):
    with pytest.raises(FunmlError, match="--optimizer 'rmsprop' is unknown"):
        train(small_training(optimizer="rmsprop"), dataset=digits)
    with pytest.raises(FunmlError, match="does not fit data set 'digits'"):
        train(small_training(model="cnn"), dataset=digits)
    with pytest.raises(FunmlError, match="--batch-size must be at least 1"):
        train(small_training(batch_size=0), dataset=digits)
    with pytest.raises(ValueError, match=r"not decided: .*optimizer, lr"):
        train(TrainSettings("digits-cnn", "digits", epochs=1, batch_size=32), dataset=digits)


def test_interrupted_before_any_checkpoint_says_so(digits, tmp_path):
    def stop(record):
        raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted, match="nothing was saved"):
        train(small_training(epochs=2), dataset=digits, on_epoch_end=stop)


def test_threads_are_restored(digits):
    before = torch.get_num_threads()
    train(small_training(epochs=1, threads=1), dataset=digits)
    assert torch.get_num_threads() == before


def test_thread_rule_is_fixed_by_the_settings():
    cores = torch.get_num_threads()
    assert threads_for(TrainSettings("cnn"), (28, 28)) == cores
    assert threads_for(TrainSettings("cnn-small"), (28, 28)) == 1
    assert threads_for(TrainSettings("mlp"), (28, 28)) == 1
    assert threads_for(TrainSettings("digits-cnn"), (8, 8)) == 1
    assert threads_for(TrainSettings("mlp", threads=3), (28, 28)) == 3


def test_history_records_round_trip_and_old_checkpoints_resume(digits, tmp_path):
    result = train(small_training(epochs=2), dataset=digits, out_dir=tmp_path / "run")
    ckpt = load_checkpoint(tmp_path / "run" / "model.pt")
    assert [EpochRecord.from_dict(r) for r in ckpt["history"]] == result.history
    # A checkpoint written before the records: the same keys, the curve as lists of lists.
    ckpt["history"] = [dict(r) for r in ckpt["history"]]
    more = dataclasses.replace(result.settings, epochs=3)
    resumed = train(more, dataset=digits, resume=ckpt)
    assert resumed.history[:2] == result.history and resumed.history[2].epoch == 3


def test_settings_resolve_from_the_recipe_once():
    open_ = TrainSettings("digits-cnn", lr=3e-3)
    assert set(open_.open_fields) >= {"epochs", "batch_size", "optimizer", "dataset", "seed"}
    done = open_.resolved()
    assert not done.open_fields
    r = recipe("digits-cnn")
    assert (done.epochs, done.batch_size, done.optimizer) == (r.epochs, r.batch_size, r.optimizer)
    assert done.lr == 3e-3 and done.dataset == "fashion-mnist" and done.seed == 0
    assert done.resolved() == done
    # Resuming: the RESUMABLE fields change, any other decided field must agree.
    assert TrainSettings(epochs=40).continued_from(done).epochs == 40
    with pytest.raises(FunmlError, match=r"--lr 0\.1 differs from the checkpoint's 0\.003"):
        TrainSettings(lr=0.1).continued_from(done)
    with pytest.raises(FunmlError, match="Unknown model 'resnet'"):
        TrainSettings("resnet").resolved()
    with pytest.raises(FunmlError, match=r"--gamma must be finite and in \(0, 1\]"):
        TrainSettings(gamma=1.5)


def test_a_given_model_trains_in_the_loop_and_is_named_by_the_settings(digits):
    """train(model=) trains that network, not build_model(settings.model): the same as the
    built one when both start from the same weights, and settings.model only names it."""
    from funml.nn import build_model

    settings = small_training(epochs=1)
    torch.manual_seed(settings.seed)
    given = build_model("digits-cnn", digits.image_shape, digits.n_classes)
    start = {k: v.clone() for k, v in given.state_dict().items()}
    named = dataclasses.replace(settings, model="my net")
    result = train(named, dataset=digits, model=given)
    assert result.model is given and result.settings.model == "my net"
    assert any(not torch.equal(v, start[k]) for k, v in given.state_dict().items())
    built = train(settings, dataset=digits)
    assert _untimed(result.history) == _untimed(built.history)
    assert _same_weights(result.model, built.model)
