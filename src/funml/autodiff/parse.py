"""Computational graphs from expression text, as the course draws them by hand.

``parse("1/(1+exp(-(w0*x0+w1*x1+w2)))")`` reads the text with :mod:`ast` and walks the
tree against a whitelist; nothing is ever evaluated as Python. The result is a
:class:`Graph` of two kinds of node, as in the course's drawings:

- **variables** (circles): the inputs (``w0``, ``x0``, …), the numeric constants, the
  intermediate results ``z1, z2, …`` in evaluation order, the output ``f`` and, when a
  target ``f*`` is given, the error ``e = f - f*``;
- **operations** (rectangles): every binary or unary operation is one op node, whose
  result is the next intermediate variable.

So the sigmoid neuron above has 8 operations (2 ``*``, 2 ``+``, ``neg``, ``exp``, ``+`` of 1,
``/`` of 1), the intermediates z1..z7, the output f, five inputs and two constants ``1``.

What the text may contain:

- numbers (int or float literals); each occurrence is its own constant node, and a minus
  sign written directly before a number is part of it (``x * -2`` has the constant ``-2``),
  while ``-x`` or ``-(…)`` is a ``neg`` operation; a leading ``+`` is ignored;
- variable names, except ``f``, ``e`` and ``z1, z2, …``, which label the graph's own nodes;
  each name is one input node however often it appears;
- ``+ - * /`` and ``**`` with a constant exponent (``x**2``, ``x**-0.5``; not ``x**y``);
- calls ``exp(·)``, ``log(·)``, ``sigmoid(·)``, ``tanh(·)`` and ``relu(·)`` with one argument.

Anything else (attribute access, subscripts, lambdas, comprehensions, strings, other
functions, …) raises :class:`ExpressionError` naming the construct and the text.
``Graph.evaluate(values)`` then runs the forward pass and ``backward()`` with
:class:`funml.autodiff.Value` and returns the graph with every variable's value and gradient.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import numbers
import re
import unicodedata
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

from funml.autodiff.engine import DomainError, Value
from funml.errors import FunmlError

FUNCTIONS = ("exp", "log", "sigmoid", "tanh", "relu")
MAX_LENGTH = 10_000  # characters of expression text; the graph of anything longer is unreadable

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_RESERVED = re.compile(r"(f|e|z\d+)\Z")
_ALLOWED = (
    "an expression may use numbers, variable names, + - * / ** and the functions "
    + ", ".join(FUNCTIONS)
)
_CONSTRUCTS = {
    ast.Attribute: "Attribute access",
    ast.Subscript: "Subscript",
    ast.Slice: "Slice",
    ast.Lambda: "Lambda",
    ast.ListComp: "Comprehension",
    ast.SetComp: "Comprehension",
    ast.DictComp: "Comprehension",
    ast.GeneratorExp: "Comprehension",
    ast.Compare: "Comparison",
    ast.BoolOp: "Boolean operator",
    ast.IfExp: "Conditional expression",
    ast.NamedExpr: "Assignment",
    ast.List: "List",
    ast.Tuple: "Tuple",
    ast.Set: "Set",
    ast.Dict: "Dictionary",
    ast.Starred: "Starred expression",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}
_OPERATORS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Not: "not",
    ast.Invert: "~",
}


class ExpressionError(FunmlError, ValueError):
    """The expression text is malformed or uses something outside the whitelist."""


@dataclass(frozen=True)
class Node:
    """One node of a :class:`Graph`: a variable (circle) or an operation (rectangle).

    Attributes
    ----------
    id : int
        Position in ``Graph.nodes``, which is evaluation order.
    name : str
        ``'w1'``, ``'2'``, ``'z3'``, ``'f'``, ``'f*'``, ``'e'``; for an op node, its label
        (``'+'``, ``'exp'``, ``'**2'``).
    kind : str
        One of ``'input'``, ``'const'``, ``'intermediate'``, ``'output'``, ``'error'``, ``'op'``.
    op : str or None
        For an op node: ``'+'``, ``'-'``, ``'*'``, ``'/'``, ``'**'``, ``'neg'`` or a function
        name. None for variables.
    inputs : tuple of int
        An op node's operands (variable ids, in order); a computed variable's op node id;
        empty for inputs and constants.
    exponent : float or None
        The constant exponent of a ``'**'`` op node.
    value, grad : float or None
        Forward value and gradient d(root)/d(node) of a variable once evaluated (a constant's
        value is known from the start). Always None for op nodes.
    """

    id: int
    name: str
    kind: str
    op: str | None = None
    inputs: tuple[int, ...] = ()
    exponent: float | None = None
    value: float | None = None
    grad: float | None = None

    @property
    def is_op(self) -> bool:
        return self.kind == "op"


@dataclass(frozen=True)
class Graph:
    """A computational graph: its nodes in evaluation order and which one is the output.

    Attributes
    ----------
    expression : str
        The text it was parsed from.
    nodes : tuple of Node
        Every variable and operation, in evaluation order.
    output : int
        Id of the output variable ``f``.
    error : int or None
        Id of the error variable ``e = f - f*`` when a target was given.
    target : float or None
        The target ``f*``.
    """

    expression: str
    nodes: tuple[Node, ...]
    output: int
    error: int | None = None
    target: float | None = None

    @property
    def variables(self) -> list[Node]:
        """The variable nodes (circles), in evaluation order."""
        return [n for n in self.nodes if not n.is_op]

    @property
    def ops(self) -> list[Node]:
        """The operation nodes (rectangles), in evaluation order."""
        return [n for n in self.nodes if n.is_op]

    @property
    def inputs(self) -> list[str]:
        """Names of the input variables, in order of first appearance."""
        return [n.name for n in self.nodes if n.kind == "input"]

    @property
    def root(self) -> Node:
        """The node gradients are taken of: ``e`` with a target, else ``f``."""
        return self.nodes[self.output if self.error is None else self.error]

    @property
    def evaluated(self) -> bool:
        return self.root.grad is not None

    @property
    def grads(self) -> dict[str, float | None]:
        """d(root)/d(input) for each input variable (None before evaluation)."""
        return {n.name: n.grad for n in self.nodes if n.kind == "input"}

    def node(self, name: str) -> Node:
        """The variable called ``name``."""
        for n in self.nodes:
            if not n.is_op and n.name == name:
                return n
        raise KeyError(name)

    def formula(self, node: Node) -> str:
        """How a computed variable is defined, e.g. ``'exp(z5)'``; its name otherwise."""
        if not node.inputs:
            return node.name
        op = self.nodes[node.inputs[0]] if not node.is_op else node
        args = [self.nodes[i].name for i in op.inputs]
        if op.op in _BINARY.values():
            return f"{args[0]} {op.op} {args[1]}"
        if op.op == "**":
            return f"{args[0]}{op.name}"
        if op.op == "neg":
            return f"-{args[0]}"
        return f"{op.op}({args[0]})"

    def evaluate(self, values: Mapping[str, float]) -> Graph:
        """Run the forward pass and backpropagate from the root; return the evaluated graph.

        Parameters
        ----------
        values : mapping of str to float
            A finite value for every input variable, and nothing else.

        Raises
        ------
        ExpressionError
            A variable has no value, a value is not a finite number, or a name is unknown.
        DomainError
            An operation is undefined at these values (``log(-1)``, ``1/0``) or a value or
            gradient overflows float64.
        """
        values = self._check_values(values)
        v: dict[int, Value] = {}
        for n in self.nodes:
            if n.kind == "input":
                v[n.id] = Value(values[n.name])
            elif n.kind == "const":
                v[n.id] = Value(n.value)
            elif n.is_op:
                continue  # computed with its result variable, which follows it
            else:
                v[n.id] = self._apply(n, v)
        v[self.root.id].backward()
        nodes = tuple(
            n if n.is_op else dataclasses.replace(n, value=v[n.id].data, grad=v[n.id].grad)
            for n in self.nodes
        )
        evaluated = dataclasses.replace(self, nodes=nodes)
        evaluated._check_finite()
        return evaluated

    def _apply(self, result: Node, v: dict[int, Value]) -> Value:
        op = self.nodes[result.inputs[0]]
        args = [v[i] for i in op.inputs]
        try:
            if op.op == "+":
                return args[0] + args[1]
            if op.op == "-":
                return args[0] - args[1]
            if op.op == "*":
                return args[0] * args[1]
            if op.op == "/":
                return args[0] / args[1]
            if op.op == "**":
                return args[0] ** op.exponent
            if op.op == "neg":
                return -args[0]
            return getattr(args[0], op.op)()  # one of FUNCTIONS, checked by the parser
        except DomainError as e:
            where = f"{result.name} = {self.formula(result)}"
            raise DomainError(f"Cannot compute {where}: {e}") from None

    def _check_values(self, values: Mapping[str, float]) -> dict[str, float]:
        names = self.inputs
        listing = ", ".join(names) if names else "(none)"
        # Python reads identifiers in NFKC form ('ﬁ' is 'fi'), so the values' names are too.
        given = values
        values = {}
        for name, x in given.items():
            key = unicodedata.normalize("NFKC", name) if isinstance(name, str) else name
            if key in values:
                raise ExpressionError(
                    f"'{name}' names variable '{key}' again (Python reads them alike); give "
                    "each variable one value."
                )
            values[key] = x
        for name in values:
            if name not in names:
                raise ExpressionError(
                    f"A value was given for '{name}', which is not a variable of "
                    f"'{self.expression}'; its variables are: {listing}."
                )
        checked = {}
        for name in names:
            if name not in values:
                raise ExpressionError(
                    f"Variable '{name}' has no value; give a value for each of: {listing} "
                    "(on the command line: --at NAME=VALUE)."
                )
            x = values[name]
            if not _is_number(x) or not math.isfinite(x):
                raise ExpressionError(f"The value of '{name}' must be a finite number; got {x!r}.")
            checked[name] = float(x)
        return checked

    def _check_finite(self) -> None:
        for n in self.variables:
            if not math.isfinite(n.value):
                raise DomainError(
                    f"{n.name} = {self.formula(n)} is {n.value} at these values "
                    "(float64 overflowed); choose smaller inputs."
                )
        for n in self.variables:
            if not math.isfinite(n.grad):
                raise DomainError(
                    f"The gradient of {self.root.name} with respect to {n.name} is {n.grad} "
                    "at these values; choose inputs where every operation has a finite slope."
                )


def parse(text: str, *, target: float | None = None) -> Graph:
    """Build the computational graph of an expression, without evaluating it.

    Parameters
    ----------
    text : str
        An expression such as ``"1/(1+exp(-(w0*x0+w1*x1+w2)))"``; see the module docstring
        for what it may contain.
    target : float, optional
        The target ``f*``; adds the constant ``f*`` and the error ``e = f - f*``.

    Raises
    ------
    ExpressionError
        The text is malformed or uses a construct outside the whitelist.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"An expression must be text; got {type(text).__name__}.")
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"The expression is {len(text)} characters long; the limit is {MAX_LENGTH}."
        )
    if target is not None:
        if not _is_number(target) or not math.isfinite(target):
            raise ExpressionError(f"The target f* must be a finite number; got {target!r}.")
        target = float(target)
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal" for 1x: refused below
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        where = f" at column {e.offset}" if e.offset else ""
        raise ExpressionError(
            f"Expression '{_short(text)}' is malformed ({e.msg}{where}); "
            "write it like 'w*x + b' or 'exp(-(w1*x1 + w2*x2))'."
        ) from None
    except (RecursionError, MemoryError):
        raise _too_deep(text) from None
    except ValueError as e:
        raise ExpressionError(f"Expression '{_short(text)}' cannot be read ({e}).") from None
    builder = _Builder(text)
    try:
        out = builder.visit(tree.body)
    except RecursionError:
        raise _too_deep(text) from None
    return builder.finish(out, target)


def _too_deep(text: str) -> ExpressionError:
    return ExpressionError(
        f"Expression '{_short(text)}' is nested too deeply; split it into smaller parts."
    )


def backprop(text: str, values: Mapping[str, float], *, target: float | None = None) -> Graph:
    """Parse ``text``, evaluate it at ``values`` and backpropagate: the one-call version."""
    return parse(text, target=target).evaluate(values)


def node_table(graph: Graph) -> list[dict]:
    """One plain dict per variable node, in evaluation order.

    Keys: ``name``, ``kind``, ``op`` (the operation that computed it, e.g. ``'exp'`` or
    ``'**2'``; None for inputs and constants), ``inputs`` (its operands' names), ``value``
    and ``grad`` (None until the graph is evaluated).
    """
    rows = []
    for n in graph.variables:
        op = graph.nodes[n.inputs[0]] if n.inputs else None
        rows.append(
            {
                "name": n.name,
                "kind": n.kind,
                "op": op.name if op else None,
                "inputs": [graph.nodes[i].name for i in op.inputs] if op else [],
                "value": n.value,
                "grad": n.grad,
            }
        )
    return rows


def graph_summary(graph: Graph) -> dict:
    """The evaluated graph as plain data: ``{"value": f, "error": e or None, "grads":
    {input: d(root)/d(input)}, "nodes": node_table(graph)}``."""
    return {
        "value": graph.nodes[graph.output].value,
        "error": graph.nodes[graph.error].value if graph.error is not None else None,
        "grads": graph.grads,
        "nodes": node_table(graph),
    }


def format_table(graph: Graph) -> str:
    """A line with f (and e), then the node table: name, kind, definition, value, gradient."""
    head = f"f = {_fmt(graph.nodes[graph.output].value) or '?'}"
    if graph.error is not None:
        e = graph.nodes[graph.error].value
        head += f", e = f - f* = {_fmt(e) or '?'} (f* = {graph.target:g})"
    grad_title = f"d{graph.root.name}/dnode"
    rows = [("node", "kind", "definition", "value", grad_title)]
    for n in graph.variables:
        rows.append(
            (
                n.name,
                n.kind,
                graph.formula(n) if n.inputs else "",
                _fmt(n.value),
                _fmt(n.grad),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        left = [r[i].ljust(widths[i]) for i in range(3)]
        right = [r[i].rjust(widths[i]) for i in range(3, 5)]
        lines.append("  ".join(left + right).rstrip())
    return head + "\n\n" + "\n".join(lines)


class _Builder:
    """Walks the ast against the whitelist, appending nodes in evaluation order."""

    def __init__(self, text: str):
        self.text = text
        self.nodes: list[dict] = []
        self.input_ids: dict[str, int] = {}

    def visit(self, node: ast.AST) -> int:
        """Add the nodes of ``node``'s subtree; return the id of the variable holding it."""
        if isinstance(node, ast.Constant):
            return self._constant(node, node.value)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.UAdd):
                return self.visit(node.operand)
            if isinstance(node.op, ast.USub):
                if isinstance(node.operand, ast.Constant) and _is_number(node.operand.value):
                    return self._constant(node, -node.operand.value)
                return self._op("neg", [self.visit(node.operand)])
            self._reject(node, f"Operator '{_OPERATORS.get(type(node.op), '?')}'")
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                base = self.visit(node.left)
                return self._op("**", [base], exponent=self._exponent(node))
            if type(node.op) in _BINARY:
                left = self.visit(node.left)
                right = self.visit(node.right)
                return self._op(_BINARY[type(node.op)], [left, right])
            self._reject(node, f"Operator '{_OPERATORS.get(type(node.op), '?')}'")
        if isinstance(node, ast.Call):
            return self._call(node)
        self._reject(node, _CONSTRUCTS.get(type(node), f"The construct {type(node).__name__}"))

    def finish(self, out: int, target: float | None) -> Graph:
        """Name the computed variables and add the error node; return the Graph."""
        error = None
        if target is not None:
            star = self._add(name="f*", kind="const", value=target)
            error = self._op("-", [out, star])
        # The output f is the last op result before the error node; a lone input or
        # constant is its own output and keeps its name.
        k = 0
        for d in self.nodes:
            if d["kind"] == "intermediate":
                if d["id"] == error:
                    d.update(name="e", kind="error")
                elif d["id"] == out:
                    d.update(name="f", kind="output")
                else:
                    k += 1
                    d["name"] = f"z{k}"
        nodes = tuple(Node(**d) for d in self.nodes)
        return Graph(self.text, nodes, output=out, error=error, target=target)

    def _add(self, **fields) -> int:
        fields["id"] = len(self.nodes)
        self.nodes.append(fields)
        return fields["id"]

    def _op(self, op: str, args: list[int], exponent: float | None = None) -> int:
        label = f"**{_number_name(exponent)}" if op == "**" else op
        op_id = self._add(name=label, kind="op", op=op, inputs=tuple(args), exponent=exponent)
        return self._add(name="", kind="intermediate", inputs=(op_id,))

    def _constant(self, node: ast.AST, value) -> int:
        if not _is_number(value):
            self._reject(node, _constant_kind(value))
        try:
            x = float(value)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x):
            self._too_large(node)
        return self._add(name=_number_name(x), kind="const", value=x)

    def _name(self, node: ast.Name) -> int:
        name = node.id
        if name in FUNCTIONS:
            raise ExpressionError(
                f"'{name}' is a function, not a variable; call it with one argument, "
                f"as in {name}(x)."
            )
        if _RESERVED.match(name):
            raise ExpressionError(
                f"Variable name '{name}' is reserved for the graph's own nodes "
                "(f, e and z1, z2, …); rename the variable."
            )
        if name.startswith("__"):
            self._reject(node, "Name starting with '__'")
        if name not in self.input_ids:
            self.input_ids[name] = self._add(name=name, kind="input")
        return self.input_ids[name]

    def _call(self, node: ast.Call) -> int:
        if isinstance(node.func, ast.Attribute):  # os.system(...): name the attribute
            self._reject(node.func, "Attribute access")
        if not isinstance(node.func, ast.Name):
            self._reject(node, "Call of something other than a function name")
        name = node.func.id
        if name not in FUNCTIONS:
            raise ExpressionError(
                f"Unknown function '{name}' in {_quote(self._segment(node))}; "
                f"use one of: {', '.join(FUNCTIONS)}."
            )
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise ExpressionError(
                f"{name}() takes exactly one positional argument, as in {name}(x); "
                f"got {_quote(self._segment(node))}."
            )
        return self._op(name, [self.visit(node.args[0])])

    def _exponent(self, node: ast.BinOp) -> float:
        e = node.right
        sign = 1.0
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub | ast.UAdd):
            sign = -1.0 if isinstance(e.op, ast.USub) else 1.0
            e = e.operand
        if not (isinstance(e, ast.Constant) and _is_number(e.value)):
            raise ExpressionError(
                f"The exponent in {_quote(self._segment(node))} must be a number, as in x**2 or "
                "x**-0.5; variable exponents are not supported."
            )
        try:
            x = sign * float(e.value)
        except OverflowError:  # an integer of hundreds of digits
            x = math.inf
        if not math.isfinite(x):
            self._too_large(e)
        return x

    def _segment(self, node: ast.AST) -> str:
        return _short(ast.get_source_segment(self.text, node) or ast.unparse(node))

    def _too_large(self, node: ast.AST) -> NoReturn:
        raise ExpressionError(
            f"Number {_quote(self._segment(node))} is too large for a float; "
            "keep numbers below 1.8e308."
        )

    def _reject(self, node: ast.AST, what: str) -> NoReturn:
        raise ExpressionError(f"{what} {_quote(self._segment(node))} is not allowed; {_ALLOWED}.")


def _is_number(value) -> bool:
    # numbers.Real admits NumPy scalars; bool is an int but never meant as a number here.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _constant_kind(value) -> str:
    if isinstance(value, str):
        return "String constant"
    if isinstance(value, bytes):
        return "Bytes constant"
    if isinstance(value, bool):
        return "Boolean constant"
    if isinstance(value, complex):
        return "Complex number"
    return f"Constant {type(value).__name__}"


def _number_name(x: float) -> str:
    """``2.0`` → ``'2'``, ``0.5`` → ``'0.5'``: short, exact names for constants."""
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def _quote(text: str) -> str:
    text = _printable(text)
    return f'"{text}"' if "'" in text else f"'{text}'"


def _short(text: str, limit: int = 60) -> str:
    text = _printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _printable(text: str) -> str:
    """``text`` with newlines, tabs and other control characters written as escapes, so
    that a message quoting it stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.6g}"
