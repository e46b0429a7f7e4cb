"""Upsampling layers, as torch.nn: Upsample, UpsamplingNearest2d, UpsamplingBilinear2d (``functional.interpolate``)."""

from ..errors import ArgumentError
from ..functional import vision as V
from ..registry import register
from .module import Module

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear")


@register("upsample")
class Upsample(Module):
    """Resize the spatial axes of (N, C, ...) input to ``size`` or by ``scale_factor`` with ``mode``
    (``"nearest"``, ``"nearest-exact"``, ``"linear"``, ``"bilinear"``, ``"trilinear"``), as torch.nn.Upsample.

    Give ``size`` or ``scale_factor`` (a number, or one per spatial axis, stored as floats as torch);
    ``align_corners`` only with the linear modes. See ``functional.interpolate`` for torch's coordinate rules.
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        name = type(self).__name__
        if mode not in _MODES:
            raise ArgumentError(f"{name}: mode must be one of {', '.join(map(repr, _MODES))}, got {mode!r}")
        if (size is None) == (scale_factor is None):
            raise ArgumentError(f"{name}: give size or scale_factor (one of them)")
        if align_corners is not None and mode in ("nearest", "nearest-exact"):
            raise ArgumentError(
                f"{name}: align_corners can only be set with the interpolating modes linear, bilinear and "
                f"trilinear; leave it None for mode={mode!r}"
            )
        self.size = size
        if isinstance(scale_factor, tuple | list):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        return V._interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                              self.recompute_scale_factor, False, type(self).__name__)


@register("upsampling_nearest2d")
class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of (N, C, H, W) input (``Upsample`` with mode ``"nearest"``)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


@register("upsampling_bilinear2d")
class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of (N, C, H, W) input with ``align_corners=True`` (as torch.nn.UpsamplingBilinear2d)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
