"""The measurement functions of `gallery`, `harris`, `tensors`, `graphs`, `linear` and
`pretrained`, and how their records become a Result (accuracies stay fractions)."""

import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose
from PIL import Image

from funml.experiments.registry import experiments


def _module(name: str):
    # Through the registry, which imports every experiment module in report order: importing
    # one module directly first would register (and list) its experiments before gallery.
    return sys.modules[experiments()[name].func.__module__]


autodiff, gallery, harris = _module("graphs"), _module("gallery"), _module("harris")
linear, pretrained = _module("linear"), _module("pretrained")


def test_linear_l1_resists_the_outliers_and_matches_the_references():
    m = linear.measure_linear(seed=0)
    assert m.l1_linprog.l1_objective <= m.l1_subgradient.l1_objective + 1e-9
    assert m.l1_linprog.l1_objective < m.least_squares.l1_objective
    assert abs(m.l1_linprog.slope - 2) < abs(m.least_squares.slope - 2)
    assert_allclose(m.least_squares.slope, m.sklearn_slope, rtol=1e-10)
    assert m.least_squares_vs_lstsq < 1e-10
    assert len(m.subgradient_history) == m.subgradient_steps


def test_perceptron_accuracies_are_fractions_in_the_record_metrics_and_references():
    net = linear.check_perceptrons(seed=0)
    assert (net.random_accuracy, net.decreasing_accuracy, net.permutations_accuracy) == (1, 1, 1)
    result = linear.present_linear(linear.measure_linear(seed=0))
    assert result.metrics["perceptron"]["random_accuracy"] == 1.0
    percent = [r for r in result.references if r.unit == "%"]
    assert len(percent) == 3 and all(r.measured == r.reference == 1.0 for r in percent)
    assert "100.00% of random inputs" in result.verdict


def test_harris_finds_every_grid_corner_and_builds_the_same_tensor_two_ways():
    m = harris.measure_harris(seed=0)
    assert m.corners_found == m.corners_expected == 25
    assert m.tensor_difference < 1e-12
    assert_allclose(sum(m.label_shares.values()), 1.0)
    if m.skimage_difference is not None:
        assert m.skimage_difference < 1e-12


def test_tensors_match_the_values_worked_by_hand():
    m = autodiff.measure_tensors()
    assert m.matches_known and m.basics.norm_sq == 18.0


def test_graphs_match_torch_and_correct_the_course_answer():
    m = autodiff.measure_graphs()
    assert m.max_abs_grad_difference_vs_torch < 1e-12
    assert round(m.exp.summary["grads"]["w1"], 4) == -0.3154
    assert_allclose(m.exp.torch_value, m.exp.summary["error"], rtol=1e-12)
    metrics = autodiff.present_graphs(m).metrics
    assert metrics["de_dw1"] == m.exp.summary["grads"]["w1"]


def test_gallery_counts_every_image_and_keeps_the_ratio_unrounded():
    from funml.data import load_dataset

    ds = load_dataset("digits")
    m = gallery.measure_gallery(ds)
    assert sum(m.train_counts.values()) == len(ds.train)
    assert sum(m.test_counts.values()) == len(ds.test)
    counts = np.bincount(ds.train.labels)
    assert m.min_to_max_class_ratio == counts.min() / counts.max()
    result = gallery.present_gallery(m, ds)
    assert result.metrics["train_min_to_max_class_ratio"] == m.min_to_max_class_ratio
    assert [r.measured for r in result.references] == [len(ds.train), len(ds.test)]


@pytest.fixture
def folder(tmp_path):
    Image.new("RGB", (40, 30), (200, 40, 40)).save(tmp_path / "red.png")
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def test_your_photos_follow_the_packaged_ones_and_unreadable_files_are_listed(folder):
    photos = pretrained.gather_photos(folder)
    assert photos.names == ("packaged/china.jpg", "packaged/flower.jpg", "red.png")
    assert photos.n_yours == 1 and len(photos.images) == 3
    assert [f for f, _ in photos.skipped_files] == [str(folder / "notes.txt")]


def test_pretrained_checks_the_packaged_photos_with_every_available_model(folder):
    m = pretrained.measure_pretrained(pretrained.gather_photos(folder), top_k=5)
    assert m.models == ("efficientnet_lite0",)
    assert set(m.skipped_models) == {"alexnet", "vgg16", "resnet18"}
    assert set(m.expected_in_top) == {(name, "efficientnet_lite0") for name in pretrained.EXPECTED}
    assert len(m.predictions) == 3 and all(len(p.top) == 5 for p in m.predictions)
    result = pretrained.present_pretrained(m)
    hits = sum(m.expected_in_top.values())
    assert result.metrics["expected_class_in_top5"] == f"{hits}/2"
    assert result.metrics["n_images"] == 3
    assert any("Your photos: 1 from" in note for note in result.notes)
