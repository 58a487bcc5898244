"""The benchmark scripts still run: each one's smallest setting, as a subprocess, printing
its measured rows. The numbers themselves are the benchmarks' business, not the tests'
(they depend on the machine); what is checked is that every part runs to its report and
that the from-scratch pieces still agree with their library twins."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from funml.data import load_dataset

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _fashion_mnist_present() -> bool:
    try:
        load_dataset("fashion-mnist", download=False)
    except Exception:
        return False
    return True


needs_fashion = pytest.mark.skipif(
    not _fashion_mnist_present(),
    reason="needs Fashion-MNIST (apt-get install dataset-fashion-mnist)",
)


def _run(script: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    return proc.stdout


@pytest.mark.slow
@needs_fashion
def test_scratch_benchmark_reports_every_piece_next_to_its_twin():
    out = _run("scratch.py", "--quick")
    for row in ("KNN k=3 brute, float64", "PCA fit", "softmax, 2 epochs", "conv2d fwd", "MLP 784"):
        assert row in out, out
    assert "KNN float64: 0 of 1,000 predictions differ from scikit-learn's" in out
    ratios = re.search(r"KNN k=3 float64 / sklearn brute ([\d.]+); PCA fit / .* ([\d.]+)", out)
    assert ratios and all(float(r) > 0 for r in ratios.groups()), out


@pytest.mark.slow
@needs_fashion
def test_train_benchmark_parts_print_their_results():
    out = _run("train.py", "--quick", "--only", "levers", "time-to-accuracy", "accuracy")
    results = [line for line in out.splitlines() if line.startswith("RESULT ")]
    for needle in ("cnn img/s", "cnn torch.compile", "mlp torch.compile", "cnn course loop"):
        assert any(needle in line for line in results), out
    for name in ("cnn", "mlp", "logreg", "digits-cnn"):
        assert any(line.startswith(f"RESULT {name} (tuned recipe)") for line in results), out


@pytest.mark.slow
def test_check_benchmark_scores_the_right_above_the_buggy():
    out = _run("check.py", "--repeat", "1")
    rows = re.findall(r"^(\w+)\s+(right|buggy)\s+[\d.]+\s+[\d.]+\s+(\d+)$", out, re.M)
    scores = {(topic, kind): int(score) for topic, kind, score in rows}
    topics = {topic for topic, _ in scores}
    assert topics == {"knn", "softmax", "mlp", "conv2d", "loops", "graph", "pca"}, out
    assert all(scores[(t, "right")] > scores[(t, "buggy")] for t in topics), scores


@pytest.mark.slow
@needs_fashion
def test_data_load_benchmark_prints_its_ratio():
    assert re.search(r"ratio funml / reference: [\d.]+", _run("data_load.py", "--repeat", "1"))
