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
"""

from __future__ import annotations

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
        raise FunmlError(
            f"Checkpoint '{path}' does not exist; pass the model.pt of a training run."
        )
    # torch.save writes a zip archive; anything else is not a checkpoint of this century.
    if not zipfile.is_zipfile(path):
        raise FunmlError(
            f"'{path}' is not a PyTorch checkpoint (corrupt, truncated or another kind of "
            "file); pass the model.pt of a training run."
        )
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
    return ckpt
