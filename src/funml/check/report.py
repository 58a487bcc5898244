"""The result of checking one submission, and its three renderings: table, JSON, Gradescope."""

from __future__ import annotations

from dataclasses import dataclass, field


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
