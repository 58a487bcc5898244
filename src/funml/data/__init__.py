"""Data sets without torchvision: MNIST, Fashion-MNIST, Digits, CSV files and photo folders."""

from funml.data.dataset import ImageDataset, Split, describe
from funml.data.registry import load_dataset

__all__ = ["ImageDataset", "Split", "describe", "load_dataset"]
