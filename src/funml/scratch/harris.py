"""The Harris corner detector, and the reading of it as PCA of gradient vectors.

At each pixel the structure tensor sums the outer products of the image gradient over
a window around it::

    M = Σ_window [[gx²,   gx·gy],
                  [gx·gy, gy²  ]]

Its eigenvalues say how the intensity changes nearby: both small on a flat patch, one
large on an edge, both large at a corner. Harris scores this without eigenvalues as
R = det(M) - k·trace(M)², which is positive at corners, negative on edges and near 0 on
flat patches.

Conventions (they decide the numbers, so they are fixed here):

- ``gx`` is the derivative along columns (x, to the right), ``gy`` along rows (y, down).
- ``derivative='sobel'`` (default) uses the unnormalised Sobel kernels, 8 times the
  derivative on a ramp, exactly as ``scipy.ndimage.sobel``; ``'central'`` uses
  (f(x+1) - f(x-1)) / 2.
- Pixels outside the image are 0 for the gradients and for the window sum, like
  ``mode='constant'`` in SciPy and scikit-image.
- ``window=3`` sums over a 3 x 3 box (unweighted). A 2-D array of weights can be passed
  instead; scikit-image's ``corner_harris(sigma=s)`` is this function with Sobel
  gradients and a normalised Gaussian window of standard deviation s and radius 4s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from funml.scratch._validation import check_float, check_int, check_option

FLAT, EDGE, CORNER = 0, 1, 2
LABEL_NAMES = ("flat", "edge", "corner")  # indexed by the label values


@dataclass(frozen=True)
class HarrisResult:
    """Per-pixel results of :func:`harris` for an image of shape (H, W).

    Attributes
    ----------
    tensor : ndarray of shape (H, W, 2, 2)
        The structure tensor M in (x, y) order: [[Σgx², Σgxgy], [Σgxgy, Σgy²]].
    eigenvalues : ndarray of shape (H, W, 2)
        Eigenvalues of M, largest first.
    response : ndarray of shape (H, W)
        det(M) - k·trace(M)².
    labels : ndarray of shape (H, W), dtype int8
        FLAT (0), EDGE (1) or CORNER (2); ``LABEL_NAMES[label]`` names it.
    """

    tensor: np.ndarray
    eigenvalues: np.ndarray
    response: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True)
class GradientPoints:
    """The gradient vectors in one window, read as a data set (see :func:`gradients_as_points`).

    Attributes
    ----------
    points : ndarray of shape (window², 2)
        One (gx, gy) row per pixel of the window.
    tensor : ndarray of shape (2, 2)
        pointsᵀ points: their uncentred covariance (up to 1/n), the structure tensor M.
    eigenvalues : ndarray of shape (2,)
        Largest first: the spread of the points along each principal direction.
    eigenvectors : ndarray of shape (2, 2)
        Column i is the principal direction of ``eigenvalues[i]``.
    """

    points: np.ndarray
    tensor: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray


def image_gradients(image, derivative: str = "sobel") -> tuple[np.ndarray, np.ndarray]:
    """Return (gx, gy), each of the image's shape (H, W), with zeros outside the image."""
    image = _check_image(image)
    check_option("derivative", derivative, ("sobel", "central"))
    p = np.pad(image, 1)
    if derivative == "central":
        gx = (p[1:-1, 2:] - p[1:-1, :-2]) / 2
        gy = (p[2:, 1:-1] - p[:-2, 1:-1]) / 2
        return gx, gy
    # Sobel: a [-1, 0, 1] difference along one axis, smoothed by [1, 2, 1] along the other.
    dx = p[:, 2:] - p[:, :-2]  # (H + 2, W)
    dy = p[2:, :] - p[:-2, :]  # (H, W + 2)
    gx = dx[:-2] + 2 * dx[1:-1] + dx[2:]
    gy = dy[:, :-2] + 2 * dy[:, 1:-1] + dy[:, 2:]
    return gx, gy


def harris(
    image, window=3, k: float = 0.05, derivative: str = "sobel", threshold: float = 0.01
) -> HarrisResult:
    """Structure tensor, eigenvalues, Harris response and labels of every pixel.

    Parameters
    ----------
    image : array-like of shape (H, W)
        Grey levels, used as given (no rescaling).
    window : int or array-like of shape (h, w), default=3
        Odd box size, or odd-sized weights centred on the pixel.
    k : float, default=0.05
        Harris sensitivity.
    derivative : {'sobel', 'central'}, default='sobel'
    threshold : float in (0, 1], default=0.01
        A pixel is a corner where R > threshold·max|R|, an edge where
        R < -threshold·max|R|, and flat otherwise.

    Returns
    -------
    HarrisResult
    """
    k = check_float("k", k)
    threshold = check_float("threshold", threshold, high=1.0)
    weights = _window_weights(window)
    gx, gy = image_gradients(image, derivative)
    sxx = _window_sum(gx * gx, weights)
    sxy = _window_sum(gx * gy, weights)
    syy = _window_sum(gy * gy, weights)
    tensor = np.stack([np.stack([sxx, sxy], -1), np.stack([sxy, syy], -1)], -2)

    mean = (sxx + syy) / 2
    radius = np.sqrt(((sxx - syy) / 2) ** 2 + sxy**2)
    # M is positive semi-definite; rounding can push the smaller eigenvalue just below 0.
    eigenvalues = np.stack([mean + radius, np.maximum(mean - radius, 0)], -1)
    response = sxx * syy - sxy**2 - k * (sxx + syy) ** 2

    scale = threshold * np.abs(response).max()
    labels = np.full(response.shape, FLAT, dtype=np.int8)
    labels[response > scale] = CORNER
    labels[response < -scale] = EDGE
    return HarrisResult(tensor, eigenvalues, response, labels)


def gradients_as_points(
    image, row: int, col: int, window: int = 3, derivative: str = "sobel"
) -> GradientPoints:
    """The course's reading of Harris: gradients in a window are data points.

    The (gx, gy) vectors of the window × window pixels around (row, col) form a small
    data set; M = pointsᵀ points is its uncentred covariance (times n), equal to
    ``harris(image, window).tensor[row, col]``; the eigenvectors of M are the principal
    components of the points. Pixels outside the image contribute (0, 0).
    """
    image = _check_image(image)
    check_int("window", window)
    if window % 2 == 0:
        raise ValueError(f"window must be an odd integer, got {window}.")
    height, width = image.shape
    check_int("row", row, low=0, high=height - 1)
    check_int("col", col, low=0, high=width - 1)
    gx, gy = image_gradients(image, derivative)
    r = window // 2
    gx, gy = np.pad(gx, r), np.pad(gy, r)
    rows, cols = slice(row, row + window), slice(col, col + window)
    points = np.stack([gx[rows, cols].ravel(), gy[rows, cols].ravel()], axis=1)
    tensor = points.T @ points
    eigenvalues, eigenvectors = np.linalg.eigh(tensor)  # ascending
    return GradientPoints(points, tensor, eigenvalues[::-1], eigenvectors[:, ::-1])


def box_window(size: int) -> np.ndarray:
    """An unweighted size x size window."""
    return np.ones((size, size))


def gaussian_window(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """A normalised Gaussian window of radius round(truncate·sigma), the one
    ``scipy.ndimage.gaussian_filter`` (and so scikit-image's ``corner_harris``) uses."""
    sigma = check_float("sigma", sigma)
    radius = int(truncate * sigma + 0.5)
    t = np.arange(-radius, radius + 1)
    g = np.exp(-0.5 * (t / sigma) ** 2)
    g /= g.sum()
    return np.outer(g, g)


def _window_weights(window) -> np.ndarray:
    if isinstance(window, int | np.integer) and not isinstance(window, bool):
        weights = box_window(check_int("window", window))
    else:
        weights = np.asarray(window, dtype=np.float64)
        if weights.ndim != 2 or not np.isfinite(weights).all():
            raise ValueError(
                "window must be an odd integer or a 2-D array of finite weights, got "
                f"shape {weights.shape}."
            )
    if weights.shape[0] % 2 == 0 or weights.shape[1] % 2 == 0:
        raise ValueError(f"window must have odd sizes to be centred, got {weights.shape}.")
    return weights


def _window_sum(a: np.ndarray, weights: np.ndarray) -> np.ndarray:
    # Weighted sum over the window centred on each pixel, zeros outside the image.
    rh, rw = weights.shape[0] // 2, weights.shape[1] // 2
    p = np.pad(a, ((rh, rh), (rw, rw)))
    out = np.zeros_like(a)
    height, width = a.shape
    for i in range(weights.shape[0]):
        for j in range(weights.shape[1]):
            out += weights[i, j] * p[i : i + height, j : j + width]
    return out


def _check_image(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(
            f"image must be 2-D (height, width) grey levels, got shape {image.shape}; "
            "convert colour images to grey first."
        )
    if image.dtype.kind not in "biuf":
        raise ValueError(f"image must hold numbers, got dtype {image.dtype}.")
    image = image.astype(np.float64)
    if not np.isfinite(image).all():
        raise ValueError("image contains NaN or inf; replace those pixels first.")
    return image
