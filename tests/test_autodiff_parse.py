"""Expressions from text: the whitelist, the graph's nodes and names, and evaluation."""

import dataclasses
import json
import math
from collections import Counter

import pytest
import torch
from numpy.testing import assert_allclose

from funml.autodiff import (
    DomainError,
    ExpressionError,
    backprop,
    format_table,
    graph_summary,
    node_table,
    parse,
)
from funml.autodiff.parse import MAX_LENGTH
from funml.errors import FunmlError

SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
SIGMOID_AT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
COURSE = "exp(-(w1*x1 + w2*x2))"
COURSE_AT = {"w1": 0.1, "x1": 0.3, "w2": -0.2, "x2": 0.4}


def torch_grads(fn, values):
    ts = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    out = fn(**ts)
    out.backward()
    return out.item(), {k: t.grad.item() for k, t in ts.items()}


# the course's two graphs ---------------------------------------------------------------


def test_sigmoid_graph_has_the_courses_nodes():
    g = parse(SIGMOID)
    ops = g.ops
    assert len(ops) == 8
    assert Counter(op.op for op in ops) == {"*": 2, "+": 3, "neg": 1, "exp": 1, "/": 1}
    kinds = Counter(v.kind for v in g.variables)
    assert kinds == {"input": 5, "const": 2, "intermediate": 7, "output": 1}
    assert [v.name for v in g.variables if v.kind == "intermediate"] == [
        f"z{k}" for k in range(1, 8)
    ]
    assert g.inputs == ["w0", "x0", "w1", "x1", "w2"]
    assert g.nodes[g.output].name == "f" and g.error is None
    # Every op has exactly one result variable, which follows it.
    for op in ops:
        assert g.nodes[op.id + 1].inputs == (op.id,)


def test_sigmoid_intermediates_are_numbered_in_evaluation_order():
    g = parse(SIGMOID)
    formulas = {v.name: g.formula(v) for v in g.variables if v.inputs}
    assert formulas == {
        "z1": "w0 * x0",
        "z2": "w1 * x1",
        "z3": "z1 + z2",
        "z4": "z3 + w2",
        "z5": "-z4",
        "z6": "exp(z5)",
        "z7": "1 + z6",  # the addition of 1
        "f": "1 / z7",  # the division of 1
    }


def test_sigmoid_values_and_grads_match_torch():
    g = parse(SIGMOID).evaluate(SIGMOID_AT)
    ref, ref_grads = torch_grads(
        lambda w0, x0, w1, x1, w2: 1 / (1 + torch.exp(-(w0 * x0 + w1 * x1 + w2))), SIGMOID_AT
    )
    assert_allclose(g.nodes[g.output].value, ref, rtol=1e-9)
    assert g.grads.keys() == ref_grads.keys()
    assert_allclose(list(g.grads.values()), list(ref_grads.values()), rtol=1e-9)
    assert round(g.node("f").value, 2) == 0.73
    assert round(g.grads["w0"], 2) == -0.20 and round(g.grads["x0"], 2) == 0.39


def test_course_example_with_target():
    g = backprop(COURSE, COURSE_AT, target=1)
    f, e = g.node("f"), g.node("e")
    assert e.kind == "error" and g.root is e
    assert g.formula(e) == "f - f*" and g.node("f*").value == 1.0
    assert round(f.value, 3) == 1.051 and round(e.value, 3) == 0.051
    assert round(g.grads["w1"], 4) == -0.3154
    assert round(g.grads["w2"], 4) == -0.4205
    ref, ref_grads = torch_grads(
        lambda w1, x1, w2, x2: torch.exp(-(w1 * x1 + w2 * x2)) - 1, COURSE_AT
    )
    assert_allclose(e.value, ref, rtol=1e-9)
    assert_allclose([g.grads[k] for k in ref_grads], list(ref_grads.values()), rtol=1e-9)
    # de/dnode is 1 at e and at f, -1 at the target constant.
    assert (e.grad, f.grad, g.node("f*").grad) == (1.0, 1.0, -1.0)


def test_course_example_written_with_its_minus_one_gives_e_as_f():
    g = backprop(COURSE + " - 1", COURSE_AT)
    assert round(g.node("f").value, 3) == 0.051
    assert round(g.grads["w1"], 4) == -0.3154


# what the text may contain ---------------------------------------------------------------


def test_a_variable_used_twice_is_one_input_node_with_both_contributions():
    g = backprop("x*x + x", {"x": 3.0})
    assert [v.name for v in g.variables if v.kind == "input"] == ["x"]
    assert g.grads == {"x": 7.0}


def test_negative_literals_are_constants_and_negation_is_an_op():
    g = parse("x * -2")
    assert [n.name for n in g.nodes if n.kind == "const"] == ["-2"]
    assert [op.op for op in g.ops] == ["*"]
    g = parse("-x")
    assert [op.op for op in g.ops] == ["neg"]
    g = parse("+x")  # unary plus adds nothing
    assert g.ops == [] and g.nodes[g.output].name == "x"


@pytest.mark.parametrize(
    ("text", "label", "x", "expected", "slope"),
    [
        ("x**2", "**2", 3.0, 9.0, 6.0),
        ("x**-1", "**-1", 2.0, 0.5, -0.25),
        ("x**(-0.5)", "**-0.5", 4.0, 0.5, -1 / 16),
        ("x**+3", "**3", -2.0, -8.0, 12.0),
        ("x**1e0", "**1", 5.0, 5.0, 1.0),
    ],
)
def test_constant_exponents(text, label, x, expected, slope):
    g = backprop(text, {"x": x})
    (op,) = g.ops
    assert op.name == label
    assert_allclose(g.node("f").value, expected, rtol=1e-15)
    assert_allclose(g.grads["x"], slope, rtol=1e-15)


def test_power_minus_sign_binds_like_python():
    g = backprop("-x**2", {"x": 3.0})  # -(x**2)
    assert [op.op for op in g.ops] == ["**", "neg"]
    assert g.node("f").value == -9.0


def test_every_function_is_accepted():
    g = backprop("exp(a) + log(a) + sigmoid(a) + tanh(a) + relu(a)", {"a": 0.5})
    s = 1 / (1 + math.exp(-0.5))
    expected = math.exp(0.5) + 2 + s * (1 - s) + 1 - math.tanh(0.5) ** 2 + 1
    assert_allclose(g.grads["a"], expected, rtol=1e-12)


def test_constant_only_expressions():
    g = backprop("2**3", {})
    assert g.inputs == [] and g.node("f").value == 8.0
    g = backprop("3", {}, target=1)
    assert g.node("e").value == 2.0


# what it rejects -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("__import__('os')", r"Unknown function '__import__'"),
        ("os.system", r"Attribute access 'os.system'"),
        ("os.system('ls')", r"Attribute access 'os.system'"),
        ("x.real + 1", r"Attribute access 'x.real'"),
        ("x[0]", r"Subscript 'x\[0\]'"),
        ("lambda: 1", r"Lambda 'lambda: 1'"),
        ("[x for x in y]", r"Comprehension '\[x for x in y\]'"),
        ("sum(x for x in y)", r"Unknown function 'sum'"),
        ("exp(x for x in y)", r"Comprehension '\(x for x in y\)'"),
        ("{x: 1 for x in y}", r"Comprehension"),
        ("foo(x)", r"Unknown function 'foo' in 'foo\(x\)'"),
        ("sin(x)", r"Unknown function 'sin'"),
        ("'abc'", r"String constant \"'abc'\""),
        ("x + 'a'", r"String constant"),
        ("b'x'", r"Bytes constant"),
        ("True + x", r"Boolean constant 'True'"),
        ("1j * x", r"Complex number '1j'"),
        ("None", r"Constant NoneType 'None'"),
        ("x < y", r"Comparison 'x < y'"),
        ("x and y", r"Boolean operator"),
        ("x if y else z", r"Conditional expression"),
        ("(x := 1)", r"Assignment"),
        ("(x, y)", r"Tuple"),
        ("[x]", r"List"),
        ("f'{x}'", r"f-string"),
        ("x // y", r"Operator '//'"),
        ("x % y", r"Operator '%'"),
        ("x @ y", r"Operator '@'"),
        ("~x", r"Operator '~'"),
        ("not x", r"Operator 'not'"),
        ("x ** y", r"exponent in 'x \*\* y' must be a number"),
        ("2 ** x", r"exponent in '2 \*\* x' must be a number"),
        ("x ** (1/2)", r"exponent .* must be a number"),
        ("exp(x)(y)", r"Call of something other than a function name"),
        ("exp(x, y)", r"exp\(\) takes exactly one positional argument"),
        ("exp()", r"exp\(\) takes exactly one"),
        ("exp(x=1)", r"exp\(\) takes exactly one"),
        ("exp(*x)", r"exp\(\) takes exactly one"),
        ("exp + 1", r"'exp' is a function, not a variable"),
        ("z1 + x", r"Variable name 'z1' is reserved"),
        ("f * 2", r"Variable name 'f' is reserved"),
        ("e", r"Variable name 'e' is reserved"),
        ("__builtins__", r"Name starting with '__'"),
        ("1e999 * x", r"Number '1e999' is too large for a float"),
        ("x ** 1e999", r"Number '1e999' is too large"),
        ("1" + "0" * 400 + " * x", r"Number '10000.*' is too large"),
    ],
)
def test_forbidden_constructs_are_named(text, match):
    with pytest.raises(ExpressionError, match=match):
        parse(text)


@pytest.mark.parametrize("text", ["x +", "", "   ", "(x", "import os", "x = 1", "x\n+ 1", "1 2"])
def test_malformed_text(text):
    with pytest.raises(ExpressionError, match="malformed"):
        parse(text)


def test_null_bytes_too_long_and_too_deep():
    with pytest.raises(ExpressionError, match=r"malformed|cannot be read"):
        parse("x\0")
    with pytest.raises(ExpressionError, match=f"the limit is {MAX_LENGTH}"):
        parse("x+" * MAX_LENGTH + "x")
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse("+".join(["x"] * 4000))
    assert len(parse("+".join(["x"] * 300)).ops) == 299
    with pytest.raises(ExpressionError, match="must be text"):
        parse(b"x")


def test_errors_are_funml_errors():
    with pytest.raises(FunmlError):
        parse("os.system")
    with pytest.raises(ValueError):
        parse("os.system")


# evaluation ---------------------------------------------------------------------------


def test_missing_and_unknown_values():
    g = parse(COURSE)
    with pytest.raises(ExpressionError, match=r"Variable 'x2' has no value.*w1, x1, w2, x2"):
        g.evaluate({"w1": 0.1, "x1": 0.3, "w2": -0.2})
    with pytest.raises(ExpressionError, match=r"value was given for 'y'.*not a variable"):
        g.evaluate({**COURSE_AT, "y": 1.0})


@pytest.mark.parametrize("bad", [math.nan, math.inf, "1.0", True, None])
def test_values_must_be_finite_numbers(bad):
    with pytest.raises(ExpressionError, match="'x' must be a finite number"):
        parse("x + 1").evaluate({"x": bad})


@pytest.mark.parametrize("bad", [math.nan, -math.inf, "1"])
def test_target_must_be_a_finite_number(bad):
    with pytest.raises(ExpressionError, match="target f\\* must be a finite number"):
        parse("x", target=bad)


@pytest.mark.parametrize(
    ("text", "at", "match"),
    [
        ("log(x - 1)", {"x": 0.5}, r"Cannot compute f = log\(z1\): log\(-0.5\) is undefined"),
        ("1 / (x - x)", {"x": 2.0}, r"Cannot compute f = 1 / z1: Division by zero"),
        ("x**0.5 + 1", {"x": -4.0}, r"Cannot compute z1 = x\*\*0.5: \(-4\) \*\* 0.5 is not a real"),
        ("exp(x) * 0", {"x": 1000.0}, r"z1 = exp\(x\) is inf"),
        ("x**0.5", {"x": 0.0}, r"gradient of f with respect to x is inf"),
    ],
)
def test_domain_problems_name_the_node(text, at, match):
    with pytest.raises(DomainError, match=match):
        backprop(text, at)


def test_evaluate_returns_a_new_graph_and_leaves_the_parsed_one_alone():
    g = parse(SIGMOID)
    evaluated = g.evaluate(SIGMOID_AT)
    assert not g.evaluated and evaluated.evaluated
    assert all(n.value is None for n in g.nodes if n.kind != "const")
    assert [n.name for n in g.nodes] == [n.name for n in evaluated.nodes]
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.nodes[0].name = "w9"


def test_node_table_and_summary_are_plain_json_data():
    g = backprop(COURSE, COURSE_AT, target=1.0)
    rows = node_table(g)
    assert [r["name"] for r in rows] == [v.name for v in g.variables]
    assert set(rows[0]) == {"name", "kind", "op", "inputs", "value", "grad"}
    by_name = {r["name"]: r for r in rows}
    assert by_name["f"]["op"] == "exp" and by_name["f"]["inputs"] == ["z4"]
    assert by_name["e"]["op"] == "-" and by_name["e"]["inputs"] == ["f", "f*"]
    assert by_name["w1"]["op"] is None and by_name["w1"]["inputs"] == []
    summary = graph_summary(g)
    assert list(summary) == ["value", "error", "grads", "nodes"]
    assert summary["value"] == by_name["f"]["value"] and summary["error"] == by_name["e"]["value"]
    assert list(summary["grads"]) == ["w1", "x1", "w2", "x2"]
    assert json.loads(json.dumps(summary)) == summary
    assert graph_summary(backprop("x", {"x": 2.0}))["error"] is None


def test_node_table_before_evaluation_has_no_numbers_but_constants():
    rows = node_table(parse("2*x"))
    assert [(r["name"], r["value"], r["grad"]) for r in rows] == [
        ("2", 2.0, None),
        ("x", None, None),
        ("f", None, None),
    ]


def test_format_table_lists_every_variable():
    g = backprop(COURSE, COURSE_AT, target=1)
    text = format_table(g)
    lines = text.splitlines()
    assert lines[0] == "f = 1.05127, e = f - f* = 0.0512711 (f* = 1)"
    assert lines[2].split() == ["node", "kind", "definition", "value", "de/dnode"]
    body = {line.split()[0]: line for line in lines[3:]}
    assert list(body) == [v.name for v in g.variables]
    assert body["w1"].split()[-1] == "-0.315381"
    assert "exp(z4)" in body["f"]


@pytest.mark.parametrize("x", [-1000.0, 1000.0])
def test_sigmoid_and_tanh_graphs_stay_finite_at_extremes(x):
    g = backprop("sigmoid(x) + tanh(x)", {"x": x})
    assert g.node("f").value == (2.0 if x > 0 else -1.0)  # 1 + 1 or 0 - 1
    assert g.grads == {"x": 0.0}


def test_numpy_values_are_accepted():
    np = pytest.importorskip("numpy")
    g = backprop("x * y", {"x": np.float32(1.5), "y": np.int64(2)}, target=np.float64(1.0))
    assert (g.node("f").value, g.grads) == (3.0, {"x": 2.0, "y": 1.5})
    assert json.loads(json.dumps(graph_summary(g)))["error"] == 2.0
