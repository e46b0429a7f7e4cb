"""Conv2d: a 2-D convolution layer over (N, C, H, W) inputs, as torch.nn.Conv2d."""

import math

from .. import functional as F
from ..errors import ArgumentError
from ..ops.conv import conv_padding, pair
from ..registry import register
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv2d"]


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
