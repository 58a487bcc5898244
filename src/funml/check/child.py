"""The child process that runs a student's code: ``python -m funml.check.child ...``.

Started only by :mod:`funml.check.sandbox`, never imported by funml's own process. It

1. limits itself first (address space, CPU seconds, file size, no core files);
2. runs the reduced submission statement by statement in a fresh module (an import that
   fails is noted and skipped, so ``from google.colab import drive`` costs nothing);
3. runs the named checks' probes in order, each with its output captured, and writes each
   check's record with :func:`funml.check.exchange.write_record`;
4. reports progress as lines ``load``, ``start I``, ``done I`` on the status pipe, so the
   parent can time each check and knows where a crash happened;
5. ends with ``os._exit``, so no student atexit hook or thread can keep it alive.

Arguments: TOPIC IO_DIR STATUS_FD MEMORY_BYTES CPU_SECONDS FILE_BYTES CHECK [CHECK ...]
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import resource
import sys
import traceback
import types
from pathlib import Path

FILENAME = "<submission>"


def main(argv: list[str]) -> None:
    topic_name, io_dir, status_fd, memory, cpu, fsize, *names = argv
    _limit(int(memory), int(cpu), int(fsize))
    status = os.fdopen(int(status_fd), "w", buffering=1)
    folder = Path(io_dir)

    from funml.check.exchange import MAX_TEXT, write_record
    from funml.check.topics import get_topic

    checks = {c.name: c for c in get_topic(topic_name).CHECKS}
    status.write("load\n")
    ns, notes = _load(folder / "submission.py")
    (folder / "notes.txt").write_text("\n".join(notes)[:MAX_TEXT], encoding="utf-8")
    for index, name in enumerate(names):
        status.write(f"start {index}\n")
        out = _Tail(MAX_TEXT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            record = _run(checks[name], ns)
        record["output"] = out.text
        try:
            write_record(folder, index, record)
        except Exception as e:  # e.g. an array the disk limit refused
            write_record(folder, index, {"error": _error(e, "funml")})
        status.write(f"done {index}\n")
    status.flush()
    os._exit(0)


def _limit(memory: int, cpu: int, fsize: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _load(path: Path) -> tuple[dict, list[str]]:
    """Run the reduced submission's statements in a new module; return its namespace."""
    module = types.ModuleType("submission")
    module.__file__ = FILENAME
    sys.modules["submission"] = module
    ns = module.__dict__
    notes = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=FILENAME)
    for node in tree.body:
        code = compile(ast.Module(body=[node], type_ignores=[]), FILENAME, "exec")
        try:
            with contextlib.redirect_stdout(_Tail(0)):
                exec(code, ns)  # the student's own definitions, in this sandboxed child only
        except ImportError as e:
            notes.append(f"line {node.lineno}: an import failed and was skipped ({e}).")
        except BaseException as e:
            notes.append(f"line {node.lineno}: a definition failed: {_one_line(e)}.")
    return ns, notes


def _run(check, ns) -> dict:
    from funml.check.probe import ProbeError

    try:
        return {"values": check.run(ns)}
    except ProbeError as e:
        return {"error": {"kind": "probe", "message": str(e)}}
    except BaseException as e:  # SystemExit, MemoryError, anything the student's code raises
        return {"error": _error(e, "submission")}


def _error(e: BaseException, origin: str) -> dict:
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == FILENAME]
    last = frames[-1] if frames else None
    return {
        "kind": origin,
        "type": type(e).__name__,
        "message": _one_line(e)[:300],
        "line": last.lineno if last else None,
        "function": last.name if last else None,
    }


def _one_line(e: BaseException) -> str:
    try:
        text = " ".join(str(e).split())
    except Exception:
        text = ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


class _Tail(io.TextIOBase):
    """A text stream that keeps only its last ``size`` characters."""

    def __init__(self, size: int):
        self.size, self.text = size, ""

    def writable(self) -> bool:
        return True

    def write(self, s) -> int:
        s = str(s)
        self.text = (self.text + s[-self.size :])[-self.size :] if self.size else ""
        return len(s)


if __name__ == "__main__":
    main(sys.argv[1:])
