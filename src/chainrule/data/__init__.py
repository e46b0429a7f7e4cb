"""Data: datasets, the DataLoader, tabular loading and preprocessing, and the bundled datasets."""

from .dataset import Dataset, Subset, TensorDataset, default_collate, random_split
from .loader import DataLoader

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]
