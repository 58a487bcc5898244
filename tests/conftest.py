"""Shared test setup: no display, no network, and paths to the real data when present."""

import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

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
