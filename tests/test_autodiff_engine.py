"""The Value engine: every operation and its reflected form against torch.autograd."""

import math
import operator
import subprocess
import sys

import pytest
import torch
from numpy.testing import assert_allclose

from funml.autodiff import DomainError, Value
from funml.errors import FunmlError

RTOL, ATOL = 1e-9, 1e-12


def both(fn, *xs):
    """Run ``fn`` on Values and on float64 torch scalars; return (ours, torch's) values+grads."""
    vs = [Value(x) for x in xs]
    out = fn(*vs)
    out.backward()
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    ref = fn(*ts)
    ref.backward()
    ref_grads = [0.0 if t.grad is None else t.grad.item() for t in ts]
    return (out.data, [v.grad for v in vs]), (ref.item(), ref_grads)


UNARY = {
    "neg": operator.neg,
    "exp": lambda a: a.exp(),
    "log": lambda a: a.log(),
    "sigmoid": lambda a: a.sigmoid(),
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: a.relu(),
    "square": lambda a: a**2,
    "cube": lambda a: a**3,
    "inverse": lambda a: a**-1,
    "sqrt": lambda a: a**0.5,
    "rsqrt": lambda a: a**-0.5,
    "pow0": lambda a: a**0,
}
BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
}
REFLECTED = {
    "radd": lambda a: 2.5 + a,
    "rsub": lambda a: 2.5 - a,
    "rmul": lambda a: 2.5 * a,
    "rdiv": lambda a: 2.5 / a,
    "rpow": lambda a: 2.5**a,
    "rpow_small_base": lambda a: 0.3**a,
    "add_const": lambda a: a + 2.5,
    "sub_const": lambda a: a - 2.5,
    "mul_const": lambda a: a * 2.5,
    "div_const": lambda a: a / 2.5,
}


@pytest.mark.parametrize("x", [0.3, 1.7, 4.0])
@pytest.mark.parametrize("name", list(UNARY) + list(REFLECTED))
def test_one_operand_ops_match_torch(name, x):
    fn = UNARY.get(name) or REFLECTED[name]
    (value, grads), (ref, ref_grads) = both(fn, x)
    assert_allclose(value, ref, rtol=RTOL, atol=ATOL)
    assert_allclose(grads, ref_grads, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("x", [-2.2, -0.4])
@pytest.mark.parametrize("name", ["neg", "exp", "sigmoid", "tanh", "relu", "square", "cube"])
def test_one_operand_ops_match_torch_on_negatives(name, x):
    (value, grads), (ref, ref_grads) = both(UNARY[name], x)
    assert_allclose(value, ref, rtol=RTOL, atol=ATOL)
    assert_allclose(grads, ref_grads, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(("a", "b"), [(0.7, -1.3), (-2.0, 0.25), (3.0, 3.0)])
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_ops_match_torch(name, a, b):
    (value, grads), (ref, ref_grads) = both(BINARY[name], a, b)
    assert_allclose(value, ref, rtol=RTOL, atol=ATOL)
    assert_allclose(grads, ref_grads, rtol=RTOL, atol=ATOL)


def test_each_operation_is_one_node_with_its_operands():
    a, b = Value(2.0), Value(5.0)
    for out, op in [(a - b, "-"), (a / b, "/"), (-a, "neg"), (a**2, "**2"), (a.exp(), "exp")]:
        assert out.op == op
        assert all(isinstance(c, Value) and c.children == () for c in out.children)
    assert (a - b).children == (a, b)
    assert (3 - a).children[1] is a and (3 - a).children[0].data == 3.0


def sigmoid_neuron(w0, x0, w1, x1, w2):
    return 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())


def course_error(w1, x1, w2, x2):
    return (-(w1 * x1 + w2 * x2)).exp() - 1


def test_course_sigmoid_neuron_matches_torch_and_known_numbers():
    point = (2.0, -1.0, -3.0, -2.0, -3.0)  # CS231n's worked example
    (value, grads), (ref, ref_grads) = both(sigmoid_neuron, *point)
    assert_allclose(value, ref, rtol=RTOL, atol=ATOL)
    assert_allclose(grads, ref_grads, rtol=RTOL, atol=ATOL)
    s = 1 / (1 + math.exp(-1.0))  # w·x + w2 = 1
    assert_allclose(value, s, rtol=1e-15)
    local = s * (1 - s)
    assert_allclose(grads, [-local, 2 * local, -2 * local, -3 * local, local], rtol=1e-12)


def test_course_exp_example_matches_torch_and_corrects_the_course():
    (value, grads), (ref, ref_grads) = both(course_error, 0.1, 0.3, -0.2, 0.4)
    assert_allclose(value, ref, rtol=RTOL, atol=ATOL)
    assert_allclose(grads, ref_grads, rtol=RTOL, atol=ATOL)
    f = math.exp(0.05)
    assert round(value, 3) == 0.051
    assert_allclose(grads, [-0.3 * f, -0.1 * f, -0.4 * f, 0.2 * f], rtol=1e-12)  # -x·f, -w·f
    assert round(grads[0], 4) == -0.3154  # not the course's -0.3
    assert round(grads[2], 4) == -0.4205


def test_node_used_twice_gets_both_contributions():
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0
    shared = x.tanh()
    z = shared * shared + shared.exp() - shared / 2.0
    x.zero_grad()
    z.backward()
    t = math.tanh(3.0)
    assert_allclose(x.grad, (2 * t + math.exp(t) - 0.5) * (1 - t * t), rtol=1e-12)


def test_backward_accumulates_and_zero_grad_resets():
    x, w = Value(0.5), Value(-1.5)
    y = (x * w).sigmoid() + x.log()
    y.backward()
    once = (x.grad, w.grad, y.grad)
    y.backward()
    assert (x.grad, w.grad, y.grad) == tuple(2 * g for g in once)
    y.zero_grad()
    assert (x.grad, w.grad, y.grad) == (0.0, 0.0, 0.0)
    y.backward()
    assert (x.grad, w.grad, y.grad) == once


def test_long_chain_needs_no_recursion():
    x = Value(0.0)
    y = x
    for _ in range(20_000):
        y = y + 1.0
    y.backward()
    assert y.data == 20_000.0
    assert x.grad == 1.0


@pytest.mark.parametrize("x", [-1000.0, 1000.0])
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_sigmoid_and_tanh_stay_finite_at_extremes(name, x):
    (value, grads), (ref, ref_grads) = both(UNARY[name], x)
    assert math.isfinite(value) and math.isfinite(grads[0])
    assert value == ref and grads == ref_grads
    assert value == (0.0 if name == "sigmoid" and x < 0 else math.copysign(1.0, x))


def test_relu_slope_at_zero_follows_torch():
    (value, grads), (ref, ref_grads) = both(UNARY["relu"], 0.0)
    assert value == ref == 0.0
    assert grads == ref_grads == [0.0]


def test_exp_overflow_is_inf_as_in_torch():
    (value, grads), (ref, ref_grads) = both(UNARY["exp"], 1000.0)
    assert value == ref == math.inf
    assert grads == ref_grads == [math.inf]


@pytest.mark.parametrize("x", [0.0, -1.0, -1e-300])
def test_log_of_non_positive_raises(x):
    with pytest.raises(DomainError, match=r"log\(.*\) is undefined; log needs a positive"):
        Value(x).log()


@pytest.mark.parametrize(
    ("fn", "match"),
    [
        (lambda: Value(1.0) / Value(0.0), "Division by zero"),
        (lambda: 1.0 / Value(0.0), "Division by zero"),
        (lambda: Value(0.0) ** -1, "divides by zero"),
        (lambda: Value(-8.0) ** 0.5, "is not a real number"),
        (lambda: (-2.0) ** Value(0.5), "positive base"),
        (lambda: 0 ** Value(1.0), "positive base"),
    ],
)
def test_undefined_operations_raise_domain_error(fn, match):
    with pytest.raises(DomainError, match=match):
        fn()


def test_domain_error_is_a_funml_error_and_a_value_error():
    with pytest.raises(FunmlError):
        Value(-1.0).log()
    with pytest.raises(ValueError):
        Value(-1.0).log()


def test_pow_with_a_value_exponent_is_refused():
    with pytest.raises(TypeError, match="constant"):
        Value(2.0) ** Value(3.0)


def test_negative_base_with_integer_exponent_is_fine():
    (value, grads), (ref, ref_grads) = both(lambda a: a**3, -2.0)
    assert value == ref == -8.0
    assert grads == ref_grads == [12.0]


def test_sqrt_at_zero_has_infinite_slope_like_torch():
    (value, grads), (ref, ref_grads) = both(UNARY["sqrt"], 0.0)
    assert value == ref == 0.0
    assert grads == ref_grads == [math.inf]


@pytest.mark.parametrize("bad", ["1", None, True, [1.0]])
def test_value_holds_numbers_only(bad):
    with pytest.raises(TypeError):
        Value(bad)
    with pytest.raises(TypeError):
        Value(1.0) + bad


def test_engine_imports_no_numpy_torch_or_matplotlib():
    code = (
        "import sys, funml.autodiff as a; "
        "a.backprop('exp(x)', {'x': 1.0}); "
        "bad = {'numpy', 'torch', 'matplotlib'} & set(sys.modules); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_numpy_scalars_are_numbers():
    np = pytest.importorskip("numpy")
    y = Value(np.float32(2.0)) ** np.int64(3) * np.float64(0.5)
    y.backward()
    assert y.data == 4.0 and type(y.data) is float
    assert y.children[0].children[0].grad == 6.0
    assert type(y.children[0].children[0].grad) is float
