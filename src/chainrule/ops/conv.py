"""Convolution and pooling primitives on NCHW arrays; each says why it is fused.

The convolution is an im2col: a strided view of the (padded) input puts every kernel window
side by side without copying, one copy turns it into a matrix of columns, and one GEMM
multiplies the weight by it. The backward does one GEMM for the weight gradient and one for
the gradient of the columns, which a col2im adds back into the input gradient one kernel
offset at a time (kh * kw strided slice additions, each over the whole batch).

The input is handled as (C, N, H, W) inside: with the channels outermost, the columns come
out as rows (c, i, j) by (n, y, x), the weight multiplies them as they are, and the output
comes back as (O, N, Ho, Wo), returned as an (N, O, Ho, Wo) view (no copy).

Pooling reduces each window in two strided passes, along the width then along the height
(kw + kh whole-batch ufunc calls): NumPy's own reductions over the two short window axes of a
window view run some 30x slower. Their backward adds the gradient into the input one
kernel offset at a time, as the col2im does.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.function import Function
from ..errors import ArgumentError, ShapeError


def pair(value, name, op, minimum=0):
    """``value`` (an int or a pair of ints) as a pair of ints, each at least ``minimum``."""
    items = tuple(value) if isinstance(value, tuple | list) else (value, value)
    if len(items) != 2 or not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in items):
        raise ArgumentError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(items) < minimum:
        raise ArgumentError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return int(items[0]), int(items[1])


def conv_padding(padding, kernel_size, stride, dilation, op="conv2d"):
    """Padding as (top, bottom, left, right): from an int, a pair, ``"valid"`` or ``"same"`` (as torch)."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding == "same":
            if stride != (1, 1):
                raise ArgumentError(f"{op}: padding='same' needs stride 1, got stride={stride}")
            pads = []
            for k, d in zip(kernel_size, dilation):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]  # as torch: the odd one out goes at the end
            return tuple(pads)
        raise ArgumentError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    ph, pw = pair(padding, "padding", op)
    return ph, ph, pw, pw


def _windows(a, kernel, stride, dilation, out_hw):
    """The view (A, B, Ho, Wo, kh, kw) of the windows of ``a`` (A, B, H, W); read only, no copy."""
    sa, sb, sh, sw = a.strides
    shape = (*a.shape[:2], *out_hw, *kernel)
    strides = (sa, sb, stride[0] * sh, stride[1] * sw, dilation[0] * sh, dilation[1] * sw)
    return as_strided(a, shape, strides, writeable=False)


def _offsets(kernel, stride, dilation, out_hw):
    """For each kernel offset (i, j), in row-major order: the slices of the padded input that it reads."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
        for j in range(kw):
            yield i, j, rows, slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)


def _out_size(op, shape, size, pads, kernel, stride, dilation, of):
    """Output height and width; a ShapeError when the output would be empty (``of`` names the kernel's source)."""
    out = []
    for n, (p0, p1), k, s, d in zip(size, (pads[:2], pads[2:]), kernel, stride, dilation):
        out.append((n + p0 + p1 - d * (k - 1) - 1) // s + 1)
    if min(out) < 1:
        padded = f"{size[0] + pads[0] + pads[1]}x{size[1] + pads[2] + pads[3]}"
        window = f"{dilation[0] * (kernel[0] - 1) + 1}x{dilation[1] * (kernel[1] - 1) + 1}"
        if dilation != (1, 1):
            of += f" with dilation {dilation}"
        raise ShapeError(
            f"{op}: input of shape {shape}, padded to {padded}, is smaller than the {window} window {of}: "
            "the output would be empty; use a larger input, more padding or a smaller kernel"
        )
    return tuple(out)


def _check_input(op, x, other=""):
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 4D (N, C, H, W) or 3D (C, H, W) input, got input of shape {x.shape}{other}")


def _pad(x, pads, fill, channels_first=False):
    """``x`` (N, C, H, W) padded with ``fill``; as (C, N, H', W') when ``channels_first`` (x itself if no padding)."""
    if channels_first:
        x = x.transpose(1, 0, 2, 3)
    if not any(pads):
        return x
    pt, pb, pl, pr = pads
    a, b, h, w = x.shape
    shape = (a, b, h + pt + pb, w + pl + pr)
    xp = np.zeros(shape, dtype=x.dtype) if fill == 0 else np.full(shape, fill, dtype=x.dtype)
    xp[:, :, pt : pt + h, pl : pl + w] = x
    return xp


def _crop(gp, pads, size):
    pt, _, pl, _ = pads
    return gp[:, :, pt : pt + size[0], pl : pl + size[1]]


class Conv2d(Function):
    """Fused (im2col + one GEMM): as a composite, every kernel offset would be a graph node and a full copy."""

    name = "conv2d"

    def forward(self, x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        _check_input("conv2d", x, f" (weight of shape {w.shape})")
        if w.ndim != 4:
            raise ShapeError(
                f"conv2d: weight must be 4D (out_channels, in_channels / groups, kH, kW), got weight of shape "
                f"{w.shape} (input of shape {x.shape})"
            )
        if not isinstance(groups, int | np.integer) or isinstance(groups, bool) or groups < 1:
            raise ArgumentError(f"conv2d: groups must be a positive int, got {groups!r}")
        self.unbatched = x.ndim == 3
        if self.unbatched:
            x = x[None]
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        xshape = x.shape[1:] if self.unbatched else x.shape
        if c != cg * groups:
            raise ShapeError(
                f"conv2d: input of shape {xshape} has {c} channels but weight of shape {w.shape} expects "
                f"{cg * groups} (groups={groups})"
            )
        if o % groups:
            raise ShapeError(
                f"conv2d: weight of shape {w.shape} has {o} output channels, which groups={groups} does not divide"
            )
        if b is not None and b.shape != (o,):
            raise ShapeError(f"conv2d: bias of shape {b.shape} does not fit weight of shape {w.shape}: expected ({o},)")
        stride = pair(stride, "stride", "conv2d", 1)
        dilation = pair(dilation, "dilation", "conv2d", 1)
        pads = conv_padding(padding, (kh, kw), stride, dilation)
        of = f"of weight of shape {w.shape}"
        out_hw = _out_size("conv2d", xshape, (h, wd), pads, (kh, kw), stride, dilation, of)

        xp = _pad(x, pads, 0, channels_first=True)  # (C, N, H', W')
        # (C, kh, kw, N, Ho, Wo) -> (groups, K, N*Ho*Wo): the one copy of the forward (none for 1x1 on a CNHW input)
        cols = _windows(xp, (kh, kw), stride, dilation, out_hw).transpose(0, 4, 5, 1, 2, 3)
        cols = cols.reshape(groups, cg * kh * kw, n * out_hw[0] * out_hw[1])
        wm = w.reshape(groups, o // groups, cg * kh * kw)
        out = wm[0] @ cols[0] if groups == 1 else np.matmul(wm, cols)
        out = out.reshape(o, n, *out_hw)
        if b is not None:
            out += b.reshape(o, 1, 1, 1)
        self.saved = (cols, wm)
        self.geometry = (x.shape, xp.shape, (kh, kw), stride, dilation, pads, out_hw)
        out = out.transpose(1, 0, 2, 3)
        return out[0] if self.unbatched else out

    def backward(self, g):
        cols, wm = self.saved
        xshape, pshape, kernel, stride, dilation, pads, out_hw = self.geometry
        if self.unbatched:
            g = g[None]
        groups, og, k = wm.shape
        n = self.needs_input_grad
        # (N, O, Ho, Wo) -> (groups, O / groups, N*Ho*Wo); no copy when g has the layout of the forward's output
        g2 = g.transpose(1, 0, 2, 3).reshape(groups, og, -1)
        gx = gw = gb = None
        if n[1]:
            # computed transposed, as cols @ g2.T (K, O/groups): OpenBLAS runs this shape some 20% faster
            gwt = cols[0] @ g2[0].T if groups == 1 else np.matmul(cols, g2.transpose(0, 2, 1))
            gw = gwt.swapaxes(-1, -2).reshape(groups * og, k // (kernel[0] * kernel[1]), *kernel)
        if len(n) > 2 and n[2]:
            gb = g2.sum(axis=2).reshape(-1)
        if n[0]:
            gcols = wm[0].T @ g2[0] if groups == 1 else np.matmul(wm.transpose(0, 2, 1), g2)
            gcols = gcols.reshape(pshape[0], *kernel, *pshape[1:2], *out_hw)  # (C, kh, kw, N, Ho, Wo)
            gp = np.zeros(pshape, dtype=gcols.dtype)  # (C, N, H', W')
            for i, j, rows, columns in _offsets(kernel, stride, dilation, out_hw):  # col2im
                gp[:, :, rows, columns] += gcols[:, i, j]
            gx = _crop(gp, pads, xshape[2:]).transpose(1, 0, 2, 3)
            if self.unbatched:
                gx = gx[0]
        return gx, gw, gb


def _pool_geometry(op, x, kernel_size, stride, padding, dilation=1):
    _check_input(op, x)
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else pair(stride, "stride", op, 1)
    ph, pw = pair(padding, "padding", op)
    dilation = pair(dilation, "dilation", op, 1)
    half = [(d * (k - 1) + 1) // 2 for k, d in zip(kernel, dilation)]
    if ph > half[0] or pw > half[1]:
        raise ArgumentError(
            f"{op}: padding {padding!r} is more than half of the kernel size {kernel_size!r} "
            f"(at most {tuple(half)} here)"
        )
    pads = (ph, ph, pw, pw)
    out_hw = _out_size(op, x.shape, x.shape[-2:], pads, kernel, stride, dilation, f"of kernel_size={kernel_size!r}")
    return kernel, stride, pads, dilation, out_hw


def _lines(k, s, d, n_out):
    """The slices of one axis that kernel offsets 0 .. k-1 read, for ``n_out`` windows."""
    return [slice(i * d, i * d + s * (n_out - 1) + 1, s) for i in range(k)]


def _reduce_windows(ufunc, xp, kernel, stride, dilation, out_hw):
    """``ufunc`` (np.maximum, np.add) over every window of ``xp``: along the width, then along the height."""
    columns = _lines(kernel[1], stride[1], dilation[1], out_hw[1])
    m = xp[:, :, :, columns[0]].copy()  # (N, C, H', Wo)
    for cols in columns[1:]:
        ufunc(m, xp[:, :, :, cols], out=m)
    rows = _lines(kernel[0], stride[0], dilation[0], out_hw[0])
    out = m[:, :, rows[0]].copy()  # (N, C, Ho, Wo)
    for r in rows[1:]:
        ufunc(out, m[:, :, r], out=out)
    return out


def _spread_windows(gs, pshape, kernel, stride, dilation, out_hw):
    """The transpose of ``_reduce_windows`` with np.add: each window's ``gs`` added to all of its elements."""
    n, c, hp, wp = pshape
    gm = np.zeros((n, c, hp, out_hw[1]), dtype=gs.dtype)
    for r in _lines(kernel[0], stride[0], dilation[0], out_hw[0]):
        gm[:, :, r] += gs
    gp = np.zeros(pshape, dtype=gs.dtype)
    for cols in _lines(kernel[1], stride[1], dilation[1], out_hw[1]):
        gp[:, :, :, cols] += gm
    return gp


def _tiles(shape, kernel, stride, pads, dilation, out_hw):
    """True when the windows tile the input exactly (stride = kernel, no padding, no dilation, sizes divide)."""
    return (
        stride == kernel
        and not any(pads)
        and dilation == (1, 1)
        and out_hw[0] * kernel[0] == shape[-2]
        and out_hw[1] * kernel[1] == shape[-1]
    )


def _unbatch(op, x):
    op.unbatched = x.ndim == 3
    return x[None] if op.unbatched else x


class MaxPool2d(Function):
    """Fused: a composite (a max per kernel offset) would keep kh * kw intermediate arrays and graph nodes."""

    name = "max_pool2d"

    def forward(self, x, kernel_size=2, stride=None, padding=0, dilation=1):
        kernel, stride, pads, dilation, out_hw = _pool_geometry("max_pool2d", x, kernel_size, stride, padding, dilation)
        x = _unbatch(self, x)
        if x.dtype.kind == "f":
            fill = -np.inf
        else:
            fill = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else False
        xp = _pad(x, pads, fill)
        out = _reduce_windows(np.maximum, xp, kernel, stride, dilation, out_hw)  # NaN propagates, as torch
        self.saved = (xp, out)
        self.geometry = (x.shape, kernel, stride, pads, dilation, out_hw)
        return out[0] if self.unbatched else out

    def backward(self, g):
        xp, out = self.saved
        xshape, kernel, stride, pads, dilation, out_hw = self.geometry
        if self.unbatched:
            g = g[None]
        # as torch, each window sends its gradient to one element: the first maximum in row-major order, but the
        # last NaN if it has any (torch keeps `val > max or isnan(val)`), and never a padding cell
        offsets = list(_offsets(kernel, stride, dilation, out_hw))
        nan = np.isnan(out) if out.dtype.kind == "f" and np.isnan(out).any() else None
        last_nan = None
        if nan is not None:
            last_nan = np.full(out.shape, -1, dtype=np.int32)
            for k, (_, _, rows, cols) in enumerate(offsets):
                np.copyto(last_nan, k, where=np.isnan(xp[:, :, rows, cols]))
        valid = None
        if any(pads):
            valid = np.zeros(xp.shape[-2:], dtype=bool)
            valid[pads[0] : pads[0] + xshape[2], pads[2] : pads[2] + xshape[3]] = True
        gp = np.zeros(xp.shape, dtype=g.dtype)
        zero = np.zeros((), dtype=g.dtype)
        taken = None
        for k, (_, _, rows, cols) in enumerate(offsets):
            hit = xp[:, :, rows, cols] == out
            if valid is not None:
                hit &= valid[rows, cols]
            if taken is None:
                taken = hit.copy()
            else:
                hit &= ~taken
                taken |= hit
            if nan is not None:
                hit = np.where(nan, last_nan == k, hit)
            gp[:, :, rows, cols] += np.where(hit, g, zero)
        gx = _crop(gp, pads, xshape[2:])
        return gx[0] if self.unbatched else gx


class AvgPool2d(Function):
    """Fused: a composite (a sum per kernel offset) would keep kh * kw intermediate arrays and graph nodes."""

    name = "avg_pool2d"

    def forward(self, x, kernel_size=2, stride=None, padding=0):
        kernel, stride, pads, dilation, out_hw = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding)
        x = _unbatch(self, x)
        # zero padding counts in the mean: torch's default count_include_pad=True
        xp = _pad(x, pads, 0)
        out = _reduce_windows(np.add, xp, kernel, stride, dilation, out_hw)
        scale = 1.0 / (kernel[0] * kernel[1])
        out = out * (np.asarray(scale, dtype=out.dtype) if out.dtype.kind == "f" else np.float32(scale))
        self.geometry = (x.shape, xp.shape, kernel, stride, pads, out_hw)
        return out[0] if self.unbatched else out

    def backward(self, g):
        xshape, pshape, kernel, stride, pads, out_hw = self.geometry
        if self.unbatched:
            g = g[None]
        gs = g * np.asarray(1.0 / (kernel[0] * kernel[1]), dtype=g.dtype)
        if _tiles(xshape, kernel, stride, pads, (1, 1), out_hw):
            gx = _repeat_tiles(gs, kernel, xshape)
        else:
            gx = _crop(_spread_windows(gs, pshape, kernel, stride, (1, 1), out_hw), pads, xshape[2:])
        return gx[0] if self.unbatched else gx


def _repeat_tiles(gs, kernel, xshape):
    """Each window's ``gs`` over its whole tile, when the windows tile the input (two np.repeat: the fastest way)."""
    return np.repeat(np.repeat(gs, kernel[1], axis=3), kernel[0], axis=2).reshape(xshape)


def output_pair(output_size, op):
    """An adaptive pool's ``output_size`` as a pair of positive ints or None (None keeps the input's size)."""
    sizes = tuple(output_size) if isinstance(output_size, tuple | list) else (output_size, output_size)
    if len(sizes) != 2 or not all(
        s is None or isinstance(s, int | np.integer) and not isinstance(s, bool) and s >= 1 for s in sizes
    ):
        raise ArgumentError(
            f"{op}: output_size must be a positive int or a pair of them (or None), got {output_size!r}"
        )
    return sizes


def _adaptive_matrix(n_in, n_out, dtype):
    """(n_out, n_in): row o averages torch's window floor(o * n_in / n_out) .. ceil((o + 1) * n_in / n_out)."""
    m = np.zeros((n_out, n_in), dtype=dtype)
    for o in range(n_out):
        start, end = (o * n_in) // n_out, -(-((o + 1) * n_in) // n_out)
        m[o, start:end] = 1.0 / (end - start)
    return m


class AdaptiveAvgPool2d(Function):
    """Fused: a global mean, a mean over equal tiles, or (uneven windows) two small averaging matrices."""

    name = "adaptive_avg_pool2d"

    def forward(self, x, output_size=1):
        _check_input("adaptive_avg_pool2d", x)
        sizes = output_pair(output_size, "adaptive_avg_pool2d")
        x = _unbatch(self, x)
        n, c, h, w = x.shape
        ho, wo = (h if sizes[0] is None else int(sizes[0])), (w if sizes[1] is None else int(sizes[1]))
        if h == 0 or w == 0:
            raise ShapeError(
                f"adaptive_avg_pool2d: input of shape {x.shape[self.unbatched :]} has an empty spatial size; "
                f"cannot pool it to {(ho, wo)}"
            )
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        self.xshape = x.shape
        if h % ho == 0 and w % wo == 0:  # equal windows that tile the input
            self.mode = kernel = (h // ho, w // wo)
            if ho == wo == 1:
                out = x.mean(axis=(2, 3), keepdims=True, dtype=dtype)
            else:
                out = _reduce_windows(np.add, x, kernel, kernel, (1, 1), (ho, wo))
                out = out * np.asarray(1.0 / (kernel[0] * kernel[1]), dtype=dtype)
        else:
            self.mode = (_adaptive_matrix(h, ho, dtype), _adaptive_matrix(w, wo, dtype))
            out = self.mode[0] @ x @ self.mode[1].T
        return out[0] if self.unbatched else out

    def backward(self, g):
        if self.unbatched:
            g = g[None]
        if isinstance(self.mode[0], int):
            kernel = self.mode
            gx = _repeat_tiles(g * np.asarray(1.0 / (kernel[0] * kernel[1]), dtype=g.dtype), kernel, self.xshape)
        else:
            mh, mw = self.mode
            gx = mh.T @ g @ mw
        return gx[0] if self.unbatched else gx
