"""The course's PyTorch models, one training loop, and evaluation figures.

- :func:`build_model` and :data:`MODELS`: the networks by name (``mlp``, ``cnn``...).
- :func:`summary`: a layer table with output shapes, parameters and FLOPs.
- :class:`TrainSettings` and :func:`train`: the one training loop, with checkpoints.
- :func:`evaluate`, :func:`predict`, :func:`evaluate_checkpoint`: full-split evaluation.
- :mod:`funml.nn.figures`: curves, confusion matrix, misclassified digits, kernels.
"""

from funml.nn.checkpoint import load_checkpoint, save_checkpoint
from funml.nn.evaluate import (
    Evaluation,
    evaluate,
    evaluate_checkpoint,
    model_from_checkpoint,
    predict,
    predict_split,
)
from funml.nn.models import MODELS, build_model, count_parameters, model_names
from funml.nn.summary import ModelSummary, summary
from funml.nn.train import (
    TrainingInterrupted,
    TrainResult,
    TrainSettings,
    metrics,
    settings_from_checkpoint,
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
    "count_parameters",
    "evaluate",
    "evaluate_checkpoint",
    "load_checkpoint",
    "metrics",
    "model_from_checkpoint",
    "model_names",
    "predict",
    "predict_split",
    "save_checkpoint",
    "settings_from_checkpoint",
    "summary",
    "train",
]
