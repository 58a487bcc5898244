"""Zoo architectures without their weights (for `funml summary alexnet` and the report)."""

import pytest
import torch

import funml.zoo.weights as weights
from funml.errors import FunmlError
from funml.zoo import MODELS, build_architecture, conv_channels, zoo_name


@pytest.fixture
def no_weight_files(monkeypatch, tmp_path):
    """Empty weight folders, and reading any weights file fails the test."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def refuse(*args, **kwargs):
        raise AssertionError("a weights file was looked up")

    monkeypatch.setattr(weights, "resolve_weights", refuse)
    monkeypatch.setattr(weights, "read_state_dict", refuse)


def test_alexnet_channels_without_any_weight_file(no_weight_files):
    arch = build_architecture("alexnet", device="meta")
    assert arch.name == "alexnet" and arch.input_shape == (3, 224, 224)
    assert conv_channels(arch.module) == (64, 192, 384, 256, 256)
    assert sum(p.numel() for p in arch.module.parameters()) == MODELS["alexnet"].n_params


def test_summary_runs_on_the_built_alexnet(no_weight_files):
    from funml.nn.summary import summary

    arch = build_architecture("alexnet")
    assert not arch.module.training
    table = summary(arch.module, arch.input_shape)
    assert table.total_params == 61_100_840
    assert str(table).count("Conv2d") == 5


@pytest.mark.parametrize("name", ["vgg16", "resnet18", "efficientnet-lite0", "EfficientNet_Lite0"])
def test_every_zoo_name_builds_with_its_parameter_count(name, no_weight_files):
    arch = build_architecture(name, device="meta")
    assert arch.name == zoo_name(name)
    assert sum(p.numel() for p in arch.module.parameters()) == MODELS[arch.name].n_params
    assert all(p.device.type == "meta" for p in arch.module.parameters())


def test_names_outside_the_zoo():
    assert zoo_name("cnn") is None and zoo_name("efficientnet-lite0") == "efficientnet_lite0"
    with pytest.raises(FunmlError, match="Model 'lenet' is unknown; choose one of"):
        build_architecture("lenet")


def test_the_default_device_is_the_cpu():
    arch = build_architecture("resnet18")
    assert next(arch.module.parameters()).device == torch.device("cpu")


def test_funml_summary_prints_an_imagenet_model_without_its_weights(no_weight_files):
    from click.testing import CliRunner

    from funml.cli import cli

    result = CliRunner().invoke(cli, ["summary", "alexnet"])
    assert result.exit_code == 0, result.output
    assert "Trainable params: 61,100,840" in result.output
    assert result.output.count("Conv2d") == 5
