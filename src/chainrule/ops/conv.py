"""Convolution and pooling primitives on NCHW arrays; each says why it is fused.

The convolution is an im2col: a strided view of the (padded) input puts every kernel window
side by side without copying, a copy turns it into a matrix of columns, and a GEMM multiplies
the weight by it. The backward does a GEMM for the weight gradient and one for the gradient of
the columns, which a col2im adds back into the input gradient one kernel offset at a time
(kh * kw strided slice additions, each over the whole batch). ``Conv2d`` says how the layout,
the chunks of columns and the blocks of the GEMMs are chosen.

Pooling reduces each window in two strided passes, along the height then along the width
(kh + kw whole-batch ufunc calls): NumPy's own reductions over the two short window axes of a
window view run some 30x slower. Their backward adds the gradient into the input one kernel
offset at a time, as the col2im does; when the windows tile the input (stride = kernel, the
usual 2x2 pooling), max-pooling's backward writes each offset's share of the gradient straight
into place instead.
"""

import math

import numpy as np

from ..autograd.function import Primitive
from ..backend import array_module
from ..errors import ArgumentError, ShapeError
from ._compat import as_strided

# Arrays are made with the inputs' array module, ``lib = array_module(x)`` (``xp`` names a padded input here).


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


def _windows(a, kernel, stride, dilation, out_hw, batch_last=False):
    """The view (A, B, Ho, Wo, kh, kw) of the windows of ``a`` (A, B, H, W); read only, no copy.

    With ``batch_last``, of ``a`` (C, H, W, N): the view (C, kh, kw, Ho, Wo, N).
    """
    if batch_last:
        sc, sh, sw, sn = a.strides
        shape = (a.shape[0], *kernel, *out_hw, a.shape[3])
        strides = (sc, dilation[0] * sh, dilation[1] * sw, stride[0] * sh, stride[1] * sw, sn)
    else:
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
    xp = array_module(x).full((a, b, h + pt + pb, w + pl + pr), fill, x.dtype)
    xp[:, :, pt : pt + h, pl : pl + w] = x
    return xp


def _crop(gp, pads, size):
    pt, _, pl, _ = pads
    return gp[:, :, pt : pt + size[0], pl : pl + size[1]]


_BLOCK = 1024  # columns per block of a GEMM along the long (N * Ho * Wo) axis


def _blocks(small, m):
    """How many whole blocks to split a GEMM's long side ``m`` into (0: do not), its other sides ``small``.

    OpenBLAS runs a GEMM whose other two sides are small (their product at most 1024) 2 to 3 times slower
    in one call than in blocks of ``_BLOCK`` (a first convolution's, 6 output channels by 25 weights, over
    the N * Ho * Wo positions of a batch); with larger sides, one call is as fast or faster.
    """
    return m // _BLOCK if small <= 1024 and m >= 4 * _BLOCK else 0


def _matmul_cols(a, b, out):
    """``a @ b`` into ``out``: a (..., O, K), b (..., K, M) with M long, out (..., O, M); see ``_blocks``."""
    nb = _blocks(a.shape[-2] * a.shape[-1], b.shape[-1])
    if not nb:
        return np.matmul(a, b, out=out)
    cut = nb * _BLOCK
    bb = b[..., :cut].reshape(*b.shape[:-1], nb, _BLOCK).swapaxes(-2, -3)  # (..., nb, K, B)
    ob = out[..., :cut].reshape(*out.shape[:-1], nb, _BLOCK).swapaxes(-2, -3)  # (..., nb, O, B)
    np.matmul(a[..., None, :, :], bb, out=ob)
    if cut < b.shape[-1]:
        np.matmul(a, b[..., cut:], out=out[..., cut:])
    return out


def _matmul_nt(a, b):
    """``a @ b.T`` over the last two axes, a (..., K, M) by b (..., O, M), M long: the sum over M in blocks
    (one batched GEMM, then a sum over the blocks) when K and O are small; see ``_blocks``."""
    nb = _blocks(a.shape[-2] * b.shape[-2], a.shape[-1])
    if not nb:
        return np.matmul(a, b.swapaxes(-1, -2))
    cut = nb * _BLOCK
    ab = a[..., :cut].reshape(*a.shape[:-1], nb, _BLOCK).swapaxes(-2, -3)  # (..., nb, K, B)
    bb = array_module(b).moveaxis(b[..., :cut].reshape(*b.shape[:-1], nb, _BLOCK), -3, -1)  # (..., nb, B, O)
    out = np.matmul(ab, bb).sum(axis=-3)
    if cut < a.shape[-1]:
        out += np.matmul(a[..., cut:], b[..., cut:].swapaxes(-1, -2))
    return out


def _batch_last(n, wo, stride, need_gx):
    """Whether to lay the convolution out as (C, H, W, N), batch last, rather than (C, N, H, W).

    Batch last, a kernel offset's window over the whole batch is made of runs of Wo * N contiguous
    values (N with a width stride above 1), where channels first has runs of Wo: for short output rows
    the im2col copy and the col2im additions run 3 to 5 times faster. The price is a transposing copy
    of the input, the output and the output's gradient (and of the input gradient, when there is one):
    it pays when the col2im is needed or the rows are short, with a batch large enough to make long runs.
    """
    return n >= 16 and (need_gx or wo < 16 or stride[1] > 1)


def _pad_last(x, pads):
    """``x`` (N, C, H, W) zero-padded as (C, H', W', N)."""
    n, c, h, w = x.shape
    pt, pb, pl, pr = pads
    xp = array_module(x).zeros((c, h + pt + pb, w + pl + pr, n), x.dtype)
    xp[:, pt : pt + h, pl : pl + w] = x.transpose(1, 2, 3, 0)
    return xp


class Conv2d(Primitive):
    """Fused (im2col + one GEMM): as a composite, every kernel offset would be a graph node and a full copy.

    The input is padded into a channels-outermost layout, (C, N, H', W') or, batch last (see
    ``_batch_last``), (C, H', W', N); a strided view puts each kernel window side by side without
    copying, a copy of it makes the columns, rows (c, i, j) by (n, y, x) or (y, x, n), and the weight
    multiplies them as they are, giving the output as (O, N, Ho, Wo), returned as an (N, O, Ho, Wo)
    view (no copy), or as (O, Ho, Wo, N), copied to a contiguous (N, O, Ho, Wo) with the bias added
    in the same pass. The columns are made chunk by chunk, each multiplied while still in the CPU's
    cache (``_im2col_chunks``), and only the padded input is kept for the backward: it makes the
    columns again for the weight gradient's GEMM. The other GEMM gives the gradient of the columns,
    which a col2im adds back into the input gradient one kernel offset at a time (kh * kw strided
    slice additions, each over the whole batch). GEMMs with a long side and small others run in
    blocks (``_blocks``).
    """

    name = "conv2d"
    deeplift = "product"

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
        ho, wo = out_hw = _out_size("conv2d", xshape, (h, wd), pads, (kh, kw), stride, dilation, of)
        k = cg * kh * kw
        last = _batch_last(n, wo, stride, self.needs_input_grad[0])
        if last:
            xp = _pad_last(x, pads)  # (C, H', W', N)
            # (C, kh, kw, Ho, Wo, N): the windows, with the batch innermost
            view = _windows(xp, (kh, kw), stride, dilation, out_hw, batch_last=True)
        else:
            xp = _pad(x, pads, 0, channels_first=True)  # (C, N, H', W')
            view = _windows(xp, (kh, kw), stride, dilation, out_hw).transpose(0, 4, 5, 1, 2, 3)  # (C, kh, kw, N, ..)
        wm = w.reshape(groups, o // groups, k)
        lib = array_module(x)
        out = lib.empty((groups, o // groups, n * ho * wo), np.result_type(wm.dtype, x.dtype))
        for cols, span in _im2col_chunks(view, groups, k * o // groups > 1024):
            _matmul_cols(wm, cols, out[:, :, span])
        self.saved = (xp, wm)
        self.geometry = (x.shape, xp.shape, (kh, kw), stride, dilation, pads, out_hw, last)
        if last:
            res = lib.empty((n, o, ho, wo), out.dtype)
            out = out.reshape(o, ho, wo, n).transpose(3, 0, 1, 2)
            if b is not None:
                np.add(out, b.reshape(o, 1, 1), out=res)
            else:
                lib.copyto(res, out)
            return res[0] if self.unbatched else res
        out = out.reshape(o, n, *out_hw)
        if b is not None:
            out += b.reshape(o, 1, 1, 1)
        out = out.transpose(1, 0, 2, 3)
        return out[0] if self.unbatched else out

    def backward(self, g):
        xp, wm = self.saved
        xshape, pshape, kernel, stride, dilation, pads, out_hw, last = self.geometry
        if self.unbatched:
            g = g[None]
        groups, og, k = wm.shape
        need = self.needs_input_grad
        lib = array_module(g)
        if last:
            g4 = lib.empty((groups * og, *out_hw, xshape[0]), g.dtype)  # (O, Ho, Wo, N)
            lib.copyto(g4, g.transpose(1, 2, 3, 0))
        else:
            g4 = g.transpose(1, 0, 2, 3)  # (O, N, Ho, Wo)
        g2 = g4.reshape(groups, og, -1)  # no copy when g has the layout of the forward's output
        gx = gw = gb = None
        if need[1]:
            if last:
                view = _windows(xp, kernel, stride, dilation, out_hw, batch_last=True)
            else:
                view = _windows(xp, kernel, stride, dilation, out_hw).transpose(0, 4, 5, 1, 2, 3)
            gwt = None  # (groups, K, O / groups), summed over the chunks of columns
            for cols, span in _im2col_chunks(view, groups, k * og > 1024):
                part = _matmul_nt(cols, g2[:, :, span])
                gwt = part if gwt is None else np.add(gwt, part, out=gwt)
            gw = gwt.swapaxes(-1, -2).reshape(groups * og, k // (kernel[0] * kernel[1]), *kernel)
        if len(need) > 2 and need[2]:
            gb = g2.sum(axis=2).reshape(-1)
        if need[0]:
            wt = wm.transpose(0, 2, 1)
            gcols = _matmul_cols(wt, g2, lib.empty((groups, k, g2.shape[2]), np.result_type(wt.dtype, g2.dtype)))
            gx = _col2im(gcols, xshape, pshape, kernel, stride, dilation, pads, out_hw, last)
            if self.unbatched:
                gx = gx[0]
        return gx, gw, gb


_CHUNK = 256 * 2**10  # bytes of im2col columns made at a time, to be still in the cache for the GEMM that reads them


def _im2col_chunks(view, groups, whole=False):
    """The im2col of ``view`` (C, kh, kw, A, ...) chunk by chunk along A (images, or output rows when the batch
    is last): yields the columns (groups, K, columns of the chunk) and the slice of the columns of the whole
    (N * Ho * Wo) that they are. The chunks take turns in one buffer, small enough to stay in the CPU's cache
    until the GEMM reads it, where the whole im2col of a layer (several MB) would be written out to memory
    and read back. ``whole``: in one chunk all the same, for a GEMM large enough to run on several threads.
    """
    c, kh, kw, a = view.shape[:4]
    rest = math.prod(view.shape[4:])
    k = c * kh * kw // groups
    per = c * kh * kw * rest * view.itemsize  # bytes per unit of A
    count = 1 if whole else -(-a // max(1, _CHUNK // per))
    step = -(-a // count)
    lib = array_module(view)
    buf = lib.empty((groups * k * step * rest,), view.dtype)
    for a0 in range(0, a, step):
        a1 = min(a0 + step, a)
        cols = buf[: groups * k * (a1 - a0) * rest].reshape(groups, k, (a1 - a0) * rest)
        lib.copyto(cols.reshape(c, kh, kw, a1 - a0, *view.shape[4:]), view[:, :, :, a0:a1])
        yield cols, slice(a0 * rest, a1 * rest)


def _col2im(gcols, xshape, pshape, kernel, stride, dilation, pads, out_hw, last):
    """The input gradient (N, C, H, W) from the columns' (groups, K, M): kh * kw slice additions.

    ``pshape`` is the padded input's shape, (C, H', W', N) when ``last`` (then the gradient is copied
    back to a contiguous (N, C, H, W)), else (C, N, H', W').
    """
    n, c, h, w = xshape
    pt, _, pl, _ = pads
    lib = array_module(gcols)
    gp = lib.zeros(pshape, gcols.dtype)
    if last:
        gcols = gcols.reshape(c, *kernel, *out_hw, n)  # (C, kh, kw, Ho, Wo, N)
        for i, j, rows, columns in _offsets(kernel, stride, dilation, out_hw):
            gp[:, rows, columns] += gcols[:, i, j]
        gx = lib.empty(xshape, gcols.dtype)
        lib.copyto(gx, gp[:, pt : pt + h, pl : pl + w].transpose(3, 0, 1, 2))
        return gx
    gcols = gcols.reshape(c, *kernel, n, *out_hw)  # (C, kh, kw, N, Ho, Wo)
    for i, j, rows, columns in _offsets(kernel, stride, dilation, out_hw):
        gp[:, :, rows, columns] += gcols[:, i, j]
    return _crop(gp, pads, xshape[2:]).transpose(1, 0, 2, 3)


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


def _fold(ufunc, parts):
    """``ufunc`` over ``parts`` (equal-shape views), into one new array."""
    lib = array_module(parts[0])
    acc = lib.empty(parts[0].shape, parts[0].dtype)
    if len(parts) == 1:
        lib.copyto(acc, parts[0])
        return acc
    ufunc(parts[0], parts[1], out=acc)
    for p in parts[2:]:
        ufunc(acc, p, out=acc)
    return acc


def _reduce_windows(ufunc, xp, kernel, stride, dilation, out_hw):
    """``ufunc`` (np.maximum, np.add) over every window of ``xp``: along the height, then along the width.

    Height first: that pass reads whole rows (contiguous), and leaves the strided pass along the width
    the smaller array (N, C, Ho, W').
    """
    rows = _lines(kernel[0], stride[0], dilation[0], out_hw[0])
    m = xp[:, :, rows[0]] if len(rows) == 1 else _fold(ufunc, [xp[:, :, r] for r in rows])  # (N, C, Ho, W')
    return _fold(ufunc, [m[:, :, :, c] for c in _lines(kernel[1], stride[1], dilation[1], out_hw[1])])


def _spread_windows(gs, pshape, kernel, stride, dilation, out_hw):
    """The transpose of ``_reduce_windows`` with np.add: each window's ``gs`` added to all of its elements."""
    n, c, hp, wp = pshape
    lib = array_module(gs)
    gm = lib.zeros((n, c, hp, out_hw[1]), gs.dtype)
    for r in _lines(kernel[0], stride[0], dilation[0], out_hw[0]):
        gm[:, :, r] += gs
    gp = lib.zeros(pshape, gs.dtype)
    for cols in _lines(kernel[1], stride[1], dilation[1], out_hw[1]):
        gp[:, :, :, cols] += gm
    return gp


def _tiles(kernel, stride, pads, dilation):
    """True when the windows tile the input: stride = kernel, no padding, no dilation (as torch's floor mode,
    the rows and columns past the last whole window are left out when the sizes do not divide)."""
    return stride == kernel and not any(pads) and dilation == (1, 1)


def _unbatch(op, x):
    op.unbatched = x.ndim == 3
    return x[None] if op.unbatched else x


def _max_tiles_backward(x, out, g, kernel, out_hw):
    """MaxPool2d's input gradient when the windows tile ``x`` and no window holds a NaN.

    Kernel offset by kernel offset, in row-major order: where the element equals its window's maximum
    and no earlier offset of the window did (``seen``), it takes the window's gradient, else 0. The
    gradient is selected by its bits (a bool times the unsigned integer that shares them), so an
    infinite gradient does not turn the zeros into NaN, and the zeros are +0 as torch's.
    """
    (kh, kw), (ho, wo) = kernel, out_hw
    cover = (ho * kh, wo * kw)
    lib = array_module(g)
    gx = lib.empty(x.shape, g.dtype) if cover == x.shape[2:] else lib.zeros(x.shape, g.dtype)
    bits = np.dtype(f"u{g.itemsize}")
    gu, gxu = g.view(bits), gx.view(bits)
    seen = None
    last = kh * kw - 1
    for k in range(kh * kw):
        i, j = divmod(k, kw)
        rows, cols = slice(i, cover[0], kh), slice(j, cover[1], kw)
        hit = x[:, :, rows, cols] == out
        if seen is None:
            seen = hit
        else:
            np.greater(hit, seen, out=hit)  # hit and not seen
            if k < last:
                np.logical_or(seen, hit, out=seen)
        np.multiply(hit, gu, out=gxu[:, :, rows, cols])
    return gx


class MaxPool2d(Primitive):
    """Fused: a composite (a max per kernel offset) would keep kh * kw intermediate arrays and graph nodes."""

    name = "max_pool2d"
    deeplift = "max"

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
        nan = np.isnan(out) if out.dtype.kind == "f" and np.isnan(out).any() else None
        if nan is None and g.dtype.kind == "f" and _tiles(kernel, stride, pads, dilation):
            gx = _max_tiles_backward(xp, out, g, kernel, out_hw)
            return gx[0] if self.unbatched else gx
        offsets = list(_offsets(kernel, stride, dilation, out_hw))
        lib = array_module(g)
        last_nan = None
        if nan is not None:
            last_nan = lib.full(out.shape, -1, dtype=np.int32)
            for k, (_, _, rows, cols) in enumerate(offsets):
                lib.copyto(last_nan, k, where=np.isnan(xp[:, :, rows, cols]))
        valid = None
        if any(pads):
            valid = lib.zeros(xp.shape[-2:], dtype=bool)
            valid[pads[0] : pads[0] + xshape[2], pads[2] : pads[2] + xshape[3]] = True
        gp = lib.zeros(xp.shape, g.dtype)
        zero = g.dtype.type(0)
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
                hit = lib.where(nan, last_nan == k, hit)
            gp[:, :, rows, cols] += lib.where(hit, g, zero)
        gx = _crop(gp, pads, xshape[2:])
        return gx[0] if self.unbatched else gx


class AvgPool2d(Primitive):
    """Fused: a composite (a sum per kernel offset) would keep kh * kw intermediate arrays and graph nodes."""

    name = "avg_pool2d"
    deeplift = "linear"

    def forward(self, x, kernel_size=2, stride=None, padding=0):
        kernel, stride, pads, dilation, out_hw = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding)
        x = _unbatch(self, x)
        # zero padding counts in the mean: torch's default count_include_pad=True
        xp = _pad(x, pads, 0)
        out = _reduce_windows(np.add, xp, kernel, stride, dilation, out_hw)
        scale = 1.0 / (kernel[0] * kernel[1])
        if out.dtype.kind == "f":
            out *= out.dtype.type(scale)
        else:
            out = out * np.float32(scale)
        self.geometry = (x.shape, xp.shape, kernel, stride, pads, out_hw)
        return out[0] if self.unbatched else out

    def backward(self, g):
        xshape, pshape, kernel, stride, pads, out_hw = self.geometry
        if self.unbatched:
            g = g[None]
        gs = g * g.dtype.type(1.0 / (kernel[0] * kernel[1]))
        if _tiles(kernel, stride, pads, (1, 1)):
            gx = _repeat_tiles(gs, kernel, xshape)
        else:
            gx = _crop(_spread_windows(gs, pshape, kernel, stride, (1, 1), out_hw), pads, xshape[2:])
        return gx[0] if self.unbatched else gx


def _repeat_tiles(gs, kernel, xshape):
    """Each window's ``gs`` over its whole tile, when the windows tile the input (two repeats: the fastest way);
    zero in the rows and columns past the last whole window."""
    rep = gs.repeat(kernel[1], axis=3).repeat(kernel[0], axis=2)
    if rep.shape == xshape:
        return rep
    gx = array_module(gs).zeros(xshape, dtype=rep.dtype)
    gx[:, :, : rep.shape[2], : rep.shape[3]] = rep
    return gx


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


def _adaptive_matrix(n_in, n_out, dtype, lib):
    """(n_out, n_in): row o averages torch's window floor(o * n_in / n_out) .. ceil((o + 1) * n_in / n_out)."""
    m = lib.zeros((n_out, n_in), dtype=dtype)
    for o in range(n_out):
        start, end = (o * n_in) // n_out, -(-((o + 1) * n_in) // n_out)
        m[o, start:end] = 1.0 / (end - start)
    return m


class AdaptiveAvgPool2d(Primitive):
    """Fused: a global mean, a mean over equal tiles, or (uneven windows) two small averaging matrices."""

    name = "adaptive_avg_pool2d"
    deeplift = "linear"

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
                out = out * dtype.type(1.0 / (kernel[0] * kernel[1]))
        else:
            lib = array_module(x)
            self.mode = (_adaptive_matrix(h, ho, dtype, lib), _adaptive_matrix(w, wo, dtype, lib))
            out = self.mode[0] @ x @ self.mode[1].T
        return out[0] if self.unbatched else out

    def backward(self, g):
        if self.unbatched:
            g = g[None]
        if isinstance(self.mode[0], int):
            kernel = self.mode
            gx = _repeat_tiles(g * g.dtype.type(1.0 / (kernel[0] * kernel[1])), kernel, self.xshape)
        else:
            mh, mw = self.mode
            gx = mh.T @ g @ mw
        return gx[0] if self.unbatched else gx
