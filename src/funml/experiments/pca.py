"""`pca`: the eigenvalues of the pixel covariance, a 2D map, and reconstructions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from funml.data.dataset import ImageDataset
from funml.experiments._common import anchor, features, one_per_class
from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result
from funml.timing import alternated, timed

SHOWN_COMPONENTS = (2, 3, 5, 10, 20, 50, 100)
THRESHOLDS = (0.90, 0.95, 0.99)


@dataclass(frozen=True)
class PcaPictures:
    """What the figures draw, besides the eigenvalues; not metrics."""

    gallery: np.ndarray  # (n_classes, H * W): one training image per class, pixels in [0, 1]
    reconstructions: dict[int, np.ndarray]  # k -> the gallery rebuilt from k components
    test_2d: np.ndarray  # (n_test, 2): test images on the first two components
    test_labels: np.ndarray  # (n_test,)
    classes: tuple[str, ...]
    image_shape: tuple[int, int]


@dataclass(frozen=True)
class KeptRow:
    """What k leading components keep of the data."""

    variance_kept: float  # share of the training variance, a fraction
    test_error_share: float  # sum ||x - x_hat||^2 / sum ||x - mean||^2 over the test images
    test_rmse: float  # root-mean-square pixel error on the test images, pixels in [0, 1]


@dataclass(frozen=True)
class PcaMeasurement:
    dataset: str
    n_train: int
    n_features: int
    components_needed: dict[str, int]  # "90%" -> fewest components keeping 90% of the variance
    components_needed_sklearn: dict[str, int]
    explained_variance: np.ndarray = field(repr=False)  # (n_features,) eigenvalues, descending
    explained_variance_ratio: np.ndarray = field(repr=False)  # (n_features,)
    max_relative_variance_difference: float  # from scikit-learn's, above rounding level
    n_top_components: int  # compared by direction with scikit-learn's
    min_abs_cosine_top_components: float
    components_reconstructed: int  # the 90% count: reconstructions compared with scikit-learn
    max_reconstruction_difference: float  # pixels in [0, 1]
    by_k: dict[int, KeptRow]  # the shown k and the 90/95/99% counts
    fit_seconds: float
    fit_seconds_sklearn: float
    pictures: PcaPictures = field(repr=False)

    @property
    def matches_sklearn(self) -> bool:
        return (
            self.max_relative_variance_difference < 1e-6
            and self.min_abs_cosine_top_components > 1 - 1e-6
        )


def measure_pca(ds: ImageDataset, *, repeats: int = 1) -> PcaMeasurement:
    """funml's PCA and scikit-learn's (``covariance_eigh``) fitted on ``ds``'s training pixels.

    Fit times are the best of ``repeats`` fits of each, alternated.
    """
    from sklearn.decomposition import PCA as SkPCA

    from funml.scratch.pca import components_for_variance

    x = features(ds.train, ds.pixel_max, np.float64)  # (n, d); float64 to compare to 1e-6
    pca, sk, t_funml, t_sklearn = _fits(x, repeats)
    needed, needed_sk = (
        {f"{p:.0%}": components_for_variance(ratio, p) for p in THRESHOLDS}
        for ratio in (pca.explained_variance_ratio_, sk.explained_variance_ratio_)
    )
    # Agreement, on the components whose variance is not at rounding level.
    keep = sk.explained_variance_ > sk.explained_variance_[0] * 1e-6
    rel_var = np.max(np.abs(pca.explained_variance_[keep] / sk.explained_variance_[keep] - 1))
    top = min(20, int(keep.sum()))  # leading components have well-separated eigenvalues
    cosines = np.abs(np.sum(pca.components_[:top] * sk.components_[:top], axis=1))
    k90 = needed["90%"]
    gallery = x[one_per_class(ds.train, ds.n_classes)]
    ks = sorted({k for k in SHOWN_COMPONENTS if k < x.shape[1]} | {k90})
    recon = {k: pca.reconstruct(gallery, k) for k in ks}  # one fit serves every k
    theirs = SkPCA(n_components=k90, svd_solver="covariance_eigh").fit(x)
    recon_diff = np.max(np.abs(recon[k90] - theirs.inverse_transform(theirs.transform(gallery))))
    x_test = features(ds.test, ds.pixel_max, np.float64)
    test_2d = pca.transform(x_test)[:, :2]
    return PcaMeasurement(
        dataset=ds.name,
        n_train=len(x),
        n_features=x.shape[1],
        components_needed=needed,
        components_needed_sklearn=needed_sk,
        explained_variance=pca.explained_variance_,
        explained_variance_ratio=pca.explained_variance_ratio_,
        max_relative_variance_difference=float(rel_var),
        n_top_components=top,
        min_abs_cosine_top_components=float(cosines.min()),
        components_reconstructed=k90,
        max_reconstruction_difference=float(recon_diff),
        by_k=_kept(pca, x_test, sorted(set(ks) | set(needed.values()))),
        fit_seconds=t_funml,
        fit_seconds_sklearn=t_sklearn,
        pictures=PcaPictures(
            gallery, recon, test_2d, ds.test.labels, tuple(ds.classes), ds.image_shape
        ),
    )


def _kept(pca, x_test: np.ndarray, ks) -> dict[int, KeptRow]:
    """For each k: the training variance kept, and how far the test images rebuilt are."""
    cumulative = np.cumsum(pca.explained_variance_ratio_)
    total = np.sum((x_test - pca.mean_) ** 2)
    rows = {}
    for k in ks:
        squared = np.sum((x_test - pca.reconstruct(x_test, k)) ** 2)
        rows[k] = KeptRow(
            variance_kept=float(cumulative[k - 1]),
            test_error_share=float(squared / total),
            test_rmse=float(np.sqrt(squared / x_test.size)),
        )
    return rows


def _fits(x: np.ndarray, repeats: int):
    """``(funml PCA, scikit-learn PCA, funml seconds, scikit-learn seconds)`` on ``x``."""
    from sklearn.decomposition import PCA as SkPCA

    from funml.scratch.pca import PCA

    ours = lambda: PCA().fit(x)  # noqa: E731
    theirs = lambda: SkPCA(svd_solver="covariance_eigh").fit(x)  # noqa: E731
    pca, t_funml = timed(ours)
    sk, t_sklearn = timed(theirs)
    if repeats > 1:  # alternated, so load on the machine slows both alike
        more = alternated({"funml": ours, "sklearn": theirs}, repeats - 1)
        t_funml, t_sklearn = min(t_funml, *more["funml"]), min(t_sklearn, *more["sklearn"])
    return pca, sk, t_funml, t_sklearn


def present_pca(m: PcaMeasurement, published=None) -> Result:
    """The report's view of ``m``; ``published`` is the ``(count, source)`` anchor for 95%."""
    needed, k90 = m.components_needed, m.components_reconstructed
    refs = [
        Reference(
            f"components for {name} of the variance",
            needed[name],
            m.components_needed_sklearn[name],
            "scikit-learn PCA(svd_solver='covariance_eigh'), same data",
        )
        for name in needed
    ]
    if published:
        refs.append(Reference("components for 95% (anchor)", needed["95%"], *published))
    refs += [
        Reference(
            "largest relative difference in explained variance",
            m.max_relative_variance_difference,
            1e-6,
            "tolerance funml's tests hold against scikit-learn",
        ),
        Reference(
            f"smallest |cosine| between the first {m.n_top_components} components",
            m.min_abs_cosine_top_components,
            1.0,
            "scikit-learn: equal up to sign",
        ),
        Reference(
            f"largest reconstruction difference ({k90} components)",
            m.max_reconstruction_difference,
            0.0,
            "scikit-learn reconstruction, pixels in [0, 1]",
        ),
        Reference("fit time", m.fit_seconds, m.fit_seconds_sklearn, "scikit-learn, same data", "s"),
    ]
    return Result(
        metrics=_metrics(m),
        verdict=(
            f"{needed['90%']} of {m.n_features} components keep 90% of the variance, "
            f"{needed['95%']} keep 95% and {needed['99%']} keep 99%; funml's PCA "
            + ("matches" if m.matches_sklearn else "DIFFERS FROM")
            + f" scikit-learn (explained variance within {m.max_relative_variance_difference:.1e})."
        ),
        answer=_answer(m),
        references=refs,
        figures=_figures(m),
        notes=[
            f"{m.dataset}: PCA fitted on {m.n_train:,} training images of {m.n_features} pixels."
        ],
    )


@experiment(
    "pca",
    summary="PCA from scratch: eigenvalues, 2D map, reconstructions, vs scikit-learn.",
    question=(
        "How many principal components of the pixels does it take to keep most of the "
        "variance, and what do images look like rebuilt from only a few?"
    ),
)
def run_pca(settings, context) -> Result:
    ds = context.dataset()
    return present_pca(measure_pca(ds), anchor(ds, "pca95"))


def _answer(m: PcaMeasurement) -> str:
    """The course's two questions answered with this run's numbers."""
    needed, two = m.components_needed, m.by_k[2]
    k95 = needed["95%"]
    return (
        f"No: rebuilt from 2 of the {m.n_features} components the images are blurred, alike "
        "shapes (the k=2 column), because 2 components keep only "
        f"{two.variance_kept:.1%} of the training variance; the test images rebuilt from them "
        f"lose {two.test_error_share:.1%} of theirs (RMS pixel error {two.test_rmse:.3f} on a "
        f"0-1 scale, against {m.by_k[k95].test_rmse:.3f} with {k95} components). The first two "
        "eigenvectors are the directions in which the images vary most overall; what tells one "
        "image from another is spread over many smaller eigenvalues. The spectrum falls "
        f"steeply, then flattens into a long tail: {needed['90%']} components keep 90% of the "
        f"variance, {k95} keep 95% and {needed['99%']} keep 99%. So about {k95} dimensions are "
        f"enough: each further component adds at most {m.explained_variance_ratio[k95]:.2%} "
        "of the variance."
    )


def _metrics(m: PcaMeasurement) -> dict:
    arrays = {"explained_variance", "explained_variance_ratio", "pictures", "by_k"}
    metrics = {f.name: getattr(m, f.name) for f in fields(m) if f.name not in arrays}
    metrics["by_k"] = {str(k): asdict(row) for k, row in m.by_k.items()}
    return {**metrics, "explained_variance_ratio_first_10": m.explained_variance_ratio[:10]}


def _figures(m: PcaMeasurement) -> dict[str, Figure]:
    p = m.pictures
    return {
        "Eigenvalues of the covariance in descending order, and the variance kept": (
            _eigen_figure(m.explained_variance, m.explained_variance_ratio, m.components_needed)
        ),
        "Test images projected on the first two components": _scatter(p),
        "Reconstructions of one image per class from k components": _recon_figure(p),
    }


def _eigen_figure(variance, ratio, needed) -> Figure:
    fig = Figure(figsize=(9, 3.4))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.semilogy(np.arange(1, len(variance) + 1), np.maximum(variance, 1e-12))
    ax1.set(xlabel="component", ylabel="eigenvalue (variance)", title="Eigenvalues, descending")
    cum = np.cumsum(ratio)
    ax2.plot(np.arange(1, len(cum) + 1), cum)
    for name, k in needed.items():
        ax2.axvline(k, ls=":", c="gray")
        ax2.annotate(
            f"{name}: {k}",
            (k, float(cum[k - 1])),
            textcoords="offset points",
            xytext=(4, -12),
            fontsize=8,
        )
    ax2.set(
        xlabel="components kept",
        ylabel="share of the variance",
        title="Variance kept",
        ylim=(0, 1.02),
    )
    fig.tight_layout()
    return fig


def _scatter(p: PcaPictures) -> Figure:
    fig = Figure(figsize=(6.5, 5))
    ax = fig.subplots()
    cmap = matplotlib.colormaps["tab10"]
    z = p.test_2d
    for c, name in enumerate(p.classes):
        m = p.test_labels == c
        ax.scatter(z[m, 0], z[m, 1], s=4, alpha=0.5, color=cmap(c % 10), label=name)
    ax.set(xlabel="component 1", ylabel="component 2")
    ax.legend(markerscale=3, fontsize=7, loc="best", ncols=2)
    fig.tight_layout()
    return fig


def _recon_figure(p: PcaPictures) -> Figure:
    h, w = p.image_shape
    cols = [("original", p.gallery), *((f"k={k}", r) for k, r in p.reconstructions.items())]
    fig = Figure(figsize=(1.0 * len(cols), 1.0 * len(p.gallery)))
    axes = fig.subplots(len(p.gallery), len(cols), squeeze=False)
    for j, (title, imgs) in enumerate(cols):
        for i, img in enumerate(imgs):
            ax = axes[i, j]
            ax.imshow(img.reshape(h, w), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(title, fontsize=8)
    fig.tight_layout(pad=0.2)
    return fig
