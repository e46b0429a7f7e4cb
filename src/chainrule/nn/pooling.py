"""Pooling layers over (N, C, H, W) inputs, as torch.nn: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d."""

from .. import functional as F
from ..ops.conv import output_pair, pair
from ..registry import register
from .module import Module

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d"]


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
