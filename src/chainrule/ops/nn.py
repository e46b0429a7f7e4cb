"""Fused primitives kept for numerical stability and speed; each says why it is fused."""

import numpy as np

from ..autograd.function import Primitive
from ..backend import array_module
from ..errors import ShapeError
from .reduce import normalize_axis


class Softmax(Primitive):
    """Fused: shifting by the row max avoids overflow, and one node replaces five."""

    deeplift = "softmax"

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


class LogSoftmax(Primitive):
    """Fused: x - logsumexp(x) stays finite for logits of any size, where log(softmax) would not."""

    name = "log_softmax"
    deeplift = "log_softmax"

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


class Linear(Primitive):
    """Fused x @ W.T + b: one node and one backward instead of three (transpose, matmul, add).

    ``nn.Linear`` stores W (out, in) column-major, so that W.T is a C-contiguous (in, out) array (the
    kernel layout of Keras and scikit-learn). OpenBLAS runs a training step's products faster that way:
    x @ W.T as fast as the best row-major form, and the weight gradient as x.T @ g, written straight into
    a column-major array, in 0.7-1.0x the time of g.T @ x; the MNIST MLP's steps at batch 32 and 128 are
    4-8% faster. Weights in either order work; the gradient has the weight's order.

    The forward is x @ W.T for every batch, so chainrule makes no choice that depends on the batch size:
    a row's output is the BLAS's product for that row. (The BLAS itself may sum one row, or a few, with
    other kernels than a large batch, GEMV for a single row: a difference of a rounding, within the
    bound of tests/tolerance.py; tests/nn/test_linear_layout.py checks both.)
    """

    deeplift = "product"

    def forward(self, x, w, b=None):
        if x.ndim == 0 or x.shape[-1] != w.shape[1]:
            raise ShapeError(
                f"linear: input of shape {x.shape} does not fit weight of shape {w.shape}: "
                f"expected last dimension {w.shape[1]}"
            )
        self.saved = (x, w)
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
            g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
            xp = array_module(g2)
            if n[1]:
                x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
                if w.strides[0] < w.strides[1]:  # column-major (nn.Linear's)
                    dtype = g2.dtype if x2.dtype == g2.dtype else xp.result_type(x2, g2)
                    gw = xp.empty(w.shape, dtype, order="F")
                    xp.matmul(x2.T, g2, out=gw.T)
                else:
                    gw = g2.T @ x2
            if len(n) > 2 and n[2]:
                # the column sums as a product with ones (BLAS): 1.7-2.6x faster than g2.sum(axis=0),
                # which adds the rows one after the other, and no less accurate
                gb = xp.ones(len(g2), g2.dtype) @ g2
        return gx, gw, gb
