"""Functional normalisation and embedding: batch_norm, layer_norm, embedding (as torch.nn.functional)."""

import numbers

from ..errors import ArgumentError, ShapeError
from ..ops import norm as N
from ..tensor import Tensor, _raw

__all__ = ["batch_norm", "embedding", "layer_norm"]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise ``x`` of shape (N, C, *) per channel (axis 1), then scale by ``weight`` and shift by ``bias``.

    With ``training=True`` the batch's own mean and biased variance are used, and the running
    statistics (when given) are updated in place:
    ``running = (1 - momentum) * running + momentum * batch_stat``, with the unbiased variance
    for ``running_var``. With ``training=False`` the running statistics are used. As
    ``torch.nn.functional.batch_norm``.
    """
    x = _t(x)
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: input must have shape (N, C, *), got shape {x.shape}")
    if (running_mean is None) != (running_var is None):
        raise ArgumentError("batch_norm: give both running_mean and running_var, or neither")
    c = x.shape[1]
    for what, r in (("running_mean", running_mean), ("running_var", running_var)):
        if r is not None and _raw(r).shape != (c,):
            raise ShapeError(
                f"batch_norm: {what} of shape {_raw(r).shape} does not fit input of shape {x.shape}: "
                f"expected shape ({c},)"
            )
    if not training:
        if running_mean is None:
            raise ArgumentError("batch_norm: running_mean and running_var are needed when training=False")
        return N.BatchNorm.apply(
            x, weight, bias, mean=_raw(running_mean), var=_raw(running_var), eps=eps, training=False
        )
    m = x._data.size // c if c else 0
    if m <= 1:
        raise ShapeError(
            f"batch_norm: expected more than 1 value per channel when training, got input of shape {x.shape}"
        )
    mean, var = N.batch_stats(x._data)
    if running_mean is not None:
        if momentum is None or not isinstance(momentum, numbers.Real):
            raise ArgumentError(f"batch_norm: momentum must be a number, got {momentum!r}")
        rm, rv = _raw(running_mean), _raw(running_var)
        rm *= 1 - momentum
        rm += momentum * mean
        rv *= 1 - momentum
        rv += (momentum * m / (m - 1)) * var  # the unbiased variance, as torch
    return N.BatchNorm.apply(x, weight, bias, mean=mean, var=var, eps=eps, training=True)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise ``x`` over its trailing axes ``normalized_shape`` (an int or a tuple), then scale and shift
    elementwise by ``weight`` and ``bias`` (of shape ``normalized_shape``). As torch.nn.functional.layer_norm."""
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    return N.LayerNorm.apply(_t(x), weight, bias, normalized_shape=tuple(int(n) for n in shape), eps=eps)


def embedding(indices, weight, padding_idx=None):
    """The rows ``weight[indices]``: output shape ``indices.shape + (embedding_dim,)``.

    ``indices`` must be integers in [0, num_embeddings). In the backward, rows used several
    times accumulate their gradients and the row ``padding_idx`` (negative counts from the end)
    gets none. As torch.nn.functional.embedding.
    """
    weight = _t(weight)
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must have shape (num_embeddings, embedding_dim), got {weight.shape}")
    if padding_idx is not None:
        rows = weight.shape[0]
        if not -rows <= padding_idx < rows:
            raise ArgumentError(f"embedding: padding_idx {padding_idx} must lie in [-{rows}, {rows - 1}]")
        padding_idx = int(padding_idx) % rows
    return N.Embedding.apply(weight, _raw(indices), padding_idx=padding_idx)
