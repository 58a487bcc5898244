"""``funml check``: grade a student's implementation of the course's functions.

A submission (``.py`` or ``.ipynb``) is reduced to its imports, definitions and literal
constants (:mod:`.submission`), run only in a limited child process (:mod:`.sandbox`,
:mod:`.child`) on probes chosen to expose the course's known bugs (:mod:`.topics`), and
judged here against funml's verified references in the course's signatures
(:mod:`.reference`). A failing check names the catalogued bug (:mod:`.catalogue`,
:mod:`.variants`) whose outputs the submission reproduces.
"""

import sys
import types

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
    "check_submission",
    "get_topic",
    "variant_source",
]


class _CallableModule(types.ModuleType):
    """``funml.check(topic, path)`` is the notebook API's grader, and ``funml.check`` is also
    this package: once ``import funml.check`` has run, the name is the package, so the
    package is made callable (a module's class may be replaced for this, as the Python
    reference documents under "Customizing module attribute access")."""

    def __call__(self, topic, path, **kwargs):
        from funml.api import check

        return check(topic, path, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
