"""Evaluating a model: loss and accuracy over every sample of a split, without training it.

The course's evaluation had two bugs this module exists to avoid: a "test" loop that called
``optimizer.step()`` on the test data, and an accuracy measured on a single batch. Here
evaluation runs under ``torch.no_grad()`` in ``eval()`` mode, touches no optimizer, and
counts every sample.

Results are kept as sums (loss sum, correct count, sample count) until the end, so that
several processes can add theirs together before dividing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from funml.data.dataset import ImageDataset, Split
from funml.data.loader import BatchLoader, Normalization, split_tensors
from funml.errors import FunmlError
from funml.nn.checkpoint import load_checkpoint
from funml.nn.models import build_model


@dataclass(frozen=True)
class Evaluation:
    """Mean cross-entropy ``loss`` and ``accuracy`` (0..1) over ``count`` samples."""

    loss: float
    accuracy: float
    correct: int
    count: int

    @classmethod
    def from_totals(cls, totals: torch.Tensor) -> Evaluation:
        loss_sum, correct, count = (float(t) for t in totals)
        if count == 0:
            raise ValueError("Cannot evaluate on an empty split.")
        return cls(loss_sum / count, correct / count, int(correct), int(count))

    def to_dict(self) -> dict:
        return {
            "loss": self.loss,
            "accuracy": self.accuracy,
            "correct": self.correct,
            "count": self.count,
        }


def batch_totals(logits: torch.Tensor, y: torch.Tensor, loss: torch.Tensor) -> torch.Tensor:
    """(loss sum, correct count, sample count) of one batch whose *mean* loss is ``loss``."""
    n = len(y)
    correct = (logits.argmax(dim=1) == y).sum()
    count = correct.new_tensor(n)
    return torch.stack([loss.detach().double() * n, correct.double(), count.double()])


@torch.no_grad()
def evaluate_totals(model: nn.Module, batches: Iterable) -> torch.Tensor:
    """Sum loss, correct predictions and samples over ``batches`` of (x, y); float64 (3,)."""
    was_training = model.training
    model.eval()
    totals = torch.zeros(3, dtype=torch.float64)
    for xb, yb in batches:
        logits = model(xb)  # (B, n_classes)
        totals += batch_totals(logits, yb, F.cross_entropy(logits, yb)).cpu()
    model.train(was_training)
    return totals


def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000
) -> Evaluation:
    """Loss and accuracy of ``model`` on every one of the samples ``x`` (N, 1, H, W), ``y`` (N,)."""
    return Evaluation.from_totals(evaluate_totals(model, _in_order(x, y, batch_size)))


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Predicted class of every image in ``x`` (N, 1, H, W); int64 (N,) on the CPU."""
    was_training = model.training
    model.eval()
    preds = [model(x[i : i + batch_size]).argmax(dim=1).cpu() for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return torch.cat(preds) if preds else torch.zeros(0, dtype=torch.long)


def predict_split(model: nn.Module, split: Split, norm: Normalization) -> torch.Tensor:
    """Predicted class of every image of ``split``, normalised as the model was trained."""
    device = next(model.parameters()).device
    x, _ = split_tensors(split, norm, device)
    return predict(model, x)


def evaluate_checkpoint(path: str | Path, dataset: ImageDataset) -> dict:
    """Evaluate a training checkpoint on the full test split of ``dataset``.

    Returns a dict with ``loss``, ``accuracy``, ``correct``, ``count`` and the checkpoint's
    ``model``, ``trained_on`` data set and ``epoch``.
    """
    ckpt = load_checkpoint(path)
    model, norm = model_from_checkpoint(ckpt, dataset)
    x, y = split_tensors(dataset.test, norm)
    result = evaluate(model, x, y).to_dict()
    return {
        **result,
        "model": ckpt["settings"]["model"],
        "dataset": dataset.name,
        "trained_on": ckpt["settings"]["dataset"],
        "epoch": ckpt["epoch"],
    }


def model_from_checkpoint(ckpt: dict, dataset: ImageDataset) -> tuple[nn.Module, Normalization]:
    """The checkpoint's model with its weights, and the normalisation for ``dataset``."""
    data = ckpt["data"]
    shape, n_classes = tuple(data["image_shape"]), len(data["classes"])
    if dataset.image_shape != shape or dataset.n_classes != n_classes:
        raise FunmlError(
            f"The checkpoint's model was trained on {shape[0]}x{shape[1]} images of "
            f"{n_classes} classes, but data set '{dataset.name}' has "
            f"{dataset.image_shape[0]}x{dataset.image_shape[1]} images of {dataset.n_classes}; "
            f"evaluate it on '{ckpt['settings']['dataset']}'."
        )
    model = build_model(ckpt["settings"]["model"], shape, n_classes)
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, KeyError, TypeError) as e:
        raise FunmlError(
            "The checkpoint's weights do not match its model "
            f"'{ckpt['settings']['model']}'; it is corrupt or was edited, so retrain it."
        ) from e
    # The model expects the training split's mean and std, scaled by this data's pixel range.
    norm = Normalization(
        dataset.pixel_max, data["normalization"]["mean"], data["normalization"]["std"]
    )
    return model, norm


def _in_order(x: torch.Tensor, y: torch.Tensor, batch_size: int) -> BatchLoader:
    return BatchLoader(x, y, batch_size, shuffle=False)
