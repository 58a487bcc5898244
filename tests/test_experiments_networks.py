"""The network demonstrations (funml.experiments.networks) on tiny 28x28 data: their key
facts, and answers that quote the numbers measured."""

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


def _answers_with(result, *numbers: str) -> None:
    """The answer is 2-6 sentences and quotes each of ``numbers`` as formatted."""
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", result.answer.strip())
    assert 2 <= len(sentences) <= 6, sentences
    for number in numbers:
        assert number in result.answer, (number, result.answer)


def _reported(result, tmp_path) -> dict:
    """The result has a verdict, references (accuracies as fractions) and a figure, and its
    metrics survive metrics.json."""
    assert result.verdict and result.references and result.figures
    for ref in result.references:
        if ref.unit == "%":
            assert 0 <= ref.measured <= 1 and 0 <= ref.reference <= 1, ref
    return json.loads(write_json(tmp_path / "metrics.json", result.metrics).read_text())


def test_shift_moves_pixels_and_fills_with_zeros():
    from funml.experiments.networks import shift_images

    x = np.zeros((1, 6, 6), np.uint8)
    x[0, 1, 2], x[0, 1, 3] = 200, 100
    np.testing.assert_array_equal(shift_images(x, 0, (1, 0)), x)
    right = shift_images(x, 2, (0, 1))
    assert right.dtype == x.dtype and (right[0, 1, 4], right[0, 1, 5]) == (200, 100)
    assert right.sum() == x.sum()
    off_the_edge = shift_images(x, 3, (0, 1))  # the 100 leaves the image, nothing wraps
    assert off_the_edge.sum() == 200 and off_the_edge[0, 1, 5] == 200
    up = shift_images(x, 1, (-1, 0))
    assert up[0, 0, 2] == 200 and up[1:].sum() == 0


def test_rotation_by_0_changes_nothing_and_by_90_is_rot90():
    from funml.experiments.networks import rotate_images

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(3, 8, 8), dtype=np.uint8)
    np.testing.assert_array_equal(rotate_images(x, 0), x)
    np.testing.assert_array_equal(rotate_images(x, 90), np.rot90(x, 1, axes=(1, 2)))


def test_invariance_at_no_shift_and_no_rotation_is_the_plain_accuracy(tiny, tmp_path):
    from funml.experiments.networks import measure_invariance, present_invariance

    m = measure_invariance(tiny, {"cnn": 1, "mlp2": 1}, shifts=(0, 4), angles=(0, 45))
    assert (m.n_train, m.n_test, m.shifts, m.angles) == (200, 100, (0, 4), (0, 45))
    for name in ("cnn", "mlp2"):
        assert m.by_shift[name][0] == m.test_accuracy[name] == m.by_angle[name][0]
        assert all(0 <= a <= 1 for a in (*m.by_shift[name], *m.by_angle[name]))
        assert m.drop(name, "shift") == m.test_accuracy[name] - m.by_shift[name][-1]
    result = present_invariance(m, "tiny data")
    saved = _reported(result, tmp_path)
    assert saved["by_shift"]["cnn"] == list(m.by_shift["cnn"])
    assert len(result.references) == 4
    cnn_lost = f"{100 * (m.test_accuracy['cnn'] - m.by_shift['cnn'][-1]):.1f}"
    _answers_with(
        result, f"{m.test_accuracy['cnn']:.2%}", f"{m.test_accuracy['mlp2']:.2%}", cnn_lost
    )


def test_normalisation_ablation_on_mlp2(tiny, tmp_path):
    from funml.data.loader import Normalization
    from funml.experiments.networks import measure_normalisation, present_normalisation

    m = measure_normalisation(tiny, 1)
    assert [r["normalize"] for r in m.rows] == [True, False]
    assert m.pixel_mean == Normalization.fit(tiny.train, tiny.pixel_max).mean
    assert m.raw["transform"] == "(x/255 - 0.0000) / 1.0000"
    result = present_normalisation(m, "tiny data")
    saved = _reported(result, tmp_path)
    assert saved["rows"][1]["test_accuracy"] == m.raw["test_accuracy"]
    _answers_with(result, f"{m.normalised['test_accuracy']:.2%}", f"{m.raw['test_accuracy']:.2%}")


def test_cnn_with_batchnorm_is_the_cnn_plus_two_batchnorm_layers():
    import torch
    from torch import nn

    from funml.experiments.networks import CNN_BN_PARAMS, cnn_with_batchnorm
    from funml.nn import build_model, count_parameters

    torch.manual_seed(0)
    bn = cnn_with_batchnorm()
    torch.manual_seed(0)
    plain = build_model("cnn")
    assert CNN_BN_PARAMS == 62_538 == count_parameters(bn) == count_parameters(plain) + 192
    assert [type(m) for m in bn if isinstance(m, nn.BatchNorm2d)] == [nn.BatchNorm2d] * 2
    assert list(bn.named_children())[1][0] == "bn1"  # right after conv1, before its ReLU
    torch.testing.assert_close(bn.conv2.weight, plain.conv2.weight)  # one seed, one start
    assert bn(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_batchnorm_trains_both_on_the_same_batches(tiny, tmp_path):
    from funml.experiments.networks import BN_VARIANTS, measure_batchnorm, present_batchnorm

    m = measure_batchnorm(tiny, 2)
    assert list(m.runs) == list(BN_VARIANTS) and m.batchnorm_layers == 2
    assert m.parameters == {"cnn": 62_346, "cnn + batch norm": 62_538}
    for curves in m.runs.values():
        assert len(curves.train_loss) == len(curves.test_accuracy) == 2
        assert len(curves.batch_loss) == 2 * 2  # 200 images in batches of 128: a point a batch
    result = present_batchnorm(m, "tiny data")
    saved = _reported(result, tmp_path)
    assert "batch_loss" not in saved["runs"]["cnn"]
    plain, bn = (m.runs[v] for v in BN_VARIANTS)
    _answers_with(result, f"{bn.train_loss[0]:.4f}", f"{plain.train_loss[0]:.4f}")


def test_deep_mlps_have_six_layers_and_one_initialisation():
    import torch
    from torch import nn

    from funml.experiments.networks import deep_mlp

    torch.manual_seed(0)
    sigmoid = deep_mlp(784, "sigmoid")
    torch.manual_seed(0)
    relu = deep_mlp(784, "relu")
    linears = [m for m in sigmoid if isinstance(m, nn.Linear)]
    assert len(linears) == 6 and sum(isinstance(m, nn.Sigmoid) for m in sigmoid) == 5
    assert sum(isinstance(m, nn.ReLU) for m in relu) == 5
    for a, b in zip(sigmoid.parameters(), relu.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_sigmoid_gradients_vanish_towards_the_first_layer(tiny, tmp_path):
    from funml.experiments.networks import measure_activations, present_activations

    m = measure_activations(tiny, steps=8)
    assert m.steps == 8 and m.gradient_batch == 200
    layers = (*m.at_init.values(), *m.trained.values(), *m.moved.values())
    assert all(len(values) == 6 for values in layers)
    # The sigmoid net's first layer gets far less gradient, relative to its last, than ReLU's.
    assert m.ratio("sigmoid") < m.ratio("relu") / 10
    result = present_activations(m, "tiny data")
    saved = _reported(result, tmp_path)
    assert saved["ratio_first_to_last"]["sigmoid"] == m.ratio("sigmoid")
    moved = f"{m.moved['sigmoid'][0]:.2%}"
    _answers_with(result, f"{m.ratio('sigmoid'):.1e}", f"{m.ratio('relu'):.2g}", moved)


def test_the_demonstrations_follow_the_model_experiments():
    from funml.experiments import experiments

    names = list(experiments())
    at = names.index("invariance")
    assert names[at : at + 4] == ["invariance", "normalisation", "batchnorm", "activations"]
    assert names.index("digits-cnn") < at
