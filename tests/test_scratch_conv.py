"""funml.scratch.conv2d and its backward against torch.nn.functional.conv2d and autograd."""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

from funml.scratch import conv2d, conv2d_backward, conv2d_loop

torch = pytest.importorskip("torch", reason="torch is the reference for conv2d")

# N, C, O in {1, 3}; kernel 1-5; stride 1-2; padding 0-2; a non-square 7 x 10 input.
GRID = list(
    itertools.product([1, 3], [1, 3], [1, 3], range(1, 6), [1, 2], [0, 1, 2]),
)


def _torch_reference(x, w, b, stride, padding, grad_out_seed=0):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    out = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding)
    g = np.random.default_rng(grad_out_seed).normal(size=tuple(out.shape)).astype(x.dtype)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), g, xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def _check_against_torch(x, w, b, stride, padding, tol, loop=True):
    ref_out, g, ref_gx, ref_gw, ref_gb = _torch_reference(x, w, b, stride, padding)
    out = conv2d(x, w, b, stride=stride, padding=padding)
    assert out.shape == ref_out.shape and out.dtype == x.dtype
    assert_allclose(out, ref_out, rtol=tol, atol=tol)
    if loop:
        assert_allclose(conv2d_loop(x, w, b, stride, padding), ref_out, rtol=tol, atol=tol)
    gx, gw, gb = conv2d_backward(g, x, w, stride=stride, padding=padding)
    assert_allclose(gx, ref_gx, rtol=tol, atol=tol)
    assert_allclose(gw, ref_gw, rtol=tol, atol=tol)
    assert_allclose(gb, ref_gb, rtol=tol, atol=tol)


@pytest.mark.parametrize(("n", "c", "o", "k", "stride", "padding"), GRID)
def test_matches_torch_over_the_grid(n, c, o, k, stride, padding):
    rng = np.random.default_rng(k * 100 + stride * 10 + padding)
    x = rng.normal(size=(n, c, 7, 10))
    w = rng.normal(size=(o, c, k, k))
    b = rng.normal(size=o)
    _check_against_torch(x, w, b, stride, padding, tol=1e-10)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"),
    [((2, 4), (1, 2), (2, 0)), ((5, 1), (2, 1), (0, 1)), ((3, 3), (2, 2), (1, 1))],
)
def test_non_square_kernels_strides_and_padding(kernel, stride, padding):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 9, 8))
    w = rng.normal(size=(4, 3, *kernel))
    _check_against_torch(x, w, rng.normal(size=4), stride, padding, tol=1e-10)


def test_float32_matches_torch_to_1e_5():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 8, 12, 12)).astype(np.float32)
    w = rng.normal(size=(6, 8, 5, 5)).astype(np.float32)
    b = rng.normal(size=6).astype(np.float32)
    _check_against_torch(x, w, b, 1, 2, tol=1e-4, loop=False)
    out = conv2d(x, w, b, padding=2)
    ref = torch.nn.functional.conv2d(*map(torch.tensor, (x, w, b)), padding=2).numpy()
    # Relative to the output's scale, float32 agrees to 1e-5.
    assert np.abs(out - ref).max() <= 1e-5 * np.abs(ref).max()


def test_without_bias():
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(2, 3, 3, 3))
    expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w)).numpy()
    assert_allclose(conv2d(x, w), expected, atol=1e-12)
    assert_allclose(conv2d_loop(x, w), expected, atol=1e-12)


def test_does_not_change_its_inputs():
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(2, 3, 3, 3))
    g = rng.normal(size=(2, 2, 4, 3))
    saved = x.copy(), w.copy(), g.copy()
    conv2d(x, w, padding=1)
    conv2d_backward(g, x, w)
    for before, after in zip(saved, (x, w, g), strict=True):
        assert_allclose(before, after, rtol=0, atol=0)


def test_bad_input():
    x, w = np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3))
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        conv2d(x[0], w)
    with pytest.raises(ValueError, match="x has 3 channels but w expects 2"):
        conv2d(x, w[:, :2])
    with pytest.raises(ValueError, match="Kernel height 7 is larger than the padded input"):
        conv2d(x, np.zeros((2, 3, 7, 3)), padding=0)
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="padding must be an integer >= 0"):
        conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match=r"b must have shape \(2,\)"):
        conv2d(x, w, b=np.zeros(3))
    with pytest.raises(ValueError, match="NaN or inf"):
        conv2d(np.full((1, 3, 5, 5), np.nan), w)
    with pytest.raises(ValueError, match=r"grad_out must have the output's shape \(1, 2, 3, 3\)"):
        conv2d_backward(np.zeros((1, 2, 4, 4)), x, w)
