"""The course's torch warm-up: element-wise and matrix products, a norm, and autograd.

For A = [[1, -1], [0, 1]], v1 = [1, 2]ᵀ, v2 = [-2, -1]ᵀ and V = [v1 v2]:

- the Hadamard product A ⊙ V and the matrix product A V;
- y = ||v1 - v2||², computed as a sum of squares (not with ``torch.norm``);
- autograd's dy/dv1 and dy/dv2, next to the manual 2(v1 - v2) and -2(v1 - v2).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from funml.errors import FunmlError

COURSE_A = ((1.0, -1.0), (0.0, 1.0))
COURSE_V1 = (1.0, 2.0)
COURSE_V2 = (-2.0, -1.0)


@dataclass(frozen=True)
class TensorBasics:
    """The warm-up's results as plain lists and floats (JSON-ready via dataclasses.asdict)."""

    A: list[list[float]]  # (2, 2)
    v1: list[float]  # (2,)
    v2: list[float]  # (2,)
    V: list[list[float]]  # (2, 2): the columns are v1 and v2
    hadamard: list[list[float]]  # A ⊙ V, (2, 2)
    matmul: list[list[float]]  # A V, (2, 2)
    norm_sq: float  # ||v1 - v2||²
    grad_v1: list[float]  # dy/dv1 from autograd
    grad_v2: list[float]  # dy/dv2 from autograd
    manual_grad_v1: list[float]  # 2 (v1 - v2)
    manual_grad_v2: list[float]  # -2 (v1 - v2)
    grads_match: bool  # autograd equals the manual gradients (to 1e-12)


def tensor_basics(A=COURSE_A, v1=COURSE_V1, v2=COURSE_V2) -> TensorBasics:
    """Compute the warm-up in float64 with torch; the defaults are the course's values.

    Parameters
    ----------
    A : array-like of shape (2, 2)
        Multiplies V from the left and is multiplied element-wise with V.
    v1, v2 : array-like of shape (2,)
        The two column vectors of V.
    """
    A = _as_tensor(A, "A")
    v1 = _as_tensor(v1, "v1").requires_grad_(True)
    v2 = _as_tensor(v2, "v2").requires_grad_(True)
    if A.shape != (2, 2) or v1.shape != (2,) or v2.shape != (2,):
        raise FunmlError(
            f"tensor_basics needs A of shape (2, 2) and v1, v2 of shape (2,); got "
            f"{tuple(A.shape)}, {tuple(v1.shape)} and {tuple(v2.shape)}."
        )
    with torch.no_grad():
        V = torch.stack([v1, v2], dim=1)  # (2, 2)
        hadamard = A * V  # element-wise
        matmul = A @ V

    d = v1 - v2  # (2,)
    y = (d * d).sum()  # ||v1 - v2||² without torch.norm
    y.backward()
    with torch.no_grad():
        manual_v1 = 2 * d
        manual_v2 = -2 * d
        match = bool(
            torch.allclose(v1.grad, manual_v1, rtol=0, atol=1e-12)
            and torch.allclose(v2.grad, manual_v2, rtol=0, atol=1e-12)
        )

    def plain(t):
        return t.detach().tolist()

    return TensorBasics(
        A=plain(A),
        v1=plain(v1),
        v2=plain(v2),
        V=plain(V),
        hadamard=plain(hadamard),
        matmul=plain(matmul),
        norm_sq=float(y.detach()),
        grad_v1=plain(v1.grad),
        grad_v2=plain(v2.grad),
        manual_grad_v1=plain(manual_v1),
        manual_grad_v2=plain(manual_v2),
        grads_match=match,
    )


def _as_tensor(x, name: str) -> torch.Tensor:
    try:
        t = torch.as_tensor(x, dtype=torch.float64).clone()
    except (TypeError, ValueError, RuntimeError) as e:
        raise FunmlError(f"tensor_basics: {name} must be a list of numbers ({e}).") from None
    if not torch.isfinite(t).all():
        raise FunmlError(f"tensor_basics: {name} must hold finite numbers; got {x!r}.")
    return t
