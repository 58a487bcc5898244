"""Hardening of funml.files (issue 16): no data loss, no leftover files, clear refusals."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from funml.errors import FunmlError
from funml.files import (
    _lock_path,
    atomic_open,
    check_free_folder,
    claimed_folder,
    new_run_dir,
    release_folder,
    remove_stale_temporaries,
    temporary_name,
    write_text,
)


def _child(code: str) -> subprocess.Popen:
    """A Python child that runs ``code``, prints 'ready' and waits until killed."""
    script = textwrap.dedent(code) + "\nprint('ready', flush=True)\nimport time\ntime.sleep(60)\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


# ---- data loss: a second run into the same folder is refused ---------------------------


@pytest.mark.parametrize("exists", [False, True], ids=["new", "empty"])
def test_data_loss_a_second_run_into_a_claimed_folder_is_refused(tmp_path, exists):
    out = tmp_path / "run"
    if exists:
        out.mkdir()
    first = _child(f"from funml.files import new_run_dir; new_run_dir({str(out)!r}, 'x')")
    try:
        assert out.is_dir() and not any(out.iterdir())  # claimed, nothing written yet
        for claim in (lambda: new_run_dir(out, "x"), lambda: check_free_folder(out)):
            with pytest.raises(FunmlError, match=r"is in use by another funml run \(pid \d+\)"):
                claim()
    finally:
        _kill(first)
    # SIGKILL ran no clean-up, yet the kernel dropped the lock: the folder is free again.
    assert new_run_dir(out, "x") == out
    release_folder(out)


def test_data_loss_the_claim_is_held_until_release_and_then_removed(tmp_path):
    out = tmp_path / "run"
    with claimed_folder(out, "x") as path:
        assert path == out and check_free_folder(out) == out  # this process may check again
        assert _lock_path(tmp_path / "." / "run").read_text().split()[0] == str(os.getpid())
        assert [p.name for p in tmp_path.iterdir()] == ["run"] and list(out.iterdir()) == []
    assert not _lock_path(out).exists()  # no lock file left behind


def test_data_loss_a_child_of_the_claiming_process_may_use_its_folder(tmp_path):
    # The launcher of `funml train --nproc` claims --out; its workers write into it.
    out = new_run_dir(tmp_path / "run", "x")
    try:
        code = f"from funml.files import new_run_dir; print(new_run_dir({str(out)!r}, 'x'))"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    finally:
        release_folder(out)


def test_data_loss_a_finished_run_is_never_reused(tmp_path):
    out = new_run_dir(tmp_path / "run", "x")
    write_text(out / "metrics.json", "{}")
    release_folder(out)
    with pytest.raises(FunmlError, match="already exists and is not empty"):
        new_run_dir(out, "x")


def test_out_that_is_a_file_says_so(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FunmlError, match=r"'.*notes.txt' is a file, not a folder"):
        new_run_dir(tmp_path / "notes.txt", "x")
    assert (tmp_path / "notes.txt").read_text() == "mine"


# ---- leftover files: temporaries of dead processes are removed by the next writer -------


def test_leftover_files_of_a_killed_writer_are_removed_by_the_next_run(tmp_path):
    target = tmp_path / "model.pt"
    writer = _child(
        f"""
        from funml.files import atomic_open
        cm = atomic_open({str(target)!r}, "w")
        f = cm.__enter__()
        f.write("half"); f.flush()
        """
    )
    _kill(writer)
    [left] = list(tmp_path.iterdir())
    assert left.name.startswith(".model.pt.") and left.name.endswith(".part")
    live = temporary_name(tmp_path / "figure.png")  # a live process's: must be kept
    live.write_bytes(b"in progress")
    foreign = tmp_path / ".other.abc.part"  # not provably funml's: kept
    foreign.write_bytes(b"?")
    write_text(tmp_path / "metrics.json", "{}")  # any write into the folder cleans it up
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, foreign.name, "metrics.json"]
    )
    assert remove_stale_temporaries(tmp_path) == []


def test_leftover_files_temporary_names_carry_the_process(tmp_path):
    with atomic_open(tmp_path / "a.txt") as f:
        [tmp] = [p for p in tmp_path.iterdir()]
        f.write("x")
    assert f".{os.getpid()}-" in tmp.name or f"-{os.getpid()}-" in tmp.name
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_leftover_files_long_names_still_get_a_temporary(tmp_path):
    path = write_text(tmp_path / ("n" * 240 + ".txt"), "x")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
