"""funml.check.effects: every catalogued bug's variant changes its number on real data
(Digits, which ships with scikit-learn), and the fix gives the reference's."""

import math

import pytest

from funml.check import BUGS
from funml.check.effects import MEASURES, measure


def test_every_bug_has_a_measure():
    assert {(b.topic, b.id) for b in BUGS} == set(MEASURES)


@pytest.mark.parametrize("bug", BUGS, ids=[f"{b.topic}-{b.id}" for b in BUGS])
def test_the_variant_changes_the_number(bug):
    effect = measure(bug, "digits", n_train=300, n_test=400)
    assert math.isfinite(effect.buggy) and math.isfinite(effect.fixed)
    assert effect.buggy != pytest.approx(effect.fixed, rel=1e-6, abs=1e-9)
    assert effect.data == "digits" and effect.metric and effect.reported == bug.reported
