"""Training checkpoints: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a plain dict of tensors, dicts, lists and numbers, so that PyTorch's safe
loader accepts it and nothing in it can run code:

- ``format``, ``version``: marks a funml training checkpoint;
- ``epoch``: the number of finished epochs;
- ``settings``: the run's :class:`~funml.nn.train.TrainSettings` as a dict;
- ``history``: one :class:`~funml.nn.train.EpochRecord` per finished epoch, as a dict;
- ``model``, ``optimizer``, ``scheduler``: the state dicts (``scheduler`` may be None);
- ``rng``: torch's random generator states, so a resumed run continues exactly;
- ``data``: what the model expects of its input: image shape, classes, normalisation.

Before use, :func:`load_checkpoint` checks the file's integrity (the CRC-32 of every
member of the zip archive torch writes; ``torch.load`` does not check them, so flipped bytes
would load silently) and then its contents: every part is present, the weights fit the
model the settings name, the optimizer state fits those weights, the random generator
state has torch's size, and the history reads. A damaged or foreign file gets one sentence.
"""

from __future__ import annotations

import math
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from funml.errors import FunmlError
from funml.files import atomic_path

FORMAT = "funml-train-checkpoint"
VERSION = 1


def rng_state() -> dict[str, Any]:
    """torch's CPU (and CUDA) generator states."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | Path, checkpoint: dict[str, Any]) -> Path:
    """Write ``checkpoint`` to ``path`` atomically: a temporary file, then a rename."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, "version": VERSION, **checkpoint}, tmp)
    return Path(path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, onto the CPU.

    Raises :class:`FunmlError` for a missing, corrupt or foreign file, and for one that
    holds pickled Python objects (which the safe loader refuses to run).
    """
    path = Path(path)
    if not path.is_file():
        problem = "is not a file" if path.exists() else "does not exist"
        raise FunmlError(f"Checkpoint '{path}' {problem}; pass the model.pt of a training run.")
    # torch.save writes a zip archive; anything else is not a checkpoint of this century.
    if not zipfile.is_zipfile(path):
        raise FunmlError(
            f"'{path}' is not a PyTorch checkpoint (corrupt, truncated or another kind of "
            "file); pass the model.pt of a training run."
        )
    check_zip_integrity(path, "Checkpoint")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise FunmlError(
            f"Checkpoint '{path}' holds pickled Python objects, which funml refuses to load "
            "because they could run code; use a checkpoint written by funml train."
        ) from e
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile) as e:
        raise FunmlError(
            f"Checkpoint '{path}' cannot be read ({str(e).splitlines()[0][:80]}); it is probably "
            "truncated or corrupt, so use an intact copy."
        ) from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise FunmlError(
            f"'{path}' is a PyTorch file but not a funml training checkpoint; pass the model.pt "
            "that funml train wrote."
        )
    if ckpt.get("version") != VERSION:
        raise FunmlError(
            f"Checkpoint '{path}' has format version {ckpt.get('version')!r}, but this funml "
            f"reads version {VERSION}; train again with this version."
        )
    problem = _contents_problem(ckpt)
    if problem is not None:
        raise FunmlError(
            f"Checkpoint '{path}' is damaged or does not belong to its model ({problem}); "
            "pass an intact model.pt that funml train wrote."
        )
    return ckpt


def check_zip_integrity(path: Path, what: str) -> None:
    """Raise FunmlError if a zip archive (torch's file format) has a damaged member: its
    CRC-32 differs, or its headers do not read. Files that are not zips are left alone."""
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()  # reads every member and compares its CRC-32
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        bad = f"{type(e).__name__}: {str(e).splitlines()[0][:60] if str(e) else ''}"
    if bad is not None:
        raise FunmlError(
            f"{what} '{path}' is damaged: its bytes do not match the checksums stored in it "
            f"({bad}); use an intact copy."
        )


def _contents_problem(ckpt: dict) -> str | None:
    """What is wrong with the parts of a loaded checkpoint, or None if it can be used."""
    try:
        return _check_contents(ckpt)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as e:
        return f"{type(e).__name__}: {str(e).splitlines()[0][:80] if str(e) else 'malformed'}"
    except FunmlError as e:
        return str(e).rstrip(".")


def _check_contents(ckpt: dict) -> str | None:
    from funml.nn.models import build_model
    from funml.nn.train import EpochRecord

    for key in ("epoch", "settings", "history", "model", "optimizer", "rng", "data"):
        if key not in ckpt:
            return f"its '{key}' is missing"
    epoch, history = ckpt["epoch"], ckpt["history"]
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        return f"its epoch {epoch!r} is not a count"
    if not isinstance(history, list) or len(history) != epoch:
        return f"its history does not hold one record for each of its {epoch} epochs"
    for i, record in enumerate(history, 1):
        try:
            EpochRecord.from_dict(record)
        except (KeyError, TypeError, ValueError):
            return f"its history record {i} is damaged"
    settings, data = ckpt["settings"], ckpt["data"]
    shape = tuple(int(v) for v in data["image_shape"])
    n_classes = len(data["classes"])
    norm = data["normalization"]
    if not all(math.isfinite(float(v)) for v in (*_numbers(norm["mean"]), *_numbers(norm["std"]))):
        return "its normalisation is not finite"
    model = build_model(settings["model"], shape, n_classes)
    problem = _state_problem(ckpt["model"], model.state_dict(), f"model '{settings['model']}'")
    if problem is not None:
        return problem
    problem = _optimizer_problem(ckpt["optimizer"], [p for p in model.parameters()])
    if problem is not None:
        return problem
    if ckpt.get("scheduler") is not None and not isinstance(ckpt["scheduler"], dict):
        return "its learning-rate schedule state is not a dict"
    rng = ckpt["rng"]
    expected = torch.get_rng_state()
    state = rng.get("torch") if isinstance(rng, dict) else None
    if not (
        isinstance(state, torch.Tensor)
        and state.dtype == expected.dtype
        and state.shape == expected.shape
    ):
        return "its random generator state is not torch's"
    return None


def _numbers(value) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def _state_problem(state, own: dict, what: str) -> str | None:
    """What stops ``state`` (a state dict) loading into a module whose own is ``own``."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        return "its weights are not a mapping of names to tensors"
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        example = (missing or unexpected)[0]
        return (
            f"its weights do not fit {what}: {len(missing)} missing and {len(unexpected)} "
            f"unexpected, e.g. '{example}'"
        )
    for key, value in own.items():
        if state[key].shape != value.shape:
            return (
                f"its weight '{key}' has shape {tuple(state[key].shape)} where {what} needs "
                f"{tuple(value.shape)}"
            )
        given = state[key]
        if (
            given.layout != torch.strided
            or given.is_meta
            or given.is_floating_point() != value.is_floating_point()
        ):
            return f"its weight '{key}' is {state[key].dtype}, {state[key].layout}"
    return None


def _optimizer_problem(state, params: list[torch.Tensor]) -> str | None:
    """What stops an optimizer state dict loading for (and stepping) ``params``."""
    if not isinstance(state, dict) or not isinstance(state.get("param_groups"), list):
        return "its optimizer state is malformed"
    ids = [i for group in state["param_groups"] for i in group["params"]]
    if sorted(ids) != list(range(len(params))):
        return f"its optimizer state is for {len(ids)} weights, not the model's {len(params)}"
    saved = state.get("state")
    if not isinstance(saved, dict):
        return "its optimizer state is malformed"
    for i, per_param in saved.items():
        if not (isinstance(i, int) and 0 <= i < len(params) and isinstance(per_param, dict)):
            return "its optimizer state is malformed"
        for name, value in per_param.items():
            tensor = isinstance(value, torch.Tensor) and value.numel() > 1  # not a step count
            if tensor and value.shape != params[i].shape:
                return (
                    f"its optimizer's '{name}' of weight {i} has shape {tuple(value.shape)}, "
                    f"not {tuple(params[i].shape)}"
                )
    return None
