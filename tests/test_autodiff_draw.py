"""Drawing graphs: circles, rectangles, labels, a PNG, no overlaps, and Graphviz DOT text."""

import itertools
import random
import re
import shutil

import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle
from PIL import Image

from funml.autodiff import backprop, draw_graph, layout, parse, render_dot, to_dot
from funml.autodiff.draw import COLUMN_GAP, ROW_GAP
from funml.errors import FunmlError
from funml.files import save_figure

SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
SIGMOID_AT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
COURSE = "exp(-(w1*x1 + w2*x2))"
COURSE_AT = {"w1": 0.1, "x1": 0.3, "w2": -0.2, "x2": 0.4}


def shapes(fig):
    ax = fig.axes[0]
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    boxes = [p for p in ax.patches if type(p) is Rectangle]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    texts = [t.get_text() for t in ax.texts]
    return circles, boxes, arrows, texts


def test_sigmoid_drawing_has_the_expected_nodes():
    g = backprop(SIGMOID, SIGMOID_AT)
    fig = draw_graph(g)
    assert isinstance(fig, Figure)
    circles, boxes, arrows, texts = shapes(fig)
    assert len(boxes) == 8  # the 8 operations
    assert len(circles) == 15  # 5 inputs, 2 constants, z1..z7 and f
    assert len(arrows) == sum(len(n.inputs) for n in g.nodes)
    for name in ["w0", "x0", "w1", "x1", "w2", "f", *(f"z{k}" for k in range(1, 8))]:
        assert name in texts
    assert texts.count("1") >= 2  # the two constants
    assert sorted(t for t in texts if t in {"×", "+", "neg", "exp", "÷"}) == sorted(
        ["×", "×", "+", "+", "+", "neg", "exp", "÷"]
    )
    assert "0.731" in texts  # f, rounded to 3 decimals
    assert "-0.197" in texts  # df/dw0


def test_values_and_grads_can_be_left_out():
    g = backprop(COURSE, COURSE_AT, target=1)
    numbers = re.compile(r"-?\d+\.\d{3}$")
    _, _, _, with_both = shapes(draw_graph(g))
    _, _, _, names_only = shapes(draw_graph(g, values=False, grads=False))
    _, _, _, values_only = shapes(draw_graph(g, grads=False))
    assert "1.051" in with_both and "0.051" in with_both and "-0.315" in with_both
    assert not [t for t in names_only if numbers.match(t)]
    assert "1.051" in values_only and "-0.315" not in values_only


def test_drawing_an_unevaluated_graph_shows_names():
    fig = draw_graph(parse(SIGMOID))
    circles, boxes, _, texts = shapes(fig)
    assert (len(circles), len(boxes)) == (15, 8)
    assert "z7" in texts


def test_draws_into_a_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert draw_graph(backprop("x*y", {"x": 2.0, "y": 3.0}), ax=ax) is fig
    assert len([p for p in ax.patches if isinstance(p, Circle)]) == 3


def test_png_file(tmp_path):
    path = save_figure(draw_graph(backprop(SIGMOID, SIGMOID_AT)), tmp_path / "g.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as im:
        width, height = im.size
    assert width > height > 200  # laid out left to right


def assert_no_overlap(graph):
    pos = layout(graph)
    assert set(pos) == {n.id for n in graph.nodes}
    for a, b in itertools.combinations(graph.nodes, 2):
        (xa, ya), (xb, yb) = pos[a.id], pos[b.id]
        if abs(xa - xb) < COLUMN_GAP / 2:
            assert abs(ya - yb) >= ROW_GAP - 1e-9, (a.name, b.name)
        else:
            assert abs(xa - xb) >= COLUMN_GAP - 1e-9
    # Left to right by depth: every edge points right.
    for n in graph.nodes:
        for i in n.inputs:
            assert pos[i][0] < pos[n.id][0]


def random_expression(rng, depth):
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(["a", "b", "c", "2", "0.5"])
    r = rng.random()
    if r < 0.3:
        return (
            f"{rng.choice(['exp', 'tanh', 'sigmoid', 'relu'])}({random_expression(rng, depth - 1)})"
        )
    if r < 0.4:
        return f"-({random_expression(rng, depth - 1)})"
    op = rng.choice(["+", "-", "*", "/"])
    return f"({random_expression(rng, depth - 1)} {op} {random_expression(rng, depth - 1)})"


def test_layout_has_no_overlaps():
    assert_no_overlap(parse(SIGMOID))
    assert_no_overlap(parse(COURSE, target=1))
    rng = random.Random(0)
    for _ in range(40):
        assert_no_overlap(parse(random_expression(rng, 5), target=rng.choice([None, 1.0])))


def test_dot_text():
    g = backprop(COURSE, COURSE_AT, target=1)
    dot = to_dot(g)
    assert dot.startswith("digraph funml {") and dot.rstrip().endswith("}")
    assert "rankdir=LR" in dot
    assert dot.count("shape=circle") == len(g.variables)
    assert dot.count("shape=box") == len(g.ops)
    edges = re.findall(r"n(\d+) -> n(\d+);", dot)
    assert sorted((int(a), int(b)) for a, b in edges) == sorted(
        (i, n.id) for n in g.nodes for i in n.inputs
    )
    assert 'label="e\\n0.051\\ngrad 1.000"' in dot
    assert 'label="w1\\n0.100\\ngrad -0.315"' in dot
    assert "grad" not in to_dot(g, grads=False) and "0.100" not in to_dot(g, values=False)


def test_dot_labels_are_escaped():
    g = parse("x")
    node = g.nodes[0]
    tricky = type(g)(g.expression, (type(node)(0, 'a"b\\c', "input"),), output=0)
    assert 'label="a\\"b\\\\c"' in to_dot(tricky)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_render_dot(tmp_path):
    path = render_dot(to_dot(backprop(COURSE, COURSE_AT)), tmp_path / "g.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_dot_without_graphviz_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(FunmlError, match="'dot' program is not installed"):
        render_dot(to_dot(parse("x")), tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()
    with pytest.raises(FunmlError, match=r"ending in \.png, \.svg or \.pdf"):
        render_dot("digraph {}", tmp_path / "g.txt")


def test_huge_graph_is_refused_with_a_sentence():
    g = parse("+".join(f"x{i}" for i in range(300)))
    with pytest.raises(FunmlError, match="299 operations, too many to draw legibly"):
        draw_graph(g)
    assert to_dot(g).count("shape=box") == 299
