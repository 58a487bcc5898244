"""The result of checking one submission, and its three renderings: table, JSON, Gradescope."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict.

    Attributes
    ----------
    name, description : str
    passed : bool
    score, max_score : float
    message : str
        Why it failed, in one or two sentences ("" when it passed).
    bug : str or None
        The catalogue id of the bug the submission's output matches, if any.
    output : str
        What the submission printed during the check, truncated.
    """

    name: str
    description: str
    passed: bool
    score: float
    max_score: float
    message: str = ""
    bug: str | None = None
    output: str = ""


@dataclass(frozen=True)
class Report:
    """All checks of one submission for one topic."""

    topic: str
    submission: str
    checks: tuple[CheckResult, ...]
    notes: tuple[str, ...] = field(default=())
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.checks)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def to_dict(self) -> dict:
        """The ``--json`` form: topic, score, max_score and one entry per check."""
        return {
            "topic": self.topic,
            "score": self.score,
            "max_score": self.max_score,
            "checks": [
                {
                    "name": c.name,
                    "passed": c.passed,
                    "score": c.score,
                    "max_score": c.max_score,
                    "message": c.message,
                    "bug": c.bug,
                }
                for c in self.checks
            ],
        }

    def to_gradescope(self) -> dict:
        """Gradescope's ``results.json``: ``score``, ``execution_time``, ``output`` and
        ``tests`` with ``name``, ``number``, ``score``, ``max_score``, ``status``,
        ``output`` and ``visibility`` (see gradescope-autograders.readthedocs.io, specs)."""
        tests = []
        for number, c in enumerate(self.checks, start=1):
            text = c.message or "Passed."
            if c.bug:
                text += f"\nThis is the known bug '{c.bug}'; see `funml check --list-bugs`."
            if c.output:
                text += f"\n\nYour code printed:\n{c.output}"
            tests.append(
                {
                    "name": f"{c.name}: {c.description}",
                    "number": str(number),
                    "score": c.score,
                    "max_score": c.max_score,
                    "status": "passed" if c.passed else "failed",
                    "output": text,
                    "visibility": "visible",
                }
            )
        return {
            "score": self.score,
            "execution_time": round(self.seconds, 2),
            "output": "\n".join(self.notes) or f"funml check {self.topic}",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": tests,
        }

    def __repr__(self) -> str:
        """One line: topic, file, score and the failed checks with the bugs they match."""
        failed = [
            c.name + (f" [bug: {c.bug}]" if c.bug else "") for c in self.checks if not c.passed
        ]
        tail = f", failed {', '.join(failed)}" if failed else ", every check passed"
        return (
            f"<funml.check {self.topic} {Path(self.submission).name}: "
            f"{self.score:g}/{self.max_score:g}{tail}>"
        )

    def _repr_html_(self) -> str:
        """The table (check, points, passed, message), the notes and the score, for a notebook."""
        e = html.escape
        rows = "".join(
            "<tr>"
            f"<td><code>{e(c.name)}</code></td><td>{c.score:g}/{c.max_score:g}</td>"
            f"<td>{'yes' if c.passed else '<strong>NO</strong>'}</td>"
            f"<td>{e(c.message)}{f' [bug: <code>{e(c.bug)}</code>]' if c.bug else ''}"
            + (f"<br><small>printed: {e(c.output[:200])}</small>" if c.output.strip() else "")
            + "</td></tr>"
            for c in self.checks
        )
        notes = "".join(f"<p><em>note:</em> {e(n)}</p>" for n in self.notes)
        return (
            f"<div><p><strong>funml check {e(self.topic)}</strong> "
            f"<code>{e(Path(self.submission).name)}</code></p>"
            "<table><thead><tr><th>check</th><th>points</th><th>passed</th><th>message</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>{notes}"
            f"<p><strong>score: {self.score:g}/{self.max_score:g}</strong></p></div>"
        )

    def format_table(self) -> str:
        """A text table (check, points, passed, message), what each check printed (cut
        short), the notes, then the score."""
        rows = [("check", "points", "passed", "message")]
        for c in self.checks:
            message = c.message + (f" [bug: {c.bug}]" if c.bug else "")
            rows.append(
                (c.name, f"{c.score:g}/{c.max_score:g}", "yes" if c.passed else "NO", message)
            )
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 7)
        lines = [line.rstrip() for line in lines]
        for c in self.checks:
            if c.output.strip():
                text = " | ".join(c.output.strip().splitlines())
                lines.append(f"{c.name} printed: {text[:200]}{'…' if len(text) > 200 else ''}")
        lines += [f"note: {n}" for n in self.notes]
        lines.append(f"score: {self.score:g}/{self.max_score:g}")
        return "\n".join(lines)
