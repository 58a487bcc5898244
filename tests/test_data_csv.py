"""Label-first CSV image files (``csv:PATH``) on files the tests write."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from funml.data import load_dataset
from funml.data.csvfile import read_csv_images, stratified_split
from funml.errors import DataError, FunmlError


def _write(path, labels, images, header=False):
    rows = np.column_stack([labels, images.reshape(len(labels), -1)])
    text = "label," + ",".join(f"{i}x{j}" for i in range(1, 29) for j in range(1, 29)) + "\n"
    path.write_text((text if header else "") + "\n".join(",".join(map(str, r)) for r in rows))
    return path


@pytest.fixture
def sample():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(10), 5)  # 50 rows, 5 per class
    images = rng.integers(0, 256, size=(50, 28, 28))
    return labels, images


@pytest.mark.parametrize("header", [False, True])
def test_reads_rows_with_or_without_header(tmp_path, sample, header):
    labels, images = sample
    x, y = read_csv_images(_write(tmp_path / "m.csv", labels, images, header=header))
    assert x.dtype == np.uint8 and x.shape == (50, 28, 28) and y.dtype == np.int64
    assert_array_equal(x, images)
    assert_array_equal(y, labels)


def test_one_file_gets_a_seeded_stratified_holdout(tmp_path, sample):
    labels, images = sample
    path = _write(tmp_path / "mnist_train_small.csv", labels, images)
    ds = load_dataset(f"csv:{path}")
    again = load_dataset(f"csv:{path}")
    assert (len(ds.train), len(ds.test)) == (40, 10)
    assert_array_equal(np.bincount(ds.test.labels), [1] * 10)  # one per class
    assert_array_equal(ds.test.images, again.test.images)  # same seed, same split
    assert ds.classes == tuple(str(d) for d in range(10)) and ds.pixel_max == 255
    assert list(ds.checksums) == ["mnist_train_small.csv"]
    other = load_dataset(f"csv:{path}", random_state=1)
    assert not np.array_equal(other.test.images, ds.test.images)


def test_two_files_are_train_and_test(tmp_path, sample):
    labels, images = sample
    train = _write(tmp_path / "train.csv", labels[:30], images[:30])
    test = _write(tmp_path / "test.csv", labels[30:], images[30:])
    ds = load_dataset(f"csv:{train},{test}")
    assert_array_equal(ds.train.images, images[:30])
    assert_array_equal(ds.test.labels, labels[30:])
    assert sorted(ds.checksums) == ["test.csv", "train.csv"]


def test_stratified_split_keeps_every_row_once():
    labels = np.array([0] * 7 + [1] * 3 + [2])
    train, test = stratified_split(labels, 0.3, random_state=0)
    assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(len(labels)))
    assert_array_equal(np.bincount(labels[test], minlength=3), [2, 1, 0])


def _lines(tmp_path, *rows):
    good = ",".join(["3"] + ["0"] * 784)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([good, good, *rows]) + "\n")
    return path


@pytest.mark.parametrize(
    ("row", "match"),
    [
        (",".join(["1"] + ["0"] * 783), "line 3 has 784 fields, expected 785"),
        (",".join(["1"] + ["0"] * 785), "line 3 has 786 fields"),
        (",".join(["1", "x"] + ["0"] * 783), "line 3, field 2 is 'x', not an integer"),
        (",".join(["1"] + ["0"] * 500 + ["nan"] + ["0"] * 283), "line 3, field 502 is NaN"),
        (",".join(["1", "2.5"] + ["0"] * 783), "line 3, field 2 is '2.5', not an integer"),
        (",".join(["1", "256"] + ["0"] * 783), "line 3 has a pixel outside 0..255"),
        (",".join(["-1"] + ["0"] * 784), "line 3 has a negative label"),
    ],
    ids=["short", "long", "text", "nan", "float", "pixel", "label"],
)
def test_bad_rows_are_reported_with_their_line_number(tmp_path, row, match):
    with pytest.raises(DataError, match=match):
        read_csv_images(_lines(tmp_path, row))


def test_missing_empty_and_folder_paths(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(f"csv:{tmp_path / 'nope.csv'}")
    (tmp_path / "empty.csv").write_text("\n\n")
    with pytest.raises(DataError, match="holds no rows"):
        read_csv_images(tmp_path / "empty.csv")
    with pytest.raises(DataError, match="is a folder"):
        read_csv_images(tmp_path)
    with pytest.raises(FunmlError, match="needs a path after 'csv:'"):
        load_dataset("csv:")
