"""The model sections (funml.experiments.models) on tiny data: each answer quotes the
numbers of its own measurement, and digits-cnn records the digits it confuses."""

import json
import re

import numpy as np
import pytest

from funml.files import write_json


@pytest.fixture(scope="module")
def tiny():
    """200 training and 100 test images of Digits scaled to 28x28 (as the lab's Digits run)."""
    from funml.data import load_dataset
    from funml.experiments.context import subset
    from funml.experiments.data28 import digits_as_28x28

    return subset(digits_as_28x28(load_dataset("digits")), 200, 100)


@pytest.fixture(scope="module")
def digits():
    from funml.data import load_dataset

    return load_dataset("digits")


def _answers_with(result, *numbers: str) -> None:
    """The answer is 2-6 sentences and quotes each of ``numbers`` as formatted."""
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", result.answer.strip())
    assert 2 <= len(sentences) <= 6, sentences
    for number in numbers:
        assert number in result.answer, (number, result.answer)


def _saved(result, tmp_path) -> dict:
    return json.loads(write_json(tmp_path / "metrics.json", result.metrics).read_text())


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_mlp_and_cnn_answer_with_their_parameters_and_accuracy(name, tiny):
    from funml.experiments.models import HAND_PARAMS, measure_model, present_model

    m = measure_model(name, tiny, 1)
    kinds = ("examples", "predictions", "misclassified")
    result = present_model(m, tiny, "tiny data", kinds)
    _answers_with(result, f"{m.parameters:,}", f"{m.test_accuracy:.2%}")
    assert f"{HAND_PARAMS['mlp']:,}" in result.answer  # the cnn compares with the mlp
    if name == "mlp":  # the course's Part 4: loss against examples seen, the errors
        assert f"{m.history[-1].examples_seen:,}" in result.answer
        wrong = int(np.sum(m.predictions != tiny.test.labels))
        assert f"{wrong:,} errors" in result.answer
        titles = " ".join(result.figures)
        assert "examples seen" in titles and "first 20 test predictions" in titles
        assert "misclassified" in titles
    else:
        assert f"{m.flops_per_image:,}" in result.answer


def test_mlp_section_reruns_the_same_settings_on_raw_pixels(tiny, tmp_path):
    from funml.experiments.models import measure_model, present_mlp
    from funml.nn.ablation import normalization_run

    m = measure_model("mlp", tiny, 1)
    raw = normalization_run(m.settings, False, dataset=tiny)
    assert raw["normalize"] is False and raw["transform"] == "(x/255 - 0.0000) / 1.0000"
    assert raw["epochs"] == 1 and 0.0 <= raw["test_accuracy"] <= 1.0
    result = present_mlp(m, raw, tiny, "tiny data")
    _answers_with(result, f"{raw['test_accuracy']:.2%}", f"{m.test_accuracy:.2%}")
    ref = next(r for r in result.references if "without normalisation" in r.quantity)
    assert (ref.measured, ref.reference) == (raw["test_accuracy"], m.test_accuracy)
    assert _saved(result, tmp_path)["unnormalised"]["test_accuracy"] == raw["test_accuracy"]


def test_mlp2_vs_cnn_small_answers_with_both_counts_and_accuracies(tiny):
    from funml.experiments.models import PairMeasurement, measure_model, present_pair

    pair = PairMeasurement(measure_model("mlp2", tiny, 1), measure_model("cnn-small", tiny, 1))
    result = present_pair(pair, tiny, "tiny data")
    a, b = pair.mlp2, pair.cnn_small
    _answers_with(
        result,
        f"{a.parameters:,}",
        f"{b.parameters:,}",
        f"{a.test_accuracy:.2%}",
        f"{b.test_accuracy:.2%}",
    )
    assert "weight sharing" in result.answer and "locality" in result.answer


def test_logreg_answers_with_the_ablation_and_scikit_learn(tiny, tmp_path):
    from funml.experiments._common import logistic_reference
    from funml.experiments.models import LogregMeasurement, measure_model, present_logreg
    from funml.nn.ablation import normalization_ablation

    m = measure_model("logreg", tiny, 1)
    rows = tuple(normalization_ablation(m.settings, dataset=tiny))
    accuracy, seconds = logistic_reference(tiny)
    result = present_logreg(LogregMeasurement(m, accuracy, seconds, rows), tiny, "tiny data")
    on, off = rows
    assert (on["normalize"], off["normalize"]) == (True, False)
    _answers_with(
        result,
        f"{m.parameters:,}",
        f"{on['test_accuracy']:.2%}",
        f"{off['test_accuracy']:.2%}",
        f"{accuracy:.2%}",
    )
    assert _saved(result, tmp_path)["test_accuracy_sklearn"] == accuracy


def test_confused_pairs_are_the_largest_off_diagonal_counts(digits):
    from funml.experiments.models import confused_pairs
    from funml.nn.figures import confusion_matrix

    rng = np.random.default_rng(0)
    predictions = digits.test.labels.copy()
    wrong = rng.choice(len(predictions), 200, replace=False)
    predictions[wrong] = rng.integers(0, 10, size=200)
    pairs, average = confused_pairs(digits, predictions)
    cm = confusion_matrix(digits.test.labels, predictions, 10)
    np.fill_diagonal(cm, 0)
    assert len(pairs) == 3 and average > 0
    assert [p["count"] for p in pairs] == sorted(cm.ravel(), reverse=True)[:3]
    for p in pairs:
        assert p["true"] != p["predicted"]
        assert cm[int(p["true"]), int(p["predicted"])] == p["count"]
        assert p["mean_image_distance"] > 0
    assert confused_pairs(digits, digits.test.labels)[0] == []  # no error, no pair


def test_digits_cnn_answer_names_the_confused_digits(digits, tmp_path):
    from funml.experiments.models import measure_model, present_digits_cnn

    m = measure_model("digits-cnn", digits, 1)
    result = present_digits_cnn(m, 0.95, digits)
    saved = _saved(result, tmp_path)
    pairs = saved["confused_pairs"]
    assert pairs and saved["mean_image_distance_all_pairs"] > 0
    first = pairs[0]
    _answers_with(
        result,
        f"{m.test_accuracy:.2%}",
        f"{first['true']} read as {first['predicted']} ({first['count']}x)",
        f"{saved['mean_image_distance_all_pairs']:.2f}",
    )


def _epochs(test_accuracy, train_loss, test_loss):
    from funml.nn import EpochRecord

    return tuple(
        EpochRecord(e, 1e-3, tr, 0.9, te, acc, int(acc * 1000), 1000, 100 * e, (), 1.0, 1.0, 100.0)
        for e, (acc, tr, te) in enumerate(zip(test_accuracy, train_loss, test_loss, strict=True), 1)
    )


def test_the_cnn_answer_names_overfitting_only_when_the_last_epoch_tests_clearly_worse():
    from types import SimpleNamespace

    from funml.experiments.models import _overfitting

    overfit = SimpleNamespace(
        history=_epochs([0.88, 0.91, 0.90, 0.895], [0.5, 0.3, 0.2, 0.1], [0.35, 0.28, 0.30, 0.41])
    )
    text = _overfitting(overfit)
    assert "best epoch was epoch 2 at 91.00%" in text
    assert "(0.300 to 0.100)" in text and "rose from 0.280 to 0.410" in text
    steady = SimpleNamespace(
        history=_epochs([0.88, 0.91, 0.909], [0.5, 0.3, 0.2], [0.3, 0.28, 0.29])
    )
    assert _overfitting(steady) == ""  # 0.1 point lower: noise, not a finding
