"""MNIST-style IDX data sets on a tiny data set the tests make: search, verify, download."""

import gzip
import hashlib
import http.server
import socket
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from funml.data import paths
from funml.data.idx import write_idx
from funml.data.mnist import IdxDataset, IdxFile, fetch, load_idx_dataset, load_split
from funml.errors import DataError
from helpers import loopback_server

NAMES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@pytest.fixture
def upstream(tmp_path):
    """A tiny 'upstream' release: 12 train and 6 test 4x4 images of 3 classes, gzipped."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "upstream"
    arrays = {}
    for split, n in (("train", 12), ("test", 6)):
        images = rng.integers(0, 256, size=(n, 4, 4), dtype=np.uint8)
        labels = (np.arange(n) % 3).astype(np.uint8)
        arrays[split] = (images, labels)
        for name, array in zip(NAMES[split], (images, labels), strict=True):
            write_idx(folder / name, array)
    return folder, arrays


def _spec(folder: Path, mirrors=("http://127.0.0.1:9/",)) -> IdxDataset:
    def idx_file(name):
        gz = (folder / name).read_bytes()
        return IdxFile(
            name,
            md5=hashlib.md5(gz).hexdigest(),
            sha256=hashlib.sha256(gz).hexdigest(),
            content_sha256=hashlib.sha256(gzip.decompress(gz)).hexdigest(),
        )

    return IdxDataset(
        name="tiny",
        classes=("a", "b", "c"),
        mirrors=mirrors,
        files={s: tuple(idx_file(n) for n in NAMES[s]) for s in NAMES},
        folders=("tiny",),
    )


def _copy(src: Path, dst: Path, names=None) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for name in names or [n for pair in NAMES.values() for n in pair]:
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


@pytest.fixture
def file_server(upstream):
    handler = http.server.SimpleHTTPRequestHandler
    with loopback_server(handler, directory=str(upstream[0])) as httpd:
        yield f"{httpd.url}/"


def test_loads_from_data_dir_subfolder_and_checks_everything(upstream, tmp_path):
    folder, arrays = upstream
    spec = _spec(folder)
    _copy(folder, tmp_path / "data" / "tiny")
    ds = load_idx_dataset(spec, data_dir=tmp_path / "data", download=False)
    assert (ds.name, ds.classes, ds.pixel_max) == ("tiny", ("a", "b", "c"), 255)
    assert_array_equal(ds.train.images, arrays["train"][0])
    assert_array_equal(ds.test.labels, arrays["test"][1])
    assert ds.train.labels.dtype == np.int64 and ds.image_shape == (4, 4)
    assert ds.source == str(tmp_path / "data" / "tiny")
    assert ds.checksums == {f.name: f.sha256 for f in spec.all_files()}


def test_files_directly_in_dir_and_search_order(upstream, tmp_path, monkeypatch):
    folder, _ = upstream
    spec = _spec(folder)
    env_dir = _copy(folder, tmp_path / "env")  # files directly in $FUNML_DATA
    cache = _copy(folder, paths.cache_dir() / "tiny")
    monkeypatch.setenv("FUNML_DATA", str(env_dir))
    assert load_idx_dataset(spec, download=False).source == str(env_dir)
    monkeypatch.delenv("FUNML_DATA")
    assert load_idx_dataset(spec, download=False).source == str(cache)
    explicit = _copy(folder, tmp_path / "explicit")
    monkeypatch.setenv("FUNML_DATA", str(env_dir))
    assert load_idx_dataset(spec, data_dir=explicit, download=False).source == str(explicit)


def test_cache_dir_honours_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert paths.cache_dir() == tmp_path / "funml"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # invalid per the XDG spec
    assert paths.cache_dir() == Path.home() / ".cache" / "funml"
    dirs = paths.search_dirs("/explicit")
    assert dirs[0] == Path("/explicit") and Path("/usr/share/datasets") in dirs


def test_recompressed_and_plain_copies_are_accepted(upstream, tmp_path):
    folder, arrays = upstream
    spec = _spec(folder)
    data = tmp_path / "data"
    data.mkdir()
    for name in NAMES["train"]:  # recompressed, as Debian does: other bytes, same content
        content = gzip.decompress((folder / name).read_bytes())
        (data / name).write_bytes(gzip.compress(content, compresslevel=1, mtime=1))
    for name in NAMES["test"]:  # decompressed, under the name without .gz
        (data / name.removesuffix(".gz")).write_bytes(gzip.decompress((folder / name).read_bytes()))
    ds = load_idx_dataset(spec, data_dir=data, download=False)
    assert_array_equal(ds.train.images, arrays["train"][0])
    assert_array_equal(ds.test.images, arrays["test"][0])
    assert ds.checksums["train-images-idx3-ubyte.gz"] != spec.files["train"][0].sha256
    assert "t10k-images-idx3-ubyte" in ds.checksums


def test_a_file_that_matches_nothing_is_refused(upstream, tmp_path):
    folder, _ = upstream
    spec = _spec(folder)
    data = _copy(folder, tmp_path / "data")
    write_idx(data / "train-labels-idx1-ubyte.gz", np.zeros(12, np.uint8), overwrite=True)
    expected = spec.files["train"][1].sha256
    with pytest.raises(DataError, match=f"is not the tiny file train-labels.*{expected}"):
        load_idx_dataset(spec, data_dir=data, download=False)


def test_image_and_label_counts_must_agree(upstream, tmp_path):
    folder, _ = upstream
    write_idx(folder / NAMES["test"][1], np.zeros(5, np.uint8), overwrite=True)
    spec = _spec(folder)  # hashes of the (inconsistent) release
    with pytest.raises(DataError, match=r"test split has 6 images in .* but 5 labels"):
        load_idx_dataset(spec, data_dir=folder, download=False)


def test_labels_beyond_the_classes_are_refused(upstream, tmp_path):
    folder, _ = upstream
    write_idx(folder / NAMES["test"][1], np.full(6, 7, np.uint8), overwrite=True)
    with pytest.raises(DataError, match="holds label 7, but tiny has only 3 classes"):
        load_split(_spec(folder), "test", data_dir=folder, download=False)


def test_missing_files_are_named_with_where_to_put_them(upstream, tmp_path):
    folder, _ = upstream
    spec = _spec(folder)
    data = _copy(folder, tmp_path / "data", names=NAMES["test"])
    split = load_split(spec, "test", data_dir=data, download=False)  # the test split suffices
    assert len(split) == 6
    with pytest.raises(DataError) as info:
        load_idx_dataset(spec, data_dir=data, download=False)
    message = str(info.value)
    assert "missing train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz" in message
    assert f"place the files in '{data}'" in message and "funml data fetch tiny" in message


def test_downloads_missing_files_then_uses_them_offline(upstream, tmp_path, file_server):
    folder, arrays = upstream
    spec = _spec(folder, mirrors=(file_server + "nothing/", file_server))
    ds = load_idx_dataset(spec, progress=False)  # the first mirror answers 404s
    cached = paths.cache_dir() / "tiny"
    assert ds.source == str(cached)
    assert sorted(p.name for p in cached.iterdir()) == sorted(ds.checksums)
    assert_array_equal(ds.train.images, arrays["train"][0])
    offline = _spec(folder)  # the cache is found first; no network needed
    assert load_idx_dataset(offline, download=False).source == str(cached)


def test_fetch_into_data_dir(upstream, tmp_path, file_server):
    folder, _ = upstream
    spec = _spec(folder, mirrors=(file_server,))
    found = fetch(spec, data_dir=tmp_path / "mine", progress=False)
    assert {hit.path.parent for hit in found.values()} == {tmp_path / "mine" / "tiny"}


def test_offline_download_names_missing_files_and_folder(upstream, tmp_path):
    folder, _ = upstream
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    s.close()
    spec = _spec(folder, mirrors=(dead,))
    with pytest.raises(DataError) as info:
        load_idx_dataset(spec, data_dir=tmp_path / "d", progress=False)
    message = str(info.value)
    assert "is missing train-images-idx3-ubyte.gz" in message
    assert (
        "downloading train-images-idx3-ubyte.gz failed" in message
        and f"'{tmp_path / 'd' / 'tiny'}'" in message
    )
    assert not any(p.is_file() for p in (tmp_path / "d").rglob("*"))
