"""funml's from-scratch NumPy algorithms against their library twins: time, ratio, accuracy.

    python benchmarks/scratch.py                   # full Fashion-MNIST, 15 min on 2 busy cores
    python benchmarks/scratch.py --only knn pca    # or: softmax, conv2d, mlp
    python benchmarks/scratch.py --quick           # a smoke run on small subsets
    python benchmarks/scratch.py --dataset mnist   # the full official MNIST, from ../shared/data/
                                                   # mnist or funml's data folders; softmax >= 92%

Each part calls the measurement function of the lab's experiment (`measure_knn`,
`measure_pca`, `measure_softmax`, `measure_conv2d`, `measure_mlp_scratch` in
funml.experiments), at full size: it times funml and its reference in this one process, on
the same arrays, so a busy machine slows both alike; ratio = funml time / reference time.
PCA and conv2d alternate the two a few times and keep each one's best time.

Data: the full Fashion-MNIST (60,000 train / 10,000 test). When only MNIST's official
test set is available, it is split into halves (5,000 / 5,000). KNN measures distances on
raw pixel values; the others scale pixels to [0, 1] in float64.

Targets: KNN (k=3, brute) in float64: predictions all equal to scikit-learn's and ratio
<= 1.0, best of 3 alternated (float32: equal except at exact distance ties, ratio <= 1.5);
PCA fit ratio <= 1.0 against covariance_eigh, best of 7 alternated, explained variances
equal to 1e-6; the two ratios are printed side by side at the end; softmax regression
>= 84% after 20 epochs; conv2d forward and backward ratios <= 10 against torch; the
from-scratch MLP >= 85% after 25 epochs.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

# As the funml command does, before torch loads: sleeping OpenMP waits (funml.runtime).
from funml.runtime import configure_process

configure_process()

import numpy as np

from funml.data.dataset import ImageDataset
from funml.errors import FunmlError
from funml.timing import duration

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
PARTS = ("knn", "pca", "softmax", "conv2d", "mlp")
QUICK_SIZES = (10_000, 1_000)  # training and test images of a --quick run
# Per-sample SGD softmax regression after 20 epochs, by data set (the issue-17 MNIST anchor).
SOFTMAX_TARGETS = {"fashion-mnist": 0.84, "mnist": 0.92}


def row(name, seconds, reference, reference_seconds, score, reference_score, target=""):
    """One line of the table: funml against one reference on the same work."""
    ratio = seconds / reference_seconds
    return (
        name,
        f"{seconds:.3f}",
        reference,
        f"{reference_seconds:.3f}",
        f"{ratio:.2f}",
        score,
        reference_score,
        target,
    )


def verdict(ok: bool, text: str, quick: bool) -> str:
    if quick:
        return f"{text} (not checked)"
    return f"{text} {'met' if ok else 'MISSED'}"


def load_data(quick: bool, dataset: str = "fashion-mnist") -> ImageDataset:
    """Fashion-MNIST, or MNIST's test set split in halves when that is all there is;
    the full MNIST when ``dataset`` is "mnist"."""
    from funml.data import load_dataset
    from funml.experiments.context import subset
    from funml.experiments.data28 import mnist_test_halves

    if dataset == "mnist":
        try:
            ds = load_dataset(
                "mnist", data_dir=MNIST_DIR if MNIST_DIR.is_dir() else None, download=False
            )
        except FunmlError as e:
            raise SystemExit(f"The full MNIST was not found: {e}") from None
        return subset(ds, *QUICK_SIZES) if quick else ds
    try:
        ds = load_dataset("fashion-mnist", download=False)
    except FunmlError:
        ds = mnist_test_halves(MNIST_DIR if MNIST_DIR.is_dir() else None)
        if ds is None:
            raise SystemExit(
                "Neither Fashion-MNIST nor MNIST's test set was found: "
                "run `funml data fetch fashion-mnist` first."
            ) from None
    return subset(ds, *QUICK_SIZES) if quick else ds


# The ratios the targets name (funml time / scikit-learn time, best of N alternated),
# filled by the parts that ran and printed side by side at the end.
RATIOS: dict[str, float] = {}
KNN_ROUNDS = 3  # alternated rounds of the float64 KNN timing (2 in a --quick run)


def knn_best_of(ds: ImageDataset, k: int, rounds: int) -> tuple[float, float]:
    """Best-of-``rounds`` seconds of funml's and scikit-learn's brute-force KNN (fit and
    predict the test set, float64 pixels), called alternately so load slows both alike."""
    from sklearn.neighbors import KNeighborsClassifier

    from funml.scratch.knn import KNNClassifier
    from funml.timing import alternated

    x_train = ds.train.images.reshape(len(ds.train), -1).astype(np.float64)
    x_test = ds.test.images.reshape(len(ds.test), -1).astype(np.float64)
    y = ds.train.labels
    ours = KNNClassifier(n_neighbors=k)
    theirs = KNeighborsClassifier(n_neighbors=k, algorithm="brute")
    times = alternated(
        {
            "funml": lambda: ours.fit(x_train, y).predict(x_test),
            "sklearn": lambda: theirs.fit(x_train, y).predict(x_test),
        },
        rounds,
    )
    return min(times["funml"]), min(times["sklearn"])


def bench_knn(ds: ImageDataset, quick: bool) -> tuple[list[tuple], list[str]]:
    from funml.experiments.knn import measure_knn

    rows, notes = [], []
    for dtype in (np.float64, np.float32):
        m = measure_knn(ds, ks=(3,), dtype=dtype)
        r = m.by_k[3]
        seconds, seconds_sklearn = r.seconds, r.seconds_sklearn
        rounds = 2 if quick else KNN_ROUNDS
        if dtype is np.float64:  # the target's ratio: best of N, alternated
            best, best_sklearn = knn_best_of(ds, 3, rounds - 1)
            seconds, seconds_sklearn = min(seconds, best), min(seconds_sklearn, best_sklearn)
            RATIOS["KNN k=3 float64 / sklearn brute"] = seconds / seconds_sklearn
        only_ties = r.disagreements == r.disagreements_at_exact_ties
        target = 1.0 if dtype is np.float64 else 1.5
        ok = (r.disagreements == 0 if dtype is np.float64 else only_ties) and (
            seconds / seconds_sklearn <= target
        )
        equal = f"equal {m.n_test - r.disagreements:,}/{m.n_test:,}"
        rows.append(
            row(
                f"KNN k=3 brute, {m.dtype}, {m.n_test:,} x {m.n_train:,}"
                + (f", best of {rounds}" if dtype is np.float64 else ""),
                seconds,
                "sklearn brute",
                seconds_sklearn,
                f"acc {r.accuracy:.2%}",
                f"acc {r.accuracy_sklearn:.2%}",
                verdict(ok, f"{equal}, ratio<={target:g}", quick),
            )
        )
        notes.append(
            f"KNN {m.dtype}: {r.disagreements} of {m.n_test:,} predictions differ from "
            f"scikit-learn's, {r.disagreements_at_exact_ties} of them at an exact distance tie."
        )
    return rows, notes


def bench_pca(ds: ImageDataset, quick: bool) -> tuple[list[tuple], list[str]]:
    from funml.experiments.pca import measure_pca

    m = measure_pca(ds, repeats=3 if quick else 7)
    need = lambda counts: "/".join(str(k) for k in counts.values())  # noqa: E731
    ratio = m.fit_seconds / m.fit_seconds_sklearn
    RATIOS["PCA fit / sklearn covariance_eigh"] = ratio
    rows = [
        row(
            f"PCA fit, {m.n_train:,} x {m.n_features}, best of {3 if quick else 7}",
            m.fit_seconds,
            "sklearn covariance_eigh",
            m.fit_seconds_sklearn,
            f"k90/95/99 {need(m.components_needed)}",
            f"k90/95/99 {need(m.components_needed_sklearn)}",
            verdict(
                ratio <= 1.0 and m.max_relative_variance_difference <= 1e-6,
                "variances to 1e-6, ratio<=1.0",
                quick,
            ),
        )
    ]
    notes = [
        f"PCA: explained variances agree with scikit-learn's to "
        f"{m.max_relative_variance_difference:.1e} relative; the first {m.n_top_components} "
        f"components' |cosine| within {1 - m.min_abs_cosine_top_components:.1e} of 1; "
        f"reconstructions from {m.components_reconstructed} components to "
        f"{m.max_reconstruction_difference:.1e}."
    ]
    return rows, notes


# The course's per-sample SGD, and the vectorised minibatch setting it is compared with.
SOFTMAX_SGD = {"lr": 1e-3, "batch_size": 1}
SOFTMAX_MINIBATCH = {"lr": 0.1, "batch_size": 32}


def bench_softmax(ds: ImageDataset, quick: bool) -> tuple[list[tuple], list[str]]:
    from funml.experiments.softmax import measure_softmax

    epochs = 2 if quick else 20
    rows, notes = [], []
    goal = SOFTMAX_TARGETS["mnist" if ds.name == "mnist" else "fashion-mnist"]
    for settings in (SOFTMAX_SGD, SOFTMAX_MINIBATCH):
        # scikit-learn's fit is cached per process: both settings compare with one fit.
        m = measure_softmax(ds, epochs, seed=0, **settings)
        target = (
            verdict(m.test_accuracy >= goal, f"acc>={goal:.0%}", quick)
            if settings is SOFTMAX_SGD
            else ""
        )
        rows.append(
            row(
                f"softmax, {epochs} epochs, batch_size={m.batch_size} lr={m.lr:g}",
                m.train_seconds,
                "sklearn LogisticRegression lbfgs 200 it",
                m.train_seconds_sklearn,
                f"acc {m.test_accuracy:.2%}",
                f"acc {m.test_accuracy_sklearn:.2%}",
                target,
            )
        )
        notes.append(
            f"softmax, batch_size={m.batch_size}: final training loss {m.loss_history[-1]:.4f}; "
            f"gradient check relative error {m.gradient_check.relative_error:.1e}."
        )
    return rows, notes


def bench_conv2d(ds: ImageDataset, quick: bool) -> tuple[list[tuple], list[str]]:
    from funml.experiments.conv2d import LOOP_SHAPES, measure_conv2d

    image = ds.test.images[0].astype(np.float64) / ds.pixel_max
    m = measure_conv2d(image, batch=64, seed=0, repeats=3 if quick else 10)
    shapes = f"{m.speed_input}*{m.speed_weights}".replace(" ", "")
    error = f"max err {m.max_abs_difference_float32:.1e}"
    rows = [
        row(
            f"conv2d fwd float32 {shapes}",
            m.forward_seconds,
            "torch conv2d",
            m.forward_seconds_torch,
            error,
            "reference",
            verdict(m.forward_ratio <= 10, "ratio<=10", quick),
        ),
        row(
            f"conv2d bwd float32 {shapes}",
            m.backward_seconds,
            "torch autograd",
            m.backward_seconds_torch,
            "",
            "reference",
            verdict(m.backward_ratio <= 10, "ratio<=10", quick),
        ),
        row(
            f"conv2d_loop fwd float64 {'*'.join(map(str, LOOP_SHAPES)).replace(' ', '')}",
            m.loop_seconds_small,
            "funml vectorised conv2d",
            m.vectorised_seconds_small,
            f"max err {m.loop_vs_vectorised_difference:.1e}",
            "reference",
        ),
    ]
    notes = [
        f"conv2d: forward and all gradients equal torch's to {m.max_abs_difference_float64:.1e} "
        f"in float64 on {len(m.cases)} shapes; torch ran on {m.torch_threads} thread(s)."
    ]
    return rows, notes


def bench_mlp(ds: ImageDataset, quick: bool) -> tuple[list[tuple], list[str]]:
    from funml.experiments.mlp_scratch import measure_mlp_scratch

    m = measure_mlp_scratch(ds, 2 if quick else 25, seed=0)
    layers = "-".join(map(str, (ds.image_shape[0] * ds.image_shape[1], *m.hidden_layer_sizes)))
    rows = [
        row(
            f"MLP {layers}-{ds.n_classes} sigmoid, {m.epochs} epochs, batch {m.batch_size}, "
            f"lr {m.lr:g}",
            m.train_seconds,
            f"sklearn MLP, logistic, Adam batch {m.batch_size_sklearn}, {m.epochs_sklearn} epochs",
            m.train_seconds_sklearn,
            f"acc {m.test_accuracy:.2%}",
            f"acc {m.test_accuracy_sklearn:.2%}",
            verdict(m.test_accuracy >= 0.85, "acc>=85%", quick),
        )
    ]
    h = m.history
    notes = [
        f"MLP: trained on {m.n_fit:,} images, validated on {m.n_val:,}; per-epoch training "
        f"time {duration(m.mean_epoch_seconds)}; final train loss {h['train_loss'][-1]:.4f}; "
        f"validation accuracy {h['val_accuracy'][-1]:.2%}."
    ]
    return rows, notes


BENCHES = {
    "knn": bench_knn,
    "pca": bench_pca,
    "softmax": bench_softmax,
    "conv2d": bench_conv2d,
    "mlp": bench_mlp,
}


def machine() -> list[str]:
    import threadpoolctl

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    blas = [
        f"{p['internal_api']} {p.get('version') or ''} ({p['num_threads']} threads)"
        for p in threadpoolctl.threadpool_info()
        if p["user_api"] == "blas"
    ]
    lines = [
        f"machine: {cores} usable cores (os.cpu_count {os.cpu_count()}), "
        f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        f"numpy {np.__version__}, BLAS: {'; '.join(blas) or 'unknown'}",
    ]
    return lines


def print_table(rows: list[tuple]) -> None:
    head = ("algorithm", "funml s", "reference", "ref s", "ratio", "funml", "reference", "target")
    widths = [max(len(str(c[i])) for c in [head, *rows]) for i in range(len(head))]
    numeric = {1, 3, 4}
    fmt = lambda c: "  ".join(  # noqa: E731
        str(v).rjust(w) if i in numeric else str(v).ljust(w)
        for i, (v, w) in enumerate(zip(c, widths, strict=True))
    )
    print(fmt(head))
    print("  ".join("-" * w for w in widths))
    for c in rows:
        print(fmt(c))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small subsets, a smoke run")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument(
        "--dataset",
        choices=("fashion-mnist", "mnist"),
        default="fashion-mnist",
        help="fashion-mnist (default; MNIST's test set in halves when it is absent) or the full "
        "official MNIST",
    )
    args = parser.parse_args()

    ds = load_data(args.quick, args.dataset)
    for line in machine():
        print(line)
    print(
        f"data: {ds.name}{' (quick subset)' if args.quick else ''}, "
        f"{len(ds.train):,} train / {len(ds.test):,} test"
    )
    if args.quick:
        print("quick run: subsets and few epochs, so the targets do not apply")
    rows, notes = [], []
    for part in args.only:
        part_rows, part_notes = BENCHES[part](ds, args.quick)
        rows += part_rows
        notes += part_notes
        print(f"... {part} done", flush=True)
    print()
    print_table(rows)
    print()
    for note in notes:
        print(note)
    if RATIOS:
        print(
            "ratios, best of N alternated (compare the load averages before and after): "
            + "; ".join(f"{name} {ratio:.2f}" for name, ratio in RATIOS.items())
        )
    try:
        import torch

        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    except ImportError:
        pass
    print("after: load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
