"""Functional forms of convolution and pooling, on (N, C, H, W) or unbatched (C, H, W) tensors, as torch."""

from ..ops import conv as C

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "conv2d", "max_pool2d"]


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as torch): weight of shape (out_channels, in_channels / groups, kH, kW).

    ``stride``, ``padding`` and ``dilation`` are ints or (height, width) pairs; ``padding`` may also be
    ``"valid"`` (none) or ``"same"`` (output as large as the input; stride 1 only).
    """
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    if bias is None:
        return C.Conv2d.apply(x, weight, **options)
    return C.Conv2d.apply(x, weight, bias, **options)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """Maximum over each window; ``stride`` defaults to ``kernel_size``; padding counts as -inf."""
    return C.MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each window; ``stride`` defaults to ``kernel_size``; zero padding counts in the mean (as torch)."""
    return C.AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def adaptive_avg_pool2d(x, output_size):
    """Mean over the windows that split (H, W) into ``output_size`` (an int, a pair, None keeps that size)."""
    return C.AdaptiveAvgPool2d.apply(x, output_size=output_size)
