"""200 seeded random expression graphs, with shared subexpressions, against torch.autograd.

A program is a list of instructions; each may use any earlier result, so subexpressions are
shared (one Value used by several operations). The same program runs on funml Values and on
float64 torch tensors; values and gradients of every node must agree to 1e-9. Programs are
built so that every operation stays in its domain (log and fractional powers of x² + 0.5,
divisions by x² + 0.5), and redrawn if a value grows past 1e3 or a relu sits at its kink.
"""

import math
import operator
import random

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from funml.autodiff import Value, parse
from helpers import numerical_gradient

N_PROGRAMS = 200
N_INPUTS = 3
RTOL, ATOL = 1e-9, 1e-12

UNARY = ("neg", "exp", "log", "sigmoid", "tanh", "relu")
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
EXPONENTS = (2, 3, -1, 0.5, -0.5, 1.5)
CONSTANTS = (0.5, 2.0, -1.5, 3.0)


def _unary(lib, op, a):
    if op == "neg":
        return -a
    if lib == "torch":
        return getattr(torch, op)(a)
    return getattr(a, op)()


def run(program, xs, lib):
    """Evaluate ``program``; return one node (Value or tensor) per instruction."""
    out = []
    for ins in program:
        kind = ins[0]
        if kind == "in":
            x = xs[ins[1]]
            node = (
                Value(x)
                if lib == "value"
                else torch.tensor(x, dtype=torch.float64).requires_grad_()
            )
        elif kind == "un":
            node = _unary(lib, ins[1], out[ins[2]])
        elif kind == "pow":
            node = out[ins[1]] ** ins[2]
        elif kind == "bin":
            node = BINARY[ins[1]](out[ins[2]], out[ins[3]])
        elif kind == "cl":  # constant on the left: the reflected forms
            c, a = ins[2], out[ins[3]]
            node = c**a if ins[1] == "**" else BINARY[ins[1]](c, a)
        else:  # "cr": constant on the right
            node = BINARY[ins[1]](out[ins[2]], ins[3])
        out.append(node)
    return out


def random_program(rng, n_ops, reflected_pow=True):
    program = [("in", i) for i in range(N_INPUTS)]

    def pick():
        # Prefer recent results, but any earlier node may be reused: shared subexpressions.
        n = len(program)
        return min(n - 1, int(n * rng.random() ** 0.5))

    def positive(a):  # a² + 0.5, three more shared-able nodes
        program.append(("bin", "*", a, a))
        program.append(("cr", "+", len(program) - 1, 0.5))
        return len(program) - 1

    for _ in range(n_ops):
        r = rng.random()
        a = pick()
        if r < 0.35:
            op = rng.choice(UNARY)
            program.append(("un", op, positive(a) if op == "log" else a))
        elif r < 0.45:
            c = rng.choice(EXPONENTS)
            base = a if isinstance(c, int) and c > 0 else positive(a)
            program.append(("pow", base, c))
        elif r < 0.8:
            op = rng.choice(list(BINARY))
            b = pick()
            program.append(("bin", op, a, positive(b) if op == "/" else b))
        else:
            ops = ["+", "-", "*", "/"] + (["**"] if reflected_pow else [])
            op = rng.choice(ops)
            c = abs(rng.choice(CONSTANTS)) if op == "**" else rng.choice(CONSTANTS)
            if rng.random() < 0.5 or op == "**":
                program.append(("cl", op, c, positive(a) if op == "/" else a))
            else:
                program.append(("cr", op, a, c))
    return program


def acceptable(program, xs):
    nodes = run(program, xs, "value")
    if any(not math.isfinite(n.data) or abs(n.data) > 1e3 for n in nodes):
        return False
    # Keep relu away from its kink so finite differences see a smooth function.
    return all(abs(nodes[ins[2]].data) > 1e-3 for ins in program if ins[:2] == ("un", "relu"))


def programs(seed, reflected_pow=True):
    rng = random.Random(seed)
    made = []
    while len(made) < N_PROGRAMS:
        program = random_program(rng, rng.randint(2, 9), reflected_pow)
        xs = [rng.uniform(-1.5, 1.5) for _ in range(N_INPUTS)]
        if acceptable(program, xs):
            made.append((program, xs))
    return made


ENGINE_PROGRAMS = programs(seed=4)
TEXT_PROGRAMS = programs(seed=44, reflected_pow=False)


def operands(ins):
    """The earlier results an instruction reads."""
    return {"un": ins[2:3], "pow": ins[1:2], "bin": ins[2:4], "cl": ins[3:4], "cr": ins[2:3]}.get(
        ins[0], ()
    )


def shared_nodes(program):
    """Indices of non-input results that feed two or more operations."""
    uses = {}
    for ins in program:
        for a in operands(ins):
            uses[a] = uses.get(a, 0) + 1
    return [i for i, n in uses.items() if n >= 2 and program[i][0] != "in"]


def torch_reference(program, xs):
    nodes = run(program, xs, "torch")
    for n in nodes:
        if not n.is_leaf:
            n.retain_grad()
    nodes[-1].backward()
    grads = [0.0 if n.grad is None else n.grad.item() for n in nodes]
    return [n.item() for n in nodes], grads


def test_programs_cover_every_operation_and_share_subexpressions():
    seen = set()
    for program, _ in ENGINE_PROGRAMS:
        seen.update((ins[0], ins[1]) for ins in program if ins[0] in ("un", "bin", "cl", "cr"))
        seen.update(("pow", ins[2]) for ins in program if ins[0] == "pow")
    assert {("un", op) for op in UNARY} <= seen
    assert {(k, op) for k in ("bin", "cl", "cr") for op in BINARY} <= seen
    assert ("cl", "**") in seen
    assert {("pow", c) for c in EXPONENTS} <= seen
    with_sharing = sum(bool(shared_nodes(p)) for p, _ in ENGINE_PROGRAMS)
    assert with_sharing >= N_PROGRAMS // 2, with_sharing


@pytest.mark.parametrize("chunk", range(4))
def test_engine_matches_torch_on_random_graphs(chunk):
    for program, xs in ENGINE_PROGRAMS[chunk::4]:
        nodes = run(program, xs, "value")
        nodes[-1].backward()
        ref_values, ref_grads = torch_reference(program, xs)
        assert_allclose([n.data for n in nodes], ref_values, rtol=RTOL, atol=ATOL)
        assert_allclose([n.grad for n in nodes], ref_grads, rtol=RTOL, atol=ATOL)


def test_engine_gradients_match_central_differences():
    for program, xs in ENGINE_PROGRAMS:
        nodes = run(program, xs, "value")
        nodes[-1].backward()
        x = np.array(xs, dtype=np.float64)
        output = lambda: run(program, x.tolist(), "value")[-1].data  # noqa: B023, E731 (used at once)
        fd = numerical_gradient(output, x)
        assert_allclose([n.grad for n in nodes[:N_INPUTS]], fd, rtol=1e-5, atol=1e-6)


def to_text(program, i):
    """The expression text of node ``i``; shared nodes are written out each time."""
    ins = program[i]
    kind = ins[0]
    if kind == "in":
        return f"x{ins[1]}"
    if kind == "un":
        a = to_text(program, ins[2])
        return f"(-{a})" if ins[1] == "neg" else f"{ins[1]}({a})"
    if kind == "pow":
        return f"({to_text(program, ins[1])})**{ins[2]!r}"
    if kind == "bin":
        return f"({to_text(program, ins[2])} {ins[1]} {to_text(program, ins[3])})"
    if kind == "cl":
        return f"({ins[2]!r} {ins[1]} {to_text(program, ins[3])})"
    return f"({to_text(program, ins[2])} {ins[1]} {ins[3]!r})"


def test_parsed_text_matches_torch_on_random_graphs():
    checked = 0
    for program, xs in TEXT_PROGRAMS:
        text = to_text(program, len(program) - 1)
        if len(text) > 5000:  # sharing written out can blow up; the engine test covers it
            continue
        graph = parse(text).evaluate({f"x{i}": x for i, x in enumerate(xs) if f"x{i}" in text})
        ref_values, ref_grads = torch_reference(program, xs)
        assert_allclose(graph.nodes[graph.output].value, ref_values[-1], rtol=RTOL, atol=ATOL)
        for name, grad in graph.grads.items():
            assert_allclose(grad, ref_grads[int(name[1:])], rtol=RTOL, atol=ATOL)
        checked += 1
    assert checked >= 180, checked
