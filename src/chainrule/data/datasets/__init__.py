"""Datasets: the bundled German credit table, and MNIST / Fashion-MNIST read from IDX files you already have.

Nothing here downloads anything.

    from chainrule.data import datasets
    credit = datasets.german_credit()                 # a Table, target column 'credit_risk'
    images, labels = datasets.mnist("data/mnist", split="test")   # (10000, 28, 28) uint8, (10000,) int64
"""

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from ...errors import DataError
from ..table import Table

_HERE = Path(__file__).resolve().parent

# IDX element types: code -> big-endian dtype
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049


def german_credit_path():
    """The path of the bundled ``german_credit.csv`` (UCI Statlog German Credit, CC BY 4.0; see README.md)."""
    return _HERE / "german_credit.csv"


def german_credit():
    """The Statlog German Credit data as a Table: 1,000 rows, 20 features and the target ``credit_risk``.

    ``credit_risk`` is ``'good'`` (700) or ``'bad'`` (300); categorical values are readable text
    (``'< 0 DM'``, ``'car (new)'``, ...). Source and licence: ``datasets/README.md``.
    """
    return Table.from_csv(german_credit_path())


def read_idx(path, expected_magic=None):
    """Read one IDX file (gzipped when the name ends in ``.gz``) into an array of the shape its header gives.

    Checks the magic number (against ``expected_magic`` when given) and that the data size matches
    the header; every problem is a ``DataError`` naming the file.
    """
    path = os.fspath(path)
    try:
        with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
            data = bytearray(f.read())
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, EOFError, zlib.error) as e:
        kind = "corrupt or truncated gzip: " if path.endswith(".gz") else ""
        raise DataError(f"{path}: cannot read the file ({kind}{e})") from None
    if len(data) < 4:
        raise DataError(f"{path}: not an IDX file ({len(data)} bytes, too short for a header)")
    magic = int.from_bytes(data[:4], "big")
    type_code, ndim = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or type_code not in _IDX_TYPES or ndim == 0:
        raise DataError(f"{path}: not an IDX file (magic number {magic:#010x})")
    if expected_magic is not None and magic != expected_magic:
        raise DataError(f"{path}: magic number {magic} where {expected_magic} was expected (wrong file?)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header ({len(data)} bytes, needs {header})")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(
            f"{path}: file is {what}: header gives shape {shape} ({expected} bytes), the file has {len(data)} bytes"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr if dtype.itemsize == 1 else arr.astype(dtype.newbyteorder("="))


def _find(root, stem, dataset):
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    raise DataError(
        f"{dataset}: {root} has no {stem}.gz or {stem} (the standard IDX file names); chainrule never downloads"
        " datasets, so put the files there first"
    )


def _idx_pair(root, split, dataset):
    if split not in ("train", "test"):
        raise DataError(f"{dataset}: split must be 'train' or 'test', got {split!r}")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(
            f"{dataset}: no folder {root}; it should hold train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,"
            " t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzipped or not)"
        )
    prefix = "train" if split == "train" else "t10k"
    images_path = _find(root, f"{prefix}-images-idx3-ubyte", dataset)
    labels_path = _find(root, f"{prefix}-labels-idx1-ubyte", dataset)
    images = read_idx(images_path, _IMAGES_MAGIC)
    labels = read_idx(labels_path, _LABELS_MAGIC)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(f"{images_path}: expected uint8 images of shape (N, rows, cols), got {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(f"{labels_path}: expected uint8 labels of shape (N,), got {labels.shape}")
    if len(images) != len(labels):
        counts = f"{images_path.name} holds {len(images)} images but {labels_path.name} holds {len(labels)} labels"
        raise DataError(f"{dataset}: {counts}")
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path}: label {int(labels.max())} outside 0..9")
    return images, labels.astype(np.int64)


def mnist(root, split="train"):
    """MNIST digits from the IDX files in ``root``: ``(images uint8 (N, 28, 28), labels int64 (N,))``.

    ``split`` is ``'train'`` (60,000) or ``'test'`` (10,000); files may be gzipped or not. Never downloads.
    """
    return _idx_pair(root, split, "mnist")


def fashion_mnist(root, split="train"):
    """Fashion-MNIST from the IDX files in ``root`` (same file names and format as MNIST). Never downloads."""
    return _idx_pair(root, split, "fashion_mnist")


__all__ = ["fashion_mnist", "german_credit", "german_credit_path", "mnist", "read_idx"]
