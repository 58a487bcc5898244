"""`harris`: corners, edges and flat regions, and Harris as PCA of gradient vectors."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result

SQUARES, SIDE, PAD = 4, 12, 12  # the synthetic checkerboard: 4 x 4 squares of 12 pixels
LABEL_COLOURS = ListedColormap(["#e8e8e8", "#1f77b4", "#d62728"])  # flat, edge, corner


@experiment(
    "harris",
    summary="Harris response and corner/edge/flat map on a photo and a checkerboard.",
    question=(
        "Where does an image have corners, and why is the Harris detector the PCA of the "
        "gradient vectors around each pixel?"
    ),
)
def run_harris(settings, context) -> Result:
    from scipy import ndimage

    from funml.scratch.harris import LABEL_NAMES, gaussian_window, gradients_as_points, harris

    board = checkerboard()
    photo, photo_name = _photo()
    r_board, r_photo = harris(board), harris(photo)

    # Corners of the board: one blob per grid point. The image's own 4 corners also respond
    # (pixels outside count as 0), so blobs touching the image's outer margin are left out.
    blobs, n = ndimage.label(r_board.labels == 2)
    centres = np.array(ndimage.center_of_mass(r_board.labels == 2, blobs, range(1, n + 1)))
    inside = np.all((centres > PAD / 2) & (centres < board.shape[0] - PAD / 2), axis=1)
    found = int(inside.sum())
    expected = (SQUARES + 1) ** 2

    # The same pixel's tensor from the window's gradient vectors read as data points.
    picks = {
        "corner": (PAD + SIDE, PAD + SIDE),
        "edge": (PAD + SIDE // 2, PAD + SIDE),
        "flat": (PAD + SIDE // 2, PAD + SIDE // 2),
    }
    points = {name: gradients_as_points(board, *rc) for name, rc in picks.items()}
    tensor_diff = max(
        float(np.abs(p.tensor - r_board.tensor[picks[name]]).max()) for name, p in points.items()
    )

    refs = [
        Reference(
            "corner points found on the checkerboard",
            found,
            expected,
            f"its (squares + 1)² = {expected} grid points",
        ),
        Reference(
            "M from the window's gradient points vs harris()",
            tensor_diff,
            0.0,
            "the same structure tensor, two ways (max abs difference)",
        ),
    ]
    metrics = {
        "checkerboard_corners_found": found,
        "checkerboard_corners_expected": expected,
        "tensor_difference_points_vs_harris": tensor_diff,
        "photo": photo_name,
        "photo_shape": list(photo.shape),
        "photo_label_shares": {
            LABEL_NAMES[i]: float(np.mean(r_photo.labels == i)) for i in range(3)
        },
    }
    try:
        from skimage.feature import corner_harris
    except ImportError:
        refs.append(
            Reference(
                "response vs scikit-image corner_harris",
                "not run",
                None,
                "scikit-image is not installed (pip install scikit-image)",
            )
        )
    else:
        ours = harris(photo, window=gaussian_window(1.0), k=0.05).response
        theirs = corner_harris(photo, method="k", k=0.05, sigma=1)
        rel = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
        metrics["relative_difference_vs_skimage"] = rel
        refs.append(
            Reference(
                "response vs scikit-image corner_harris (Gaussian σ=1 window)",
                rel,
                0.0,
                "scikit-image, same photo (max difference / max |R|)",
            )
        )
    ok = found == expected
    return Result(
        metrics=metrics,
        verdict=(
            f"Harris finds {found} of the checkerboard's {expected} grid corners "
            + ("exactly" if ok else "(NOT all of them)")
            + f"; on the photo {metrics['photo_label_shares']['corner']:.1%} of pixels are "
            f"corners and {metrics['photo_label_shares']['edge']:.1%} edges. Corners are where "
            "both eigenvalues of the gradients' covariance are large: two principal directions."
        ),
        references=refs,
        figures={
            f"{photo_name}: image, Harris response and corner/edge/flat map": _maps(photo, r_photo),
            "Checkerboard: image, Harris response and corner/edge/flat map": _maps(board, r_board),
            "Eigenvalues of the structure tensor at every pixel, by label": _eigen_scatter(
                [r_board, r_photo], LABEL_NAMES, settings.seed
            ),
            "Gradient vectors in a 3x3 window as data points, with their principal axes": _points(
                points
            ),
        },
        notes=[
            f"Photo: {photo_name} from scikit-learn's sample images, in grey levels 0..1, "
            "halved to "
            f"{photo.shape[1]}x{photo.shape[0]}; Sobel gradients, 3x3 box window, k = 0.05, "
            "corner where R > 1% of max |R|, edge where R < -1% of max |R|."
        ],
    )


def checkerboard() -> np.ndarray:
    """A 4 x 4 black-and-white checkerboard on a mid-grey margin, float64 in [0, 1]."""
    board = (np.indices((SQUARES * SIDE, SQUARES * SIDE)) // SIDE).sum(axis=0) % 2
    return np.pad(board.astype(np.float64), PAD, constant_values=0.5)


def _photo() -> tuple[np.ndarray, str]:
    from pathlib import Path

    from sklearn.datasets import load_sample_images

    sample = load_sample_images()
    rgb = sample.images[0].astype(np.float64) / 255  # china.jpg, (427, 640, 3)
    grey = rgb @ np.array([0.299, 0.587, 0.114])  # ITU-R 601 luma, as Pillow's "L"
    return grey[::2, ::2], Path(sample.filenames[0]).name


def _maps(image, r) -> Figure:
    fig = Figure(figsize=(10, 3.6))
    axes = fig.subplots(1, 3)
    axes[0].imshow(image, cmap="gray")
    axes[0].set_title("image")
    lim = np.abs(r.response).max() * 0.05  # most responses are small; clip to see them
    im = axes[1].imshow(r.response, cmap="coolwarm", vmin=-lim, vmax=lim)
    axes[1].set_title("response R (clipped)")
    fig.colorbar(im, ax=axes[1], fraction=0.046)
    axes[2].imshow(r.labels, cmap=LABEL_COLOURS, vmin=0, vmax=2, interpolation="nearest")
    axes[2].set_title("flat (grey) / edge (blue) / corner (red)")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def _eigen_scatter(results, names, seed: int) -> Figure:
    rng = np.random.default_rng(seed)
    lam = np.concatenate([r.eigenvalues.reshape(-1, 2) for r in results])
    labels = np.concatenate([r.labels.ravel() for r in results])
    keep = rng.choice(len(lam), size=min(20000, len(lam)), replace=False)
    fig = Figure(figsize=(5.5, 4.5))
    ax = fig.subplots()
    for label in (0, 1, 2):
        m = labels[keep] == label
        ax.scatter(
            lam[keep][m, 1] + 1e-6,
            lam[keep][m, 0] + 1e-6,
            s=3,
            alpha=0.4,
            color=LABEL_COLOURS(label),
            label=names[label],
        )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="smaller eigenvalue λ2",
        ylabel="larger eigenvalue λ1",
        title="Flat: both small; edge: one large; corner: both large",
    )
    ax.legend(markerscale=4, fontsize=8)
    fig.tight_layout()
    return fig


def _points(points) -> Figure:
    fig = Figure(figsize=(10, 3.5))
    axes = fig.subplots(1, len(points))
    lim = max(float(np.abs(p.points).max()) for p in points.values()) * 1.15 or 1.0
    for ax, (name, p) in zip(axes, points.items(), strict=True):
        ax.scatter(p.points[:, 0], p.points[:, 1], s=25)
        for value, vector in zip(p.eigenvalues, p.eigenvectors.T, strict=True):
            length = np.sqrt(max(value, 0) / len(p.points))  # the spread along this axis
            ax.annotate(
                "",
                xy=vector * length,
                xytext=(0, 0),
                arrowprops={"arrowstyle": "->", "color": "C3", "lw": 2},
            )
        ax.set(
            xlim=(-lim, lim),
            ylim=(-lim, lim),
            aspect="equal",
            xlabel="gx",
            ylabel="gy",
            title=f"{name}: λ = {p.eigenvalues[0]:.1f}, {p.eigenvalues[1]:.1f}",
        )
        ax.axhline(0, color="gray", lw=0.5)
        ax.axvline(0, color="gray", lw=0.5)
    fig.tight_layout()
    return fig
