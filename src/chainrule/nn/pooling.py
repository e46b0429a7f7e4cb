"""Pooling layers, as torch.nn: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d over (N, C, H, W) inputs, MaxPool1d,
AvgPool1d and AdaptiveAvgPool1d over (N, C, L)."""

from .. import functional as F
from ..errors import ArgumentError
from ..functional import vision as V
from ..ops.conv import output_pair, pair
from ..registry import register
from .module import Module

__all__ = ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "MaxPool1d", "MaxPool2d"]


def _check(name, kernel_size, stride, padding, dilation=1):
    pair(kernel_size, "kernel_size", name, 1)
    pair(stride, "stride", name, 1)
    pair(padding, "padding", name)
    pair(dilation, "dilation", name, 1)


@register("max_pool2d")
class MaxPool2d(Module):
    """The maximum of each ``kernel_size`` window; ``stride`` defaults to ``kernel_size`` (as torch)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        _check("MaxPool2d", kernel_size, self.stride, padding, dilation)

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)


@register("avg_pool2d")
class AvgPool2d(Module):
    """The mean of each ``kernel_size`` window, zero padding included (torch's count_include_pad=True)."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        _check("AvgPool2d", kernel_size, self.stride, padding)

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


@register("adaptive_avg_pool2d")
class AdaptiveAvgPool2d(Module):
    """Means over the windows that split (H, W) into ``output_size`` (1: global average pooling)."""

    def __init__(self, output_size):
        super().__init__()
        output_pair(output_size, "AdaptiveAvgPool2d")
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)


@register("adaptive_avg_pool1d")
class AdaptiveAvgPool1d(Module):
    """Means over the ``output_size`` windows that split the length of (N, C, L) or (C, L) input (1: the global
    average), as torch.nn.AdaptiveAvgPool1d."""

    def __init__(self, output_size):
        super().__init__()
        V.single(output_size, "output_size", "AdaptiveAvgPool1d", 1)
        self.output_size = output_size

    def forward(self, x):
        return V._adaptive_avg_pool1d(x, self.output_size, "AdaptiveAvgPool1d")


@register("max_pool1d")
class MaxPool1d(Module):
    """The maximum of each ``kernel_size`` window of (N, C, L) or (C, L) input, as torch.nn.MaxPool1d: ``stride``
    defaults to ``kernel_size``, padding counts as -inf, ``ceil_mode`` keeps a last partial window
    (``return_indices=True`` is not supported)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode
        for name, value, least in (("kernel_size", kernel_size, 1), ("stride", self.stride, 1),
                                   ("padding", padding, 0), ("dilation", dilation, 1)):
            V.single(value, name, "MaxPool1d", least)
        if return_indices:
            raise ArgumentError(
                "MaxPool1d: return_indices=True is not supported; chainrule has no max_unpool to use them"
            )

    def forward(self, x):
        return V._max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                             self.return_indices, "MaxPool1d")


@register("avg_pool1d")
class AvgPool1d(Module):
    """The mean of each ``kernel_size`` window of (N, C, L) or (C, L) input, as torch.nn.AvgPool1d: ``stride``
    defaults to ``kernel_size``; zero padding counts in the mean unless ``count_include_pad=False``;
    ``ceil_mode`` keeps a last partial window. The sizes are stored as 1-tuples, as torch."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = (V.single(kernel_size, "kernel_size", "AvgPool1d", 1),)
        self.stride = self.kernel_size if stride is None else (V.single(stride, "stride", "AvgPool1d", 1),)
        self.padding = (V.single(padding, "padding", "AvgPool1d"),)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, x):
        return V._avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                             "AvgPool1d")

    def extra_repr(self):
        return ", ".join(f"{k}={getattr(self, k)!r}" for k in self.get_config())  # the sizes as tuples, as torch
