"""Training across processes: the same weights as one process, honest evaluation, failures.

Real workers on this machine through torch's elastic launcher, gloo over 127.0.0.1, mlp2 on
Digits (500 training images, an even number, and 1,297 test images, an odd one); every
subprocess has a timeout.
"""

import dataclasses
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from funml.cli import cli
from funml.data import load_dataset
from funml.data.loader import split_tensors
from funml.errors import FunmlError
from funml.nn import (
    EpochRecord,
    TrainSettings,
    evaluate,
    evaluate_checkpoint,
    load_checkpoint,
    settings_from_checkpoint,
    train,
)
from funml.nn.distributed import World, check_batch_size, describe
from funml.nn.evaluate import model_from_checkpoint
from funml.nn.train import threads_for
from helpers import assert_one_sentence_error

pytestmark = [
    pytest.mark.skipif(
        not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
        reason="this torch has no torch.distributed with gloo",
    ),
    # Every test that starts worker processes runs on one xdist worker (the README's
    # pytest -n 2 --dist loadgroup): two launches at once could pick the same free port.
    pytest.mark.xdist_group("processes"),
]
needs_two_cores = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="funml refuses more processes than cores"
)
linux_only = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="finds the worker to kill through /proc"
)

# fp32: one process and two agree to float rounding (bf16 rounds far more coarsely).
ARGS = "mlp2 -d digits --epochs 2 --batch-size 64 --lr 0.003 --threads 1 -q --precision fp32"
SETTINGS = TrainSettings(
    "mlp2", "digits", epochs=2, batch_size=64, lr=0.003, threads=1, quiet=True, precision="fp32"
).resolved()
LAUNCH_TIMEOUT = 120  # seconds for one launch of two workers, on a busy 2-core machine


def _funml(*args, timeout=LAUNCH_TIMEOUT) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "funml", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_close_weights(a: dict, b: dict, atol=1e-6) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=atol, msg=k)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """`funml train ... --nproc 2`, once for the module."""
    out = tmp_path_factory.mktemp("ddp") / "run"
    proc = _funml("train", *shlex.split(ARGS), "--nproc", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc


@needs_two_cores
@pytest.mark.slow
def test_two_processes_reach_the_weights_of_one(two_processes, digits):
    out, proc = two_processes
    one = train(SETTINGS, dataset=digits)  # global batch 64 in one process
    ckpt = load_checkpoint(out / "model.pt")
    # Plain module keys (no DDP "module." prefix), and the same weights to float rounding:
    # DDP averaged the two half-batch gradients into the full batch's mean gradient.
    _assert_close_weights(ckpt["model"], one.model.state_dict())
    history = json.loads((out / "metrics.json").read_text())["history"]
    for two, single in zip(map(EpochRecord.from_dict, history), one.history, strict=True):
        assert two.train_loss == pytest.approx(single.train_loss, rel=1e-6)
        assert two.examples_seen == single.examples_seen == 500 * two.epoch
        assert [x for x, _ in two.curve] == [x for x, _ in single.curve]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["environment"]["processes"] == 2
    assert metrics["environment"]["backend"] == "gloo"
    assert "torchrun --nnodes=1 --node-rank=0 --nproc-per-node=2" in proc.stderr


@needs_two_cores
def test_the_workers_start_from_the_job_file(two_processes):
    """The launcher resolves the job once and writes it; the workers read it, not flags."""
    out, proc = two_processes
    assert f"-m funml train --job {out / 'job.json'}\n" in proc.stderr
    job = json.loads((out / "job.json").read_text())
    assert job["settings"] == dataclasses.asdict(SETTINGS)
    assert job["out_dir"] == str(out) and job["resume"] is None
    assert json.loads((out / "metrics.json").read_text())["settings"] == job["settings"]


@needs_two_cores
@pytest.mark.slow
def test_two_process_test_accuracy_counts_every_sample_once(two_processes, digits):
    out, proc = two_processes
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(digits.test) == 1297  # odd: one shard has a sample more than the other
    # A single-process evaluation of the same weights, sample by sample.
    model, norm = model_from_checkpoint(load_checkpoint(out / "model.pt"), digits)
    x, y = split_tensors(digits.test, norm)
    single = evaluate(model, x, y, batch_size=7)
    assert (metrics["history"][-1]["test_count"], metrics["test_count"]) == (1297, 1297)
    assert metrics["history"][-1]["test_correct"] == single.correct
    assert metrics["test_accuracy"] == single.correct / 1297
    assert metrics["test_loss"] == pytest.approx(single.loss, rel=1e-6)
    assert f"({single.correct:,}/1,297)" in proc.stdout
    assert evaluate_checkpoint(out / "model.pt", digits)["correct"] == single.correct


@needs_two_cores
@pytest.mark.slow
def test_a_two_process_checkpoint_resumes_in_one_process(two_processes, digits, tmp_path):
    out, _ = two_processes
    more = dataclasses.replace(SETTINGS, epochs=3)
    resumed = train(more, dataset=digits, resume=out / "model.pt", out_dir=tmp_path)
    straight = train(more, dataset=digits)
    _assert_close_weights(resumed.model.state_dict(), straight.model.state_dict())
    assert load_checkpoint(tmp_path / "model.pt")["epoch"] == 3


@needs_two_cores
@pytest.mark.slow
def test_two_nodes_on_loopback_reach_the_same_weights(two_processes, tmp_path):
    """--nnodes 2: two launchers, one process each, meeting at node 0's port."""
    out, _ = two_processes
    node = [*shlex.split(ARGS), "--nnodes", "2", "--master-addr", "127.0.0.1"]
    node += ["--master-port", str(_free_port())]
    cmd = [sys.executable, "-m", "funml", "train", *node]
    (tmp_path / "node1").mkdir()
    second = subprocess.Popen(
        [*cmd, "--node-rank", "1"], cwd=tmp_path / "node1", stderr=subprocess.PIPE, text=True
    )
    try:
        first = subprocess.run(
            [*cmd, "--node-rank", "0", "--out", str(tmp_path / "run")],
            capture_output=True,
            text=True,
            timeout=LAUNCH_TIMEOUT,
        )
        _, second_err = second.communicate(timeout=LAUNCH_TIMEOUT)
    finally:
        second.kill()
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second_err
    assert "--nnodes=2 --node-rank=1 --nproc-per-node=1" in second_err
    assert not any((tmp_path / "node1").iterdir())  # only rank 0, on node 0, writes
    a, b = load_checkpoint(out / "model.pt"), load_checkpoint(tmp_path / "run" / "model.pt")
    _assert_close_weights(a["model"], b["model"], atol=1e-7)


def _children(pid: int) -> list[int]:
    return [
        int(c)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for c in (task / "children").read_text().split()
    ]


def _rank_of(pid: int) -> str | None:
    env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return next((v[5:].decode() for v in env if v.startswith(b"RANK=")), None)


def _start_and_kill_rank_1(cmd: list[str], out: Path) -> tuple[subprocess.Popen, list, float]:
    """Start a 2-process run, SIGKILL rank 1 once a checkpoint exists, return at once."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + LAUNCH_TIMEOUT
    while not (out / "model.pt").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no checkpoint appeared: {proc.communicate()}")
        time.sleep(0.05)
    time.sleep(0.2)  # into a later epoch
    workers = _children(proc.pid)  # the launcher's children
    (victim,) = [w for w in workers if _rank_of(w) == "1"]
    os.kill(victim, signal.SIGKILL)
    return proc, workers, time.monotonic()


LONG = "mlp2 -d digits --batch-size 16 --lr 0.003 --threads 1 -q --precision fp32"


@needs_two_cores
@linux_only
@pytest.mark.slow
def test_a_killed_worker_stops_the_job_cleanly(tmp_path, digits):
    out = tmp_path / "run"
    args = [*shlex.split(LONG), "--epochs", "1000", "--nproc", "2", "--out", str(out)]
    proc, workers, killed_at = _start_and_kill_rank_1(
        [sys.executable, "-m", "funml", "train", *args], out
    )
    try:
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert time.monotonic() - killed_at < 45  # torch's launcher waits up to 30 s for a worker
    assert not [w for w in workers if Path(f"/proc/{w}").exists()]  # no worker left behind
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("Error: Worker process 1 (pid ") and "was killed by SIGKILL" in last
    assert f"so resume with: funml train --resume {out / 'model.pt'} --nproc 2" in last
    assert "Traceback" not in stderr
    done = load_checkpoint(out / "model.pt")["epoch"]  # intact: it loads
    assert done >= 1
    assert sorted(p.name for p in out.iterdir()) == ["job.json", "model.pt"]  # no part files

    # A resumed run finishes (in one process here: the checkpoint is plain model state).
    more = dataclasses.replace(settings_from_checkpoint(out / "model.pt"), epochs=done + 1)
    resumed = train(more, dataset=digits, resume=out / "model.pt", out_dir=out)
    assert len(resumed.history) == done + 1
    assert load_checkpoint(out / "model.pt")["epoch"] == done + 1


@needs_two_cores
@linux_only
@pytest.mark.slow
@pytest.mark.parametrize("started_by", ["torchrun with flags", "funml train --max-restarts"])
def test_a_killed_worker_is_restarted_and_resumes(two_processes, tmp_path, digits, started_by):
    """--max-restarts=1: the launcher restarts the workers, which resume from model.pt.

    Either the torchrun line funml prints, with the run's flags instead of its job file, or
    funml's own launcher, whose restarted workers read the run's job.json again.
    """
    out = tmp_path / "run"
    flags = [*shlex.split(LONG), "--epochs", "12", "--out", str(out)]
    if started_by == "torchrun with flags":
        _, first = two_processes
        (line,) = [s for s in first.stderr.splitlines() if s.strip().startswith("torchrun ")]
        changes = {"--master-port": str(_free_port()), "--max-restarts": "1"}
        args = _with(shlex.split(line)[1:], changes)
        args = args[: args.index("--job")] + flags
        cmd = [sys.executable, "-m", "torch.distributed.run", *args]
    else:
        cmd = [sys.executable, "-m", "funml", "train", *flags, "--nproc", "2"]
        cmd += ["--max-restarts", "1"]
    proc, _, _ = _start_and_kill_rank_1(cmd, out)
    try:
        stdout, stderr = proc.communicate(timeout=LAUNCH_TIMEOUT)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert "Restart 1 of 1: resuming from" in stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert [r["epoch"] for r in metrics["history"]] == list(range(1, 13))
    assert "after 12 epochs" in stdout
    # The restarted workers continued exactly: the weights of an uninterrupted run.
    settings = dataclasses.replace(SETTINGS, epochs=12, batch_size=16)
    uninterrupted = train(settings, dataset=digits)
    _assert_close_weights(
        load_checkpoint(out / "model.pt")["model"], uninterrupted.model.state_dict(), atol=1e-5
    )


def _with(args: list[str], changes: dict[str, str]) -> list[str]:
    """``args`` with the values of some ``--name=value`` or ``--name value`` options changed."""
    args = list(args)
    for name, value in changes.items():
        for i, a in enumerate(args):
            if a.startswith(f"{name}="):
                args[i] = f"{name}={value}"
            elif a == name:
                args[i + 1] = value
    return args


def _invoke(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize(
    ("flags", "needles"),
    [
        (["--nproc", "0"], ["--nproc must be at least 1, got 0"]),
        (["--nproc", "-2"], ["--nproc must be at least 1, got -2"]),
        (["--nproc", "100000"], ["--nproc 100000 is more than the", "CPU cores"]),
        (["--nnodes", "0"], ["--nnodes must be at least 1, got 0"]),
        (["--nnodes", "2"], ["needs --master-addr"]),
        (["--nnodes", "2", "--node-rank", "2", "--master-addr", "h"], ["--node-rank must be"]),
        (["--max-restarts", "-1"], ["--max-restarts must be 0 or more"]),
        (["--master-port", "70000"], ["--master-port must be in 1..65535"]),
    ],
)
def test_bad_launch_flags_are_one_sentence(flags, needles, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_one_sentence_error(_invoke("train", *shlex.split(ARGS), *flags), *needles)
    assert not (tmp_path / "runs").exists()  # nothing made for a run that could not start


@needs_two_cores
def test_a_global_batch_that_does_not_split_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _invoke("train", *shlex.split(ARGS), "--nproc", "2", "--batch-size", "65")
    assert_one_sentence_error(result, "The batch size 65 is the global batch", "multiple of 2")
    assert not (tmp_path / "runs").exists()


@needs_two_cores
def test_a_port_in_use_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _invoke("train", *shlex.split(ARGS), "--nproc", "2", "--master-port", str(port))
    assert_one_sentence_error(result, f"Port {port} is already in use", "--master-port")
    assert not (tmp_path / "runs").exists()


def test_help_says_the_batch_is_global():
    result = _invoke("train", "--help")
    assert result.exit_code == 0
    assert "GLOBAL batch" in result.output and "--nproc" in result.output


def test_launch_flags_are_refused_inside_a_torchrun_worker(monkeypatch):
    for name, value in {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "1")
    assert_one_sentence_error(
        _invoke("train", *shlex.split(ARGS), "--nproc", "2"), "pass the counts to torchrun"
    )


def test_one_process_world_changes_nothing():
    world = World()
    t = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    assert world.all_reduce_sum(t) is t
    model = torch.nn.Linear(2, 2)
    assert world.wrap(model) is model
    assert world.share(lambda: {"a": 1}) == {"a": 1}
    with pytest.raises(FunmlError, match="unknown"):
        world.share(lambda: (_ for _ in ()).throw(FunmlError("unknown")))
    assert world.leader and world.backend is None


def test_the_global_batch_must_split_evenly():
    check_batch_size(64, 2)
    check_batch_size(7, 1)
    with pytest.raises(FunmlError, match=r"The batch size 64 .* over 3 processes; choose a mult"):
        check_batch_size(64, 3)
    with pytest.raises(FunmlError, match="over 2 processes"):
        train(TrainSettings("mlp2", "digits", batch_size=63).resolved(), world=World(size=2))


def test_threads_are_shared_by_the_processes_of_a_machine():
    cores = len(os.sched_getaffinity(0))
    cnn = TrainSettings("cnn")
    assert threads_for(cnn, (28, 28), local_processes=2) == max(1, cores // 2)
    assert threads_for(TrainSettings("mlp"), (28, 28), local_processes=2) == 1
    assert threads_for(TrainSettings("cnn", threads=3), (28, 28), local_processes=2) == 3


def test_describe_keeps_the_reason_of_a_gloo_error():
    error = RuntimeError(
        "[/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:537] Read error "
        "[127.0.0.1]:37292: Connection reset by peer. This is typically caused by ..."
    )
    assert describe(error) == "Read error [127.0.0.1]:37292: Connection reset by peer"
