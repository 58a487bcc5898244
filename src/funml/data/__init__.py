"""Data sets without torchvision: MNIST, Fashion-MNIST, Digits, CSV files and photo folders."""

from funml.data.dataset import ImageDataset, Split
from funml.data.registry import load_dataset

__all__ = ["ImageDataset", "Split", "load_dataset"]
