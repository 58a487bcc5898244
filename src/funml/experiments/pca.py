"""`pca`: the eigenvalues of the pixel covariance, a 2D map, and reconstructions."""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from funml.experiments._common import anchor, features, one_per_class
from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result
from funml.timing import timer

SHOWN_COMPONENTS = (2, 3, 5, 10, 20, 50, 100)
THRESHOLDS = (0.90, 0.95, 0.99)


@experiment(
    "pca",
    summary="PCA from scratch: eigenvalues, 2D map, reconstructions, vs scikit-learn.",
    question=(
        "How many principal components of the pixels does it take to keep most of the "
        "variance, and what do images look like rebuilt from only a few?"
    ),
)
def run_pca(settings, context) -> Result:
    from sklearn.decomposition import PCA as SkPCA

    from funml.scratch.pca import PCA, components_for_variance

    ds = context.dataset()
    x = features(ds.train, ds.pixel_max, np.float64)  # (n, d); float64 to compare to 1e-6
    d = x.shape[1]
    with timer() as t_funml:
        pca = PCA().fit(x)
    with timer() as t_sklearn:
        sk = SkPCA(svd_solver="covariance_eigh").fit(x)
    needed = {
        f"{p:.0%}": components_for_variance(pca.explained_variance_ratio_, p) for p in THRESHOLDS
    }
    needed_sk = {
        f"{p:.0%}": components_for_variance(sk.explained_variance_ratio_, p) for p in THRESHOLDS
    }

    # Agreement, on the components whose variance is not at rounding level.
    keep = sk.explained_variance_ > sk.explained_variance_[0] * 1e-6
    rel_var = float(
        np.max(np.abs(pca.explained_variance_[keep] / sk.explained_variance_[keep] - 1))
    )
    top = min(20, int(keep.sum()))  # leading components have well-separated eigenvalues
    cosines = np.abs(np.sum(pca.components_[:top] * sk.components_[:top], axis=1))
    k90 = needed["90%"]
    gallery = x[one_per_class(ds.train, ds.n_classes)]
    ks = sorted({k for k in SHOWN_COMPONENTS if k < d} | {k90})
    recon = {k: pca.reconstruct(gallery, k) for k in ks}  # one fit serves every k
    theirs = SkPCA(n_components=k90, svd_solver="covariance_eigh").fit(x)
    recon_diff = float(
        np.max(np.abs(recon[k90] - theirs.inverse_transform(theirs.transform(gallery))))
    )

    refs = [
        Reference(
            f"components for {name} of the variance",
            needed[name],
            needed_sk[name],
            "scikit-learn PCA(svd_solver='covariance_eigh'), same data",
        )
        for name in needed
    ]
    published = anchor(ds, "pca95")
    if published:
        refs.append(Reference("components for 95% (anchor)", needed["95%"], *published))
    refs += [
        Reference(
            "largest relative difference in explained variance",
            rel_var,
            1e-6,
            "tolerance funml's tests hold against scikit-learn",
        ),
        Reference(
            f"smallest |cosine| between the first {top} components",
            float(cosines.min()),
            1.0,
            "scikit-learn: equal up to sign",
        ),
        Reference(
            f"largest reconstruction difference ({k90} components)",
            recon_diff,
            0.0,
            "scikit-learn reconstruction, pixels in [0, 1]",
        ),
        Reference(
            "fit time", t_funml.seconds, t_sklearn.seconds, "scikit-learn, same data", unit="s"
        ),
    ]
    z2 = pca.transform(features(ds.test, ds.pixel_max, np.float64))[:, :2]
    return Result(
        metrics={
            "n_train": len(x),
            "n_features": d,
            "components_needed": needed,
            "components_needed_sklearn": needed_sk,
            "explained_variance_ratio_first_10": pca.explained_variance_ratio_[:10],
            "max_relative_variance_difference": rel_var,
            "min_abs_cosine_top_components": float(cosines.min()),
            "max_reconstruction_difference": recon_diff,
            "fit_seconds": t_funml.seconds,
            "fit_seconds_sklearn": t_sklearn.seconds,
        },
        verdict=(
            f"{needed['90%']} of {d} components keep 90% of the variance, {needed['95%']} keep "
            f"95% and {needed['99%']} keep 99%; funml's PCA "
            + ("matches" if rel_var < 1e-6 and cosines.min() > 1 - 1e-6 else "DIFFERS FROM")
            + f" scikit-learn (explained variance within {rel_var:.1e})."
        ),
        references=refs,
        figures={
            "Eigenvalues of the covariance in descending order, and the variance kept": (
                _eigen_figure(pca.explained_variance_, pca.explained_variance_ratio_, needed)
            ),
            "Test images projected on the first two components": _scatter(z2, ds),
            "Reconstructions of one image per class from k components": _recon_figure(
                gallery, recon, ds
            ),
        },
        notes=[f"{ds.name}: PCA fitted on {len(x):,} training images of {d} pixels."],
    )


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


def _scatter(z, ds) -> Figure:
    fig = Figure(figsize=(6.5, 5))
    ax = fig.subplots()
    cmap = matplotlib.colormaps["tab10"]
    for c, name in enumerate(ds.classes):
        m = ds.test.labels == c
        ax.scatter(z[m, 0], z[m, 1], s=4, alpha=0.5, color=cmap(c % 10), label=name)
    ax.set(xlabel="component 1", ylabel="component 2")
    ax.legend(markerscale=3, fontsize=7, loc="best", ncols=2)
    fig.tight_layout()
    return fig


def _recon_figure(gallery, recon, ds) -> Figure:
    h, w = ds.image_shape
    cols = [("original", gallery), *((f"k={k}", r) for k, r in recon.items())]
    fig = Figure(figsize=(1.0 * len(cols), 1.0 * len(gallery)))
    axes = fig.subplots(len(gallery), len(cols), squeeze=False)
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
