"""``torch.utils.data`` under chainrule: datasets, samplers, collation and the DataLoader.

    from chainrule.utils.data import DataLoader, TensorDataset, random_split

The code lives in ``chainrule.data`` (dataset.py, sampler.py, loader.py); this module gives it
PyTorch's import path, so a script needs only its imports changed.
"""

from ..data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    default_collate,
    default_convert,
    random_split,
)
from ..data.loader import DataLoader, WorkerInfo, get_worker_info
from ..data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]
