"""Buggy ``my_convolution`` variants."""

import numpy as np


def my_convolution_flipped(input_numpy, kernel_numpy):
    """A true convolution: the kernel is flipped, unlike torch.conv2d."""
    k = kernel_numpy[:, :, ::-1, ::-1]
    _, _, h, w = input_numpy.shape
    _, _, kh, kw = k.shape
    out = np.zeros((input_numpy.shape[0], k.shape[0], h - kh + 1, w - kw + 1))
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            patch = input_numpy[:, :, i : i + kh, j : j + kw]  # (B, C, kh, kw)
            out[:, :, i, j] = np.einsum("bchw,ochw->bo", patch, k)
    return out
