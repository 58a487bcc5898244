"""``funml.check(topic, path)``: the command line's ``funml check TOPIC FILE`` as a function.

>>> import funml
>>> report = funml.check("graph", "my_graph.ipynb")  # doctest: +SKIP
>>> report  # doctest: +SKIP
<funml.check graph my_graph.ipynb: 3/4, failed graph-gradients [bug: graph-gradient-at-target]>
>>> report.score, report.to_dict()["checks"][0]["passed"]  # doctest: +SKIP

In a notebook the report shows itself as a table (check, points, passed, message) and its
score. The submission runs in a limited child process, as on the command line.
"""

from __future__ import annotations

import os

from funml.check.grade import CheckSettings, check_submission
from funml.check.report import Report
from funml.check.sandbox import Limits
from funml.errors import FunmlError


def check(
    topic: str,
    path: str | os.PathLike,
    *,
    timeout: float = 20.0,
    memory_mb: int = 3072,
    points: dict[str, float] | None = None,
) -> Report:
    """Check the submission at ``path`` (``.py`` or ``.ipynb``) on ``topic``.

    Parameters
    ----------
    topic : str
        ``knn``, ``softmax``, ``mlp``, ``conv2d``, ``loops``, ``graph`` or ``pca``.
    path : path-like
        The student's file; a folder is graded with ``funml check TOPIC FOLDER``.
    timeout, memory_mb
        As ``funml check``'s ``--timeout`` and ``--memory-mb``: the seconds one check may
        take and the memory limit of the process running the submission.
    points : dict of str to float, optional
        Points of named checks; the others get 1 each.

    Returns
    -------
    Report
        ``.score``, ``.max_score``, ``.checks``; ``.to_dict()`` is ``--json``'s record and
        ``.to_gradescope()`` Gradescope's ``results.json``.

    Raises
    ------
    FunmlError
        If the topic is unknown or the file cannot be read (a syntax error is a failed
        check, not an error).
    """
    if os.path.isdir(path):
        raise FunmlError(
            f"'{os.fspath(path)}' is a folder; check one file here, or grade a folder with "
            f"`funml check {topic} {os.fspath(path)} --out grades.csv`."
        )
    settings = CheckSettings(
        limits=Limits(seconds=timeout, memory_mb=memory_mb), points=dict(points or {})
    )
    return check_submission(topic, path, settings)
