"""`tensors` and `graphs`: the torch warm-up, and the course's two computational graphs."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result, Table

# The course's two graphs: a sigmoid neuron (CS231n's worked example) and the exponential
# error whose worked answer the course got wrong (de/dw1 is -x1·f = -0.3154, not -0.3).
SIGMOID = ("1/(1+exp(-(w0*x0+w1*x1+w2)))", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3})
EXP_ERROR = ("exp(-(w1*x1+w2*x2))", {"w1": 0.1, "x1": 0.3, "w2": -0.2, "x2": 0.4}, 1.0)


@experiment(
    "tensors",
    summary="The torch warm-up: Hadamard and matrix products, a squared norm, autograd.",
    question=(
        "What are A ⊙ V, AV and ||v1 - v2||² for the course's A, v1 and v2, and does "
        "autograd's gradient of the squared norm equal the hand-derived ±2(v1 - v2)?"
    ),
)
def run_tensors(settings, context) -> Result:
    from funml.nn.tensors import tensor_basics

    t = tensor_basics()
    known = {
        "hadamard": [[1.0, 2.0], [0.0, -1.0]],
        "matmul": [[-1.0, -1.0], [2.0, -1.0]],
        "norm_sq": 18.0,
        "grad_v1": [6.0, 6.0],
        "grad_v2": [-6.0, -6.0],
    }
    refs = [
        Reference("A ⊙ V", str(t.hadamard), str(known["hadamard"]), "worked by hand"),
        Reference("A V", str(t.matmul), str(known["matmul"]), "worked by hand"),
        Reference("||v1 - v2||² (sum of squares)", t.norm_sq, known["norm_sq"], "by hand"),
        Reference("dy/dv1 (autograd)", str(t.grad_v1), str(t.manual_grad_v1), "2(v1 - v2)"),
        Reference("dy/dv2 (autograd)", str(t.grad_v2), str(t.manual_grad_v2), "-2(v1 - v2)"),
    ]
    ok = t.grads_match and all(np.allclose(getattr(t, key), value) for key, value in known.items())
    return Result(
        metrics={
            "A": t.A,
            "V": t.V,
            "hadamard": t.hadamard,
            "matmul": t.matmul,
            "norm_sq": t.norm_sq,
            "grad_v1": t.grad_v1,
            "grad_v2": t.grad_v2,
            "manual_grad_v1": t.manual_grad_v1,
            "manual_grad_v2": t.manual_grad_v2,
            "grads_match": t.grads_match,
            "all_match_known_values": ok,
        },
        verdict=(
            f"A ⊙ V = {t.hadamard}, AV = {t.matmul}, ||v1 - v2||² = {t.norm_sq:g}; autograd "
            f"gives {t.grad_v1} and {t.grad_v2}, "
            + (
                "equal to the hand-derived gradients."
                if ok
                else "which DIFFERS from the hand values."
            )
        ),
        references=refs,
        figures={"v1, v2, their difference and the gradients of ||v1 - v2||²": _vectors(t)},
        tables=[
            Table("The inputs", ("name", "value"), (("A", str(t.A)), ("V = [v1 v2]", str(t.V))))
        ],
    )


@experiment(
    "graphs",
    summary="The course's two computational graphs: values and gradients, drawn.",
    question=(
        "What are the forward values and the gradients of each input in the course's "
        "computational graphs, computed node by node by backpropagation?"
    ),
)
def run_graphs(settings, context) -> Result:
    import torch

    from funml.autodiff import backprop, draw_graph, graph_summary, node_table

    text1, at1 = SIGMOID
    g1 = backprop(text1, at1)
    text2, at2, target = EXP_ERROR
    g2 = backprop(text2, at2, target=target)
    s1, s2 = graph_summary(g1), graph_summary(g2)
    t1 = _torch_grads(
        torch,
        lambda v: 1 / (1 + torch.exp(-(v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"]))),
        at1,
    )
    t2 = _torch_grads(
        torch, lambda v: torch.exp(-(v["w1"] * v["x1"] + v["w2"] * v["x2"])) - target, at2
    )
    f2 = s2["value"]
    refs = [Reference("sigmoid graph: f", s1["value"], t1[0], "torch.autograd, same expression")]
    refs += [
        Reference(f"sigmoid graph: df/d{k}", s1["grads"][k], t1[1][k], "torch.autograd")
        for k in at1
    ]
    refs += [
        Reference("exp graph: f", f2, t2[0] + target, "torch.autograd, same expression"),
        Reference("exp graph: e = f - f*", s2["error"], t2[0], "torch.autograd (f* = 1)"),
        Reference(
            "exp graph: de/dw1",
            s2["grads"]["w1"],
            -at2["x1"] * f2,
            "-x1·f = -0.3154 by hand; the course's worked answer said -0.3",
        ),
        Reference(
            "exp graph: de/dw2", s2["grads"]["w2"], -at2["x2"] * f2, "-x2·f = -0.4205 by hand"
        ),
    ]
    refs += [
        Reference(f"exp graph: de/d{k}", s2["grads"][k], t2[1][k], "torch.autograd")
        for k in ("x1", "x2")
    ]
    worst = max(abs(s1["grads"][k] - t1[1][k]) for k in at1)
    worst = max(worst, *(abs(s2["grads"][k] - t2[1][k]) for k in at2))
    return Result(
        metrics={
            "sigmoid": s1,
            "exp": s2,
            "max_abs_grad_difference_vs_torch": worst,
            "de_dw1": s2["grads"]["w1"],
            "de_dw2": s2["grads"]["w2"],
        },
        verdict=(
            f"The exponential graph gives f = {f2:.3f}, e = {s2['error']:.3f}, de/dw1 = "
            f"{s2['grads']['w1']:.4f} and de/dw2 = {s2['grads']['w2']:.4f} (the course's "
            f"worked answer of -0.3 for de/dw1 is wrong); the sigmoid neuron gives f = "
            f"{s1['value']:.3f}. Every gradient equals torch.autograd's "
            + ("exactly." if worst == 0 else f"to {worst:.0e}.")
        ),
        references=refs,
        figures={
            f"Sigmoid neuron {text1} at {_at(at1)}": draw_graph(g1),
            f"Exponential error {text2} - f* at {_at(at2)}, f* = {target:g}": draw_graph(g2),
        },
        tables=[
            _node_table(f"Nodes of {text1}", node_table(g1)),
            _node_table(f"Nodes of {text2} with target {target:g}", node_table(g2)),
        ],
    )


def _torch_grads(torch, f, at: dict) -> tuple[float, dict]:
    v = {k: torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for k, x in at.items()}
    out = f(v)
    out.backward()
    return float(out.detach()), {k: float(t.grad) for k, t in v.items()}


def _node_table(title: str, rows: list[dict]) -> Table:
    return Table(
        title,
        ("node", "kind", "operation", "operands", "value", "gradient"),
        tuple(
            (
                r["name"],
                r["kind"],
                r["op"] or "",
                ", ".join(r["inputs"]),
                _round(r["value"]),
                _round(r["grad"]),
            )
            for r in rows
        ),
    )


def _round(x):
    return None if x is None else round(float(x), 4)


def _at(values: dict) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in values.items())


def _vectors(t) -> Figure:
    fig = Figure(figsize=(4.6, 4.2))
    ax = fig.subplots()
    v1, v2 = np.array(t.v1), np.array(t.v2)
    arrows = [
        ((0, 0), v1, "v1", "C0"),
        ((0, 0), v2, "v2", "C1"),
        (v2, v1 - v2, "v1 - v2", "C2"),
        (v1, np.array(t.grad_v1) / 4, "dy/dv1 / 4", "C3"),
        (v2, np.array(t.grad_v2) / 4, "dy/dv2 / 4", "C4"),
    ]
    for start, d, label, color in arrows:
        ax.annotate(
            "",
            xy=np.add(start, d),
            xytext=start,
            arrowprops={"arrowstyle": "->", "color": color, "lw": 2},
        )
        ax.plot([], [], color=color, lw=2, label=label)
    ax.set(xlim=(-4, 4), ylim=(-4, 4), aspect="equal", title="Gradients point from v2 to v1")
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
