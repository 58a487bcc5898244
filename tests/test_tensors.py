"""The torch warm-up: known products, the squared norm, and autograd against the manual gradient."""

import dataclasses
import json

import pytest
import torch
from numpy.testing import assert_allclose

from funml.errors import FunmlError
from funml.nn.tensors import tensor_basics


def test_course_values():
    r = tensor_basics()
    assert r.V == [[1.0, -2.0], [2.0, -1.0]]  # columns v1 and v2
    assert r.hadamard == [[1.0, 2.0], [0.0, -1.0]]
    assert r.matmul == [[-1.0, -1.0], [2.0, -1.0]]
    assert r.norm_sq == 18.0
    assert r.grad_v1 == [6.0, 6.0]
    assert r.grad_v2 == [-6.0, -6.0]
    assert r.manual_grad_v1 == [6.0, 6.0] and r.manual_grad_v2 == [-6.0, -6.0]
    assert r.grads_match is True


def test_results_are_plain_json_data():
    data = dataclasses.asdict(tensor_basics())
    assert json.loads(json.dumps(data)) == data


def test_other_inputs_match_torch_and_the_formulas():
    A = [[0.5, 2.0], [-1.0, 3.0]]
    v1, v2 = [0.25, -4.0], [1.5, 2.0]
    r = tensor_basics(A, v1, v2)
    V = torch.tensor([v1, v2], dtype=torch.float64).T
    At = torch.tensor(A, dtype=torch.float64)
    assert_allclose(r.hadamard, (At * V).numpy(), rtol=1e-15)
    assert_allclose(r.matmul, (At @ V).numpy(), rtol=1e-15)
    d = torch.tensor(v1, dtype=torch.float64) - torch.tensor(v2, dtype=torch.float64)
    assert_allclose(r.norm_sq, torch.linalg.vector_norm(d).item() ** 2, rtol=1e-14)
    assert_allclose(r.grad_v1, (2 * d).numpy(), rtol=1e-15)
    assert_allclose(r.grad_v2, (-2 * d).numpy(), rtol=1e-15)
    assert r.grads_match


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([[1.0, 2.0, 3.0]], [1.0, 2.0], [3.0, 4.0]), "shape"),
        (([[1.0, 0.0], [0.0, 1.0]], [1.0, 2.0, 3.0], [3.0, 4.0]), "shape"),
        (([[1.0, 0.0], [0.0, 1.0]], ["a", 2.0], [3.0, 4.0]), "v1 must be a list of numbers"),
        (([[1.0, 0.0], [0.0, 1.0]], [float("nan"), 2.0], [3.0, 4.0]), "v1 must hold finite"),
    ],
)
def test_bad_inputs(args, match):
    with pytest.raises(FunmlError, match=match):
        tensor_basics(*args)
