"""The fused convolution and pooling paths of ``chainrule.ops.conv`` against what they replace and against PyTorch.

Each fused path (conv2d in both of its layouts, im2col made chunk by chunk, GEMMs in blocks; max-pool and
avg-pool over windows that tile the input) must give the values and the gradients of (a) the unfused
composition, built from basic chainrule tensor ops (pad, strided indexing, stack, matmul, where, sum), and
(b) torch.nn.functional, in float32 and float64, batched and unbatched, with ties for max-pool; and pass
chainrule's gradcheck in float64. Also: the workspace the fused ops take their large arrays from hands an
array out again only once nothing holds it.
"""

import zlib

import numpy as np
import pytest
import tolerance as T
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.functional as F
from chainrule.autograd import gradcheck
from chainrule.ops import conv as C

DTYPES = [np.float32, np.float64]


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _close(actual, expected, magnitude, what):
    """Within C * eps of the magnitude of what each element sums (``tests/tolerance.py``), in either dtype."""
    T.assert_close(np.asarray(actual), np.asarray(expected), magnitude, what)


def _tensor(a, requires_grad=False):
    """A chainrule tensor of ``a``, keeping its dtype (``cr.tensor`` makes float32 by default)."""
    return cr.tensor(a, dtype=a.dtype, requires_grad=requires_grad)


def _run(fn, arrays, g, grads=None):
    """fn on chainrule tensors made from ``arrays``: its output and the gradients of the inputs (None: no grad)."""
    grads = [True] * len(arrays) if grads is None else grads
    xs = [None if a is None else _tensor(a, requires_grad=r) for a, r in zip(arrays, grads)]
    out = fn(*xs)
    out.backward(g)
    return out.numpy(), [None if x is None or not r else x.grad.numpy() for x, r in zip(xs, grads)]


def _run_torch(fn, arrays, g, grads=None):
    grads = [True] * len(arrays) if grads is None else grads
    xs = [None if a is None else torch.tensor(a, requires_grad=r) for a, r in zip(arrays, grads)]
    out = fn(*xs)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), [None if x is None or not r else x.grad.numpy() for x, r in zip(xs, grads)]


# ---- conv2d --------------------------------------------------------------------------------------------------------


def _padding(padding, kernel, dilation):
    """(top, bottom, left, right), worked out here rather than by the code under test."""
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        th, tw = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
        return th // 2, th - th // 2, tw // 2, tw - tw // 2
    ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
    return ph, ph, pw, pw


def _pair(v):
    return v if isinstance(v, tuple) else (v, v)


def conv2d_composition(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """conv2d unfused: pad, one strided slice per kernel offset, stack them (im2col), matmul per group."""
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    o, cg, kh, kw = w.shape
    pt, pb, pl, pr = _padding(padding, (kh, kw), (dh, dw))
    xp = cr.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    n, c, hp, wp = xp.shape
    ho, wo = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    slices = [
        xp[:, :, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    cols = cr.stack(slices, axis=2)  # (N, C, kh*kw, Ho, Wo)
    og = o // groups
    outs = []
    for gi in range(groups):
        group_cols = cols[:, gi * cg : (gi + 1) * cg].reshape(n, cg * kh * kw, ho * wo)
        outs.append(cr.matmul(w[gi * og : (gi + 1) * og].reshape(og, cg * kh * kw), group_cols))
    out = cr.cat(outs, axis=1).reshape(n, o, ho, wo)
    if b is not None:
        out = out + b.reshape(1, o, 1, 1)
    return out[0] if unbatched else out


# (input shape, weight shape, options, bias)
CONV_CASES = [
    ((2, 3, 7, 7), (4, 3, 3, 3), {}, True),
    ((3, 4, 9, 8), (6, 2, 3, 2), {"stride": (2, 1), "padding": (1, 0), "dilation": (2, 1), "groups": 2}, True),
    ((2, 6, 7, 8), (12, 2, 3, 3), {"stride": 2, "padding": 1, "groups": 3}, False),
    ((2, 2, 6, 7), (4, 2, 3, 3), {"padding": "same", "dilation": (1, 2)}, True),
    ((2, 2, 6, 6), (3, 2, 4, 4), {"padding": "same"}, True),  # even kernel: one more padding at the end
    ((2, 3, 5, 5), (5, 3, 1, 1), {}, True),  # 1x1
    ((2, 2, 8, 8), (3, 2, 2, 2), {"stride": 3}, True),  # stride larger than the kernel
    ((3, 7, 7), (4, 3, 3, 3), {"stride": 2, "padding": 1}, True),  # unbatched
    ((17, 1, 12, 12), (6, 1, 5, 5), {"padding": 2}, True),  # a batch large enough for the batch-last layout
    ((16, 3, 6, 7), (4, 3, 3, 3), {"stride": (1, 2)}, False),
    ((16, 4, 5, 6), (4, 1, 3, 3), {"padding": 1, "groups": 4}, True),  # depthwise
]
CONV_IDS = [f"{c[0]}-{c[1]}-{'-'.join(f'{k}={v}' for k, v in c[2].items())}".replace(" ", "") for c in CONV_CASES]

# how the fused conv2d runs: its own choice of layout, or either layout forced; "tiny" adds one unit per chunk
# of im2col and GEMM blocks of 4 columns, so that the chunk and block loops (and their remainders) all run
MODES = ["auto", "channels_first", "batch_last", "channels_first-tiny", "batch_last-tiny"]


@pytest.fixture(params=MODES)
def mode(request, monkeypatch):
    if request.param != "auto":
        last = request.param.startswith("batch_last")
        monkeypatch.setattr(C, "_batch_last", lambda *args: last)
    if request.param.endswith("tiny"):
        monkeypatch.setattr(C, "_CHUNK", 1)
        monkeypatch.setattr(C, "_BLOCK", 4)
    return request.param


def _conv_inputs(case, dtype):
    xshape, wshape, _, bias = case
    rng = _rng("conv", case)
    x = rng.standard_normal(xshape).astype(dtype)
    w = rng.standard_normal(wshape).astype(dtype)
    b = rng.standard_normal(wshape[0]).astype(dtype) if bias else None
    return x, w, b


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv2d_equals_im2col_composition_and_torch(case, dtype, mode):
    x, w, b = _conv_inputs(case, dtype)
    options = case[2]
    arrays = [x, w] if b is None else [x, w, b]
    ref_out = conv2d_composition(*map(_tensor, arrays), **options).numpy()
    g = _rng("conv-g", case).standard_normal(ref_out.shape).astype(dtype)
    out, grads = _run(lambda *t: F.conv2d(*t, **options), arrays, g)
    ref_out, ref_grads = _run(lambda *t: conv2d_composition(*t, **options), arrays, g)
    t_out, t_grads = _run_torch(lambda *t: TF.conv2d(*t, **options), arrays, g)
    # the convolution of |x| with |w| (plus |b|), and its gradients for |g|: every term each element sums
    (mag,), grad_mags = T.linear(lambda *t: TF.conv2d(*t, **options), arrays, [g])
    assert out.dtype == dtype and out.shape == ref_out.shape
    _close(out, ref_out, mag, "forward vs composition")
    _close(out, t_out, mag, "forward vs torch")
    for name, got, ref, tref, m in zip(["input", "weight", "bias"], grads, ref_grads, t_grads, grad_mags):
        assert got.dtype == dtype
        _close(got, ref, m, f"{name} gradient vs composition")
        _close(got, tref, m, f"{name} gradient vs torch")


@pytest.mark.parametrize("case", CONV_CASES[:2] + CONV_CASES[-3:], ids=CONV_IDS[:2] + CONV_IDS[-3:])
def test_conv2d_gradients_only_where_asked(case, mode):
    """The first layer of a network: no input gradient, and the weight gradient still right."""
    x, w, b = _conv_inputs(case, np.float32)
    options = case[2]
    arrays = [x, w] if b is None else [x, w, b]
    needs = [False, True] + ([False] if b is not None else [])
    g = _rng("conv-g", case).standard_normal(conv2d_composition(*map(_tensor, arrays), **options).shape)
    g = g.astype(np.float32)
    out, grads = _run(lambda *t: F.conv2d(*t, **options), arrays, g, needs)
    t_out, t_grads = _run_torch(lambda *t: TF.conv2d(*t, **options), arrays, g, needs)
    (mag,), grad_mags = T.linear(lambda *t: TF.conv2d(*t, **options), arrays, [g])
    _close(out, t_out, mag, "forward")
    assert grads[0] is None and (b is None or grads[2] is None)
    _close(grads[1], t_grads[1], grad_mags[1], "weight gradient")


GRADCHECK_CASES = [
    ((2, 2, 5, 4), (2, 2, 3, 3), {"padding": 1}),
    ((2, 2, 5, 4), (3, 2, 2, 2), {"stride": 2, "padding": (1, 0), "dilation": (1, 2)}),
    ((2, 2, 5, 4), (4, 1, 3, 2), {"groups": 2, "padding": 1}),
    ((2, 5, 4), (2, 2, 2, 3), {"padding": "same"}),  # unbatched
]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=["pad", "stride-dilation", "groups", "same-unbatched"])
def test_conv2d_gradcheck(case, mode):
    xshape, wshape, options = case
    rng = _rng("gradcheck", case)
    x, w, b = (_tensor(rng.standard_normal(s), requires_grad=True) for s in (xshape, wshape, (wshape[0],)))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **options), (x, w, b))


def test_conv2d_keeps_float32():
    x, w, b = _conv_inputs(CONV_CASES[-3], np.float32)
    out = F.conv2d(*(_tensor(a, requires_grad=True) for a in (x, w, b)), padding=2)
    assert out.dtype == cr.float32


# ---- max-pool over tiles -------------------------------------------------------------------------------------------


def max_pool_composition(x, kernel):
    """max_pool2d with stride = kernel, unfused: a strided slice per kernel offset, stacked; the gradient goes
    to the first maximum of each window in row-major order (an argmax one-hot and where), as torch's."""
    kh, kw = _pair(kernel)
    ho, wo = x.shape[-2] // kh, x.shape[-1] // kw
    parts = [
        x[..., i : i + kh * (ho - 1) + 1 : kh, j : j + kw * (wo - 1) + 1 : kw] for i in range(kh) for j in range(kw)
    ]
    stacked = cr.stack(parts, axis=-1)
    first = np.argmax(stacked.numpy(), axis=-1)[..., None] == np.arange(kh * kw)
    return cr.where(cr.tensor(first), stacked, cr.zeros_like(stacked)).sum(axis=-1)


def _pool_input(kind, shape, dtype, key):
    rng = _rng(kind, shape, key)
    if kind == "normal":
        return rng.standard_normal(shape).astype(dtype)
    if kind == "relu":  # zeros tie in many windows, as after a ReLU
        return np.maximum(rng.standard_normal(shape), 0).astype(dtype)
    if kind == "integers":  # repeated values: ties anywhere in a window
        return rng.integers(0, 3, shape).astype(dtype)
    return np.zeros(shape, dtype)  # every window a tie


POOL_SHAPES = [(2, 3, 8, 10), (2, 2, 7, 9), (3, 7, 6)]  # divisible by 2, not divisible, unbatched
POOL_KERNELS = [2, 3, (2, 3), (1, 2), 1]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("kind", ["normal", "relu", "integers", "zeros"])
@pytest.mark.parametrize("kernel", POOL_KERNELS, ids=str)
@pytest.mark.parametrize("shape", POOL_SHAPES, ids=str)
def test_max_pool2d_tiles_equal_composition_general_path_and_torch(shape, kernel, kind, dtype, monkeypatch):
    x = _pool_input(kind, shape, dtype, kernel)
    ref_out = max_pool_composition(_tensor(x), kernel).numpy()
    g = _rng("pool-g", shape, kernel).standard_normal(ref_out.shape).astype(dtype)
    out, (gx,) = _run(lambda t: F.max_pool2d(t, kernel), [x], g)
    ref_out, (ref_gx,) = _run(lambda t: max_pool_composition(t, kernel), [x], g)
    t_out, (t_gx,) = _run_torch(lambda t: TF.max_pool2d(t, kernel), [x], g)
    monkeypatch.setattr(C, "_tiles", lambda *args: False)  # the general (strided-compare) backward
    gen_out, (gen_gx,) = _run(lambda t: F.max_pool2d(t, kernel), [x], g)
    assert out.dtype == gx.dtype == dtype
    for ref, what in [(ref_out, "composition"), (t_out, "torch"), (gen_out, "general path")]:
        np.testing.assert_array_equal(out, ref, err_msg=f"forward vs {what}")
    # each window's gradient lands whole on one element: exactly equal
    for ref, what in [(ref_gx, "composition"), (t_gx, "torch"), (gen_gx, "general path")]:
        np.testing.assert_array_equal(gx, ref, err_msg=f"input gradient vs {what}")


def test_max_pool2d_tiles_broadcast_and_infinite_gradients():
    """A gradient with zero strides (from a sum) or with infinities: the other elements get +0, not NaN."""
    x = _pool_input("integers", (2, 2, 6, 7), np.float32, "inf")
    xs, xt = _tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.max_pool2d(xs, 2).sum().backward()
    TF.max_pool2d(xt, 2).sum().backward()
    np.testing.assert_array_equal(xs.grad.numpy(), xt.grad.numpy())
    g = _rng("inf-g").standard_normal((2, 2, 3, 3)).astype(np.float32)
    g[0, 0, 1, 1], g[1, 1, 2, 0] = np.inf, -np.inf
    (gx,) = _run(lambda t: F.max_pool2d(t, 2), [x], g)[1]
    (t_gx,) = _run_torch(lambda t: TF.max_pool2d(t, 2), [x], g)[1]
    np.testing.assert_array_equal(gx, t_gx)
    assert not np.signbit(gx[gx == 0]).any()


@pytest.mark.parametrize("kernel", [2, (2, 3), 3], ids=str)
def test_max_pool2d_tiles_gradcheck(kernel):
    shape = (2, 2, 6, 7)
    a = _rng("pool-gc", kernel).permutation(np.prod(shape)).reshape(shape) * 0.1  # no two values within eps
    x = cr.tensor(a, dtype=cr.float64, requires_grad=True)
    assert gradcheck(lambda t: F.max_pool2d(t, kernel), x)


# ---- avg-pool over tiles -------------------------------------------------------------------------------------------


def avg_pool_composition(x, kernel):
    kh, kw = _pair(kernel)
    ho, wo = x.shape[-2] // kh, x.shape[-1] // kw
    parts = [
        x[..., i : i + kh * (ho - 1) + 1 : kh, j : j + kw * (wo - 1) + 1 : kw] for i in range(kh) for j in range(kw)
    ]
    return cr.stack(parts, axis=-1).mean(axis=-1)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("kernel", POOL_KERNELS, ids=str)
@pytest.mark.parametrize("shape", POOL_SHAPES, ids=str)
def test_avg_pool2d_tiles_equal_composition_and_torch(shape, kernel, dtype):
    x = _pool_input("normal", shape, dtype, kernel)
    ref_out = avg_pool_composition(_tensor(x), kernel).numpy()
    g = _rng("avg-g", shape, kernel).standard_normal(ref_out.shape).astype(dtype)
    out, (gx,) = _run(lambda t: F.avg_pool2d(t, kernel), [x], g)
    ref_out, (ref_gx,) = _run(lambda t: avg_pool_composition(t, kernel), [x], g)
    t_out, (t_gx,) = _run_torch(lambda t: TF.avg_pool2d(t, kernel), [x], g)
    (mag,), (gx_mag,) = T.linear(lambda t: TF.avg_pool2d(t, kernel), [x], [g])
    assert out.dtype == gx.dtype == dtype
    _close(out, ref_out, mag, "forward vs composition")
    _close(out, t_out, mag, "forward vs torch")
    _close(gx, ref_gx, gx_mag, "input gradient vs composition")
    _close(gx, t_gx, gx_mag, "input gradient vs torch")


@pytest.mark.parametrize("kernel", [2, (2, 3), 3], ids=str)
def test_avg_pool2d_tiles_gradcheck(kernel):
    x = _tensor(_rng("avg-gc", kernel).standard_normal((2, 2, 6, 7)), requires_grad=True)
    assert gradcheck(lambda t: F.avg_pool2d(t, kernel), x)


# ---- two graphs alive at once ---------------------------------------------------------------------------------


def test_outputs_and_gradients_stay_put_while_held():
    """Outputs, saved arrays and gradients of one graph are not disturbed by another graph's forward and backward."""
    rng = np.random.default_rng(0)
    w = cr.tensor(rng.standard_normal((8, 4, 3, 3)).astype(np.float32), requires_grad=True)
    xs = [cr.tensor(rng.standard_normal((16, 4, 20, 20)).astype(np.float32), requires_grad=True) for _ in range(2)]
    outs = [F.max_pool2d(F.conv2d(x, w, padding=1), 2) for x in xs]  # both graphs alive at once
    first = outs[0].numpy().copy()
    outs[1].sum().backward()
    grad1 = xs[1].grad.numpy().copy()
    outs[0].sum().backward()
    np.testing.assert_array_equal(outs[0].numpy(), first)
    np.testing.assert_array_equal(xs[1].grad.numpy(), grad1)
    wt = torch.tensor(w.numpy(), requires_grad=True)
    w_mag = 0
    for x, out in zip(xs, outs):
        xt = torch.tensor(x.numpy(), requires_grad=True)
        tout = TF.max_pool2d(TF.conv2d(xt, wt, padding=1), 2)
        # max-pooling selects: on absolute values it may take other elements, so the bound is the magnitude of
        # the whole convolution, for every element of a window (the largest of a window bounds the one selected)
        conv_mag, (gx_mag, gw_mag) = T.linear(lambda x, w: TF.conv2d(x, w, padding=1), [x.numpy(), w.numpy()],
                                              [np.ones(tout.shape[:2] + (20, 20))])
        _close(out.numpy(), tout.detach().numpy(), TF.max_pool2d(torch.tensor(conv_mag[0]), 2), "forward")
        tout.sum().backward()
        _close(x.grad.numpy(), xt.grad.numpy(), gx_mag, "input gradient")
        w_mag = w_mag + gw_mag
    _close(w.grad.numpy(), wt.grad.numpy(), w_mag, "weight gradient")
