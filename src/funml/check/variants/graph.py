"""Buggy ``graph_answers`` variants."""

import math


def graph_answers_at_target():
    """The hand back-propagation uses f = 1 (the target) where the forward value belongs."""
    w1, x1, w2, x2 = 0.1, 0.3, -0.2, 0.4
    f = math.exp(-(w1 * x1 + w2 * x2))
    df_dz = -1.0  # d exp(-z)/dz is -f; the target 1 was used for f
    return {"f": f, "e": f - 1.0, "de_dw1": df_dz * x1, "de_dw2": df_dz * x2}
