"""The course's graph exp(-(w1*x1 + w2*x2)), backpropagated by :mod:`funml.autodiff`."""

from funml.autodiff import backprop


def graph_answers():
    """Forward value, error against the target 1, and the two weight gradients.

    Returns
    -------
    answers : dict
        ``f`` and ``e = f - 1`` at w1=0.1, x1=0.3, w2=-0.2, x2=0.4, and ``de_dw1``,
        ``de_dw2``.
    """
    values = {"w1": 0.1, "x1": 0.3, "w2": -0.2, "x2": 0.4}
    g = backprop("exp(-(w1*x1 + w2*x2))", values, target=1.0)
    f = g.nodes[g.output].value
    return {"f": f, "e": f - 1.0, "de_dw1": g.grads["w1"], "de_dw2": g.grads["w2"]}
