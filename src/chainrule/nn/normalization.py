"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm (as torch.nn)."""

import numbers

import numpy as np

from .. import functional as F
from ..backend import buffer_array
from ..errors import ArgumentError, ShapeError
from ..functional import vision as V
from ..registry import register
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm"]


class _BatchNorm(Module):
    """Batch normalisation over every axis but the channel axis 1.

    In training mode the batch's statistics normalise the input and update the running
    statistics (``running = (1 - momentum) * running + momentum * batch``, the unbiased variance
    for ``running_var``; ``momentum=None`` keeps a cumulative average instead); in eval mode the
    running statistics are used. ``num_batches_tracked`` counts the training batches.
    Parameters ``weight`` (ones) and ``bias`` (zeros) when ``affine``; buffers as PyTorch.
    """

    _dims = ()  # the accepted numbers of input dimensions
    _shapes = ""  # how to describe them in an error

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter.empty(num_features)
            self.bias = Parameter.empty(num_features)
            init.ones_(self.weight)
            init.zeros_(self.bias)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._wrap(buffer_array(num_features, fill=0)))
            self.register_buffer("running_var", Tensor._wrap(buffer_array(num_features, fill=1)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight._data[...] = 1
            self.bias._data[...] = 0

    def _layer(self):
        return f"{type(self).__name__}({self.num_features})"

    def _check_input(self, x):
        shape = tuple(np.shape(x._data if isinstance(x, Tensor) else x))
        if len(shape) not in self._dims:
            raise ShapeError(
                f"{self._layer()}: expected {self._shapes} input, got {len(shape)}-D input of shape {shape}"
            )
        if shape[1] != self.num_features:
            raise ShapeError(
                f"{self._layer()}: expected {self.num_features} channels in axis 1, got input of shape {shape}; "
                f"set num_features={shape[1]} or fix the input"
            )

    def forward(self, x):
        self._check_input(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked._data)
        # batch statistics while training, or when there are no running statistics to use
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )


@register("batch_norm1d")
class BatchNorm1d(_BatchNorm):
    """Batch normalisation of input (N, C) or (N, C, L), per channel C. See ``_BatchNorm``."""

    _dims = (2, 3)
    _shapes = "2-D (N, C) or 3-D (N, C, L)"


@register("batch_norm2d")
class BatchNorm2d(_BatchNorm):
    """Batch normalisation of input (N, C, H, W), per channel C. See ``_BatchNorm``."""

    _dims = (4,)
    _shapes = "4-D (N, C, H, W)"


@register("layer_norm")
class LayerNorm(Module):
    """Normalise over the trailing axes ``normalized_shape``, then scale and shift elementwise.

    ``weight`` (ones) and ``bias`` (zeros) have shape ``normalized_shape``; with
    ``elementwise_affine=False`` there are neither, and with ``bias=False`` no bias.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = init.ones_(Parameter.empty(self.normalized_shape))
            if bias:
                self.bias = init.zeros_(Parameter.empty(self.normalized_shape))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.weight is not None:
            self.weight._data[...] = 1
        if self.bias is not None:
            self.bias._data[...] = 0

    def forward(self, x):
        shape = tuple(np.shape(x._data if isinstance(x, Tensor) else x))
        k = len(self.normalized_shape)
        if len(shape) < k or shape[len(shape) - k :] != self.normalized_shape:
            dims = ", ".join(map(str, self.normalized_shape))
            raise ShapeError(
                f"LayerNorm({list(self.normalized_shape)}): expected input of shape (*, {dims}), "
                f"got input of shape {shape}"
            )
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)


@register("group_norm")
class GroupNorm(Module):
    """Normalise (N, C, *) input over each of ``num_groups`` groups of channels (with their spatial axes), then
    scale and shift each channel, as torch.nn.GroupNorm.

    ``weight`` (ones) and ``bias`` (zeros) have shape (num_channels,) when ``affine``; ``num_channels`` must be
    divisible by ``num_groups``.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True):
        super().__init__()
        if not isinstance(num_groups, int) or isinstance(num_groups, bool) or num_groups < 1:
            raise ArgumentError(f"GroupNorm: num_groups must be a positive int, got {num_groups!r}")
        if num_channels % num_groups:
            raise ArgumentError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = init.ones_(Parameter.empty(num_channels))
            self.bias = init.zeros_(Parameter.empty(num_channels))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.affine:
            self.weight._data[...] = 1
            self.bias._data[...] = 0

    def forward(self, x):
        shape = tuple(np.shape(x._data if isinstance(x, Tensor) else x))
        layer = f"GroupNorm({self.num_groups}, {self.num_channels})"
        if len(shape) < 2 or shape[1] != self.num_channels:
            raise ShapeError(
                f"{layer}: expected input of shape (N, {self.num_channels}, *), got input of shape {shape}; "
                f"set num_channels={shape[1] if len(shape) > 1 else '?'} or fix the input"
            )
        return V._group_norm(x, self.num_groups, self.weight, self.bias, self.eps, layer)
