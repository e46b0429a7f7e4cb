"""Data: datasets, the DataLoader, tabular loading and preprocessing, and the bundled datasets."""

from . import datasets
from .dataset import Dataset, Subset, TensorDataset, default_collate, random_split
from .loader import DataLoader
from .preprocess import Preprocessor
from .table import Table, read_table

__all__ = [
    "DataLoader",
    "Dataset",
    "Preprocessor",
    "Subset",
    "Table",
    "TensorDataset",
    "datasets",
    "default_collate",
    "random_split",
    "read_table",
]
