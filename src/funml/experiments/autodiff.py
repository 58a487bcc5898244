"""`tensors` and `graphs`: the torch warm-up, and the course's two computational graphs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result, Table

if TYPE_CHECKING:
    from funml.autodiff import Graph
    from funml.nn.tensors import TensorBasics

# The course's two graphs: a sigmoid neuron (CS231n's worked example) and the exponential
# error whose worked answer the course got wrong (de/dw1 is -x1·f = -0.3154, not -0.3).
SIGMOID = ("1/(1+exp(-(w0*x0+w1*x1+w2)))", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3})
EXP_ERROR = ("exp(-(w1*x1+w2*x2))", {"w1": 0.1, "x1": 0.3, "w2": -0.2, "x2": 0.4}, 1.0)
# The warm-up's values worked by hand, for the course's A, v1 and v2.
KNOWN = {
    "hadamard": [[1.0, 2.0], [0.0, -1.0]],
    "matmul": [[-1.0, -1.0], [2.0, -1.0]],
    "norm_sq": 18.0,
    "grad_v1": [6.0, 6.0],
    "grad_v2": [-6.0, -6.0],
}


GRID_STEP = 0.01  # the constants c tried for the mean squared error, every GRID_STEP
N_SAMPLES = 20  # numbers whose mean squared error around c is minimised


@dataclass(frozen=True)
class ShapeDemo:
    """v1 * v2ᵀ with the vectors as (2,) and as the course's (2, 1) columns."""

    flat_shape: tuple[int, ...]  # (2,) * (2,): element-wise
    flat_value: list
    column_shape: tuple[int, ...]  # (2, 1) * (1, 2): broadcast to the outer product
    column_value: list


@dataclass(frozen=True)
class MeanDemo:
    """The mean squared error (1/n) Σ (y_i - c)² over a grid of constants c."""

    samples: list[float]  # N_SAMPLES numbers, seeded
    grid: list[float]  # the constants c tried
    mse: list[float]  # the error at each c
    grid_argmin: float  # the c of smallest error
    mean: float  # the samples' mean
    step: float  # the grid's step


@dataclass(frozen=True)
class TensorsMeasurement:
    """The warm-up computed with torch, and whether it equals the values worked by hand."""

    basics: TensorBasics
    matches_known: bool  # autograd equals the manual gradients and every value equals KNOWN
    shapes: ShapeDemo
    norm_grad_error: float  # max |autograd's d||x||²/dx - 2x| over a seeded random x
    mean_demo: MeanDemo


@experiment(
    "tensors",
    summary="The torch warm-up: Hadamard and matrix products, a squared norm, autograd.",
    question=(
        "What are A ⊙ V, AV and ||v1 - v2||² for the course's A, v1 and v2, and does "
        "autograd's gradient of the squared norm equal the hand-derived ±2(v1 - v2)? Why do "
        "shapes (2,) and (2, 1) behave differently, and which constant minimises the mean "
        "squared error?"
    ),
)
def run_tensors(settings, context) -> Result:
    return present_tensors(measure_tensors(settings.seed))


def measure_tensors(seed: int = 0) -> TensorsMeasurement:
    """:func:`funml.nn.tensors.tensor_basics` on the course's values, checked against KNOWN,
    and the three demonstrations: shapes, the gradient of ||x||², the mean as minimiser."""
    import torch

    from funml.nn.tensors import tensor_basics

    t = tensor_basics()
    ok = t.grads_match and all(np.allclose(getattr(t, key), value) for key, value in KNOWN.items())
    x = torch.randn(5, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    x.requires_grad_(True)
    (x * x).sum().backward()
    error = float((x.grad - 2 * x.detach()).abs().max())
    return TensorsMeasurement(t, ok, shape_demo(t.v1, t.v2), error, mean_demo(seed))


def shape_demo(v1, v2) -> ShapeDemo:
    """The same product v1 * v2ᵀ for (2,) vectors and for (2, 1) columns."""
    import torch

    a, b = torch.tensor(v1, dtype=torch.float64), torch.tensor(v2, dtype=torch.float64)
    flat = a * b  # for a 1-D vector, ᵀ changes nothing: this is v1 * v2ᵀ
    column = a.reshape(2, 1) * b.reshape(2, 1).T  # (2, 1) * (1, 2) -> (2, 2)
    return ShapeDemo(tuple(flat.shape), flat.tolist(), tuple(column.shape), column.tolist())


def mean_demo(seed: int = 0, step: float = GRID_STEP) -> MeanDemo:
    """The mean squared error of N_SAMPLES seeded numbers around every c on a grid."""
    import torch

    y = torch.randn(N_SAMPLES, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    y = 3 + 2 * y  # mean near 3, so the answer is not the grid's middle
    first, last = int(np.floor(float(y.min()) / step)), int(np.ceil(float(y.max()) / step))
    grid = step * torch.arange(first, last + 1, dtype=torch.float64)  # multiples of step
    mse = ((y[None, :] - grid[:, None]) ** 2).mean(dim=1)  # (len(grid),)
    return MeanDemo(
        samples=y.tolist(),
        grid=grid.tolist(),
        mse=mse.tolist(),
        grid_argmin=float(grid[mse.argmin()]),
        mean=float(y.mean()),
        step=step,
    )


def present_tensors(m: TensorsMeasurement) -> Result:
    """Metrics, verdict, references and the vector figure of :func:`measure_tensors`."""
    t = m.basics
    keys = ("A", "V", "hadamard", "matmul", "norm_sq", "grad_v1", "grad_v2")
    keys += ("manual_grad_v1", "manual_grad_v2", "grads_match")
    agree = (
        "equal to the hand-derived gradients."
        if m.matches_known
        else ("which DIFFERS from the hand values.")
    )
    d = m.mean_demo
    return Result(
        metrics={key: getattr(t, key) for key in keys}
        | {
            "all_match_known_values": m.matches_known,
            "shapes": asdict(m.shapes),
            "norm_grad_error": m.norm_grad_error,
            "mse_grid": {
                "n_samples": len(d.samples),
                "step": d.step,
                "grid_argmin": d.grid_argmin,
                "mean": d.mean,
                "min_mse": min(d.mse),
            },
        },
        verdict=(
            f"A ⊙ V = {t.hadamard}, AV = {t.matmul}, ||v1 - v2||² = {t.norm_sq:g}; autograd "
            f"gives {t.grad_v1} and {t.grad_v2}, {agree}"
        ),
        answer=answer_tensors(m),
        references=[
            Reference("A ⊙ V", str(t.hadamard), str(KNOWN["hadamard"]), "worked by hand"),
            Reference("A V", str(t.matmul), str(KNOWN["matmul"]), "worked by hand"),
            Reference("||v1 - v2||² (sum of squares)", t.norm_sq, KNOWN["norm_sq"], "by hand"),
            Reference("dy/dv1 (autograd)", str(t.grad_v1), str(t.manual_grad_v1), "2(v1 - v2)"),
            Reference("dy/dv2 (autograd)", str(t.grad_v2), str(t.manual_grad_v2), "-2(v1 - v2)"),
        ],
        figures={
            "v1, v2, their difference and the gradients of ||v1 - v2||²": _vectors(t),
            "Mean squared error around a constant c: smallest at the mean": _mse_curve(d),
        },
        tables=[
            Table("The inputs", ("name", "value"), (("A", str(t.A)), ("V = [v1 v2]", str(t.V))))
        ],
    )


def answer_tensors(m: TensorsMeasurement) -> str:
    """The shape, gradient and mean questions answered with this run's numbers."""
    sh, d, t = m.shapes, m.mean_demo, m.basics
    return (
        f"As (2,) tensors, v1 * v2ᵀ is element-wise (a 1-D vector has nothing to transpose): "
        f"shape {sh.flat_shape}, {sh.flat_value}. As the course's (2, 1) columns, v2ᵀ is a "
        f"(1, 2) row and the same product broadcasts to the outer product, shape "
        f"{sh.column_shape}, {sh.column_value}: the shape, not the numbers, decides what an "
        f"operation does. The gradient of ||x||² is 2x: autograd's differs from 2x by at most "
        f"{m.norm_grad_error:.2g} on a random x, and for ||v1 - v2||² it gives {t.grad_v1} = "
        f"2(v1 - v2). The mean minimises the mean squared error (1/n) Σ (y_i - c)², whose "
        f"derivative -(2/n) Σ (y_i - c) is zero at c = mean: over {len(d.samples)} numbers and "
        f"constants c every {d.step:g}, the smallest error ({min(d.mse):.4f}) is at "
        f"c = {d.grid_argmin:.2f}, and their mean is {d.mean:.4f}."
    )


@dataclass(frozen=True)
class GraphCheck:
    """One expression backpropagated by funml's engine and by torch.autograd."""

    text: str
    at: dict[str, float]  # the input values
    target: float | None  # f*, for an error e = f - f*
    graph: Graph  # evaluated, with every node's value and gradient
    summary: dict  # autodiff.graph_summary(graph): value, error, grads, nodes
    torch_value: float  # the root in torch: f, or e when there is a target
    torch_grads: dict[str, float]  # d(root)/d(input) from torch.autograd


@dataclass(frozen=True)
class GraphsMeasurement:
    """The course's two graphs, and the largest gradient difference from torch."""

    sigmoid: GraphCheck
    exp: GraphCheck
    max_abs_grad_difference_vs_torch: float


@experiment(
    "graphs",
    summary="The course's two computational graphs: values and gradients, drawn.",
    question=(
        "What are the forward values and the gradients of each input in the course's "
        "computational graphs, computed node by node by backpropagation?"
    ),
)
def run_graphs(settings, context) -> Result:
    return present_graphs(measure_graphs())


def measure_graphs() -> GraphsMeasurement:
    """Backpropagate the SIGMOID and EXP_ERROR graphs, and compare with torch.autograd."""
    text1, at1 = SIGMOID
    text2, at2, target = EXP_ERROR
    sigmoid = check_graph(text1, at1, None, _torch_sigmoid)
    exp = check_graph(text2, at2, target, lambda v: _torch_exp(v) - target)
    worst = max(abs(g.summary["grads"][k] - g.torch_grads[k]) for g in (sigmoid, exp) for k in g.at)
    return GraphsMeasurement(sigmoid, exp, worst)


def check_graph(
    text: str, at: dict[str, float], target: float | None, torch_fn: Callable
) -> GraphCheck:
    """``text`` backpropagated at ``at``; ``torch_fn(inputs)`` is the same root in torch."""
    import torch

    from funml.autodiff import backprop, graph_summary

    graph = backprop(text, at, target=target)
    v = {k: torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for k, x in at.items()}
    out = torch_fn(v)
    out.backward()
    torch_grads = {k: float(t.grad) for k, t in v.items()}
    return GraphCheck(
        text, at, target, graph, graph_summary(graph), float(out.detach()), torch_grads
    )


def present_graphs(m: GraphsMeasurement) -> Result:
    """Metrics, verdict, references, the drawn graphs and their node tables."""
    from funml.autodiff import draw_graph, node_table

    sg, ex, worst = m.sigmoid, m.exp, m.max_abs_grad_difference_vs_torch
    s1, s2 = sg.summary, ex.summary
    return Result(
        metrics={
            "sigmoid": s1,
            "exp": s2,
            "max_abs_grad_difference_vs_torch": worst,
            "de_dw1": s2["grads"]["w1"],
            "de_dw2": s2["grads"]["w2"],
        },
        verdict=(
            f"The exponential graph gives f = {s2['value']:.3f}, e = {s2['error']:.3f}, de/dw1 = "
            f"{s2['grads']['w1']:.4f} and de/dw2 = {s2['grads']['w2']:.4f} (the course's "
            f"worked answer of -0.3 for de/dw1 is wrong); the sigmoid neuron gives f = "
            f"{s1['value']:.3f}. Every gradient equals torch.autograd's "
            + ("exactly." if worst == 0 else f"to {worst:.0e}.")
        ),
        answer=answer_graphs(m),
        references=_graph_references(sg, ex),
        figures={
            f"Sigmoid neuron {sg.text} at {_at(sg.at)}": draw_graph(sg.graph),
            f"Exponential error {ex.text} - f* at {_at(ex.at)}, f* = {ex.target:g}": draw_graph(
                ex.graph
            ),
        },
        tables=[
            _node_table(f"Nodes of {sg.text}", node_table(sg.graph)),
            _node_table(f"Nodes of {ex.text} with target {ex.target:g}", node_table(ex.graph)),
        ],
    )


def answer_graphs(m: GraphsMeasurement) -> str:
    """Both graphs' values and gradients, and the course's wrong worked answer corrected."""
    s1, s2, at, f_star = m.sigmoid.summary, m.exp.summary, m.exp.at, m.exp.target
    f, g = s2["value"], s2["grads"]
    sig = ", ".join(f"{k} {v:.3f}" for k, v in s1["grads"].items())
    worst = m.max_abs_grad_difference_vs_torch
    same = "exactly" if worst == 0 else f"to within {worst:.0e}"
    return (
        "Backpropagation goes from the output to the inputs, multiplying each node's local "
        "derivative, evaluated at its forward value, by the gradient arriving from above. "
        f"The sigmoid neuron gives f = {s1['value']:.3f}, and the local derivative "
        f"σ(1 - σ) = {s1['value'] * (1 - s1['value']):.3f} scales every input's gradient: {sig}. "
        f"In the exponential graph the forward value is f = {f:.3f} (e = f - f* = "
        f"{s2['error']:.3f}), and since the derivative of exp is exp itself, de/dw1 = -x1·f = "
        f"{g['w1']:.4f} and de/dw2 = -x2·f = {g['w2']:.4f}. The course's worked answer used "
        f"f* = {f_star:g} in place of the forward value f and gave {-at['x1'] * f_star:g} and "
        f"{-at['x2'] * f_star:g}: that is wrong. torch.autograd gives the same gradients, {same}."
    )


def _graph_references(sigmoid: GraphCheck, exp: GraphCheck) -> list[Reference]:
    s1, s2, at2 = sigmoid.summary, exp.summary, exp.at
    f2 = s2["value"]
    refs = [
        Reference(
            "sigmoid graph: f", s1["value"], sigmoid.torch_value, "torch.autograd, same expression"
        )
    ]
    refs += [
        Reference(
            f"sigmoid graph: df/d{k}", s1["grads"][k], sigmoid.torch_grads[k], "torch.autograd"
        )
        for k in sigmoid.at
    ]
    refs += [
        Reference(
            "exp graph: f", f2, exp.torch_value + exp.target, "torch.autograd, same expression"
        ),
        Reference("exp graph: e = f - f*", s2["error"], exp.torch_value, "torch.autograd (f* = 1)"),
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
        Reference(f"exp graph: de/d{k}", s2["grads"][k], exp.torch_grads[k], "torch.autograd")
        for k in ("x1", "x2")
    ]
    return refs


def _torch_sigmoid(v: dict):
    import torch

    return 1 / (1 + torch.exp(-(v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"])))


def _torch_exp(v: dict):
    import torch

    return torch.exp(-(v["w1"] * v["x1"] + v["w2"] * v["x2"]))


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


def _mse_curve(d: MeanDemo) -> Figure:
    fig = Figure(figsize=(5.5, 3.4))
    ax = fig.subplots()
    ax.plot(d.grid, d.mse, label="(1/n) Σ (y_i - c)²")
    ax.axvline(d.mean, color="C3", ls="--", label=f"mean {d.mean:.4f}")
    ax.plot(d.grid_argmin, min(d.mse), "o", color="C1", label=f"grid argmin {d.grid_argmin:g}")
    ax.plot(d.samples, np.full(len(d.samples), min(d.mse)), "|", color="gray", ms=12)
    ax.set(xlabel="constant c (grey ticks: the numbers y_i)", ylabel="mean squared error")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


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
