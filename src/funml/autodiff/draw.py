"""Drawing a computational graph: circles for variables, rectangles for operations.

:func:`draw_graph` lays the graph out left to right by depth and draws it with matplotlib
(imported only when a figure is drawn). :func:`to_dot` writes the same graph as Graphviz
DOT text, and :func:`render_dot` renders that text when Graphviz's ``dot`` is installed.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

from funml.autodiff.parse import Graph, Node
from funml.errors import FunmlError

# Layout, in data units; the figure maps one unit to INCH_PER_UNIT inches so that the
# fonts (in points) keep the same size relative to the shapes for any graph.
COLUMN_GAP = 1.0  # horizontal distance between depths
ROW_GAP = 1.35  # minimum vertical distance between nodes of one column (room for labels)
RADIUS = 0.3  # variable circles
BOX = (0.62, 0.42)  # operation rectangles: width, height
INCH_PER_UNIT = 0.8
MAX_INCHES = 200  # a larger drawing is unreadable (and past what a PNG can hold at 110 dpi)

_OP_LABELS = {"-": "−", "*": "×", "/": "÷", "neg": "neg", "sigmoid": "σ"}
_FILL = {
    "input": "#d6e6f5",
    "const": "#ececec",
    "intermediate": "#ffffff",
    "output": "#d4efd4",
    "error": "#fbe0c4",
    "op": "#fff6d5",
}
_VALUE_COLOR = "#1f4e9c"
_GRAD_COLOR = "#b8322a"
_DOT_FORMATS = ("png", "svg", "pdf")


def layout(graph: Graph) -> dict[int, tuple[float, float]]:
    """Centre ``(x, y)`` of every node, in data units.

    x is the depth (inputs in column 0, each operation one column right of its deepest
    operand, its result one more). A constant sits in the column just left of the
    operation that uses it. Within a column, nodes are placed at the mean height of what
    they are computed from (constants beside the operand they combine with) and then
    pushed apart to at least ``ROW_GAP``, so no two nodes overlap.
    """
    column = _columns(graph)
    consumers: dict[int, list[int]] = {}
    for n in graph.ops:
        for i in n.inputs:
            consumers.setdefault(i, []).append(n.id)

    y: dict[int, float] = {}
    for c in sorted(set(column.values())):
        members = [n for n in graph.nodes if column[n.id] == c]
        desired = {}
        for rank, n in enumerate(m for m in members if m.kind != "const"):
            if n.kind == "input":
                desired[n.id] = -rank * ROW_GAP
            else:
                preds = [i for i in n.inputs if graph.nodes[i].kind != "const"] or list(n.inputs)
                placed = [y[i] for i in preds if i in y]
                desired[n.id] = sum(placed) / len(placed) if placed else 0.0
        for n in members:
            if n.kind == "const":
                desired[n.id] = _beside(graph, n, consumers.get(n.id, []), y, desired)
        y.update(_spread(desired))
    return {i: (column[i] * COLUMN_GAP, y[i]) for i in column}


def draw_graph(graph: Graph, ax=None, values: bool = True, grads: bool = True):
    """Draw the graph and return its matplotlib Figure.

    Parameters
    ----------
    graph : Graph
        From :func:`funml.autodiff.parse`, evaluated or not.
    ax : matplotlib Axes, optional
        Where to draw; a new Figure sized to the graph is made when None.
    values, grads : bool
        Write each variable's forward value (blue, above it) and its gradient of the
        root (red, below it), rounded to 3 decimals, when they are known.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

    pos = layout(graph)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    pad = 0.8
    xlim = (min(xs) - pad, max(xs) + pad)
    ylim = (min(ys) - pad, max(ys) + pad)
    if max(xlim[1] - xlim[0], ylim[1] - ylim[0]) * INCH_PER_UNIT > MAX_INCHES:
        raise FunmlError(
            f"The graph of '{graph.expression[:40]}' has {len(graph.ops)} operations, too many "
            "to draw legibly; draw a smaller expression, or export it with to_dot."
        )
    if ax is None:
        size = ((xlim[1] - xlim[0]) * INCH_PER_UNIT, (ylim[1] - ylim[0]) * INCH_PER_UNIT + 0.5)
        fig = Figure(figsize=(max(size[0], 3.0), max(size[1], 2.0)))
        ax = fig.add_subplot()
    fig = ax.figure

    for n in graph.nodes:
        x, y = pos[n.id]
        if n.is_op:
            w, h = BOX
            patch = Rectangle((x - w / 2, y - h / 2), w, h, fc=_FILL["op"], ec="#7a6a2a", lw=1.2)
            label = _OP_LABELS.get(n.name, n.name)
        else:
            patch = Circle((x, y), RADIUS, fc=_FILL[n.kind], ec="#333333", lw=1.2)
            label = n.name
        patch.set_gid(f"node{n.id}")
        ax.add_patch(patch)
        size = 10 if len(label) <= 3 else max(5.5, 10 * 3.5 / len(label))
        ax.text(x, y, label, ha="center", va="center", fontsize=size, zorder=3)
        if values and n.value is not None and not n.is_op:
            ax.text(x, y + RADIUS + 0.06, f"{n.value:.3f}", ha="center", va="bottom",
                    fontsize=7.5, color=_VALUE_COLOR, zorder=3)  # fmt: skip
        if grads and n.grad is not None and not n.is_op:
            ax.text(x, y - RADIUS - 0.06, f"{n.grad:.3f}", ha="center", va="top",
                    fontsize=7.5, color=_GRAD_COLOR, zorder=3)  # fmt: skip

    for n in graph.nodes:
        for i in n.inputs:
            # Clip the edge to the shapes' outlines here: matplotlib's own clipping
            # (patchA/patchB) is exact but costs most of the drawing time.
            start = _outline(graph.nodes[i], pos[i], pos[n.id])
            end = _outline(n, pos[n.id], pos[i])
            arrow = FancyArrowPatch(
                start, end, arrowstyle="-|>", mutation_scale=9, shrinkA=1, shrinkB=1,
                color="#555555", lw=0.9, zorder=1,
            )  # fmt: skip
            ax.add_patch(arrow)

    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(_title(graph, values, grads), fontsize=9)
    return fig


def to_dot(graph: Graph, values: bool = True, grads: bool = True) -> str:
    """The graph as Graphviz DOT text: circles for variables, boxes for operations."""
    lines = [
        "digraph funml {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=11];',
    ]
    for n in graph.nodes:
        if n.is_op:
            attrs = f'shape=box, style=filled, fillcolor="{_FILL["op"]}"'
            label = _OP_LABELS.get(n.name, n.name)
        else:
            attrs = f'shape=circle, style=filled, fillcolor="{_FILL[n.kind]}"'
            parts = [n.name]
            if values and n.value is not None:
                parts.append(f"{n.value:.3f}")
            if grads and n.grad is not None:
                parts.append(f"grad {n.grad:.3f}")
            label = "\n".join(parts)
        lines.append(f'  n{n.id} [{attrs}, label="{_dot_escape(label)}"];')
    for n in graph.nodes:
        for i in n.inputs:
            lines.append(f"  n{i} -> n{n.id};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_dot(dot_text: str, path: str | os.PathLike, timeout: float = 60.0) -> Path:
    """Render DOT text to ``path`` (.png, .svg or .pdf) with Graphviz's ``dot`` program."""
    from funml.files import atomic_path

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in _DOT_FORMATS:
        raise FunmlError(
            f"Cannot render '{path}' with Graphviz; give a file ending in .png, .svg or .pdf."
        )
    dot = shutil.which("dot")
    if dot is None:
        raise FunmlError(
            "Graphviz's 'dot' program is not installed; install graphviz, "
            "or draw the graph with draw_graph instead."
        )
    with atomic_path(path) as tmp:
        result = subprocess.run(
            [dot, f"-T{fmt}", "-o", str(tmp)],
            input=dot_text,
            text=True,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise FunmlError(f"Graphviz failed to render '{path}': {result.stderr.strip()}.")
    return path


def _outline(node: Node, centre, toward) -> tuple[float, float]:
    """Where the segment from ``centre`` to ``toward`` leaves the node's circle or box."""
    dx, dy = toward[0] - centre[0], toward[1] - centre[1]
    if node.is_op:
        w, h = BOX
        t = min(w / 2 / abs(dx) if dx else math.inf, h / 2 / abs(dy) if dy else math.inf)
    else:
        t = RADIUS / math.hypot(dx, dy)
    return centre[0] + t * dx, centre[1] + t * dy


def _columns(graph: Graph) -> dict[int, int]:
    column: dict[int, int] = {}
    for n in graph.nodes:  # evaluation order: operands come first
        column[n.id] = max((column[i] for i in n.inputs), default=-1) + 1
    for n in graph.nodes:  # move constants next to their first consumer
        if n.kind == "const":
            users = [m.id for m in graph.ops if n.id in m.inputs]
            if users:
                column[n.id] = min(column[u] for u in users) - 1
    return column


def _beside(graph: Graph, const: Node, users: list[int], y: dict, desired: dict) -> float:
    """Height for a constant: just above (left operand) or below the operand it pairs with."""
    if not users:
        return 0.0
    op = graph.nodes[users[0]]
    others = [i for i in op.inputs if i != const.id]
    known = [y.get(i, desired.get(i)) for i in others]
    known = [k for k in known if k is not None]
    if not known:
        return 0.0
    above = op.inputs.index(const.id) == 0
    return known[0] + (ROW_GAP if above else -ROW_GAP)


def _spread(desired: dict[int, float]) -> dict[int, float]:
    """Keep the desired heights where possible, at least ROW_GAP apart, top to bottom."""
    order = sorted(desired, key=lambda i: (-desired[i], i))
    placed: dict[int, float] = {}
    last = None
    for i in order:
        yi = desired[i] if last is None else min(desired[i], last - ROW_GAP)
        placed[i] = last = yi
    # Pushing down only moves the lower nodes; re-centre the column on what was wanted.
    shift = (sum(desired.values()) - sum(placed.values())) / len(placed)
    if len(placed) > 1 and shift:
        placed = {i: yi + shift for i, yi in placed.items()}
    return placed


def _title(graph: Graph, values: bool, grads: bool) -> str:
    title = graph.expression
    if graph.target is not None:
        title += f",  f* = {graph.target:g}"
    facts = []
    out = graph.nodes[graph.output]
    if values and out.value is not None:
        facts.append(f"f = {out.value:.3f}")
        if graph.error is not None:
            facts.append(f"e = f - f* = {graph.nodes[graph.error].value:.3f}")
    if facts:
        title += "\n" + ",  ".join(facts)
    keys = []
    if values and graph.evaluated:
        keys.append("value above (blue)")
    if grads and graph.evaluated:
        keys.append(f"d{graph.root.name}/d(node) below (red)")
    if keys:
        title += "\n" + ",  ".join(keys)
    return title


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
