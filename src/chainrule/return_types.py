"""Named tuples of ``(values, indices)``, returned as PyTorch returns them (``torch.return_types``).

``out.max(1)`` gives ``max(values=..., indices=...)``: ``out.max(1)[1]`` and ``_, pred = cr.max(out, 1)``
read the indices, as in PyTorch.
"""

from collections import namedtuple

max = namedtuple("max", ["values", "indices"])  # noqa: A001 - PyTorch's names
min = namedtuple("min", ["values", "indices"])  # noqa: A001
sort = namedtuple("sort", ["values", "indices"])
topk = namedtuple("topk", ["values", "indices"])

__all__ = ["max", "min", "sort", "topk"]
