"""Distances between two inputs as modules (as ``torch.nn`` 's distance modules)."""

from .. import functional as F
from ..registry import register
from .module import Module

__all__ = ["CosineSimilarity"]


@register("cosine_similarity")
class CosineSimilarity(Module):
    """The cosine similarity of two inputs along ``dim``, each norm at least ``eps`` (see F.cosine_similarity)."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, dim=self.dim, eps=self.eps)
