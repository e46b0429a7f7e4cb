"""Normalisation and embedding primitives; each says why it is fused.

Every array here keeps the input's dtype: statistics, the normalised input and the
gradients of a float32 input are computed in float32 (no float64 round trip). Arrays are
made with the input's own array module (NumPy or CuPy).
"""

import numpy as np

from ..autograd.function import Primitive
from ..backend import array_module
from ..errors import ArgumentError, DTypeError, OutOfRangeError, ShapeError
from ._compat import scatter_add_rows


def _channel_axes(x):
    """The axes batch norm reduces over: every axis but the channel axis 1."""
    return (0,) + tuple(range(2, x.ndim))


def batch_stats(x):
    """Mean and biased variance of ``x`` (N, C, *) per channel, each of shape (C,), in ``x``'s dtype."""
    axes = _channel_axes(x)
    mean = x.mean(axis=axes)
    xc = x - mean.reshape(_channel_shape(x))
    return mean, (xc * xc).mean(axis=axes)


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _check_param(op, what, a, shape):
    if a is not None and a.shape != shape:
        raise ShapeError(f"{op}: {what} of shape {a.shape} does not fit; expected shape {shape}")


class BatchNorm(Primitive):
    """Fused: one node and a closed-form backward instead of a dozen (mean, sub, square, mean, sqrt, div, ...).

    ``BatchNorm.apply(x, weight, bias, mean=, var=, eps=, training=)`` normalises ``x`` of shape
    (N, C, *) per channel (axis 1). With ``training=True`` the statistics are those of ``x`` itself
    (``mean`` and biased ``var`` may be passed in when already computed with ``batch_stats(x)``),
    and the backward differentiates through them; with ``training=False``, ``mean`` and ``var``
    are constants (running statistics). ``weight`` and ``bias`` (shape (C,)) may be None.
    """

    name = "batch_norm"
    deeplift = "batch_norm"

    def forward(self, x, weight=None, bias=None, mean=None, var=None, eps=1e-5, training=True):
        if x.ndim < 2:
            raise ShapeError(f"batch_norm: input must have shape (N, C, *), got shape {x.shape}")
        c = (x.shape[1],)
        _check_param("batch_norm", "weight", weight, c)
        _check_param("batch_norm", "bias", bias, c)
        if training and mean is None:
            mean, var = batch_stats(x)
        if mean is None or var is None:
            raise ArgumentError("batch_norm: mean and var are needed when training=False")
        xp = array_module(x)
        mean = xp.asarray(mean, dtype=x.dtype)
        var = xp.asarray(var, dtype=x.dtype)
        _check_param("batch_norm", "mean", mean, c)
        _check_param("batch_norm", "var", var, c)
        shape = _channel_shape(x)
        invstd = 1 / np.sqrt(var + x.dtype.type(eps))
        xhat = (x - mean.reshape(shape)) * invstd.reshape(shape)
        self.training = training
        self.saved = (xhat, invstd, weight)
        out = xhat if weight is None else xhat * weight.reshape(shape)
        if bias is not None:
            return out + bias.reshape(shape)
        return xhat.copy() if out is xhat else out  # not the saved array: an in-place op (ReLU) may write the output

    def backward(self, g):
        xhat, invstd, weight = self.saved
        n = self.needs_input_grad
        axes = _channel_axes(g)
        shape = _channel_shape(g)
        gsum = g.sum(axis=axes)
        gdot = (g * xhat).sum(axis=axes)  # d loss / d weight
        gx = None
        if n[0]:
            scale = invstd if weight is None else invstd * weight
            if self.training:
                # d/dx of w * (x - mean) / std, mean and std depending on x:
                # w / std * (g - mean(g) - xhat * mean(g * xhat)), the means over the batch axes
                m = g.size // g.shape[1]
                gx = g - (gsum / m).reshape(shape) - xhat * (gdot / m).reshape(shape)
                gx *= scale.reshape(shape)
            else:
                gx = g * scale.reshape(shape)
        gw = gdot if len(n) > 1 and n[1] else None
        gb = gsum if len(n) > 2 and n[2] else None
        return gx, gw, gb


class LayerNorm(Primitive):
    """Fused: one node and a closed-form backward instead of a dozen (mean, sub, square, mean, sqrt, div, ...).

    ``LayerNorm.apply(x, weight, bias, normalized_shape=, eps=)`` normalises ``x`` over its trailing
    ``len(normalized_shape)`` axes; ``weight`` and ``bias`` (shape ``normalized_shape``) may be None.
    """

    name = "layer_norm"
    deeplift = "layer_norm"

    def forward(self, x, weight=None, bias=None, normalized_shape=None, eps=1e-5):
        shape = tuple(normalized_shape)
        k = len(shape)
        if k == 0 or x.ndim < k or x.shape[x.ndim - k :] != shape:
            raise ShapeError(
                f"layer_norm: input of shape {x.shape} does not end in normalized_shape {shape}; "
                f"expected input of shape (*, {', '.join(map(str, shape))})"
            )
        _check_param("layer_norm", "weight", weight, shape)
        _check_param("layer_norm", "bias", bias, shape)
        self.axes = axes = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axis=axes, keepdims=True)
        invstd = 1 / np.sqrt(var + x.dtype.type(eps))
        xhat = xc * invstd
        self.saved = (xhat, invstd, weight)
        out = xhat if weight is None else xhat * weight
        if bias is not None:
            return out + bias
        return xhat.copy() if out is xhat else out  # not the saved array: an in-place op may write the output

    def backward(self, g):
        xhat, invstd, weight = self.saved
        n = self.needs_input_grad
        lead = tuple(range(g.ndim - len(self.axes)))  # the axes weight and bias are broadcast over
        gx = gw = gb = None
        if n[0]:
            # d/dx of (x - mean) / std over the normalised axes: (gh - mean(gh) - xhat * mean(gh * xhat)) / std
            gh = g if weight is None else g * weight
            gx = gh - gh.mean(axis=self.axes, keepdims=True) - xhat * (gh * xhat).mean(axis=self.axes, keepdims=True)
            gx *= invstd
        if len(n) > 1 and n[1]:
            gw = (g * xhat).sum(axis=lead)
        if len(n) > 2 and n[2]:
            gb = g.sum(axis=lead)
        return gx, gw, gb


def check_indices(indices, num_embeddings, op="embedding"):
    """``indices`` as an integer array, or a DTypeError / OutOfRangeError saying what is wrong with it."""
    idx = array_module(indices).asarray(indices)
    if idx.dtype.kind not in "iu":
        raise DTypeError(
            f"{op}: indices must be integers, got dtype {idx.dtype}; convert them with .long() or .astype(cr.int64)"
        )
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= num_embeddings:
            raise OutOfRangeError(
                f"{op}: indices must lie in [0, {num_embeddings - 1}] (the weight has {num_embeddings} rows), "
                f"got indices in [{lo}, {hi}]"
            )
    return idx


class Embedding(Primitive):
    """Fused: a row gather whose backward scatter-adds by sorting once (``scatter_add_rows``, faster than
    np.add.at) and can leave out the padding row, which a plain getitem cannot.

    ``Embedding.apply(weight, indices, padding_idx=)``: ``weight[indices]``, of shape
    ``indices.shape + (embedding_dim,)``. Rows used several times accumulate their gradients;
    the row ``padding_idx`` gets none.
    """

    name = "embedding"

    def forward(self, weight, indices, padding_idx=None):
        if weight.ndim != 2:
            raise ShapeError(f"embedding: weight must have shape (num_embeddings, embedding_dim), got {weight.shape}")
        idx = check_indices(indices, weight.shape[0])
        self.idx = idx
        self.rows = weight.shape[0]
        self.padding_idx = padding_idx
        return weight[idx]

    def backward(self, g):
        if not self.needs_input_grad[0]:
            return None, None
        idx = self.idx.reshape(-1)
        g2 = g.reshape(idx.size, g.shape[-1])
        gw = array_module(g).zeros((self.rows, g.shape[-1]), dtype=g.dtype)
        scatter_add_rows(gw, idx, g2)
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw, None
