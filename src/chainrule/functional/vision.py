"""Functional forms of the vision layers, as torch.nn.functional: conv1d, conv_transpose2d, 1-d pooling,
dropout2d, interpolate, group_norm, and the activations prelu, relu6, hardtanh and mish.

All but conv_transpose2d (a primitive of its own, ``ops.conv_transpose``) are composites: conv1d and the 1-d
pools run the 2-d primitives on a (N, C, 1, L) view, interpolate gathers rows and columns and weighs them
(its source indices and weights computed by torch's rules, in the input's precision), group_norm is a
layer norm over each group, and the activations are built from where, clip, tanh and softplus.

The ``_``-prefixed forms take ``op``, the name that their errors give (a layer's name when a module calls).
"""

import math
import numbers
import warnings

import numpy as np

from ..backend import array_module
from ..errors import ArgumentError, ShapeError
from ..ops import conv as C
from ..ops import conv_transpose as CT
from ..random import rng
from ..tensor import Tensor, _raw
from . import core as K
from .norm import layer_norm

__all__ = [
    "adaptive_avg_pool1d",
    "avg_pool1d",
    "conv1d",
    "conv_transpose2d",
    "dropout2d",
    "group_norm",
    "hardtanh",
    "interpolate",
    "max_pool1d",
    "mish",
    "prelu",
    "relu6",
    "upsample",
]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _is_int(v):
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def single(value, name, op, minimum=0):
    """``value`` (an int or a 1-tuple / 1-list of one) as an int of at least ``minimum`` (torch's ``_single``)."""
    items = tuple(value) if isinstance(value, tuple | list) else (value,)
    if len(items) != 1 or not _is_int(items[0]):
        raise ArgumentError(f"{op}: {name} must be an int or a tuple of one int, got {value!r}")
    if items[0] < minimum:
        raise ArgumentError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return int(items[0])


# ---- conv1d ----------------------------------------------------------------------------------------------------

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _pad_index(length, left, right, mode, op, shape):
    """The source index of every position of an axis of ``length`` padded by ``left`` / ``right`` in ``mode``."""
    if mode == "reflect" and max(left, right) >= length:
        raise ShapeError(
            f"{op}: padding_mode='reflect' needs padding smaller than the input length, got padding ({left}, {right}) "
            f"for input of shape {shape}"
        )
    if mode == "circular" and max(left, right) > length:
        raise ShapeError(
            f"{op}: padding_mode='circular' needs padding at most the input length, got padding ({left}, {right}) "
            f"for input of shape {shape}"
        )
    idx = np.arange(-left, length + right)
    if mode == "reflect":
        idx = np.abs(idx)
        idx = np.where(idx > length - 1, 2 * (length - 1) - idx, idx)
    elif mode == "replicate":
        idx = np.clip(idx, 0, length - 1)
    else:
        idx = idx % length
    return idx


def conv1d_pads(padding, kernel, stride, dilation, op):
    """conv1d's padding (an int, a 1-tuple, ``"valid"`` or ``"same"``) as (left, right), as torch."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding == "same":
            if stride != 1:
                raise ArgumentError(f"{op}: padding='same' needs stride 1, got stride={stride}")
            total = dilation * (kernel - 1)
            return total // 2, total - total // 2  # as torch: the odd one out goes at the end
        raise ArgumentError(f"{op}: padding must be an int, 'valid' or 'same', got {padding!r}")
    p = single(padding, "padding", op)
    return p, p


def _conv1d(x, weight, bias, stride, padding, dilation, groups, op, padding_mode="zeros"):
    x, w = _t(x), _t(weight)
    if x.ndim not in (2, 3):
        raise ShapeError(
            f"{op}: expected a 3D (N, C, L) or 2D (C, L) input, got input of shape {x.shape} "
            f"(weight of shape {w.shape})"
        )
    if w.ndim != 3:
        raise ShapeError(
            f"{op}: weight must be 3D (out_channels, in_channels / groups, kL), got weight of shape {w.shape} "
            f"(input of shape {x.shape})"
        )
    if not _is_int(groups) or groups < 1:
        raise ArgumentError(f"{op}: groups must be a positive int, got {groups!r}")
    o, cg, k = w.shape
    c, length = x.shape[-2:]
    if c != cg * groups:
        raise ShapeError(
            f"{op}: input of shape {x.shape} has {c} channels but weight of shape {w.shape} expects {cg * groups} "
            f"(groups={groups})"
        )
    if o % groups:
        raise ShapeError(
            f"{op}: weight of shape {w.shape} has {o} output channels, which groups={groups} does not divide"
        )
    if bias is not None and tuple(_raw(bias).shape) != (o,):
        raise ShapeError(
            f"{op}: bias of shape {tuple(_raw(bias).shape)} does not fit weight of shape {w.shape}: expected ({o},)"
        )
    if padding_mode not in PADDING_MODES:
        raise ArgumentError(f"{op}: padding_mode must be one of {', '.join(PADDING_MODES)}, got {padding_mode!r}")
    stride = single(stride, "stride", op, 1)
    dilation = single(dilation, "dilation", op, 1)
    left, right = conv1d_pads(padding, k, stride, dilation, op)
    window = dilation * (k - 1) + 1
    if length + left + right < window:
        raise ShapeError(
            f"{op}: input of shape {x.shape}, padded to length {length + left + right}, is shorter than the "
            f"{window}-long window of weight of shape {w.shape}: the output would be empty; use a longer input, "
            "more padding or a smaller kernel"
        )
    if padding_mode != "zeros" and (left or right):
        x = x[..., _pad_index(length, left, right, padding_mode, op, x.shape)]
        left = right = 0
    pad2 = (0, left) if left == right else "same"  # unequal sides only come from 'same', which conv2d knows
    x4 = K.unsqueeze(x, -2)  # (N, C, 1, L) or (C, 1, L)
    w4 = K.unsqueeze(w, 2)  # (O, C / groups, 1, kL)
    options = {"stride": (1, stride), "padding": pad2, "dilation": (1, dilation), "groups": groups}
    args = (x4, w4) if bias is None else (x4, w4, bias)
    return K.squeeze(C.Conv2d.apply(*args, **options), -2)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation, as torch) of (N, C_in, L) or (C_in, L) input with a weight of shape
    (out_channels, in_channels / groups, kL).

    ``padding`` is an int, ``"valid"`` (none) or ``"same"`` (output as long as the input; stride 1 only).
    """
    return _conv1d(input, weight, bias, stride, padding, dilation, groups, "conv1d")


# ---- conv_transpose2d ------------------------------------------------------------------------------------------


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution (the input gradient of a conv2d, as torch) of (N, C_in, H, W) or (C_in, H, W) input
    with a weight of shape (in_channels, out_channels / groups, kH, kW).

    The output size is (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1 (and so for W);
    ``output_padding`` must be smaller than the stride or the dilation.
    """
    x, w = _t(input), _t(weight)
    options = {"stride": stride, "padding": padding, "output_padding": output_padding, "groups": groups,
               "dilation": dilation}
    args = (x, w) if bias is None else (x, w, bias)
    return CT.ConvTranspose2d.apply(*args, **options)


# ---- 1-d pooling -----------------------------------------------------------------------------------------------


def pool1d_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    """(kernel, stride, padding, dilation, output length) of a 1-d pool of ``x``, checked as torch checks them."""
    if x.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected a 3D (N, C, L) or 2D (C, L) input, got input of shape {x.shape}")
    k = single(kernel_size, "kernel_size", op, 1)
    s = k if stride is None or (isinstance(stride, tuple | list) and not stride) else single(stride, "stride", op, 1)
    p = single(padding, "padding", op)
    d = single(dilation, "dilation", op, 1)
    if p > k // 2:  # as torch's 1-d pools: half of the kernel size itself, whatever the dilation
        raise ArgumentError(
            f"{op}: padding {padding!r} is more than half of the kernel size {kernel_size!r} (at most {k // 2} here)"
        )
    window = d * (k - 1) + 1
    length = x.shape[-1]
    room = length + 2 * p - window
    if room < 0:
        raise ShapeError(
            f"{op}: input of shape {x.shape}, padded to length {length + 2 * p}, is shorter than the {window}-long "
            f"window of kernel_size={kernel_size!r}: the output would be empty; use a longer input or more padding"
        )
    if ceil_mode:
        out = -(-room // s) + 1
        if (out - 1) * s >= length + p:  # as torch: the last window must start inside the input or the left padding
            out -= 1
    else:
        out = room // s + 1
    return k, s, p, d, out


def _ceil_extra(length, k, s, p, d, out):
    """How many cells past the right padding the last window of a ceil-mode pool reads (0 in floor mode)."""
    return max(0, (out - 1) * s + d * (k - 1) + 1 - (length + 2 * p))


def _max_pool1d(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, op):
    x = _t(x)
    if return_indices:
        raise ArgumentError(f"{op}: return_indices=True is not supported; chainrule has no max_unpool to use them")
    k, s, p, d, out = pool1d_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode)
    extra = _ceil_extra(x.shape[-1], k, s, p, d, out)
    if extra:  # the cells a ceil-mode window reads past the padding count as -inf, as the padding does
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        x = K.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, extra)], value=fill)
    y = C.MaxPool2d.apply(K.unsqueeze(x, -2), kernel_size=(1, k), stride=(1, s), padding=(0, p), dilation=(1, d))
    return K.squeeze(y, -2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum of each window of (N, C, L) or (C, L) input; ``stride`` defaults to ``kernel_size``, padding
    counts as -inf; with ``ceil_mode`` a last partial window is kept when it starts inside the input or the
    left padding (as torch)."""
    return _max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d")


def _avg_pool1d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, op):
    x = _t(x)
    k, s, p, _, out = pool1d_geometry(op, x, kernel_size, stride, padding, 1, ceil_mode)
    length = x.shape[-1]
    extra = _ceil_extra(length, k, s, p, 1, out)
    if extra:
        x = K.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, extra)])
    y = K.squeeze(C.AvgPool2d.apply(K.unsqueeze(x, -2), kernel_size=(1, k), stride=(1, s), padding=(0, p)), -2)
    if count_include_pad and not extra:
        return y
    # the primitive divides every window's sum by k; torch divides by the cells of the window inside the padded
    # input (count_include_pad) or inside the input itself
    start = np.arange(out) * s - p
    end = np.minimum(start + k, length + p)
    count = end - start if count_include_pad else np.minimum(end, length) - np.maximum(start, 0)
    if (count == k).all():
        return y
    return y * Tensor._wrap(array_module(x._data).asarray(k / count, dtype=y.dtype))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """The mean of each window of (N, C, L) or (C, L) input; ``stride`` defaults to ``kernel_size``. Zero padding
    counts in the mean unless ``count_include_pad=False``; ``ceil_mode`` as max_pool1d (as torch)."""
    return _avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, "avg_pool1d")


def _adaptive_avg_pool1d(input, output_size, op):
    x = _t(input)
    if x.ndim not in (2, 3):
        raise ShapeError(f"{op}: expects (N, C, L) or (C, L) input, got shape {tuple(x.shape)}")
    size = single(output_size, "output_size", op, 1)
    return K.squeeze(C.AdaptiveAvgPool2d.apply(K.unsqueeze(x, -2), output_size=(1, size)), -2)


def adaptive_avg_pool1d(input, output_size):
    """Means over the ``output_size`` windows that split the length of (N, C, L) or (C, L) input, as torch's
    (window ``i`` spans ``floor(i L / n)`` to ``ceil((i + 1) L / n)``); ``output_size=1`` is the global mean."""
    return _adaptive_avg_pool1d(input, output_size, "adaptive_avg_pool1d")


# ---- dropout2d -------------------------------------------------------------------------------------------------


def check_probability(p, op):
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ArgumentError(f"{op}: p must be a probability between 0 and 1, got {p!r}")


def dropout2d(input, p=0.5, training=True, inplace=False, generator=None, seed=None):
    """Zero whole channels: each (sample, channel) map of an (N, C, H, W) input is zeroed with probability ``p``
    and the others scaled by 1 / (1 - p); the identity when not training.

    As torch 2.13, a 3-D input is taken as (N, C, L) (channel-wise 1-d dropout, with torch's warning), and other
    inputs of at least 2 dimensions as (N, C, *) with a deprecation warning. The mask is drawn from
    ``generator`` / ``seed``, or from chainrule's default generator. ``inplace=True`` is accepted and gives
    the same values, as a new tensor.
    """
    check_probability(p, "dropout2d")
    x = _t(input)
    if x.ndim < 2:
        raise ShapeError(f"dropout2d: expected an (N, C, H, W) input, got input of shape {x.shape}")
    if x.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {x.ndim}-D input to dropout2d, which is deprecated and will result in an error "
            "in a future release. To retain the behavior and silence this warning, please use dropout instead. "
            "Note that dropout2d exists to provide channel-wise dropout on inputs with 2 spatial dimensions, a "
            "channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if x.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    shape = x.shape[:2] + (1,) * (x.ndim - 2)
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float32)  # the dtypes random() draws
    keep = rng(seed, generator).random(shape, dtype=dtype) >= p
    return x * Tensor._wrap(array_module(x._data).asarray(keep * dtype.type(1.0 / (1.0 - p))))


# ---- interpolate -----------------------------------------------------------------------------------------------

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}  # mode -> the number of spatial axes it needs
_NEAREST = ("nearest", "nearest-exact")


def _nearest_index(n_in, n_out, scale, exact, shortcuts):
    """torch's source index of each output position: floor(dst * s) (``exact``: floor((dst + 0.5) * s)) capped at
    n_in - 1, in float32 whatever the input's dtype, s = 1 / scale_factor when one is given, else n_in / n_out.

    With ``shortcuts`` (torch's 2-d kernel, 'nearest' only) an output of the input's size copies it and one of
    twice its size repeats each element twice, whatever the scale factor (1 / 1.1 or 1 / 2.2 would not).
    """
    if shortcuts and not exact and n_out == n_in:
        return np.arange(n_out)
    if shortcuts and not exact and n_out == 2 * n_in:
        return np.arange(n_out) // 2
    f32 = np.float32
    s = f32(1.0 / scale) if scale else f32(n_in) / f32(n_out)
    dst = np.arange(n_out, dtype=f32)
    if exact:
        dst = dst + f32(0.5)
    return np.minimum(np.floor(dst * s).astype(np.int64), n_in - 1)


def _source_index(s, n_out, dtype):
    """torch's s * (dst + 0.5) - 0.5 for dst = 0 .. n_out - 1. For float32 torch rounds the exact value once (as a
    fused multiply-add; computed exactly in float64 here), which gives its weights bit for bit; for float64 it
    rounds the product and the difference, or (for some sizes) once: the weights agree within an ulp."""
    dst = np.arange(n_out, dtype=np.float64) + 0.5
    return (np.float64(s) * dst - 0.5).astype(dtype)


def _linear_weights(n_in, n_out, scale, align_corners, dtype):
    """torch's (index0, index1, lambda0, lambda1) of each output position, in ``dtype`` (torch's opmath type), for
    n_out != n_in (torch weighs an unchanged axis's own element by 1 and 0).

    The source coordinate is s * dst with align_corners, else s * (dst + 0.5) - 0.5 clamped at 0; s is
    (n_in - 1) / (n_out - 1) with align_corners, else 1 / scale_factor when one is given, else n_in / n_out.
    """
    t = dtype.type
    if align_corners:
        s = t(n_in - 1) / t(n_out - 1) if n_out > 1 else t(0)
    else:
        s = t(1.0 / scale) if scale else t(n_in) / t(n_out)
    if align_corners:
        src = s * np.arange(n_out, dtype=dtype)
    else:
        src = np.maximum(_source_index(s, n_out, dtype), t(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam1 = np.clip(src - i0.astype(dtype), t(0), t(1)).astype(dtype)
    i1 = i0 + (i0 < n_in - 1)
    return i0, i1, (t(1) - lam1).astype(dtype), lam1


def _output_sizes(op, x, size, scale_factor, recompute_scale_factor):
    """The output's spatial sizes and the scale factors that torch's kernels use (None: sizes' ratio), as torch."""
    dims = x.ndim - 2
    if size is not None and scale_factor is not None:
        raise ArgumentError(f"{op}: give size or scale_factor, not both")
    if size is None and scale_factor is None:
        raise ArgumentError(f"{op}: give size or scale_factor")
    if size is not None:
        if recompute_scale_factor:
            raise ArgumentError(f"{op}: recompute_scale_factor is not meaningful with an explicit size")
        sizes = list(size) if isinstance(size, tuple | list) else [size] * dims
        if len(sizes) != dims:
            raise ShapeError(
                f"{op}: size {size!r} has {len(sizes)} entries but input of shape {x.shape} has {dims} spatial "
                f"dimension(s); give one size per spatial dimension of the (N, C, ...) input"
            )
        if not all(_is_int(s) for s in sizes):
            raise ArgumentError(f"{op}: size must be an int or a tuple of ints, got {size!r}")
        scales = [None] * dims
    else:
        scales = list(scale_factor) if isinstance(scale_factor, tuple | list) else [scale_factor] * dims
        if len(scales) != dims:
            raise ShapeError(
                f"{op}: scale_factor {scale_factor!r} has {len(scales)} entries but input of shape {x.shape} has "
                f"{dims} spatial dimension(s); give one factor per spatial dimension of the (N, C, ...) input"
            )
        if not all(isinstance(s, numbers.Real) and not isinstance(s, bool) and s > 0 for s in scales):
            raise ArgumentError(
                f"{op}: scale_factor must be a positive number or a tuple of them, got {scale_factor!r}"
            )
        scales = [float(s) for s in scales]
        sizes = [math.floor(n * s) for n, s in zip(x.shape[2:], scales)]
        if recompute_scale_factor:
            scales = [None] * dims
    if min(sizes) < 1:
        raise ShapeError(
            f"{op}: input of shape {x.shape} would give an output of spatial size {tuple(sizes)}: "
            "sizes must be at least 1; use a larger size or scale_factor"
        )
    return sizes, scales


def _interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias, op):
    x = _t(x)
    if mode not in _NEAREST and mode not in _LINEAR:
        valid = ", ".join(repr(m) for m in (*_NEAREST, *_LINEAR))
        raise ArgumentError(f"{op}: mode must be one of {valid}, got {mode!r}")
    if antialias:
        raise ArgumentError(f"{op}: antialias=True is not supported")
    if mode in _NEAREST:
        if align_corners is not None:
            raise ArgumentError(
                f"{op}: align_corners can only be set with the interpolating modes linear, bilinear and trilinear; "
                f"leave it None for mode={mode!r}"
            )
        if x.ndim not in (3, 4, 5):
            raise ShapeError(f"{op}: expected a 3D, 4D or 5D (N, C, ...) input, got input of shape {x.shape}")
    elif x.ndim != _LINEAR[mode] + 2:
        shapes = {1: "3D (N, C, L)", 2: "4D (N, C, H, W)", 3: "5D (N, C, D, H, W)"}
        raise ShapeError(f"{op}: mode={mode!r} needs a {shapes[_LINEAR[mode]]} input, got input of shape {x.shape}")
    sizes, scales = _output_sizes(op, x, size, scale_factor, recompute_scale_factor)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    lib = array_module(x._data)
    # axis by axis, the last first: torch's weights nest so, the outermost axis's outermost
    for axis in reversed(range(2, x.ndim)):
        n_in, n_out, scale = x.shape[axis], sizes[axis - 2], scales[axis - 2]
        head = (slice(None),) * axis
        if mode in _NEAREST:
            idx = _nearest_index(n_in, n_out, scale, mode == "nearest-exact", x.ndim == 4)
            if n_out != n_in or (idx != np.arange(n_out)).any():
                x = x[head + (lib.asarray(idx),)]
            continue
        if n_out == n_in:  # torch's weights 1 and 0 on the element itself: x, but NaN where x is infinite
            x = x * 1.0 + x * 0.0
            continue
        i0, i1, lam0, lam1 = _linear_weights(n_in, n_out, scale, bool(align_corners), dtype)
        tail = (1,) * (x.ndim - 1 - axis)
        w0 = Tensor._wrap(lib.asarray(lam0.reshape(-1, *tail)))
        w1 = Tensor._wrap(lib.asarray(lam1.reshape(-1, *tail)))
        x = x[head + (lib.asarray(i0),)] * w0 + x[head + (lib.asarray(i1),)] * w1
    return x


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resize the spatial axes of (N, C, ...) input to ``size`` or by ``scale_factor``, as torch.nn.functional.

    Modes: ``"nearest"`` (source index floor(dst * s)), ``"nearest-exact"`` (floor((dst + 0.5) * s)), and
    ``"linear"`` (3-D input), ``"bilinear"`` (4-D) and ``"trilinear"`` (5-D), with ``align_corners`` (default
    False). s is 1 / scale_factor when one is given (unless ``recompute_scale_factor``), else the ratio of the
    sizes; the output size is floor(input size * scale_factor).
    """
    return _interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias,
                        "interpolate")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """``interpolate`` under its older name (torch.nn.functional.upsample)."""
    return _interpolate(input, size, scale_factor, mode, align_corners, None, False, "upsample")


# ---- group_norm ------------------------------------------------------------------------------------------------


def _group_norm(x, num_groups, weight, bias, eps, op):
    x = _t(x)
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected an (N, C, *) input, got input of shape {x.shape}")
    if not _is_int(num_groups) or num_groups < 1:
        raise ArgumentError(f"{op}: num_groups must be a positive int, got {num_groups!r}")
    n, c = x.shape[:2]
    if c % num_groups:
        raise ShapeError(
            f"{op}: input of shape {x.shape} has {c} channels, which num_groups={num_groups} does not divide"
        )
    for what, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(_raw(p).shape) != (c,):
            raise ShapeError(
                f"{op}: {what} of shape {tuple(_raw(p).shape)} does not fit input of shape {x.shape}: expected ({c},)"
            )
    per_group = math.prod(x.shape[1:]) // num_groups
    y = K.reshape(layer_norm(K.reshape(x, (n, num_groups, per_group)), (per_group,), eps=eps), x.shape)
    channel = (c,) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * K.reshape(weight, channel)
    if bias is not None:
        y = y + K.reshape(bias, channel)
    return y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise (N, C, *) input over each of ``num_groups`` groups of channels (with their spatial axes), then
    scale and shift each channel by ``weight`` and ``bias`` (shape (C,)), as torch.nn.functional.group_norm."""
    return _group_norm(input, num_groups, weight, bias, eps, "group_norm")


# ---- activations -----------------------------------------------------------------------------------------------


def _prelu(x, weight, op):
    x, w = _t(x), _t(weight)
    if w.ndim > 1:
        raise ShapeError(
            f"{op}: weight must be a scalar or 1-D, got weight of shape {w.shape} (input of shape {x.shape})"
        )
    k = math.prod(w.shape)
    if k != 1:
        channels = x.shape[1] if x.ndim > 1 else 1
        if x.ndim == 0 or channels != k:
            raise ShapeError(
                f"{op}: weight of shape {w.shape} has {k} parameters but input of shape {x.shape} has {channels} "
                "channels (axis 1); give one parameter, or one per channel"
            )
    if x.ndim >= 2:
        w = K.reshape(w, (k,) + (1,) * (x.ndim - 2))  # along axis 1
    return K.where(x._data > 0, x, x * w)


def prelu(input, weight):
    """x where x > 0, else weight * x, with one weight or one per channel (axis 1), as torch."""
    return _prelu(input, weight, "prelu")


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val]; as torch, the gradient is 0 outside the open interval (at its ends too).

    ``inplace=True`` is accepted and gives the same values, as a new tensor."""
    if min_val > max_val:
        raise ArgumentError(f"hardtanh: min_val ({min_val}) must not be greater than max_val ({max_val})")
    x = _t(input)
    a = x._data
    inside = (a > min_val) & (a < max_val)
    return K.where(inside, x, array_module(a).clip(a, min_val, max_val))  # the clipped values are constants


def relu6(input, inplace=False):
    """min(max(x, 0), 6): hardtanh(x, 0, 6), whose gradient is 0 at 0 and 6 (as torch)."""
    return hardtanh(input, 0.0, 6.0)


def mish(input, inplace=False):
    """x * tanh(softplus(x)) (as torch.nn.functional.mish)."""
    x = _t(input)
    return x * K.tanh(K.softplus(x))
