"""Grade one submission: probes in the sandbox, references and buggy variants here, verdicts.

For every check of the topic:

1. the probe runs on the student's code in a child process (:mod:`funml.check.sandbox`);
2. the same probe runs here on funml's reference in the course's signatures, and the
   judge compares the two outputs;
3. when the check fails, the probe runs here on each catalogued buggy variant of the topic;
   if the submission's outputs pass the judge against a variant's, the check names that
   bug's id.

Nothing the student wrote runs in this process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from funml.check.catalogue import bugs_for, reference_namespace, variant_namespace
from funml.check.probe import Check, Fail
from funml.check.report import CheckResult, Report
from funml.check.sandbox import Limits, Outcome, printable, run_probes
from funml.check.submission import Submission, load_submission
from funml.check.topics import get_topic

_PROBES = threading.Lock()


@dataclass(frozen=True)
class CheckSettings:
    """How to check a submission.

    Attributes
    ----------
    limits : Limits
        Time, memory and file-size limits of the child process.
    points : dict of str to float
        Points of named checks; others get their topic's default (1 each).
    """

    limits: Limits = field(default_factory=Limits)
    points: dict[str, float] = field(default_factory=dict)


def check_submission(topic: str, path: str | Path, settings: CheckSettings | None = None) -> Report:
    """Check the submission at ``path`` (``.py`` or ``.ipynb``) on ``topic``.

    Raises
    ------
    FunmlError
        If the topic is unknown or the file cannot be read (a syntax error is a failed
        check, not an error).
    """
    module = get_topic(topic)
    submission = load_submission(path)
    return check_loaded(topic, module.CHECKS, submission, settings or CheckSettings())


def check_loaded(topic: str, checks, submission: Submission, settings: CheckSettings) -> Report:
    """Check an already reduced submission; see :func:`check_submission`."""
    start = time.perf_counter()
    active = [c for c in checks if c.optional is None or c.optional in submission.defined]
    if submission.syntax_error:
        outcomes = {c.name: Outcome(failure=submission.syntax_error) for c in active}
        notes = []
    else:
        outcomes, notes = run_probes(
            topic, submission.source, [c.name for c in active], settings.limits
        )
    if any(m == "funml" or m.startswith("funml.") for m in submission.imports):
        notes = [*notes, "The submission imports funml: its results may be funml's own."]
    grader = _Grader(topic, submission)
    results = []
    for c in checks:
        points = settings.points.get(c.name, c.points)
        if c not in active:
            message = f"Skipped: the submission defines no '{c.optional}' (optional)."
            results.append(CheckResult(c.name, c.description, True, 0.0, 0.0, message))
            continue
        message, bug = grader.verdict(c, outcomes[c.name])
        passed = message is None
        results.append(
            CheckResult(
                c.name,
                c.description,
                passed,
                points if passed else 0.0,
                points,
                message or "",
                bug,
                outcomes[c.name].output,
            )
        )
    return Report(
        topic=topic,
        submission=str(submission.path),
        checks=tuple(results),
        notes=tuple(notes),
        seconds=time.perf_counter() - start,
    )


class _Grader:
    """Reference and variant outputs of one topic, computed once each, in this process."""

    def __init__(self, topic: str, submission: Submission):
        self.topic, self.submission = topic, submission
        self._cache: dict[tuple[str, str], dict | None] = {}

    def verdict(self, check: Check, outcome: Outcome) -> tuple[str | None, str | None]:
        """(None, None) when the check passes, else (message, bug id or None)."""
        if outcome.failure:
            return outcome.failure, None
        if outcome.error is not None or outcome.values is None:
            return _error_message(outcome.error or {}, self.submission), None
        want = self._run("reference", check)
        try:
            check.judge(outcome.values, want)
        except Fail as e:
            return str(e), self._recognise(check, outcome.values, want)
        except Exception:  # a judge meeting outputs of a shape it did not expect
            return f"{check.name}: the submission's outputs have an unexpected form.", None
        return None, None

    def _recognise(self, check: Check, got: dict, want: dict) -> str | None:
        for bug in bugs_for(self.topic):
            out = self._run(bug.id + ":" + bug.function, check, bug)
            if out is None or _passes(check, out, want):
                continue  # the variant fails to run here, or this check cannot see it
            if _passes(check, got, out):
                return bug.id
        return None

    def _run(self, key: str, check: Check, bug=None) -> dict | None:
        if (key, check.name) in self._cache:
            return self._cache[key, check.name]
        # Probes seed global generators (torch.manual_seed); one at a time in this process,
        # so that grading a folder with threads gives every submission the same references.
        with _PROBES:
            if bug is None:
                self._cache[key, check.name] = check.run(reference_namespace(self.topic))
            else:
                try:
                    with np.errstate(all="ignore"):  # overflow is what some variants show
                        self._cache[key, check.name] = check.run(variant_namespace(bug))
                except Exception:  # a variant may crash on a probe (e.g. uint8 in-place)
                    self._cache[key, check.name] = None
        return self._cache[key, check.name]


def _passes(check: Check, got: dict, want: dict) -> bool:
    try:
        check.judge(got, want)
    except Exception:
        return False
    return True


def _error_message(error: dict, submission: Submission) -> str:
    """One or two sentences for an exception raised while a probe ran."""
    kind, name = error.get("kind"), error.get("type")
    text = printable(str(error.get("message") or ""))
    if kind == "probe":
        return text
    function = error.get("function")
    function = printable(function) if isinstance(function, str) else None
    line = error.get("line")
    where = ""
    if isinstance(line, int):
        where = f" ({submission.where(line)}"
        where += f", in {function})" if isinstance(function, str) else ")"
    if name == "NotImplementedError":
        return f"Not implemented yet: the code raises NotImplementedError{where}."
    if name == "MemoryError":
        return f"The submission ran out of memory (the limit was reached){where}."
    if name == "SystemExit":
        return f"The submission called sys.exit() or exit(){where}; a function must return."
    if name == "RecursionError":
        return f"The submission recursed too deeply{where}."
    if kind == "funml":
        return f"The check's results could not be saved: {text}."
    return f"The submission raised {text}{where}."
