"""Topic ``conv2d``: ``my_convolution(input_numpy, kernel_numpy)``, equal to ``torch.conv2d``
with stride 1 and no padding (a cross-correlation)."""

from __future__ import annotations

import numpy as np

from funml.check.probe import Check, Fail, as_array, close, need, same_shape

REFERENCE = "funml.check.reference.conv2d"
FUNCTIONS = {"my_convolution": "my_convolution(input_numpy, kernel_numpy) -> (B, O, H', W')"}


def _inputs(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 3, 7, 6))  # (B, C, H, W): H != W on purpose
    k = rng.normal(size=(4, 3, 3, 2))  # (O, C, kh, kw): an asymmetric kernel
    return x, k


def run_conv(ns) -> dict:
    x, k = _inputs(0)
    return {"out": as_array(need(ns, "my_convolution")(x, k), "my_convolution")}


def run_inputs(ns) -> dict:
    x, k = _inputs(1)
    need(ns, "my_convolution")(x, k)
    return {"input": x, "kernel": k}


def judge_shape(got, want):
    same_shape(
        got,
        want,
        "out",
        "my_convolution's output for an input (2, 3, 7, 6) and kernel (4, 3, 3, 2)",
    )


def judge_values(got, want):
    close(got, want, "out", "my_convolution's output", rtol=1e-6, atol=1e-9)


def judge_inputs(got, want):
    for key in ("input", "kernel"):
        if not np.array_equal(same_shape(got, want, key, f"The {key}"), want[key]):
            raise Fail(f"my_convolution changed its {key} array in place; work on a copy.")


CHECKS = (
    Check("conv2d-shape", "output shape (B, O, H - kh + 1, W - kw + 1)", run_conv, judge_shape),
    Check("conv2d-values", "values equal torch.conv2d (cross-correlation)", run_conv, judge_values),
    Check(
        "conv2d-inputs-unchanged",
        "the input and kernel arrays are left unchanged",
        run_inputs,
        judge_inputs,
    ),
)
