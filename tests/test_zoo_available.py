"""Loading every model whose weights are here (`funml classify --model all`, `pretrained`):
what is here loads, the rest is skipped with its reason, nothing is built or downloaded."""

import dataclasses

import pytest

from funml.errors import FunmlError
from funml.zoo.registry import MODELS
from funml.zoo.weights import funml_weights_dir, load_available_models


def test_the_packaged_model_loads_and_the_others_are_skipped_with_their_reason():
    models, skipped = load_available_models()
    assert [m.name for m in models] == ["efficientnet_lite0"]
    assert models[0].weights.source == "package"
    assert [name for name, _ in skipped] == ["alexnet", "vgg16", "resnet18"]
    for name, reason in skipped:
        assert reason.startswith(f"No weights for '{name}' were found")
    assert not funml_weights_dir().exists()  # nothing was downloaded


def test_a_model_without_weights_is_never_built(monkeypatch):
    def build():
        raise AssertionError("vgg16 was built although it has no weights here")

    monkeypatch.setitem(MODELS, "vgg16", dataclasses.replace(MODELS["vgg16"], build=build))
    models, skipped = load_available_models(["vgg16", "efficientnet_lite0"])
    assert [m.name for m in models] == ["efficientnet_lite0"]
    assert [name for name, _ in skipped] == ["vgg16"]


def test_no_model_with_weights_is_one_sentence_naming_the_first_reason():
    with pytest.raises(
        FunmlError, match=r"^No ImageNet model has its weights available: No weights for 'alexnet'"
    ):
        load_available_models(["alexnet", "resnet18"])
