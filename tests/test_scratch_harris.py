"""funml.scratch.harris against scikit-image and SciPy, and on a synthetic square."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage

from funml.scratch import (
    CORNER,
    EDGE,
    FLAT,
    LABEL_NAMES,
    gaussian_window,
    gradients_as_points,
    harris,
    image_gradients,
)


def _random_image(seed=0, shape=(24, 31)):
    return ndimage.gaussian_filter(np.random.default_rng(seed).random(shape), 1.0)


def _square(size=32, lo=8, hi=24):
    image = np.zeros((size, size))
    image[lo:hi, lo:hi] = 1.0
    return image


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("k", [0.04, 0.05, 0.15])
def test_matches_skimage_corner_harris_with_its_window(sigma, k):
    skimage_feature = pytest.importorskip("skimage.feature")
    image = _random_image()
    # corner_harris = Sobel gradients (zero outside), Gaussian window of radius 4 sigma.
    expected = skimage_feature.corner_harris(image, method="k", k=k, sigma=sigma)
    ours = harris(image, window=gaussian_window(sigma), k=k).response
    assert_allclose(ours, expected, rtol=1e-9, atol=1e-12 * np.abs(expected).max())


def test_box_window_matches_scipy_sobel_and_box_sum():
    image = _random_image(seed=1)
    gx = ndimage.sobel(image, axis=1, mode="constant")
    gy = ndimage.sobel(image, axis=0, mode="constant")
    ours_gx, ours_gy = image_gradients(image)
    assert_allclose(ours_gx, gx, atol=1e-12)
    assert_allclose(ours_gy, gy, atol=1e-12)
    box = lambda a: ndimage.correlate(a, np.ones((3, 3)), mode="constant")  # noqa: E731
    sxx, sxy, syy = box(gx * gx), box(gx * gy), box(gy * gy)
    result = harris(image, window=3, k=0.05)
    assert_allclose(result.tensor[..., 0, 0], sxx, atol=1e-12)
    assert_allclose(result.tensor[..., 0, 1], sxy, atol=1e-12)
    assert_allclose(result.tensor[..., 1, 0], sxy, atol=1e-12)
    assert_allclose(result.tensor[..., 1, 1], syy, atol=1e-12)
    assert_allclose(result.response, sxx * syy - sxy**2 - 0.05 * (sxx + syy) ** 2, atol=1e-10)


def test_eigenvalues_are_those_of_the_tensor():
    result = harris(_random_image(seed=2), window=5)
    expected = np.linalg.eigvalsh(result.tensor)[..., ::-1]  # descending
    assert_allclose(result.eigenvalues, expected, atol=1e-10 * expected.max())
    assert (result.eigenvalues[..., 0] >= result.eigenvalues[..., 1]).all()
    assert (result.eigenvalues >= 0).all()


def test_square_corners_sides_and_flat():
    image = _square()
    result = harris(image)
    labels = result.labels
    corners = [(8, 8), (8, 23), (23, 8), (23, 23)]
    for r, c in corners:
        assert labels[r, c] == CORNER, (r, c)
    for r, c in [(8, 16), (23, 16), (16, 8), (16, 23), (12, 8), (20, 23)]:
        assert labels[r, c] == EDGE, (r, c)
    for r, c in [(16, 16), (12, 12), (0, 0), (2, 30), (31, 16)]:
        assert labels[r, c] == FLAT, (r, c)
    # Corner pixels form exactly four blobs, one around each corner of the square.
    blobs, n_blobs = ndimage.label(labels == CORNER)
    assert n_blobs == 4
    assert sorted(blobs[r, c] for r, c in corners) == [1, 2, 3, 4]
    # Far from the square's outline everything is flat.
    moving = (ndimage.sobel(image, axis=0) != 0) | (ndimage.sobel(image, axis=1) != 0)
    outline = ndimage.binary_dilation(moving, iterations=2)
    assert (labels[~outline] == FLAT).all()
    assert LABEL_NAMES[CORNER] == "corner" and LABEL_NAMES[EDGE] == "edge"


def test_central_differences_on_a_ramp():
    rows, cols = np.mgrid[0:10, 0:12]
    ramp = 2.0 * cols + 3.0 * rows
    gx, gy = image_gradients(ramp, derivative="central")
    assert_allclose(gx[1:-1, 1:-1], 2.0)
    assert_allclose(gy[1:-1, 1:-1], 3.0)
    sx, sy = image_gradients(ramp, derivative="sobel")  # Sobel is 8 times the slope
    assert_allclose(sx[1:-1, 1:-1], 16.0)
    assert_allclose(sy[1:-1, 1:-1], 24.0)


@pytest.mark.parametrize(("row", "col"), [(8, 8), (8, 16), (0, 0), (12, 30)])
def test_gradients_as_points_give_the_tensor_and_its_principal_axes(row, col):
    image = _square()
    result = harris(image, window=3)
    pts = gradients_as_points(image, row, col, window=3)
    assert pts.points.shape == (9, 2)
    assert_allclose(pts.tensor, result.tensor[row, col], atol=1e-12)
    assert_allclose(pts.eigenvalues, result.eigenvalues[row, col], atol=1e-9)
    for i in range(2):
        assert_allclose(
            pts.tensor @ pts.eigenvectors[:, i],
            pts.eigenvalues[i] * pts.eigenvectors[:, i],
            atol=1e-9,
        )


def test_on_the_top_side_the_main_axis_is_the_gradient_direction():
    pts = gradients_as_points(_square(), 8, 16)
    assert_allclose(np.abs(pts.eigenvectors[:, 0]), [0.0, 1.0], atol=1e-12)  # along y
    assert pts.eigenvalues[1] == pytest.approx(0.0, abs=1e-12)


def test_flat_image_is_all_flat():
    result = harris(np.full((6, 7), 3.0))
    # Zero padding makes the image border an edge; two pixels in, the image is flat.
    assert_array_equal(result.labels[2:-2, 2:-2], FLAT)
    assert_array_equal(result.response[2:-2, 2:-2], 0.0)


def test_bad_input():
    with pytest.raises(ValueError, match="image must be 2-D"):
        harris(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="odd sizes"):
        harris(np.zeros((8, 8)), window=4)
    with pytest.raises(ValueError, match="NaN or inf"):
        harris(np.full((5, 5), np.nan))
    with pytest.raises(ValueError, match="derivative must be one of"):
        harris(np.zeros((5, 5)), derivative="prewitt")
    with pytest.raises(ValueError, match="k must be a number > 0"):
        harris(np.zeros((5, 5)), k=-1)
    with pytest.raises(ValueError, match=r"row must be an integer in \[0, 4\]"):
        gradients_as_points(np.zeros((5, 5)), 5, 0)
