"""Convolution layers, as torch.nn: Conv2d over (N, C, H, W) inputs, Conv1d over (N, C, L), ConvTranspose2d."""

import math

from .. import functional as F
from ..errors import ArgumentError, ShapeError
from ..functional import vision as V
from ..ops import conv_transpose as CT
from ..ops.conv import conv_padding, pair
from ..registry import register
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d"]


@register("conv2d")
class Conv2d(Module):
    """``out_channels`` filters of shape (in_channels / groups, kH, kW) slid over the input.

    ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are ints or (height, width) pairs
    (stored as pairs, as torch); ``padding`` may also be ``"valid"`` or ``"same"``. The weight has
    shape (out_channels, in_channels / groups, kH, kW); initialised as torch: kaiming_uniform_
    with a = sqrt(5), bias uniform in +-1/sqrt(fan_in).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True):
        super().__init__()
        if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
            raise ArgumentError(f"Conv2d: groups must be a positive int, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ArgumentError(
                f"Conv2d: in_channels ({in_channels}) and out_channels ({out_channels}) must both be divisible "
                f"by groups ({groups})"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = pair(stride, "stride", "Conv2d", 1)
        self.dilation = pair(dilation, "dilation", "Conv2d", 1)
        conv_padding(padding, self.kernel_size, self.stride, self.dilation, "Conv2d")  # check it now
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding", "Conv2d")
        self.groups = groups
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter.empty(shape)
        # registered even when absent, so that get_config reports bias=False
        self.register_parameter("bias", Parameter.empty(out_channels) if bias else None)
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        # the stored values as they are (pairs as tuples), where get_config gives JSON lists
        config = self.get_config()
        shown = {k: (v if k == "bias" else getattr(self, k)) for k, v in config.items()}
        return ", ".join(f"{k}={v!r}" for k, v in shown.items())


def _conv_bias_bound(weight, receptive):
    """torch's bound of a convolution's bias, 1 / sqrt(fan_in), with fan_in = weight.shape[1] * kernel elements."""
    fan_in = weight.shape[1] * receptive
    return 1 / math.sqrt(fan_in) if fan_in > 0 else 0


@register("conv1d")
class Conv1d(Module):
    """``out_channels`` filters of shape (in_channels / groups, kL) slid along (N, C, L) or (C, L) input.

    As torch.nn.Conv1d: ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are stored as 1-tuples
    (``padding`` may also be ``"valid"`` or ``"same"``); ``padding_mode`` is ``"zeros"``, ``"reflect"``,
    ``"replicate"`` or ``"circular"``. The weight has shape (out_channels, in_channels / groups, kL);
    initialised as torch: kaiming_uniform_ with a = sqrt(5), bias uniform in +-1/sqrt(fan_in).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros"):
        super().__init__()
        if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
            raise ArgumentError(f"Conv1d: groups must be a positive int, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ArgumentError(
                f"Conv1d: in_channels ({in_channels}) and out_channels ({out_channels}) must both be divisible "
                f"by groups ({groups})"
            )
        if padding_mode not in V.PADDING_MODES:
            modes = ", ".join(V.PADDING_MODES)
            raise ArgumentError(f"Conv1d: padding_mode must be one of {modes}, got {padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = (V.single(kernel_size, "kernel_size", "Conv1d", 1),)
        self.stride = (V.single(stride, "stride", "Conv1d", 1),)
        self.dilation = (V.single(dilation, "dilation", "Conv1d", 1),)
        V.conv1d_pads(padding, self.kernel_size[0], self.stride[0], self.dilation[0], "Conv1d")  # check it now
        self.padding = padding if isinstance(padding, str) else (V.single(padding, "padding", "Conv1d"),)
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = Parameter.empty((out_channels, in_channels // groups, self.kernel_size[0]))
        self.register_parameter("bias", Parameter.empty(out_channels) if bias else None)
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = _conv_bias_bound(self.weight, self.kernel_size[0])
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, x):
        return V._conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                         f"Conv1d({self.in_channels}, {self.out_channels})", self.padding_mode)

    def extra_repr(self):
        return Conv2d.extra_repr(self)


@register("conv_transpose2d")
class ConvTranspose2d(Module):
    """The transposed convolution (the input gradient of a Conv2d) of (N, C, H, W) or (C, H, W) input.

    As torch.nn.ConvTranspose2d: ``kernel_size``, ``stride``, ``padding``, ``output_padding`` and
    ``dilation`` are ints or (height, width) pairs, stored as pairs; only ``padding_mode="zeros"``. The
    weight has shape (in_channels, out_channels / groups, kH, kW), initialised as torch: kaiming_uniform_
    with a = sqrt(5) (fan_in from axis 1: out_channels / groups * kH * kW), the bias uniform in
    +-1/sqrt(that fan_in). ``forward(x, output_size=None)``: an ``output_size`` (the spatial sizes, or the
    whole shape) picks the output_padding that gives it, as torch.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros"):
        super().__init__()
        if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
            raise ArgumentError(f"ConvTranspose2d: groups must be a positive int, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ArgumentError(
                f"ConvTranspose2d: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                f"divisible by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise ArgumentError(f"ConvTranspose2d: only padding_mode='zeros' is supported, got {padding_mode!r}")
        name = "ConvTranspose2d"
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", name, 1)
        self.stride = pair(stride, "stride", name, 1)
        self.padding = pair(padding, "padding", name)
        self.output_padding = pair(output_padding, "output_padding", name)
        self.dilation = pair(dilation, "dilation", name, 1)
        if any(p >= max(s, d) for p, s, d in zip(self.output_padding, self.stride, self.dilation)):
            raise ArgumentError(
                f"{name}: output_padding must be smaller than the stride or the dilation (in each dimension), got "
                f"output_padding={self.output_padding} with stride={self.stride} and dilation={self.dilation}"
            )
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = Parameter.empty((in_channels, out_channels // groups, *self.kernel_size))
        self.register_parameter("bias", Parameter.empty(out_channels) if bias else None)
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = _conv_bias_bound(self.weight, self.kernel_size[0] * self.kernel_size[1])
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def _layer(self):
        return f"ConvTranspose2d({self.in_channels}, {self.out_channels})"

    def _output_padding(self, shape, output_size):
        """The output_padding that gives ``output_size`` (torch's rule: it must lie within stride - 1 of the least)."""
        if output_size is None:
            return self.output_padding
        sizes = [int(s) for s in output_size]
        lead = 2 if len(shape) == 4 else 1
        if len(sizes) == lead + 2:
            sizes = sizes[lead:]
        if len(sizes) != 2:
            raise ShapeError(
                f"{self._layer()}: output_size must give the 2 spatial sizes (or the whole output shape), got "
                f"{list(output_size)} for input of shape {shape}"
            )
        least = CT.transpose_out_size(shape[-2:], self.kernel_size, self.stride, self.padding, (0, 0), self.dilation)
        most = [m + s - 1 for m, s in zip(least, self.stride)]
        if not all(lo <= s <= hi for s, lo, hi in zip(sizes, least, most)):
            raise ShapeError(
                f"{self._layer()}: output_size {sizes} is not reachable from input of shape {shape}: valid sizes "
                f"range from {list(least)} to {most}"
            )
        return tuple(s - lo for s, lo in zip(sizes, least))

    def forward(self, x, output_size=None):
        x = x if isinstance(x, Tensor) else Tensor(x)
        output_padding = self._output_padding(x.shape, output_size)
        CT.transpose_geometry(self._layer(), x.shape, self.weight.shape, self.stride, self.padding, output_padding,
                              self.groups, self.dilation)  # errors name the layer
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
                                  self.dilation)

    def extra_repr(self):
        return Conv2d.extra_repr(self)
