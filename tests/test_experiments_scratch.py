"""The from-scratch experiments' measure_* functions on Digits, and what present_* makes of them."""

import json
import re
from dataclasses import replace

import numpy as np
import pytest

from funml.files import write_json


@pytest.fixture(scope="module")
def digits_ds():
    from funml.data import load_dataset

    return load_dataset("digits")


def _json_roundtrip(metrics: dict, tmp_path) -> dict:
    """``metrics`` as metrics.json will hold them."""
    return json.loads(write_json(tmp_path / "metrics.json", metrics).read_text())


def _percent_references_are_fractions(result) -> None:
    for ref in result.references:
        if ref.unit == "%":
            for value in (ref.measured, ref.reference):
                assert value is None or isinstance(value, str) or 0 <= value <= 1, ref


def _answers_with(result, *numbers: str) -> None:
    """The answer is 2-6 sentences and quotes each of ``numbers`` as formatted."""
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", result.answer.strip())
    assert 2 <= len(sentences) <= 6, sentences
    for number in numbers:
        assert number in result.answer, (number, result.answer)


def test_knn_differs_from_sklearn_only_at_exact_ties(digits_ds, tmp_path):
    from funml.experiments.knn import KS, measure_knn, present_knn

    m = measure_knn(digits_ds)
    assert list(m.by_k) == list(KS)
    assert (m.n_train, m.n_test, m.dtype) == (500, 1297, "float64")
    for k, row in m.by_k.items():
        assert row.disagreements == row.disagreements_at_exact_ties, k
        assert row.agreement == pytest.approx(1 - row.disagreements / m.n_test)
        assert 0.9 < row.accuracy <= 1, k
    assert m.by_k[1].agreement == 1.0  # one neighbour: no vote to break a tie in
    result = present_knn(m)
    _percent_references_are_fractions(result)
    saved = _json_roundtrip(result.metrics, tmp_path)
    assert saved["best_k"] == m.best_k
    assert saved["by_k"]["3"]["accuracy"] == m.by_k[3].accuracy
    _answers_with(result, *(f"k={k}: {r.accuracy:.2%}" for k, r in m.by_k.items()))


def test_knn_in_float32_measures_the_given_ks(digits_ds):
    from funml.experiments.knn import measure_knn

    m = measure_knn(digits_ds, ks=(3,), dtype=np.float32)
    assert list(m.by_k) == [3] and m.dtype == "float32"


def test_pca_matches_sklearn(digits_ds, tmp_path):
    from funml.experiments.pca import measure_pca, present_pca

    m = measure_pca(digits_ds, repeats=2)
    assert m.components_needed == m.components_needed_sklearn
    assert m.max_relative_variance_difference < 1e-6
    assert m.matches_sklearn
    assert m.max_reconstruction_difference < 1e-10
    assert m.components_reconstructed in m.pictures.reconstructions
    assert m.pictures.test_2d.shape == (len(digits_ds.test), 2)
    result = present_pca(m)
    saved = _json_roundtrip(result.metrics, tmp_path)
    assert "pictures" not in saved and "explained_variance" not in saved
    np.testing.assert_allclose(
        saved["explained_variance_ratio_first_10"], m.explained_variance_ratio[:10]
    )
    assert len(result.figures) == 3
    k95 = m.components_needed["95%"]
    _answers_with(
        result,
        *(f"{k} keep {name}" for name, k in m.components_needed.items() if name != "90%"),
        f"{m.by_k[2].variance_kept:.1%}",
        f"{m.by_k[2].test_rmse:.3f}",
        f"{m.by_k[k95].test_rmse:.3f} with {k95} components",
    )
    assert saved["by_k"]["2"]["test_error_share"] == m.by_k[2].test_error_share


def test_pca_reconstruction_errors_fall_with_k(digits_ds):
    from funml.experiments.pca import measure_pca

    m = measure_pca(digits_ds)
    ks = sorted(m.by_k)
    assert set(m.components_needed.values()) <= set(ks)
    assert m.by_k[2].variance_kept == pytest.approx(m.explained_variance_ratio[:2].sum())
    for k in m.components_needed.values():  # the thresholds, on the training variance
        assert m.by_k[k].variance_kept >= 0.9
    errors = [m.by_k[k].test_error_share for k in ks]
    assert errors == sorted(errors, reverse=True) and 0 < errors[-1] < errors[0] < 1


def test_conv2d_equals_torch_and_keeps_its_shapes(digits_ds, tmp_path):
    from funml.experiments.conv2d import CASES, KERNELS, measure_conv2d, present_conv2d

    image = digits_ds.test.images[0] / digits_ds.pixel_max
    m = measure_conv2d(image, batch=2, seed=0, repeats=1)
    assert m.max_abs_difference_float64 < 1e-10
    assert m.demo_max_abs_difference < 1e-12
    assert m.speed_input == (2, 32, 12, 12)
    assert [(c.input, c.weights, c.stride, c.padding) for c in m.cases] == list(CASES)
    assert all(c.output == c.output_torch for c in m.cases)
    assert m.demo_filtered.shape == (len(KERNELS), *image.shape)
    result = present_conv2d(m)
    saved = _json_roundtrip(result.metrics, tmp_path)
    assert saved["forward_ratio"] == m.forward_seconds / m.forward_seconds_torch
    assert "demo_image" not in saved
    assert "issue" not in " ".join(r.source for r in result.references)
    _answers_with(
        result, f"{m.max_abs_difference_float64:.0e}", f"{m.forward_ratio:.2g}x", "800 products"
    )


def test_softmax_gradients_pass_the_check_and_repeat_with_the_seed(digits_ds, tmp_path):
    from funml.experiments.softmax import measure_softmax, present_softmax

    first, again = (measure_softmax(digits_ds, epochs=2, seed=3) for _ in range(2))
    assert first.gradient_check.relative_error < 1e-6
    assert first.gradient_check.entries_checked == 30 + digits_ds.n_classes
    assert len(first.loss_history) == 2
    # Timings differ, and the overflow demo's nan equals nothing: compare the rest.
    ignored = {"train_seconds": 0.0, "train_seconds_sklearn": 0.0, "overflow": None}
    assert replace(first, **ignored) == replace(again, **ignored)
    result = present_softmax(first)
    _percent_references_are_fractions(result)
    saved = _json_roundtrip(result.metrics, tmp_path)
    assert saved["gradient_check"]["relative_error"] == first.gradient_check.relative_error
    assert saved["overflow"]["naive"] == ["nan", "nan", "nan"]  # JSON has no NaN
    _answers_with(
        result,
        f"{first.test_accuracy:.2%}",
        f"relative error of {first.gradient_check.relative_error:.1e}",
        "returns (nan, nan, nan)",
    )


def test_naive_softmax_overflows_on_logits_of_1000_and_funmls_does_not():
    from funml.experiments.softmax import overflow_demo

    demo = overflow_demo((1000.0, 999.0, 998.0))
    assert not demo.naive_finite and np.isnan(demo.naive).all()
    assert demo.stable_finite and sum(demo.stable) == pytest.approx(1.0)
    assert demo.stable[0] == pytest.approx(1 / (1 + np.exp(-1) + np.exp(-2)))
    assert demo.exp_overflows_above == pytest.approx(709.78, abs=0.01)
    small = overflow_demo((3.0, 2.0, 1.0))  # below the overflow both agree
    assert small.naive_finite and np.allclose(small.naive, small.stable)


def test_mlp_scratch_holds_out_a_sixth_for_validation(digits_ds, tmp_path):
    from funml.experiments.mlp_scratch import measure_mlp_scratch, present_mlp_scratch

    m = measure_mlp_scratch(digits_ds, epochs=2, seed=0)
    assert (m.n_fit, m.n_val, m.n_test) == (417, 83, len(digits_ds.test))
    assert m.lr == 1.0 and m.batch_size_sklearn == 8
    assert all(len(values) == 2 for values in m.history.values())
    assert 0 <= m.test_accuracy <= 1 and 0 <= m.test_accuracy_sklearn <= 1
    result = present_mlp_scratch(m)
    _percent_references_are_fractions(result)
    saved = _json_roundtrip(result.metrics, tmp_path)
    assert saved["history"]["val_accuracy"] == list(m.history["val_accuracy"])
    d = m.init_demo
    _answers_with(
        result,
        f"{m.test_accuracy:.2%}",
        f"weights is {d.zeros.hidden_unit_spread:g} and the test accuracy "
        f"{d.zeros.test_accuracy:.2%}",
        f"{d.uniform.test_accuracy:.2%}",
        f"{m.output_gradient_error:.1e}",
    )


def test_mlp_hidden_units_started_at_zero_stay_identical(digits_ds):
    from funml.experiments._common import features
    from funml.experiments.mlp_scratch import DEMO_EPOCHS, measure_init

    x = features(digits_ds.train, digits_ds.pixel_max, np.float64)
    x_test = features(digits_ds.test, digits_ds.pixel_max, np.float64)
    d = measure_init(x, digits_ds.train.labels, x_test, digits_ds.test.labels, 1.0, seed=0)
    assert (d.epochs, d.n_fit) == (DEMO_EPOCHS, len(x))
    assert d.zeros.hidden_unit_spread == 0.0  # exactly: every unit gets the same update
    assert d.uniform.hidden_unit_spread > 1.0
    assert 0 <= d.zeros.test_accuracy <= 1 and 0 <= d.uniform.test_accuracy <= 1


def test_mlp_output_gradient_is_p_minus_y(digits_ds):
    from funml.experiments._common import features
    from funml.experiments.mlp_scratch import output_gradient_check
    from funml.scratch.mlp import MLPClassifier

    x = features(digits_ds.train, digits_ds.pixel_max, np.float64)[:200]
    model = MLPClassifier(hidden_layer_sizes=(16,), epochs=1, random_state=0)
    model.fit(x, digits_ds.train.labels[:200])
    assert output_gradient_check(model, x, digits_ds.train.labels[:200]) < 1e-6
