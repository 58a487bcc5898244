"""The course's PyTorch models, one training loop, and evaluation figures.

- :func:`build_model` and :data:`MODELS`: the networks by name (``mlp``, ``cnn``...).
- :func:`summary`: a layer table with output shapes, parameters and FLOPs.
- :class:`TrainSettings` and :func:`train`: the one training loop, with checkpoints.
- :func:`evaluate`, :func:`predict`, :func:`evaluate_checkpoint`: full-split evaluation.
- :func:`normalization_ablation`: one model trained with and without normalisation.
- :mod:`funml.nn.distributed`: the same loop across processes and machines (DDP, torchrun).
- :mod:`funml.nn.job`: a training job as ``funml train`` runs it (settings, run folder, launch).
- :mod:`funml.nn.figures` (imports matplotlib): curves, confusion matrix, misclassified
  images, first predictions, first-layer kernels, tables.
"""

from funml.nn.ablation import normalization_ablation
from funml.nn.checkpoint import load_checkpoint, save_checkpoint
from funml.nn.evaluate import (
    Evaluation,
    evaluate,
    evaluate_checkpoint,
    model_from_checkpoint,
    predict,
    predict_split,
)
from funml.nn.models import MODELS, build_model, count_parameters
from funml.nn.summary import ModelSummary, summary
from funml.nn.train import (
    TrainingInterrupted,
    TrainResult,
    TrainSettings,
    check,
    metrics,
    settings_from_checkpoint,
    threads_for,
    train,
)

__all__ = [
    "MODELS",
    "Evaluation",
    "ModelSummary",
    "TrainResult",
    "TrainSettings",
    "TrainingInterrupted",
    "build_model",
    "check",
    "count_parameters",
    "evaluate",
    "evaluate_checkpoint",
    "load_checkpoint",
    "metrics",
    "model_from_checkpoint",
    "normalization_ablation",
    "predict",
    "predict_split",
    "save_checkpoint",
    "settings_from_checkpoint",
    "summary",
    "threads_for",
    "train",
]
