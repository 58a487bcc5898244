"""Hardening, signals (issue 16 §6 and the launcher in §2): SIGTERM is handled as Ctrl-C
(what finished is kept and reported, no temporary file stays), and the workers of
`funml train --nproc` stop when their launcher dies."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from funml.cli import _terminated
from funml.experiments import registry
from funml.experiments.result import Result
from funml.experiments.runner import run_experiments
from funml.experiments.settings import RunSettings


@pytest.fixture
def sigterm_as_in_funml():
    """SIGTERM handled as the `funml` command handles it (funml.cli.main)."""
    before = signal.signal(signal.SIGTERM, _terminated)
    yield
    signal.signal(signal.SIGTERM, before)


def test_sigterm_during_a_run_keeps_what_finished_and_writes_the_report(
    tmp_path, monkeypatch, sigterm_as_in_funml
):
    def killed(settings, context):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # interrupted long before this ends
        raise AssertionError("SIGTERM was not delivered")

    def quick(settings, context):
        return Result(metrics={"answer": 42}, verdict="It finished.")

    for name, func in (("quick", quick), ("killed", killed)):
        stub = registry.Experiment(name, "A stub.", "Is it kept?", func)
        monkeypatch.setitem(registry._REGISTRY, name, stub)
    run = run_experiments(RunSettings(out=tmp_path / "run"), ["quick", "killed"])
    assert run.failed == ["killed"]
    m = json.loads((run.path / "metrics.json").read_text())
    assert m["quick"]["status"] == "ok"
    assert m["killed"]["error"].startswith("Interrupted (SIGTERM)")
    assert run.report.is_file()
    assert not list(run.path.rglob("*.part"))


def _funml(*args, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.Popen(
        [sys.executable, "-m", "funml", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {seconds} s")
        time.sleep(0.2)


TRAIN = ["train", "digits-cnn", "-d", "digits", "--threads", "1", "--epochs", "500", "-q"]


@pytest.mark.slow
def test_sigterm_during_training_is_ctrl_c(tmp_path):
    out = tmp_path / "run"
    proc = _funml(*TRAIN, "--out", str(out))
    try:
        _wait_for(lambda: (out / "model.pt").is_file(), 120, "the first checkpoint")
        proc.send_signal(signal.SIGTERM)
        _stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert "Training was interrupted" in stderr and "resume with" in stderr
    assert not list(out.glob(".*.part"))


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.append(int(status.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state  # a zombie has ended


@pytest.mark.slow
@pytest.mark.xdist_group("processes")  # as tests/test_nn_distributed.py
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killing_the_launcher_stops_its_workers(tmp_path, sig):
    out = tmp_path / "run"
    launcher = _funml(*TRAIN, "--nproc", "2", "--out", str(out), start_new_session=True)
    workers: list[int] = []
    try:
        # The workers are the launcher's children that run funml train --job.
        def started() -> bool:
            workers[:] = [
                p
                for p in _children(launcher.pid)
                if b"--job" in Path(f"/proc/{p}/cmdline").read_bytes()
            ]
            return len(workers) == 2 and (out / "model.pt").is_file()

        _wait_for(started, 180, "two workers and a first checkpoint")
        os.kill(launcher.pid, sig)
        launcher.wait(timeout=60)
        _wait_for(lambda: not any(_alive(p) for p in workers), 60, "the workers to stop")
    finally:
        for pid in [*workers, launcher.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        launcher.communicate()


def test_sigterm_during_a_run_with_jobs_stops_the_workers(tmp_path, sigterm_as_in_funml):
    import multiprocessing

    names = ["tensors", "linear", "knn", "pca"]

    def first_done(outcome):  # SIGTERM once the pool runs: as soon as one experiment is back
        if not sent:
            sent.append(outcome.name)
            os.kill(os.getpid(), signal.SIGTERM)

    sent: list[str] = []
    start = time.monotonic()
    run = run_experiments(RunSettings(out=tmp_path / "run", jobs=2), names, on_done=first_done)
    assert sent
    assert time.monotonic() - start < 60  # the experiments left were not waited for
    assert run.failed, "nothing was interrupted"
    m = json.loads((run.path / "metrics.json").read_text())
    for name in run.failed:
        assert m[name]["error"].startswith("Interrupted (SIGTERM)")
    assert run.report.is_file()
    # Stopped, not waited for: a worker the pool was still starting may take a moment to go.
    deadline = time.monotonic() + 15
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not multiprocessing.active_children()
