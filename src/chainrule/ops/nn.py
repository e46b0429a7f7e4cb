"""Fused primitives kept for numerical stability and speed; each says why it is fused."""

import numpy as np

from ..autograd.function import Function
from ..errors import ShapeError
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


class Linear(Function):
    """Fused x @ W.T + b: one node and one backward instead of three (transpose, matmul, add)."""

    def forward(self, x, w, b=None):
        if x.ndim == 0 or x.shape[-1] != w.shape[1]:
            raise ShapeError(
                f"linear: input of shape {x.shape} does not fit weight of shape {w.shape}: "
                f"expected last dimension {w.shape[1]}"
            )
        self.saved = (x, w)
        if x.ndim == 2 and x.shape[0] <= 64 and x.shape[0] < w.shape[0] and w.shape[1] >= 256:
            # a small batch through a wide layer: OpenBLAS runs W @ x.T in 0.7-0.85x the time of x @ W.T
            # (measured for (32, 784) and (64, 784) by (784, 256); no steady gain from batch 128 on); the
            # result is made C-contiguous again (a small copy)
            out = np.ascontiguousarray((w @ x.T).T)
        else:
            out = x @ w.T
        if b is not None:
            out += b
        return out

    def backward(self, g):
        x, w = self.saved
        n = self.needs_input_grad
        gx = g @ w if n[0] else None
        gw = gb = None
        if n[1] or (len(n) > 2 and n[2]):
            g2 = g.reshape(-1, g.shape[-1])
            if n[1]:
                gw = g2.T @ x.reshape(-1, x.shape[-1])
            if len(n) > 2 and n[2]:
                gb = g2.sum(axis=0)
        return gx, gw, gb
