"""The real MNIST test set and the full Fashion-MNIST, when the machine has them."""

import hashlib

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from conftest import FASHION_DIR, MNIST_DIR
from funml.data import load_dataset
from funml.data.mnist import FASHION_MNIST, MNIST, load_split
from funml.errors import DataError

needs_mnist = pytest.mark.skipif(
    not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"the official MNIST test set is not in {MNIST_DIR}",
)
needs_fashion = pytest.mark.skipif(
    not (FASHION_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason=f"Fashion-MNIST is not installed in {FASHION_DIR} (apt install dataset-fashion-mnist)",
)

# Per-class counts of the official MNIST test set (LeCun's page lists 10,000 images).
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@needs_mnist
def test_mnist_test_set_shape_and_class_counts():
    split = load_split("mnist", "test", data_dir=MNIST_DIR, download=False)
    assert split.images.shape == (10_000, 28, 28) and split.images.dtype == np.uint8
    assert split.labels.dtype == np.int64
    assert_array_equal(np.bincount(split.labels), MNIST_TEST_COUNTS)
    assert split.images.max() == 255 and split.images.min() == 0


@needs_mnist
def test_mnist_local_files_match_the_upstream_hashes():
    for file in (*MNIST.files["test"], MNIST.files["train"][1]):
        raw = (MNIST_DIR / file.name).read_bytes()
        assert hashlib.md5(raw).hexdigest() == file.md5
        assert hashlib.sha256(raw).hexdigest() == file.sha256


needs_full_mnist = pytest.mark.skipif(
    not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason=f"the full MNIST (60,000 training images) is not in {MNIST_DIR}",
)
# Per-class counts of the official MNIST training set.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@needs_full_mnist
def test_full_mnist_loads_and_is_accepted_by_its_content_digest():
    # The shared train-images file was recompressed: its .gz bytes differ from upstream's,
    # so it is accepted by the SHA-256 of its decompressed content.
    ds = load_dataset("mnist", data_dir=MNIST_DIR, download=False)
    assert ds.train.images.shape == (60_000, 28, 28) and ds.test.images.shape == (10_000, 28, 28)
    assert_array_equal(np.bincount(ds.train.labels), MNIST_TRAIN_COUNTS)
    assert_array_equal(np.bincount(ds.test.labels), MNIST_TEST_COUNTS)
    name = "train-images-idx3-ubyte.gz"
    assert ds.checksums[name] == hashlib.sha256((MNIST_DIR / name).read_bytes()).hexdigest()


@needs_mnist
def test_mnist_without_train_images_says_what_is_missing(tmp_path):
    for file in MNIST.files["test"]:
        (tmp_path / file.name).write_bytes((MNIST_DIR / file.name).read_bytes())
    with pytest.raises(DataError, match=f"missing train-images-idx3-ubyte.gz.*'{tmp_path}'"):
        load_dataset("mnist", data_dir=tmp_path, download=False)


@needs_fashion
def test_full_fashion_mnist_loads_from_the_system_folder():
    # How fast it loads is measured by benchmarks/data_load.py, not asserted here.
    ds = load_dataset("fashion-mnist", download=False)  # found in /usr/share/datasets
    assert ds.train.images.shape == (60_000, 28, 28) and ds.test.images.shape == (10_000, 28, 28)
    assert_array_equal(np.bincount(ds.train.labels), [6_000] * 10)
    assert_array_equal(np.bincount(ds.test.labels), [1_000] * 10)
    assert ds.classes == FASHION_MNIST.classes and ds.classes[9] == "Ankle boot"
    assert ds.source == str(FASHION_DIR)
    # Debian's recompressed files are accepted by their content digest; the report header
    # gets the digests of the files actually read.
    name = "train-images-idx3-ubyte.gz"
    assert ds.checksums[name] == hashlib.sha256((FASHION_DIR / name).read_bytes()).hexdigest()


@needs_fashion
@needs_mnist
def test_another_data_sets_file_is_passed_over(tmp_path):
    # MNIST's file under Fashion-MNIST's name, directly in the first folder searched: it is
    # recognised as MNIST's, skipped, and the real Fashion-MNIST file is found later.
    name = "t10k-labels-idx1-ubyte.gz"
    (tmp_path / name).write_bytes((MNIST_DIR / name).read_bytes())
    split = load_split("fashion-mnist", "test", data_dir=tmp_path, download=False)
    assert_array_equal(np.bincount(split.labels), [1_000] * 10)
