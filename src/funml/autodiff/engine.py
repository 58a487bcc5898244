"""A scalar reverse-mode autodiff engine in pure Python.

Every operation builds one :class:`Value` node that remembers its operands (``children``)
and the local derivative of its result with respect to each operand. ``backward()`` walks
the graph in reverse topological order and applies the chain rule, so a node used twice
receives both contributions.

Numerics follow float64 and PyTorch: an overflow gives ``inf`` (as ``torch.exp`` does), while
results that are undefined rather than large (``log`` of a non-positive number, a division by
zero, ``0 ** -1``, a negative number to a fractional power) raise :class:`DomainError`.
``sigmoid`` and ``tanh`` are computed in forms that stay finite for any input.
"""

from __future__ import annotations

import math
import numbers

from funml.errors import FunmlError


class DomainError(FunmlError, ValueError):
    """An operation was asked for a value where it is undefined, such as ``log(-1)``."""


class Value:
    """A scalar, its gradient, the operands it was computed from, and its operation.

    Parameters
    ----------
    data : float
        The forward value.
    children : tuple of Value
        The operands of the operation that produced this value; empty for a leaf.
    op : str
        The operation's symbol (``'+'``, ``'exp'``, ``'**2'``, ...); empty for a leaf.
    local_grads : tuple of float
        d(this)/d(child) for each child, in the same order.
    """

    __slots__ = ("_local_grads", "children", "data", "grad", "op")

    def __init__(self, data, children=(), op="", local_grads=()):
        if not _is_real(data):
            raise TypeError(f"Value holds a real number; got {type(data).__name__}.")
        self.data = float(data)
        self.grad = 0.0
        self.children = tuple(children)
        self.op = op
        self._local_grads = tuple(local_grads)

    # binary operations ------------------------------------------------------------------

    def __add__(self, other):
        other = _as_value(other)
        if other is NotImplemented:
            return other
        return Value(self.data + other.data, (self, other), "+", (1.0, 1.0))

    def __sub__(self, other):
        other = _as_value(other)
        if other is NotImplemented:
            return other
        return Value(self.data - other.data, (self, other), "-", (1.0, -1.0))

    def __mul__(self, other):
        other = _as_value(other)
        if other is NotImplemented:
            return other
        return Value(self.data * other.data, (self, other), "*", (other.data, self.data))

    def __truediv__(self, other):
        other = _as_value(other)
        if other is NotImplemented:
            return other
        a, b = self.data, other.data
        if b == 0:
            raise DomainError(f"Division by zero in {a:g} / 0; keep the divisor non-zero.")
        out = a / b
        return Value(out, (self, other), "/", (1.0 / b, -out / b))

    def __pow__(self, exponent):
        if not _is_real(exponent):
            raise TypeError(
                f"The exponent of a Value must be a constant int or float, "
                f"not {type(exponent).__name__}; write x**2, not x**y."
            )
        x = self.data
        c = int(exponent) if isinstance(exponent, numbers.Integral) else float(exponent)
        if x == 0 and c < 0:
            raise DomainError(f"0 ** {c:g} divides by zero; keep the base non-zero.")
        if x < 0 and not float(c).is_integer():
            raise DomainError(
                f"({x:g}) ** {c:g} is not a real number; "
                "use a positive base with a fractional exponent."
            )
        if c == 0:
            local = 0.0  # as in torch: d/dx x**0 is 0 everywhere, even at x = 0
        elif x == 0 and c < 1:
            local = math.inf  # the slope of x**0.5 at 0 is infinite
        else:
            local = c * _power(x, c - 1)
        return Value(_power(x, c), (self,), f"**{c:g}", (local,))

    # reflected forms: number (op) Value

    def __radd__(self, other):
        other = _as_value(other)
        return other if other is NotImplemented else other + self

    def __rsub__(self, other):
        other = _as_value(other)
        return other if other is NotImplemented else other - self

    def __rmul__(self, other):
        other = _as_value(other)
        return other if other is NotImplemented else other * self

    def __rtruediv__(self, other):
        other = _as_value(other)
        return other if other is NotImplemented else other / self

    def __rpow__(self, base):
        """``c ** x`` for a constant base ``c > 0``: one node whose slope is ``c**x · ln c``."""
        if not _is_real(base):
            return NotImplemented
        if base <= 0:
            raise DomainError(
                f"{base:g} ** x needs a positive base to be real for every x; "
                "use a base greater than 0."
            )
        out = _power(float(base), self.data)
        return Value(out, (self,), f"{base:g}**", (out * math.log(base),))

    # unary operations -------------------------------------------------------------------

    def __neg__(self):
        return Value(-self.data, (self,), "neg", (-1.0,))

    def exp(self):
        out = _exp(self.data)
        return Value(out, (self,), "exp", (out,))

    def log(self):
        x = self.data
        if x <= 0:
            raise DomainError(f"log({x:g}) is undefined; log needs a positive argument.")
        return Value(math.log(x), (self,), "log", (1.0 / x,))

    def sigmoid(self):
        s = _sigmoid(self.data)
        return Value(s, (self,), "sigmoid", (s * (1.0 - s),))

    def tanh(self):
        t = math.tanh(self.data)  # already stable: tanh(±1000) = ±1.0
        return Value(t, (self,), "tanh", (1.0 - t * t,))

    def relu(self):
        x = self.data
        # torch's convention: the slope at exactly 0 is 0.
        return Value(x if x > 0 else 0.0, (self,), "relu", (1.0 if x > 0 else 0.0,))

    # gradients --------------------------------------------------------------------------

    def backward(self):
        """Add d(self)/d(node) to ``node.grad`` for every node of the graph, self included.

        Like PyTorch's leaves, gradients accumulate across calls: call :meth:`zero_grad`
        between passes. Each pass propagates its own fresh gradients, so two passes give
        exactly twice the gradients of one.
        """
        order = self._topological_order()
        g = {self: 1.0}  # this pass's gradients, keyed by node identity
        for v in reversed(order):
            gv = g.get(v, 0.0)
            for child, local in zip(v.children, v._local_grads, strict=True):
                g[child] = g.get(child, 0.0) + local * gv
        for v in order:
            v.grad += g.get(v, 0.0)

    def zero_grad(self):
        """Reset the gradient of every node in this value's graph to 0."""
        for v in self._topological_order():
            v.grad = 0.0

    def _topological_order(self):
        # Iterative depth-first search: children come before the nodes computed from them.
        # No recursion, so a chain of many thousands of operations is fine.
        order, seen = [], set()
        stack = [(self, False)]
        while stack:
            v, expanded = stack.pop()
            if expanded:
                order.append(v)
            elif v not in seen:
                seen.add(v)
                stack.append((v, True))
                stack.extend((c, False) for c in reversed(v.children) if c not in seen)
        return order

    def __repr__(self):
        return f"Value(data={self.data!r}, grad={self.grad!r})"


def _as_value(x):
    if isinstance(x, Value):
        return x
    return Value(x) if _is_real(x) else NotImplemented


def _is_real(x) -> bool:
    # int and float first (fast); numbers.Real also admits NumPy scalars. bool is excluded.
    if type(x) is float or type(x) is int:
        return True
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:  # x > 709.78: the float64 result is inf, as in torch
        return math.inf


def _sigmoid(x: float) -> float:
    # Only ever exponentiate a non-positive number, so nothing overflows.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _power(x: float, c: float) -> float:
    try:
        return x**c
    except OverflowError:
        odd = float(c).is_integer() and int(c) % 2 == 1
        return -math.inf if x < 0 and odd else math.inf
