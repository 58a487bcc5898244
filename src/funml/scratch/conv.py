"""2-D convolution layers as deep-learning libraries define them: cross-correlation.

Shapes follow ``torch.nn.functional.conv2d``: input x (N, C, H, W), weights w
(O, C, kH, kW), bias b (O,), output (N, O, Ho, Wo) with
Ho = (H + 2·padding - kH) // stride + 1 (and likewise Wo), zero padding.

Two forward implementations: :func:`conv2d_loop`, six plain loops to read, and
:func:`conv2d`, which views every kH x kW window of the padded input at once
(``sliding_window_view``), copies the windows into the rows of one matrix (im2col) and
multiplies it by the weights once. :func:`conv2d_backward` returns the gradients of all
three inputs with two more matrix products on the same im2col matrix and a col2im sum.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from funml.scratch._validation import check_finite_array, check_pair


def conv2d(x, w, b=None, stride=1, padding=0) -> np.ndarray:
    """Vectorised 2-D cross-correlation: im2col, then one matrix product.

    Parameters
    ----------
    x : array-like of shape (N, C, H, W)
    w : array-like of shape (O, C, kH, kW)
    b : array-like of shape (O,), default=None
    stride, padding : int or (int, int), default=1 and 0

    Returns
    -------
    out : ndarray of shape (N, O, Ho, Wo)
    """
    x, w, b, stride, padding = _check(x, w, b, stride, padding)
    n_out = w.shape[0]
    cols, (n, ho, wo) = _im2col(_pad(x, padding), w.shape[2:], stride)  # (N·Ho·Wo, kH·kW·C)
    out = cols @ _weight_matrix(w).T  # (N·Ho·Wo, O)
    out = out.reshape(n, ho, wo, n_out).transpose(0, 3, 1, 2)  # (N, O, Ho, Wo)
    if b is not None:
        out = out + b[:, None, None]
    return np.ascontiguousarray(out)


def conv2d_loop(x, w, b=None, stride=1, padding=0) -> np.ndarray:
    """The same as :func:`conv2d`, one output number at a time: the readable reference."""
    x, w, b, (sh, sw), padding = _check(x, w, b, stride, padding)
    xp = _pad(x, padding)
    n_batch, _, hp, wp = xp.shape
    n_out, n_in, kh, kw = w.shape
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    out = np.zeros((n_batch, n_out, ho, wo), dtype=x.dtype)
    for n in range(n_batch):
        for o in range(n_out):
            for i in range(ho):
                for j in range(wo):
                    total = 0.0 if b is None else b[o]
                    for c in range(n_in):
                        patch = xp[n, c, i * sh : i * sh + kh, j * sw : j * sw + kw]
                        total += np.sum(patch * w[o, c])
                    out[n, o, i, j] = total
    return out


def conv2d_backward(grad_out, x, w, stride=1, padding=0):
    """Gradients of a loss with respect to the input, weights and bias of :func:`conv2d`.

    Parameters
    ----------
    grad_out : array-like of shape (N, O, Ho, Wo)
        dL/d(output).
    x, w, stride, padding : as given to :func:`conv2d`

    Returns
    -------
    grad_x : ndarray of shape (N, C, H, W)
    grad_w : ndarray of shape (O, C, kH, kW)
    grad_b : ndarray of shape (O,)
    """
    x, w, _, (sh, sw), (ph, pw) = _check(x, w, None, stride, padding)
    n_out, n_in, kh, kw = w.shape
    xp = _pad(x, (ph, pw))
    cols, (n, ho, wo) = _im2col(xp, (kh, kw), (sh, sw))  # (N·Ho·Wo, kH·kW·C)
    g = check_finite_array("grad_out", grad_out, ndim=4).astype(x.dtype, copy=False)
    if g.shape != (n, n_out, ho, wo):
        raise ValueError(
            f"grad_out must have the output's shape {(n, n_out, ho, wo)}, got {g.shape}."
        )
    g2 = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1, n_out)  # (N·Ho·Wo, O)

    grad_b = g2.sum(axis=0)
    # Each weight met every window, so its gradient sums (window value) x (output gradient).
    # (cols.T @ g2, not g2.T @ cols: OpenBLAS's float32 GEMM is many times slower on the
    # second shape.)
    grad_w = (cols.T @ g2).T.reshape(n_out, kh, kw, n_in).transpose(0, 3, 1, 2)
    # Each window sends w times its output gradient back to the pixels it covered (col2im).
    grad_cols = (g2 @ _weight_matrix(w)).reshape(n, ho, wo, kh, kw, n_in)
    grad_xp = np.zeros((n, *xp.shape[2:], n_in), dtype=x.dtype)  # (N, Hp, Wp, C)
    for i in range(kh):
        for j in range(kw):
            grad_xp[:, i : i + sh * ho : sh, j : j + sw * wo : sw] += grad_cols[:, :, :, i, j]
    grad_x = grad_xp[:, ph : ph + x.shape[2], pw : pw + x.shape[3]].transpose(0, 3, 1, 2)
    return np.ascontiguousarray(grad_x), np.ascontiguousarray(grad_w), grad_b


def _im2col(xp: np.ndarray, kernel, stride) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Every kH x kW window of ``xp`` (N, C, Hp, Wp) as one row: (N·Ho·Wo, kH·kW·C).

    Channels come last in each row (the order of :func:`_weight_matrix`), so that the
    col2im sum of the backward pass adds contiguous runs of channels.
    """
    xh = xp.transpose(0, 2, 3, 1)  # (N, Hp, Wp, C), a view
    windows = sliding_window_view(xh, kernel, axis=(1, 2))  # (N, Hp-kH+1, Wp-kW+1, C, kH, kW)
    windows = windows[:, :: stride[0], :: stride[1]]  # (N, Ho, Wo, C, kH, kW), still a view
    n, ho, wo = windows.shape[:3]
    cols = np.ascontiguousarray(windows.transpose(0, 1, 2, 4, 5, 3))  # (N, Ho, Wo, kH, kW, C)
    return cols.reshape(n * ho * wo, -1), (n, ho, wo)


def _weight_matrix(w: np.ndarray) -> np.ndarray:
    # (O, C, kH, kW) -> (O, kH·kW·C), matching the order of the im2col rows.
    return w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1)


def _pad(x: np.ndarray, padding) -> np.ndarray:
    ph, pw = padding
    if ph == pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _check(x, w, b, stride, padding):
    x = check_finite_array("x", x, ndim=4)
    w = check_finite_array("w", w, ndim=4)
    dtype = np.result_type(x, w)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"x has {x.shape[1]} channels but w expects {w.shape[1]}; shapes are "
            "x (N, C, H, W) and w (O, C, kH, kW)."
        )
    stride = check_pair("stride", stride, low=1)
    padding = check_pair("padding", padding, low=0)
    for axis, name in ((0, "height"), (1, "width")):
        size = x.shape[2 + axis] + 2 * padding[axis]
        if w.shape[2 + axis] > size:
            raise ValueError(
                f"Kernel {name} {w.shape[2 + axis]} is larger than the padded input "
                f"{name} {size}; use a smaller kernel or more padding."
            )
    if b is not None:
        b = check_finite_array("b", b, ndim=1).astype(dtype, copy=False)
        if b.shape != (w.shape[0],):
            raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}.")
    return x, w, b, stride, padding
