"""The transposed convolution primitive on NCHW arrays (torch.nn.functional.conv_transpose2d).

A transposed convolution is the input gradient of a convolution: its forward is a GEMM that makes
columns, which a col2im adds into the output one kernel offset at a time (kh * kw strided slice
additions over the whole batch). Its backward is a convolution: the input gradient is a conv2d of
the output gradient with the same weight, and the weight gradient a correlation of the input with
the windows of the output gradient; both read one im2col of the (zero-padded) output gradient, made
chunk by chunk as ``ops.conv.Conv2d`` makes its own.
"""

import numpy as np

from ..autograd.function import Primitive
from ..backend import array_module
from ..errors import ArgumentError, ShapeError
from .conv import _im2col_chunks, _matmul_cols, _matmul_nt, _offsets, _windows, pair


def transpose_out_size(size, kernel, stride, padding, output_padding, dilation):
    """The output (height, width) of a transposed convolution: (n - 1) s - 2 p + d (k - 1) + output_padding + 1."""
    return tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        for n, k, s, p, op, d in zip(size, kernel, stride, padding, output_padding, dilation)
    )


def transpose_geometry(op, xshape, wshape, stride, padding, output_padding, groups, dilation):
    """Check a transposed convolution's arguments against the input and weight shapes (ShapeError or
    ArgumentError naming ``op``); returns (stride, padding, output_padding, dilation, output (H, W)) as pairs."""
    if len(xshape) not in (3, 4):
        raise ShapeError(
            f"{op}: expected a 4D (N, C, H, W) or 3D (C, H, W) input, got input of shape {xshape} "
            f"(weight of shape {wshape})"
        )
    if len(wshape) != 4:
        raise ShapeError(
            f"{op}: weight must be 4D (in_channels, out_channels / groups, kH, kW), got weight of shape {wshape} "
            f"(input of shape {xshape})"
        )
    if not isinstance(groups, int | np.integer) or isinstance(groups, bool) or groups < 1:
        raise ArgumentError(f"{op}: groups must be a positive int, got {groups!r}")
    c = xshape[-3]
    if c != wshape[0]:
        raise ShapeError(
            f"{op}: input of shape {xshape} has {c} channels but weight of shape {wshape} expects {wshape[0]}"
        )
    if c % groups:
        raise ShapeError(
            f"{op}: weight of shape {wshape} has {c} input channels, which groups={groups} does not divide"
        )
    stride = pair(stride, "stride", op, 1)
    padding = pair(padding, "padding", op)
    output_padding = pair(output_padding, "output_padding", op)
    dilation = pair(dilation, "dilation", op, 1)
    if any(p >= max(s, d) for p, s, d in zip(output_padding, stride, dilation)):
        raise ArgumentError(
            f"{op}: output_padding must be smaller than the stride or the dilation (in each dimension), got "
            f"output_padding={output_padding} with stride={stride} and dilation={dilation}"
        )
    out_hw = transpose_out_size(xshape[-2:], wshape[2:], stride, padding, output_padding, dilation)
    if min(out_hw) < 1:
        raise ShapeError(
            f"{op}: input of shape {xshape} with weight of shape {wshape} gives an output of size "
            f"{out_hw[0]}x{out_hw[1]}: padding={padding} is too large; use less padding or a larger input"
        )
    return stride, padding, output_padding, dilation, out_hw


class ConvTranspose2d(Primitive):
    """Fused (one GEMM + col2im): as a composite, every kernel offset would be a graph node and a full copy.

    ``ConvTranspose2d.apply(x, w, b=None, stride=, padding=, output_padding=, groups=, dilation=)`` with
    x (N, C_in, H, W) or (C_in, H, W) and w (C_in, C_out / groups, kH, kW), as torch. The forward
    multiplies each group's weight, transposed, by the input, giving columns (C_out, kh, kw, N, H, W),
    and adds each kernel offset's columns into the output at rows i * d + y * s (a col2im); the output
    is the full result with ``padding`` cut from each side and ``output_padding`` more rows and columns
    at the end. Only the input's matrix and the weight are kept for the backward (each only when the
    other's gradient is asked for).
    """

    name = "conv_transpose2d"
    deeplift = "product"

    def forward(self, x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        stride, pads, _, dilation, out_hw = transpose_geometry(
            "conv_transpose2d", x.shape, w.shape, stride, padding, output_padding, groups, dilation
        )
        c, og, kh, kw = w.shape
        o = og * groups
        if b is not None and b.shape != (o,):
            raise ShapeError(f"conv_transpose2d: bias of shape {b.shape} does not fit weight of shape {w.shape}: "
                             f"expected ({o},)")
        self.unbatched = x.ndim == 3
        if self.unbatched:
            x = x[None]
        n, _, h, wd = x.shape
        lib = array_module(x)
        dtype = np.result_type(x.dtype, w.dtype)
        xm = lib.empty((c, n, h, wd), x.dtype)
        lib.copyto(xm, x.transpose(1, 0, 2, 3))
        xm = xm.reshape(groups, c // groups, n * h * wd)
        wm = w.reshape(groups, c // groups, og * kh * kw)
        cols = _matmul_cols(wm.transpose(0, 2, 1), xm, lib.empty((groups, og * kh * kw, n * h * wd), dtype))
        cols = cols.reshape(o, kh, kw, n, h, wd)
        full = [(m - 1) * s + d * (k - 1) + 1 for m, s, d, k in zip((h, wd), stride, dilation, (kh, kw))]
        # the buffer holds the full result and, past it, the zeros that output_padding may add
        size = [max(f, p + m) for f, p, m in zip(full, pads, out_hw)]
        buf = lib.zeros((o, n, *size), dtype)
        for i, j, rows, columns in _offsets((kh, kw), stride, dilation, (h, wd)):
            buf[:, :, rows, columns] += cols[:, i, j]
        view = buf[:, :, pads[0] : pads[0] + out_hw[0], pads[1] : pads[1] + out_hw[1]].transpose(1, 0, 2, 3)
        out = lib.empty((n, o, *out_hw), dtype)
        if b is not None:
            np.add(view, b.reshape(o, 1, 1), out=out)
        else:
            lib.copyto(out, view)
        need = self.needs_input_grad
        self.saved = (xm if len(need) > 1 and need[1] else None, wm if need[0] else None)
        self.geometry = ((n, c, h, wd), w.shape, groups, stride, dilation, pads, full)
        return out[0] if self.unbatched else out

    def backward(self, g):
        xm, wm = self.saved
        (n, c, h, wd), wshape, groups, stride, dilation, pads, full = self.geometry
        if self.unbatched:
            g = g[None]
        need = self.needs_input_grad
        o, (kh, kw) = g.shape[1], wshape[2:]
        lib = array_module(g)
        # the output gradient placed in the full result's frame (zeros where padding was cut), channels first
        gp = lib.zeros((o, n, *full), g.dtype)
        hi = [max(0, min(p + m, f) - p) for p, m, f in zip(pads, g.shape[2:], full)]  # the part that lies in the frame
        gp[:, :, pads[0] : pads[0] + hi[0], pads[1] : pads[1] + hi[1]] = g[:, :, : hi[0], : hi[1]].transpose(1, 0, 2, 3)
        view = _windows(gp, (kh, kw), stride, dilation, (h, wd)).transpose(0, 4, 5, 1, 2, 3)  # (O, kh, kw, N, H, W)
        k = (o // groups) * kh * kw
        gxm = lib.empty((groups, c // groups, n * h * wd), g.dtype) if need[0] else None
        gwm = None  # (groups, C_in / groups, K), summed over the chunks
        for cols, span in _im2col_chunks(view, groups, k * c // groups > 1024):
            if need[0]:
                _matmul_cols(wm, cols, gxm[:, :, span])
            if len(need) > 1 and need[1]:
                part = _matmul_nt(xm[:, :, span], cols)
                gwm = part if gwm is None else np.add(gwm, part, out=gwm)
        gx = gw = gb = None
        if need[0]:
            gx = gxm.reshape(c, n, h, wd).transpose(1, 0, 2, 3)
            if self.unbatched:
                gx = gx[0]
        if gwm is not None:
            gw = gwm.reshape(wshape)
        if len(need) > 2 and need[2]:
            gb = g.sum(axis=(0, 2, 3))
        return gx, gw, gb
