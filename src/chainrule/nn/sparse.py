"""Embedding: a lookup table of learned vectors (as torch.nn.Embedding)."""


from .. import functional as F
from ..errors import ArgumentError
from ..ops.norm import check_indices
from ..registry import register
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


@register("embedding")
class Embedding(Module):
    """Map integer indices of any shape to rows of ``weight`` (num_embeddings, embedding_dim).

    Initialised as PyTorch: N(0, 1), with the row ``padding_idx`` (if any) zeroed; that row
    gets no gradient. A negative ``padding_idx`` counts from the end and is stored as positive.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ArgumentError(
                    f"Embedding: padding_idx {padding_idx} must lie in [-{num_embeddings}, {num_embeddings - 1}]"
                )
            padding_idx = int(padding_idx) % num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter.empty((num_embeddings, embedding_dim))
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, indices):
        idx = indices._data if isinstance(indices, Tensor) else indices
        check_indices(idx, self.num_embeddings, op=f"Embedding({self.num_embeddings}, {self.embedding_dim})")
        return F.embedding(idx, self.weight, self.padding_idx)
