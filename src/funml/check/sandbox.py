"""Run a submission's probes in a child process with limits, and collect their data.

The untrusted code never runs in funml's process. :func:`run_probes` starts
``python -m funml.check.child`` (see :mod:`funml.check.child`):

- in a new session (its own process group, killed as a whole when a check overruns);
- in an empty temporary working folder, with stdin from ``/dev/null`` and a small
  environment (one thread per library, ``HOME`` in that folder);
- with an address-space limit (a 50 GB allocation fails inside the child), a CPU-seconds
  limit, a file-size limit and no core files, which the child sets on itself first;
- with a wall-clock limit per check, timed here from the child's ``start I`` status lines.

When a check overruns or the child dies (``os._exit``, a crash, the CPU limit), that check
gets a clear failure and a fresh child runs the checks still to do. What comes back is
read by :mod:`funml.check.exchange`: JSON and ``.npy`` files, never pickles.

What this does not do: it bounds time, memory and file sizes, not access. The child runs as
the same user, can read that user's files and use the network, and a process it starts in
a session of its own escapes the group kill. Grade a class as an unprivileged user or in a
container (as Gradescope's autograders run).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import funml
from funml.check.exchange import MAX_TEXT, ExchangeError, read_limited, read_record
from funml.errors import FunmlError
from funml.kinds import is_number, is_whole

_STATUS = re.compile(r"(load|start|done)(?: (\d+))?\Z")
MAX_MB = 65536  # the largest memory or file limit, in MB


@dataclass(frozen=True)
class Limits:
    """Resource limits of the child process.

    Attributes
    ----------
    seconds : float, default=20.0
        Wall-clock limit of one check (loading the submission has the same limit).
    memory_mb : int, default=3072
        Address-space limit; torch alone maps about 1 GB.
    file_mb : int, default=256
        Largest file the child may write.
    """

    seconds: float = 20.0
    memory_mb: int = 3072
    file_mb: int = 256

    def __post_init__(self) -> None:
        seconds_ok = is_number(self.seconds) and 0.5 <= self.seconds <= 600  # False for nan
        if not seconds_ok:
            raise FunmlError(
                f"--timeout must be a number of seconds from 0.5 to 600, got {self.seconds!r}."
            )
        sizes = (("--memory-mb", self.memory_mb, 256), ("file_mb", self.file_mb, 1))
        for flag, value, low in sizes:
            if not is_whole(value) or not low <= value <= MAX_MB:
                raise FunmlError(
                    f"{flag} must be a whole number from {low} to {MAX_MB}, got {value!r}."
                )


@dataclass
class Outcome:
    """What one check's probe gave: ``values``, or an ``error`` record, or a ``failure``."""

    values: dict | None = None
    error: dict | None = None
    failure: str | None = None  # the sandbox's own sentence: timeout, crash, bad record
    output: str = ""


def run_probes(
    topic: str, source: str, names: list[str], limits: Limits
) -> tuple[dict[str, Outcome], list[str]]:
    """Run the probes ``names`` of ``topic`` on the reduced submission ``source``.

    Returns
    -------
    outcomes : dict of check name to Outcome
    notes : list of str
        Notes from loading the submission (skipped imports, failed definitions).
    """
    outcomes: dict[str, Outcome] = {}
    notes: list[str] = []
    remaining = list(names)
    with tempfile.TemporaryDirectory(prefix="funml-check-", ignore_cleanup_errors=True) as tmp:
        while remaining:
            run = _ChildRun(Path(tmp), topic, source, remaining, limits)
            done, notes = run.wait()
            outcomes.update(done)
            remaining = [n for n in remaining if n not in outcomes]
    return outcomes, notes


class _ChildRun:
    """One child process working through a list of checks."""

    def __init__(self, tmp: Path, topic: str, source: str, names: list[str], limits: Limits):
        self.names, self.limits = names, limits
        base = Path(tempfile.mkdtemp(dir=tmp))
        self.io, self.work, log = base / "io", base / "work", base / "log"
        for d in (self.io, self.work, log):
            d.mkdir()
        (self.io / "submission.py").write_text(source, encoding="utf-8")
        read_fd, write_fd = os.pipe()
        memory, fsize = limits.memory_mb * 2**20, limits.file_mb * 2**20
        cpu = int(limits.seconds * (len(names) + 1)) + 2
        args = [topic, str(self.io), str(write_fd), str(memory), str(cpu), str(fsize), *names]
        self.stderr = open(log / "stderr.txt", "w+b")  # noqa: SIM115 - closed in _kill
        with open(log / "stdout.txt", "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-s", "-P", "-m", "funml.check.child", *args],
                cwd=self.work,
                env=_environment(self.work),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=self.stderr,
                pass_fds=(write_fd,),
                start_new_session=True,
            )
        os.close(write_fd)
        self.status = read_fd

    def wait(self) -> tuple[dict[str, Outcome], list[str]]:
        outcomes: dict[str, Outcome] = {}
        buffer = b""
        current = None  # index of the check running, or -1 while loading
        loaded = False
        start = time.monotonic()
        # The status lines must follow load, start 0, done 0, start 1, ... so each one
        # can open one time window at most: a child cannot keep itself alive by talking.
        last = start + self.limits.seconds * (2 * len(self.names) + 1)
        deadline = start + self.limits.seconds
        try:
            while True:
                wait = min(deadline, last) - time.monotonic()
                if wait <= 0:
                    return self._overrun(current, outcomes), self._notes()
                ready, _, _ = select.select([self.status], [], [], wait)
                if not ready:
                    continue
                chunk = os.read(self.status, 4096)
                if not chunk:  # the child ended
                    return self._ended(current, outcomes), self._notes()
                buffer += chunk
                if len(buffer) > 4096:
                    return self._garbled(current, outcomes), self._notes()
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    m = _STATUS.match(line.decode("ascii", "replace"))
                    if m is None or (m[1] != "load" and m[2] is None):
                        return self._garbled(current, outcomes), self._notes()
                    if m[1] == "load" and not loaded:
                        current, loaded = -1, True
                    elif (
                        m[1] == "start"
                        and loaded
                        and current in (None, -1)
                        and (int(m[2]) == len(outcomes) < len(self.names))
                    ):
                        current = int(m[2])
                    elif m[1] == "done" and current is not None and int(m[2]) == current >= 0:
                        outcomes[self.names[current]] = self._read(current)
                        current = None
                    else:
                        return self._garbled(current, outcomes), self._notes()
                    deadline = time.monotonic() + self.limits.seconds
                if len(outcomes) == len(self.names):
                    return outcomes, self._notes()
        finally:
            self._kill()
            os.close(self.status)

    def _read(self, index: int) -> Outcome:
        try:
            record = read_record(self.io, index)
        except ExchangeError:
            return Outcome(failure="The check's results could not be read back from the child.")
        error = record.get("error")
        output = record.get("output")
        return Outcome(
            values=record.get("values") if not error else None,
            error=error if isinstance(error, dict) else None,
            output=printable(output[-MAX_TEXT:]) if isinstance(output, str) else "",
        )

    def _overrun(self, current, outcomes) -> dict[str, Outcome]:
        seconds = f"{self.limits.seconds:g}"
        if current is None or current < 0:
            message = f"Loading the submission took longer than {seconds} s; nothing was checked."
            if current is None and outcomes:
                message = "The process running the submission stopped answering between checks."
            return self._all_left(outcomes, message)
        outcomes[self.names[current]] = Outcome(
            failure=f"The check took longer than {seconds} s and was stopped "
            "(an infinite loop, or far too slow)."
        )
        return outcomes

    def _ended(self, current, outcomes) -> dict[str, Outcome]:
        self.proc.wait()
        code = self.proc.returncode
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            how = f"was killed by signal {name}"
            if -code == signal.SIGXCPU:
                how += " (its CPU time limit)"
        else:
            how = f"exited with code {code}"
        tail = self._stderr_tail()
        message = f"The process running the submission {how}"
        message += (
            f" (os._exit, sys.exit or a crash); its last error output: {tail}" if tail else "."
        )
        if current is None or current < 0:
            return self._all_left(outcomes, message)
        outcomes[self.names[current]] = Outcome(failure=message)
        return outcomes

    def _garbled(self, current, outcomes) -> dict[str, Outcome]:
        message = "The submission wrote to funml's status channel; the check was stopped."
        if current is None or current < 0:
            return self._all_left(outcomes, message)
        outcomes[self.names[current]] = Outcome(failure=message)
        return outcomes

    def _all_left(self, outcomes, message) -> dict[str, Outcome]:
        for name in self.names:
            outcomes.setdefault(name, Outcome(failure=message))
        return outcomes

    def _notes(self) -> list[str]:
        try:
            text = read_limited(self.io / "notes.txt", 4 * MAX_TEXT).decode("utf-8", "replace")
        except ExchangeError:
            return []
        return [printable(line) for line in text.splitlines() if line]

    def _stderr_tail(self) -> str:
        # Read through the descriptor opened before the child started: the child may have
        # replaced the file's name with a link since.
        self.stderr.seek(max(0, self.stderr.seek(0, os.SEEK_END) - 400))
        text = self.stderr.read().decode("utf-8", "replace")
        return printable(" ".join(text.split())[-300:])

    def _kill(self) -> None:
        self.stderr.close()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        else:  # the child ended; processes it started in its group may not have
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)


def printable(text: str) -> str:
    """``text`` without control characters (a terminal would obey escape sequences)."""
    return "".join(c if c.isprintable() or c in "\n\t" else "?" for c in text)


def _environment(work: Path) -> dict[str, str]:
    """A small environment: funml importable, one thread per library, nothing personal."""
    src = str(Path(funml.__file__).resolve().parent.parent)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": src,
        "HOME": str(work),
        "TMPDIR": str(work),
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(work),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OMP_WAIT_POLICY": "PASSIVE",
        "TORCH_CPP_LOG_LEVEL": "ERROR",
        "LANG": "C.UTF-8",
    }
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    return env
