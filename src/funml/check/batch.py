"""Grade every submission in a folder, in parallel, into one table with a row per student."""

from __future__ import annotations

import csv
import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from funml.check.grade import CheckSettings, check_submission
from funml.check.submission import SUFFIXES
from funml.check.topics import get_topic
from funml.errors import FunmlError
from funml.files import write_text


def grade_folder(
    topic: str, folder: str | Path, jobs: int = 2, settings: CheckSettings | None = None
) -> list[dict]:
    """Check each ``.py`` and ``.ipynb`` file directly in ``folder`` on ``topic``.

    Each submission runs in its own child processes; ``jobs`` of them at once (threads
    here only wait for children and judge small outputs).

    Returns
    -------
    rows : list of dict
        One per file, sorted by name: ``student`` (the file's stem), ``file``, ``score``,
        ``max_score``, one column per check (its score), ``bugs`` (ids found, ``;``-joined)
        and ``error`` (why the file could not be read, else "").
    """
    checks = get_topic(topic).CHECKS
    folder = Path(folder)
    if not folder.is_dir():
        raise FunmlError(f"Folder '{folder}' does not exist.")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise FunmlError(f"Folder '{folder}' holds no .py or .ipynb submissions.")

    def row(path: Path) -> dict:
        base = {"student": path.stem, "file": path.name}
        try:
            report = check_submission(topic, path, settings)
        except FunmlError as e:
            empty = {c.name: 0.0 for c in checks}
            return base | {"score": 0.0, "max_score": None, **empty, "bugs": "", "error": str(e)}
        scores = {c.name: c.score for c in report.checks}
        bugs = ";".join(sorted({c.bug for c in report.checks if c.bug}))
        return base | {
            "score": report.score,
            "max_score": report.max_score,
            **scores,
            "bugs": bugs,
            "error": "",
        }

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(row, files))


def write_table(rows: list[dict], out: str | Path) -> Path:
    """Write ``rows`` as CSV or JSON, chosen by ``out``'s suffix, atomically."""
    out = Path(out)
    if out.suffix.lower() == ".json":
        return write_text(out, json.dumps(rows, indent=2) + "\n")
    if out.suffix.lower() != ".csv":
        raise FunmlError(f"Table '{out}' must end in .csv or .json.")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows([{k: _cell(v) for k, v in r.items()} for r in rows])
    return write_text(out, buffer.getvalue())


def _cell(value):
    # A file name starting with = + - @ would be a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
