"""The course's PyTorch models, one training loop, and evaluation figures.

- :func:`build_model` and :data:`MODELS`: the networks by name (``mlp``, ``cnn``...).
- :func:`summary`: a layer table with output shapes, parameters and FLOPs.
- :func:`recipe`: how each model is trained when nothing else is said (one table).
- :class:`TrainSettings` and :func:`train`: the one training loop, with checkpoints; its
  history is a list of :class:`EpochRecord`.
- :func:`evaluate`, :func:`predict`, :func:`evaluate_checkpoint`: full-split evaluation.
- :func:`normalization_ablation`: one model trained with and without normalisation.
- :mod:`funml.nn.distributed`: the same loop across processes and machines (DDP, torchrun).
- :mod:`funml.nn.job`: a training job as ``funml train`` runs it: :class:`TrainJob`
  (resolved once, written as job.json), run folder, launch.
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
from funml.nn.recipes import Recipe, recipe
from funml.nn.settings import TrainSettings
from funml.nn.summary import ModelSummary, summary
from funml.nn.train import (
    EpochRecord,
    TrainingInterrupted,
    TrainResult,
    check,
    metrics,
    settings_from_checkpoint,
    threads_for,
    train,
)

__all__ = [
    "MODELS",
    "EpochRecord",
    "Evaluation",
    "ModelSummary",
    "Recipe",
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
    "recipe",
    "save_checkpoint",
    "settings_from_checkpoint",
    "summary",
    "threads_for",
    "train",
]
