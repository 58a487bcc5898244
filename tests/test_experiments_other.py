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


@pytest.fixture(scope="module")
def packaged():
    """The packaged photos through every available model, measured once for this module."""
    return pretrained.measure_pretrained(pretrained.gather_photos(), top_k=5)


def test_tensors_demonstrate_shapes_the_norm_gradient_and_the_mean():
    m = autodiff.measure_tensors(seed=0)
    assert m.shapes.flat_shape == (2,) and m.shapes.column_shape == (2, 2)
    assert_allclose(m.shapes.flat_value, np.multiply(m.basics.v1, m.basics.v2))
    assert_allclose(m.shapes.column_value, np.outer(m.basics.v1, m.basics.v2))
    assert m.norm_grad_error < 1e-12
    d = m.mean_demo
    assert_allclose(d.mean, np.mean(d.samples))
    assert abs(d.grid_argmin - d.mean) <= d.step / 2 + 1e-12
    assert min(d.mse) == pytest.approx(np.var(d.samples), rel=1e-3)
    answer = autodiff.present_tensors(m).answer
    assert "(2, 2)" in answer and f"{d.grid_argmin:.2f}" in answer and f"{d.mean:.4f}" in answer


def test_graphs_answer_quotes_the_measured_gradients_and_corrects_the_course():
    m = autodiff.measure_graphs()
    answer = autodiff.present_graphs(m).answer
    g = m.exp.summary["grads"]
    assert (f"{g['w1']:.4f}", f"{g['w2']:.4f}") == ("-0.3154", "-0.4205")
    assert "-0.3154" in answer and "-0.4205" in answer and "-0.3 and -0.4" in answer
    assert "f = 1.051" in answer


def test_l1_restarts_reach_the_lp_optimum_and_xtx_is_invertible():
    m = linear.measure_linear(seed=0)
    lp, rs = m.l1_linprog.l1_objective, m.restarts
    assert rs.start_objectives.min() > 1.5 * lp  # every start is far from the optimum
    assert np.all(rs.objectives >= lp - 1e-9)
    assert_allclose(rs.objectives, lp, rtol=1e-3)
    assert 1 < m.xtx_condition < 1e6
    assert m.zero_residuals >= 2  # an L1 optimum lies on as many points as parameters
    result = linear.present_linear(m)
    assert result.metrics["xtx_condition_number"] == m.xtx_condition
    assert f"{lp:.4f}" in result.answer and "NOT because XᵀX is singular" in result.answer


def test_harris_answer_quotes_the_corner_edge_and_flat_windows():
    result = harris.present_harris(harris.measure_harris(seed=0))
    points = result.metrics["window_points"]
    corner, edge = points["corner"], points["edge"]
    assert min(corner["eigenvalues"]) > 0 and corner["response"] > 0
    assert edge["eigenvalues"][1] == pytest.approx(0, abs=1e-9) and edge["response"] < 0
    assert points["flat"]["response"] == 0 and corner["n_points"] == 9
    assert f"{corner['response']:g}" in result.answer and "not every pixel" in result.answer


def test_pretrained_reads_alexnet_without_weights_and_grades_the_top5(packaged):
    m = packaged
    assert m.alexnet.conv_channels == (64, 192, 384, 256, 256)
    assert m.alexnet.conv_channels != pretrained.PAPER_ALEXNET_CHANNELS
    assert m.alexnet.n_params == 61_100_840 and m.alexnet.lrn_layers == 0
    for key, verdicts in m.verdicts.items():
        assert set(verdicts) <= {"right", "near", "miss"}
        assert m.expected_in_top[key] == (set(verdicts) != {"miss"})
    answer = pretrained.present_pretrained(m).answer
    assert "64-192-384-256-256" in answer and "96-256-384-384-256" in answer
    p = m.predictions[0]
    assert f"{p.top[0].name} ({p.top[0].prob:.0%}, {m.verdicts[p.image, p.model][0]})" in answer


def test_verdict_reads_the_documented_truth_table():
    truth = pretrained.EXPECTED["packaged/flower.jpg"]
    assert pretrained.verdict("daisy", truth) == "right"
    assert pretrained.verdict("rapeseed", truth) == "near"
    assert pretrained.verdict("bee", truth) == "miss"


# A number from each experiment's metrics that its answer must quote.
QUOTED = {
    "gallery": lambda m: f"{max(m['dataset']['train']['label_counts'].values()):,}",
    "harris": lambda m: f"{m['window_points']['corner']['response']:g}",
    "tensors": lambda m: f"{m['mse_grid']['grid_argmin']:.2f}",
    "graphs": lambda m: f"{m['de_dw1']:.4f}",
    "linear": lambda m: f"{m['l1_linprog']['objective']:.4f}",
    "pretrained": lambda m: "-".join(str(c) for c in m["alexnet"]["conv_channels"]),
}


@pytest.mark.parametrize("name", list(QUOTED))
def test_every_answer_is_sentences_quoting_its_metrics(name, packaged):
    from funml.data import load_dataset

    if name == "gallery":
        ds = load_dataset("digits")
        result = gallery.present_gallery(gallery.measure_gallery(ds), ds)
    elif name == "pretrained":
        result = pretrained.present_pretrained(packaged)
    else:
        module = _module(name)
        measure = getattr(module, f"measure_{name}")
        present = getattr(module, f"present_{name}")
        result = present(measure(seed=0) if name != "graphs" else measure())
    assert result.answer.count(". ") >= 1 and result.answer.endswith(".")
    assert QUOTED[name](result.metrics) in result.answer
