"""``funml check``: grade a student's implementation of the course's functions.

A submission (``.py`` or ``.ipynb``) is reduced to its imports, definitions and literal
constants (:mod:`.submission`), run only in a limited child process (:mod:`.sandbox`,
:mod:`.child`) on probes chosen to expose the course's known bugs (:mod:`.topics`), and
judged here against funml's verified references in the course's signatures
(:mod:`.reference`). A failing check names the catalogued bug (:mod:`.catalogue`,
:mod:`.variants`) whose outputs the submission reproduces.

From Python, the package itself is callable: ``funml.check("softmax", "alice.ipynb")`` is
:func:`funml.check.api.check` (also importable as ``from funml.check import check``) and
returns a :class:`Report`, which shows itself as a table in a notebook.
"""

import sys
import types

from funml.check.api import check
from funml.check.catalogue import BUGS, Bug, bugs_for, variant_source
from funml.check.grade import CheckSettings, check_submission
from funml.check.report import CheckResult, Report
from funml.check.sandbox import Limits
from funml.check.topics import TOPICS, get_topic

__all__ = [
    "BUGS",
    "TOPICS",
    "Bug",
    "CheckResult",
    "CheckSettings",
    "Limits",
    "Report",
    "bugs_for",
    "check",
    "check_submission",
    "get_topic",
    "variant_source",
]


class _CallableModule(types.ModuleType):
    """``funml.check`` is both this package and the function :func:`check`: importing a
    subpackage makes ``funml.check`` the package, so the package answers the call."""

    def __call__(self, topic, path, **settings) -> Report:
        return check(topic, path, **settings)


sys.modules[__name__].__class__ = _CallableModule
