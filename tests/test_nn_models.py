"""The course's models by name: exact parameter counts, output shapes, summary, refusals."""

import pytest
import torch

from funml.errors import FunmlError
from funml.nn import MODELS, build_model, count_parameters, summary

# Weights + biases, layer by layer, for 28x28 inputs (8x8 for digits-cnn) and 10 classes.
HAND = {
    "logreg": 784 * 10 + 10,
    "mlp": (784 * 1024 + 1024) + (1024 * 10 + 10),
    "mlp2": (784 * 128 + 128) + (128 * 10 + 10),
    "cnn": (1 * 25 * 32 + 32) + (32 * 25 * 64 + 64) + (1024 * 10 + 10),
    "cnn-small": (1 * 25 * 10 + 10) + (10 * 25 * 20 + 20) + (320 * 128 + 128) + (128 * 10 + 10),
    "digits-cnn": (1 * 9 * 16 + 16) + (16 * 9 * 32 + 32) + (512 * 10 + 10),
}
COURSE_SHAPE = {name: (8, 8) if name == "digits-cnn" else (28, 28) for name in HAND}


def test_the_course_counts():
    assert count_parameters(build_model("mlp2")) == 101_770
    assert count_parameters(build_model("cnn-small")) == 47_658
    assert set(MODELS) == set(HAND)


@pytest.mark.parametrize("name", sorted(HAND))
def test_parameter_counts_match_the_hand_computation(name):
    model = build_model(name, COURSE_SHAPE[name])
    assert count_parameters(model) == HAND[name]
    table = summary(model, (1, *COURSE_SHAPE[name]))
    assert table.total_params == table.trainable_params == HAND[name]
    assert sum(r.params for r in table.rows) == HAND[name]
    assert f"Total params: {HAND[name]:,}" in str(table)


@pytest.mark.parametrize(
    ("name", "shape"),
    [(n, (28, 28)) for n in HAND] + [(n, (8, 8)) for n in ("logreg", "mlp", "mlp2", "digits-cnn")],
)
def test_logits_for_each_input_size_the_architecture_allows(name, shape):
    torch.manual_seed(0)
    model = build_model(name, shape, n_classes=10)
    x = torch.randn(3, 1, *shape)  # (B, C, H, W)
    out = model(x)
    assert out.shape == (3, 10)
    # Logits, not probabilities: rows need not sum to one and take negative values.
    assert not torch.allclose(out.sum(dim=1), torch.ones(3))
    assert (out < 0).any()


def test_widths_follow_the_image_size():
    assert count_parameters(build_model("mlp", (8, 8))) == (64 * 1024 + 1024) + (1024 * 10 + 10)
    # digits-cnn on 28x28: 32 channels of 14x14 into the last layer.
    assert count_parameters(build_model("digits-cnn", (28, 28))) == 160 + 4640 + 32 * 196 * 10 + 10
    assert build_model("cnn", (28, 28), n_classes=3)(torch.zeros(2, 1, 28, 28)).shape == (2, 3)


@pytest.mark.parametrize("name", ["cnn", "cnn-small"])
def test_convolutions_that_do_not_fit_are_refused(name):
    with pytest.raises(FunmlError, match=rf"Model '{name}' does not fit data set 'digits'.*16x16"):
        build_model(name, (8, 8), dataset="digits")
    with pytest.raises(FunmlError, match="15x15 images"):
        build_model(name, (15, 15))
    build_model(name, (16, 16))(torch.zeros(1, 1, 16, 16))  # the smallest that fits does run


def test_unknown_model_names_the_choices():
    with pytest.raises(FunmlError, match=r"Unknown model 'cnn2'; choose one of: .*digits-cnn"):
        build_model("cnn2")


def test_summary_rows_shapes_and_flops_of_cnn():
    table = summary(build_model("cnn"), (28, 28))
    shapes = {r.name: r.output_shape for r in table.rows}
    assert shapes["conv1"] == (-1, 32, 24, 24)
    assert shapes["pool2"] == (-1, 64, 4, 4)
    assert shapes["flatten"] == (-1, 1024)
    assert shapes["fc"] == (-1, 10)
    # 2 FLOPs per multiply-add: conv1 24*24*32 outputs of 25 taps, conv2 8*8*64 of 800, fc.
    assert table.flops == 2 * (24 * 24 * 32 * 25 + 8 * 8 * 64 * 800 + 1024 * 10)


def test_summary_returns_the_table_and_leaves_the_model_as_it_was(capsys):
    model = build_model("cnn-small")
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = str(summary(model, (1, 28, 28)))
    assert capsys.readouterr().out == ""  # the caller prints
    assert "conv1 (Conv2d)" in out and "Total params: 47,658" in out
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not model._forward_hooks and not model.conv1._forward_hooks
