"""Shared test setup: no display, no network, and paths to the real data when present."""

import json
import os
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("MPLBACKEND", "Agg")
# As the funml command does, before torch loads: sleeping OpenMP waits (funml.runtime).
from funml.runtime import configure_process

configure_process()

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
MNIST_DIR = SHARED / "data" / "mnist"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Point funml's cache at a fresh folder so tests never read or write the user's cache."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("FUNML_DATA", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(cache / "torch"))


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """`funml run all --quick`, once per test session, offline, in a temporary folder.

    Shared by tests/test_experiments_run.py, test_report.py and test_report_browser.py.
    Under pytest-xdist each worker is a session of its own, so the workers share one run:
    the first to take the lock runs it in their common base folder (the parent of each
    worker's own, as pytest-xdist's docs suggest) and the others wait for its result.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return _run_quick(tmp_path_factory.mktemp("quick-run"))
    from filelock import FileLock

    folder = tmp_path_factory.getbasetemp().parent / "quick-run"
    result = folder / "result.json"
    with FileLock(f"{folder}.lock"):
        if not result.is_file():
            folder.mkdir(exist_ok=True)
            run = _run_quick(folder)
            result.write_text(json.dumps({**vars(run), "path": str(run.path)}))
    saved = json.loads(result.read_text())
    return SimpleNamespace(**{**saved, "path": Path(saved["path"])})


def _run_quick(tmp: Path) -> SimpleNamespace:
    import subprocess
    import sys
    import time

    env = {k: v for k, v in os.environ.items() if k != "FUNML_DATA"}
    env.update(XDG_CACHE_HOME=str(tmp / "cache"), TORCH_HOME=str(tmp / "torch"), MPLBACKEND="Agg")
    args = [sys.executable, "-m", "funml", "run", "all", "--quick", "--out", str(tmp / "run")]
    if MNIST_DIR.is_dir():  # the official MNIST test set, when present
        args += ["--data-dir", str(MNIST_DIR)]
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    print(f"\nfunml run all --quick took {seconds:.1f} s\n{proc.stdout}", file=sys.stderr)
    return SimpleNamespace(
        path=tmp / "run",
        seconds=seconds,
        returncode=proc.returncode,
        stdout=proc.stdout,
        stderr=proc.stderr,
    )


def pytest_collection_modifyitems(config, items):
    """Every test that uses `quick_run` is slow (the run takes a while), and they all go to
    one xdist worker under `pytest -n N --dist loadgroup` (the README's test command), so
    the other workers never wait for the run."""
    for item in items:
        if "quick_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.xdist_group("quick_run"))


@pytest.fixture
def digits():
    """Digits as the from-scratch estimators take them: (x_train, y_train, x_test, y_test),
    each image flattened to 64 pixels scaled to [0, 1]."""
    from funml.data import load_dataset

    data = load_dataset("digits")
    flat = lambda split: split.images.reshape(len(split), -1) / data.pixel_max  # noqa: E731
    return flat(data.train), data.train.labels, flat(data.test), data.test.labels
