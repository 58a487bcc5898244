"""Reverse-mode autodiff on scalars, computational graphs from text, and their drawings.

- :class:`Value`: the engine (pure Python): ``+ - * / **``, ``neg``, ``exp``, ``log``,
  ``sigmoid``, ``tanh``, ``relu``, ``backward()`` and ``zero_grad()``.
- :func:`parse`: expression text → :class:`Graph` (ops as nodes, intermediates z1, z2, …),
  walked from :mod:`ast` against a whitelist; ``Graph.evaluate(values)`` and
  :func:`backprop` run the forward and backward passes; :func:`node_table` gives the plain
  data and :func:`format_table` the text table.
- :func:`draw_graph` (matplotlib, imported lazily), :func:`to_dot` and :func:`render_dot`.
"""

from funml.autodiff.draw import draw_graph, layout, render_dot, to_dot
from funml.autodiff.engine import DomainError, Value
from funml.autodiff.parse import (
    FUNCTIONS,
    ExpressionError,
    Graph,
    Node,
    backprop,
    format_table,
    graph_summary,
    node_table,
    parse,
)

__all__ = [
    "FUNCTIONS",
    "DomainError",
    "ExpressionError",
    "Graph",
    "Node",
    "Value",
    "backprop",
    "draw_graph",
    "format_table",
    "graph_summary",
    "layout",
    "node_table",
    "parse",
    "render_dot",
    "to_dot",
]
