"""The zoo's architectures: exact parameter counts, torchvision's state_dict keys, (N, 1000)
outputs, strict state_dict round trips, and EfficientNet-Lite0's TensorFlow details."""

import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose

from funml.zoo.efficientnet import Conv2dSame, packaged_lite0_weights
from funml.zoo.registry import MODELS, expected_keys, get_spec
from funml.zoo.weights import load_state_dict_into, read_state_dict

EXACT_PARAMS = {
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    "efficientnet_lite0": 4_652_008,
}


@pytest.fixture(scope="module", params=list(MODELS))
def built(request):
    """Each model built once for this module (VGG16 alone is 138M parameters)."""
    torch.manual_seed(0)
    spec = get_spec(request.param)
    return spec, spec.build().eval()


def test_parameter_count_is_exact(built):
    spec, model = built
    n = sum(p.numel() for p in model.parameters())
    assert n == EXACT_PARAMS[spec.name] == spec.n_params


def test_state_dict_keys_equal_the_stored_official_list(built):
    spec, model = built
    assert list(model.state_dict()) == list(expected_keys(spec.name))


def test_stored_key_lists_follow_the_issue_layout():
    alex = {k.rsplit(".", 1)[0] for k in expected_keys("alexnet")}
    assert alex == {f"features.{i}" for i in (0, 3, 6, 8, 10)} | {
        f"classifier.{i}" for i in (1, 4, 6)
    }
    vgg = {k.rsplit(".", 1)[0] for k in expected_keys("vgg16")}
    convs = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
    assert vgg == {f"features.{i}" for i in convs} | {f"classifier.{i}" for i in (0, 3, 6)}
    res = {k.rsplit(".", 1)[0] for k in expected_keys("resnet18")}
    assert {"conv1", "bn1", "fc", "layer4.1.bn2", "layer2.0.downsample.1"} <= res
    assert not any(k.startswith("layer1.0.downsample") for k in res)


def test_output_is_n_by_1000_for_a_224_batch(built):
    spec, model = built
    n = 1 if spec.name == "vgg16" else 2  # one tiny batch for VGG16: its forward is heavy
    x = torch.randn(n, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        y = model(x)
    assert y.shape == (n, 1000)
    assert torch.isfinite(y).all()


def test_saved_state_dict_loads_back_strictly(built, tmp_path):
    spec, model = built
    path = tmp_path / f"{spec.name}.pth"
    torch.save(model.state_dict(), path)
    # Zero the model so that only the load can bring its values back (and no second copy of
    # VGG16 is built).
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    state = read_state_dict(path)
    load_state_dict_into(model, state, spec, path)  # strict=True inside
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[name]), name
    assert any(p.abs().sum() > 0 for p in model.parameters())


def test_packaged_lite0_weights_are_tensors_only_and_have_the_stored_keys():
    # weights_only=True succeeds on the package's file: it holds nothing but tensors.
    state = torch.load(packaged_lite0_weights(), map_location="cpu", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert list(state) == list(expected_keys("efficientnet_lite0"))


@pytest.mark.parametrize(("size", "kernel", "stride"), [(8, 3, 2), (7, 3, 2), (8, 5, 2), (6, 3, 1)])
def test_conv2d_same_pads_like_tensorflow(size, kernel, stride):
    # TensorFlow's SAME: total padding (ceil(n/s)-1)*s + k - n, the extra pixel at the end.
    torch.manual_seed(0)
    conv = Conv2dSame(2, 3, kernel, stride)
    x = torch.randn(1, 2, size, size)
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    before, after = total // 2, total - total // 2
    expected = F.conv2d(F.pad(x, (before, after, before, after)), conv.weight, stride=stride)
    got = conv(x)
    assert got.shape == (1, 3, out, out)
    assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_lite0_uses_tensorflow_batch_norm_epsilon():
    model = get_spec("efficientnet_lite0").build()
    eps = {m.eps for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)}
    assert eps == {1e-3}
