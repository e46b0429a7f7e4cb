"""Fused primitives kept for numerical stability and speed; each says why it is fused."""

import numpy as np

from ..autograd.function import Function
from .reduce import normalize_axis


class Softmax(Function):
    """Fused: shifting by the row max avoids overflow, and one node replaces five."""

    def forward(self, x, axis=-1):
        self.axis = normalize_axis(axis, x.ndim, "softmax")
        e = np.exp(x - x.max(axis=self.axis, keepdims=True)) if x.size else x.copy()
        e /= e.sum(axis=self.axis, keepdims=True)
        self.saved = (e,)
        return e

    def backward(self, g):
        (s,) = self.saved
        gs = g * s
        return gs - s * gs.sum(axis=self.axis, keepdims=True)


class LogSoftmax(Function):
    """Fused: x - logsumexp(x) stays finite for logits of any size, where log(softmax) would not."""

    name = "log_softmax"

    def forward(self, x, axis=-1):
        self.axis = normalize_axis(axis, x.ndim, "log_softmax")
        if x.size == 0:
            out = x.copy()
        else:
            shifted = x - x.max(axis=self.axis, keepdims=True)
            out = shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))
        self.saved = (out,)
        return out

    def backward(self, g):
        (out,) = self.saved
        return g - np.exp(out) * g.sum(axis=self.axis, keepdims=True)
