"""Topic ``graph``: the course's graph exp(-(w1*x1 + w2*x2)) by hand.

``graph_answers()`` returns ``{"f", "e", "de_dw1", "de_dw2"}`` at w1=0.1, x1=0.3,
w2=-0.2, x2=0.4, with the error e = f - 1 against the target 1. Answers rounded to four
decimals pass.
"""

from __future__ import annotations

from funml.check.probe import Check, Fail, ProbeError, as_number, get, need

REFERENCE = "funml.check.reference.graph"
FUNCTIONS = {"graph_answers": "graph_answers() -> dict with f, e, de_dw1, de_dw2"}
TOLERANCE = 5e-4  # four decimals, as the course wrote them
FIELDS = ("f", "e", "de_dw1", "de_dw2")


def _answers(ns) -> dict:
    answers = need(ns, "graph_answers")()
    if not isinstance(answers, dict):
        raise ProbeError(f"graph_answers returned a {type(answers).__name__}, not a dict.")
    missing = [k for k in FIELDS if k not in answers]
    if missing:
        raise ProbeError(f"graph_answers' dict has no key {', '.join(map(repr, missing))}.")
    return {k: as_number(answers[k], f"graph_answers()['{k}']") for k in FIELDS}


def _judge(keys):
    def judge(got, want):
        wrong = [k for k in keys if not _near(get(got, k), want[k])]
        if wrong:
            raise Fail(f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong.")

    return judge


def _near(g, w) -> bool:
    return isinstance(g, int | float) and abs(g - w) <= TOLERANCE


CHECKS = (
    Check(
        "graph-forward",
        "f and e = f - 1 of the forward pass",
        _answers,
        _judge(("f", "e")),
    ),
    Check(
        "graph-gradients",
        "de/dw1 and de/dw2 by back-propagation through every node",
        _answers,
        _judge(("de_dw1", "de_dw2")),
    ),
)
