"""The vision layers against PyTorch: Conv1d, ConvTranspose2d, MaxPool1d, AvgPool1d, AdaptiveAvgPool1d, Dropout2d,
Upsample (and F.interpolate), GroupNorm, PReLU, ReLU6, Hardtanh and Mish. Forward values and every gradient in
float32 within the tolerance rules of tests/tolerance.py, float64 gradchecks of the paths the op table
(tests/ops/cases_vision.py) does not reach, torch's parameter names, shapes and initialisation, its edge cases
(interpolation coordinates, ceil-mode windows, kinks, ties, dropout2d's 3-D input), and the errors (ShapeError
naming the layer and the shapes).
"""

import copy
import math
import warnings
import zlib

import numpy as np
import pytest
import tolerance as T
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck
from chainrule.errors import ArgumentError, ShapeError


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _torch_state(layer):
    return {k: torch.tensor(np.asarray(v)) for k, v in layer.state_dict().items()}


def _parity(layer, tlayer, x_np, rule=T.linear, seed=0, **call):
    """Forward values and the gradients of the input and of every parameter, against torch in float32, within
    C * eps of the magnitudes ``rule`` gives; ``call``: keyword arguments of both forwards."""
    tlayer.load_state_dict(_torch_state(layer))
    x, xt = cr.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    out, tout = layer(x, **call), tlayer(xt, **call)
    assert out.shape == tuple(tout.shape)
    assert out.dtype == cr.float32
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(np.float32)
    mag, (gx_mag,), param_mags = _magnitudes(rule, tlayer, x_np, g, call)
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    out.backward(g)
    tout.backward(torch.tensor(g))
    assert x.grad.dtype == cr.float32 and x.grad.shape == x.shape
    T.assert_close(x.grad.numpy(), xt.grad.numpy(), gx_mag, "input gradient")
    tparams = dict(tlayer.named_parameters())
    for name, p in layer.named_parameters():
        assert p.grad is not None, f"{name} received no gradient"
        T.assert_close(p.grad.numpy(), tparams[name].grad.numpy(), param_mags[name], f"gradient of {name}")
    return out


def _magnitudes(rule, tlayer, x_np, g, call):
    """``T.module_magnitudes`` for a forward that may take keyword arguments (ConvTranspose2d's output_size)."""
    m = copy.deepcopy(tlayer).double()
    names = [n for n, _ in m.named_parameters()]

    def fn(x, *params):
        return torch.func.functional_call(m, dict(zip(names, params)), (x,), call)

    arrays = [x_np] + [p.detach().numpy() for _, p in m.named_parameters()]
    (mag,), grads = rule(fn, arrays, [g])
    return mag, grads[:1], dict(zip(names, grads[1:]))


def _same_keys_and_shapes(layer, tlayer):
    ours = {k: tuple(np.asarray(v).shape) for k, v in layer.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in tlayer.state_dict().items()}
    assert ours == theirs


def _f64(layer):
    return layer.double()


# ---- Conv1d ----------------------------------------------------------------------------------------------------

# (in, out, kernel_size, stride, padding, dilation, groups, bias, padding_mode, input shape)
CONV1D_CASES = [
    (3, 4, 3, 1, 0, 1, 1, True, "zeros", (2, 3, 9)),
    (3, 4, 3, 2, 1, 1, 1, False, "zeros", (2, 3, 10)),
    (4, 6, 3, 2, 2, 2, 2, True, "zeros", (2, 4, 11)),
    (6, 6, 3, 1, 1, 1, 6, True, "zeros", (2, 6, 7)),  # depthwise
    (2, 3, 4, 1, "same", 1, 1, True, "zeros", (2, 2, 8)),  # even kernel: torch pads one more at the end
    (2, 3, 3, 1, "same", 3, 1, True, "zeros", (2, 2, 9)),
    (2, 3, 3, 1, "valid", 1, 1, True, "zeros", (1, 2, 5)),
    (3, 4, 3, 3, 1, 1, 1, True, "zeros", (3, 8)),  # unbatched (C, L)
    (2, 3, 3, 1, 2, 1, 1, True, "reflect", (2, 2, 6)),
    (2, 3, 4, 2, 1, 1, 1, True, "replicate", (2, 2, 7)),
    (2, 3, 3, 1, 3, 1, 1, True, "circular", (2, 2, 5)),
    (2, 3, 4, 1, "same", 1, 1, False, "reflect", (2, 2, 6)),
    (2, 2, 3, 2, 1, 1, 1, True, "circular", (2, 6)),  # unbatched, circular
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("case", CONV1D_CASES, ids=lambda c: "-".join(map(str, c[2:9])))
def test_conv1d_parity_with_torch(case):
    cin, cout, k, s, p, d, g, bias, mode, shape = case
    kw = {"stride": s, "padding": p, "dilation": d, "groups": g, "bias": bias, "padding_mode": mode}
    layer = nn.Conv1d(cin, cout, k, **kw)
    tlayer = torch.nn.Conv1d(cin, cout, k, **kw)
    _same_keys_and_shapes(layer, tlayer)
    _parity(layer, tlayer, _rng("conv1d", case).standard_normal(shape).astype(np.float32))


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv1d_padding_modes_gradcheck(mode):
    cr.manual_seed(0)
    layer = _f64(nn.Conv1d(2, 3, 3, stride=2, padding=2, padding_mode=mode))
    x = cr.tensor(_rng("c1g", mode).standard_normal((2, 2, 5)), dtype=cr.float64, requires_grad=True)
    assert gradcheck(layer, x)


def test_conv1d_attributes_and_init_as_torch():
    cr.manual_seed(1)
    layer = nn.Conv1d(4, 6, 5, stride=2, padding=1, groups=2)
    t = torch.nn.Conv1d(4, 6, 5, stride=2, padding=1, groups=2)
    for name in ("kernel_size", "stride", "padding", "dilation", "groups", "padding_mode"):
        assert getattr(layer, name) == getattr(t, name), name
    assert nn.Conv1d(2, 2, 3, padding="same").padding == "same"
    bound = 1 / math.sqrt(2 * 5)  # kaiming_uniform_(a=sqrt(5)) and the bias: 1 / sqrt(fan_in), fan_in = 2 * 5
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound
    rebuilt = nn.Conv1d.from_config(layer.get_config())
    assert rebuilt.get_config() == layer.get_config()


def test_conv1d_shape_errors_name_the_layer_and_the_shapes():
    layer = nn.Conv1d(3, 4, 3)
    with pytest.raises(ShapeError, match=r"Conv1d\(3, 4\).*\(2, 5, 8\).*\(4, 3, 3\)"):
        layer(cr.zeros(2, 5, 8))
    with pytest.raises(ShapeError, match=r"Conv1d\(3, 4\).*\(2, 3, 4, 4\)"):
        layer(cr.zeros(2, 3, 4, 4))
    with pytest.raises(ShapeError, match=r"Conv1d\(3, 4\).*\(2, 3, 2\).*shorter"):
        layer(cr.zeros(2, 3, 2))
    with pytest.raises(ShapeError, match=r"conv1d: weight must be 3D.*\(4, 3\)"):
        F.conv1d(cr.zeros(2, 3, 8), cr.zeros(4, 3))
    with pytest.raises(ShapeError, match=r"conv1d: bias of shape \(3,\)"):
        F.conv1d(cr.zeros(2, 3, 8), cr.zeros(4, 3, 3), cr.zeros(3))
    with pytest.raises(ShapeError, match="reflect"):
        nn.Conv1d(3, 4, 3, padding=4, padding_mode="reflect")(cr.zeros(1, 3, 4))
    with pytest.raises(ArgumentError, match="stride 1"):
        nn.Conv1d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ArgumentError, match="padding_mode"):
        nn.Conv1d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ArgumentError, match="divisible"):
        nn.Conv1d(3, 4, 3, groups=2)


# ---- ConvTranspose2d -------------------------------------------------------------------------------------------

# (in, out, kernel_size, stride, padding, output_padding, groups, bias, dilation, input shape)
CONVT_CASES = [
    (3, 4, 3, 1, 0, 0, 1, True, 1, (2, 3, 4, 5)),
    (3, 4, 3, 2, 1, 1, 1, True, 1, (2, 3, 4, 4)),
    (4, 6, (3, 2), (2, 3), (1, 0), (1, 2), 2, False, 1, (2, 4, 3, 4)),
    (4, 4, 3, 1, 2, 1, 2, True, 2, (1, 4, 4, 5)),  # output_padding below the dilation, not the stride
    (6, 6, 3, 2, 1, 0, 6, True, 1, (2, 6, 3, 3)),  # depthwise
    (2, 3, 2, 3, 0, 2, 1, True, 1, (2, 2, 3, 3)),  # stride above the kernel: gaps between the windows
    (3, 2, 4, 2, 1, 0, 1, True, (1, 2), (3, 4, 4)),  # unbatched (C, H, W)
]


@pytest.mark.parametrize("case", CONVT_CASES, ids=lambda c: "-".join(map(str, c[2:9])).replace(" ", ""))
def test_conv_transpose2d_parity_with_torch(case):
    cin, cout, k, s, p, op, g, bias, d, shape = case
    kw = {"stride": s, "padding": p, "output_padding": op, "groups": g, "bias": bias, "dilation": d}
    layer = nn.ConvTranspose2d(cin, cout, k, **kw)
    tlayer = torch.nn.ConvTranspose2d(cin, cout, k, **kw)
    _same_keys_and_shapes(layer, tlayer)
    _parity(layer, tlayer, _rng("convt", case).standard_normal(shape).astype(np.float32))


def test_conv_transpose2d_output_size_picks_the_output_padding_as_torch():
    layer = nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1)
    tlayer = torch.nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1)
    x = _rng("convt_size").standard_normal((2, 2, 3, 4)).astype(np.float32)
    out = _parity(layer, tlayer, x, output_size=(9, 11))
    assert out.shape == (2, 3, 9, 11)
    assert layer(cr.tensor(x), output_size=[2, 3, 8, 10]).shape == (2, 3, 8, 10)  # the whole shape also works
    with pytest.raises(ShapeError, match=r"ConvTranspose2d\(2, 3\).*\[7, 10\] to \[9, 12\]"):
        layer(cr.tensor(x), output_size=(12, 10))


def test_conv_transpose2d_is_the_input_gradient_of_conv2d():
    """conv_transpose2d(y, w) = d<conv2d(x, w), y>/dx, the defining identity, in float64."""
    rng = _rng("adjoint")
    x = cr.tensor(rng.standard_normal((2, 4, 7, 6)), dtype=cr.float64, requires_grad=True)
    w = cr.tensor(rng.standard_normal((6, 2, 3, 2)), dtype=cr.float64)
    y = rng.standard_normal((2, 6, 4, 3))
    (F.conv2d(x, w, stride=2, padding=1, groups=2, dilation=(1, 2)) * cr.tensor(y, dtype=cr.float64)).sum().backward()
    # the conv's output is 4 x 3; back from it, the transpose reaches 7 x 5, and output_padding adds the 6th column
    got = F.conv_transpose2d(cr.tensor(y, dtype=cr.float64), w, stride=2, padding=1, output_padding=(0, 1), groups=2,
                             dilation=(1, 2))
    np.testing.assert_allclose(got.numpy(), x.grad.numpy(), rtol=0, atol=1e-12)


def test_conv_transpose2d_gradcheck_float64_with_each_gradient_alone():
    rng = _rng("convt_gc")
    x = cr.tensor(rng.standard_normal((2, 4, 3, 3)), dtype=cr.float64, requires_grad=True)
    w = cr.tensor(rng.standard_normal((4, 1, 2, 3)), dtype=cr.float64, requires_grad=True)
    b = cr.tensor(rng.standard_normal(2), dtype=cr.float64, requires_grad=True)

    def fn(x, w, b):
        return F.conv_transpose2d(x, w, b, stride=(2, 1), padding=(0, 1), output_padding=(1, 0), groups=2)

    assert gradcheck(fn, (x, w, b))
    w.requires_grad = False
    out = fn(x, w, b)
    out.sum().backward()
    assert w.grad is None and x.grad is not None
    x.grad = None
    x.requires_grad, w.requires_grad = False, True
    fn(x, w, b).sum().backward()
    assert x.grad is None and w.grad is not None


def test_conv_transpose2d_init_as_torch():
    cr.manual_seed(2)
    layer = nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert layer.weight.shape == (4, 3, 3, 3)
    bound = 1 / math.sqrt(3 * 9)  # fan_in from axis 1, as torch: out_channels / groups * kH * kW
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound
    t = torch.nn.ConvTranspose2d(4, 6, 3, groups=2)
    for name in ("kernel_size", "stride", "padding", "output_padding", "dilation", "groups", "padding_mode"):
        assert getattr(layer, name) == getattr(t, name), name


def test_conv_transpose2d_errors():
    layer = nn.ConvTranspose2d(3, 4, 3, stride=2)
    with pytest.raises(ShapeError, match=r"ConvTranspose2d\(3, 4\).*\(2, 5, 4, 4\).*\(3, 4, 3, 3\)"):
        layer(cr.zeros(2, 5, 4, 4))
    with pytest.raises(ShapeError, match=r"ConvTranspose2d\(3, 4\).*\(2, 3, 4\)"):
        layer(cr.zeros(2, 3, 4))
    with pytest.raises(ShapeError, match="too large"):
        nn.ConvTranspose2d(3, 4, 1, padding=1)(cr.zeros(1, 3, 1, 1))
    with pytest.raises(ArgumentError, match="output_padding"):
        nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=2)
    with pytest.raises(ArgumentError, match="output_padding"):
        F.conv_transpose2d(cr.zeros(1, 3, 4, 4), cr.zeros(3, 4, 3, 3), output_padding=1)
    with pytest.raises(ShapeError, match=r"conv_transpose2d: bias of shape \(3,\)"):
        F.conv_transpose2d(cr.zeros(1, 3, 4, 4), cr.zeros(3, 4, 3, 3), cr.zeros(3))
    with pytest.raises(ArgumentError, match="zeros"):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")


# ---- MaxPool1d / AvgPool1d -------------------------------------------------------------------------------------

# (kernel_size, stride, padding, dilation, ceil_mode)
MAX1D_CASES = [
    (2, None, 0, 1, False),
    (3, 2, 1, 1, False),
    (3, 2, 1, 1, True),
    (2, 2, 0, 1, True),  # a last window of one element
    (4, 3, 2, 1, True),
    (3, 2, 1, 2, True),
    (5, 3, 2, 2, True),
    (3, 1, 1, 3, False),
]


@pytest.mark.parametrize("case", MAX1D_CASES, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 9), (3, 10)], ids=["batched", "unbatched"])
def test_max_pool1d_parity_with_torch(case, shape):
    k, s, p, d, ceil = case
    x = _rng("max1d", case, shape).permutation(math.prod(shape)).reshape(shape).astype(np.float32) * 0.1
    _parity(nn.MaxPool1d(k, s, p, d, ceil_mode=ceil), torch.nn.MaxPool1d(k, s, p, d, ceil_mode=ceil), x, T.exact)


def test_max_pool1d_ties_go_to_the_first_maximum_as_torch():
    x = np.array([[[1.0, 3.0, 3.0, 2.0, 3.0, 3.0, 0.0]]], np.float32)
    _parity(nn.MaxPool1d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool1d(3, 2, 1, ceil_mode=True), x, T.exact)


# (kernel_size, stride, padding, ceil_mode, count_include_pad)
AVG1D_CASES = [
    (2, None, 0, False, True),
    (3, 2, 1, False, True),
    (3, 2, 1, False, False),
    (3, 2, 1, True, True),
    (3, 2, 1, True, False),
    (2, 2, 0, True, True),  # the last window reaches past the input: torch divides by the cells inside
    (4, 3, 2, True, True),
    (4, 3, 2, True, False),
    (5, 1, 2, False, False),
]


@pytest.mark.parametrize("case", AVG1D_CASES, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 9), (3, 8)], ids=["batched", "unbatched"])
def test_avg_pool1d_parity_with_torch(case, shape):
    k, s, p, ceil, include = case
    x = _rng("avg1d", case, shape).standard_normal(shape).astype(np.float32)
    layer = nn.AvgPool1d(k, s, p, ceil_mode=ceil, count_include_pad=include)
    tlayer = torch.nn.AvgPool1d(k, s, p, ceil_mode=ceil, count_include_pad=include)
    _parity(layer, tlayer, x)
    assert layer.kernel_size == tlayer.kernel_size and layer.stride == tlayer.stride
    assert layer.padding == tlayer.padding


@pytest.mark.parametrize("size", [1, 3, 4, 7, (5,)], ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 10), (3, 7)], ids=["batched", "unbatched"])
def test_adaptive_avg_pool1d_parity_with_torch(size, shape):
    # even tiles, uneven windows that overlap (10 -> 3, 7 -> 4), and more outputs than even tiles allow
    x = _rng("aap1d", size, shape).standard_normal(shape).astype(np.float32)
    _parity(nn.AdaptiveAvgPool1d(size), torch.nn.AdaptiveAvgPool1d(size), x)
    out, tout = F.adaptive_avg_pool1d(cr.tensor(x), size), TF.adaptive_avg_pool1d(torch.tensor(x), size)
    (mag,), _ = T.linear(lambda t: TF.adaptive_avg_pool1d(t, size), [x])
    T.assert_close(out.numpy(), tout.numpy(), mag, "F.adaptive_avg_pool1d")


def test_pool1d_gradcheck_float64():
    x = cr.tensor(_rng("p1g").standard_normal((2, 2, 7)), dtype=cr.float64, requires_grad=True)
    assert gradcheck(lambda t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False), x)
    assert gradcheck(lambda t: F.avg_pool1d(t, 2, 2, 0, ceil_mode=True), x)
    assert gradcheck(lambda t: F.max_pool1d(t, 3, 2, 1, ceil_mode=True), x)
    assert gradcheck(lambda t: F.adaptive_avg_pool1d(t, 3), x)


def test_pool1d_errors():
    with pytest.raises(ShapeError, match=r"MaxPool1d.*\(2, 3, 4, 4\)"):
        nn.MaxPool1d(2)(cr.zeros(2, 3, 4, 4))
    with pytest.raises(ShapeError, match=r"AvgPool1d.*\(2, 3, 2\).*shorter"):
        nn.AvgPool1d(3)(cr.zeros(2, 3, 2))
    with pytest.raises(ArgumentError, match="half of the kernel size"):
        F.max_pool1d(cr.zeros(1, 2, 8), 3, padding=2, dilation=2)  # torch checks the kernel, not the window
    with pytest.raises(ArgumentError, match="half of the kernel size"):
        nn.AvgPool1d(2, padding=2)(cr.zeros(1, 2, 8))
    with pytest.raises(ArgumentError, match="return_indices"):
        nn.MaxPool1d(2, return_indices=True)
    with pytest.raises(ArgumentError, match="kernel_size"):
        nn.MaxPool1d((2, 2))
    with pytest.raises(ShapeError, match=r"AdaptiveAvgPool1d.*\(2, 3, 4, 4\)"):
        nn.AdaptiveAvgPool1d(2)(cr.zeros(2, 3, 4, 4))
    with pytest.raises(ArgumentError, match="output_size"):
        nn.AdaptiveAvgPool1d(0)


# ---- Dropout2d -------------------------------------------------------------------------------------------------


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    layer = nn.Dropout2d(p=0.3, seed=0)
    x = cr.tensor(_rng("d2").uniform(1.0, 2.0, (40, 50, 3, 4)).astype(np.float32), requires_grad=True)
    out = layer(x)
    ratio = out.numpy() / x.numpy()
    per_map = ratio.reshape(40, 50, -1)
    dropped = (per_map == 0).all(axis=2)
    kept = np.isclose(per_map, 1 / 0.7, rtol=1e-6).all(axis=2)
    assert (dropped | kept).all(), "every (sample, channel) map is dropped or kept whole"
    n = dropped.size  # 2000 maps: the share dropped is within 5 standard deviations of p
    assert abs(dropped.mean() - 0.3) < 5 * math.sqrt(0.3 * 0.7 / n)
    g = _rng("d2g").standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    np.testing.assert_allclose(x.grad.numpy(), g * ratio, rtol=1e-6)  # the gradient takes the same mask


def test_dropout2d_matches_torch_where_torch_is_deterministic():
    x = _rng("d2t").standard_normal((2, 3, 4, 4)).astype(np.float32)
    for p in (0.0, 0.4, 1.0):
        layer, tlayer = nn.Dropout2d(p).eval(), torch.nn.Dropout2d(p).eval()
        np.testing.assert_array_equal(layer(cr.tensor(x)).numpy(), tlayer(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(F.dropout2d(cr.tensor(x), 0.0).numpy(), TF.dropout2d(torch.tensor(x), 0.0).numpy())
    np.testing.assert_array_equal(F.dropout2d(cr.tensor(x), 1.0).numpy(), TF.dropout2d(torch.tensor(x), 1.0).numpy())


def test_dropout2d_takes_a_3d_input_as_torch_does():
    """torch 2.13 reads a 3-D input as (N, C, L) and drops each [n, c, :] row, with a warning; so does chainrule."""
    x = np.ones((30, 40, 5), np.float32)
    with pytest.warns(UserWarning, match="channel-wise 1D dropout") as ours:
        out = F.dropout2d(cr.tensor(x), 0.5, seed=1).numpy()
    with pytest.warns(UserWarning, match="channel-wise 1D dropout") as theirs:
        tout = TF.dropout2d(torch.tensor(x), 0.5).numpy()
    assert str(ours[0].message) == str(theirs[0].message)
    for a in (out, tout):
        rows = a.reshape(30 * 40, 5)
        assert ((rows == 0).all(axis=1) | (rows == 2).all(axis=1)).all()
        assert 0.4 < (rows[:, 0] == 0).mean() < 0.6


def test_dropout2d_other_inputs_warn_or_fail_as_torch():
    with pytest.warns(UserWarning, match="Received a 5-D input"):
        out = F.dropout2d(cr.ones(2, 3, 2, 2, 2), 0.5, seed=0).numpy()
    assert all(np.unique(out[n, c]).size == 1 for n in range(2) for c in range(3))
    with pytest.raises(ShapeError, match=r"dropout2d.*\(5,\)"):
        F.dropout2d(cr.ones(5), 0.5)
    with pytest.raises(ArgumentError, match="probability"):
        nn.Dropout2d(1.5)
    with pytest.raises(ArgumentError, match="probability"):
        F.dropout2d(cr.ones(2, 3, 2, 2), -0.1)


def test_dropout2d_draws_from_the_seeded_generator():
    x = cr.ones(4, 8, 2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a 4-D input gives no warning
        a, b = nn.Dropout2d(0.5, seed=7)(x).numpy(), nn.Dropout2d(0.5, seed=7)(x).numpy()
    np.testing.assert_array_equal(a, b)
    cr.manual_seed(3)
    c = nn.Dropout2d(0.5)(x).numpy()
    cr.manual_seed(3)
    np.testing.assert_array_equal(F.dropout2d(x, 0.5).numpy(), c)


# ---- interpolate / Upsample ------------------------------------------------------------------------------------

INTERP_SIZES = [1, 2, 3, 4, 5, 7, 10]
INTERP_SCALES = [0.3, 0.5, 0.7, 1.0, 1.2, 1.5, 1.7, 2.0, 2.2, 2.5, 3.3, 1 / 3, 4 / 3]


@pytest.mark.parametrize("mode,align", [("nearest", None), ("nearest-exact", None), ("bilinear", False),
                                        ("bilinear", True)])
def test_interpolate_forward_matches_torch_on_a_grid_of_sizes_and_scales(mode, align):
    """Nearest indices exactly, bilinear values within the linear rule, for explicit scale factors (torch uses
    1 / scale_factor), recomputed ones (the sizes' ratio) and sizes, including torch's copy when the size
    does not change (a scale factor of 1.2 on 4 pixels) and the clamp at 0 of align_corners=False."""
    for n in INTERP_SIZES:
        x = _rng("grid", n).standard_normal((1, 2, n, 3)).astype(np.float32)
        options = [{"scale_factor": (s, 1.0), "recompute_scale_factor": r} for s in INTERP_SCALES for r in (None, True)]
        options += [{"size": (m, 3)} for m in (1, 2, 3, 5, 8, 11, 2 * n)]
        for kw in options:
            try:
                t = TF.interpolate(torch.tensor(x), mode=mode, align_corners=align, **kw)
            except RuntimeError:  # an empty output: refused by both
                with pytest.raises(ShapeError):
                    F.interpolate(cr.tensor(x), mode=mode, align_corners=align, **kw)
                continue
            out = F.interpolate(cr.tensor(x), mode=mode, align_corners=align, **kw).numpy()
            if mode.startswith("nearest"):
                np.testing.assert_array_equal(out, t.numpy(), err_msg=f"n={n} {kw}")
            else:
                (mag,), _ = T.linear(lambda a, kw=kw: TF.interpolate(a, mode=mode, align_corners=align, **kw), [x])
                T.assert_close(out, t, mag, f"n={n} {kw}")


def test_interpolate_edge_cases_against_torch():
    def both(x, **kw):
        return (F.interpolate(cr.tensor(x), **kw).numpy().ravel().tolist(),
                TF.interpolate(torch.tensor(x), **kw).numpy().ravel().tolist())

    three = np.arange(3, dtype=np.float32).reshape(1, 1, 1, 3)
    # nearest: floor(dst * scale) with scale = 1 / 1.6 given explicitly, but 3 / 4 when recomputed
    ours, theirs = both(three, scale_factor=(1, 1.6))
    assert ours == theirs == [0.0, 0.0, 1.0, 1.0]
    ours, theirs = both(three, scale_factor=(1, 1.6), recompute_scale_factor=True)
    assert ours == theirs == [0.0, 0.0, 1.0, 2.0]
    # torch's 2-d kernel copies an output of the input's size and doubles one of twice its size, whatever the
    # scale factor; its 1-d and 3-d kernels apply floor(dst / scale_factor) there too
    two = np.array([[[[0.0, 1.0]]]], np.float32)
    assert both(two, scale_factor=(1, 2.2))[0] == both(two, scale_factor=(1, 2.2))[1] == [0.0, 0.0, 1.0, 1.0]
    ours, theirs = both(two[0], scale_factor=2.2)
    assert ours == theirs == [0.0, 0.0, 0.0, 1.0]
    ours, theirs = both(two[0], scale_factor=1.1)
    assert ours == theirs == [0.0, 0.0]
    ours, theirs = both(two[:, :, None], scale_factor=(1, 1, 1.1))
    assert ours == theirs == [0.0, 0.0]
    # bilinear, align_corners=False: the source index is clamped at 0 (no extrapolation below the first pixel)
    ours, theirs = both(two, size=(1, 4), mode="bilinear")
    assert ours == theirs == [0.0, 0.25, 0.75, 1.0]
    six = np.arange(6, dtype=np.float32).reshape(1, 1, 1, 6)
    ours, theirs = both(six, scale_factor=(1, 0.4), mode="bilinear")
    assert ours == theirs == [0.75, 3.25]
    ours, theirs = both(six, scale_factor=(1, 0.4), mode="bilinear", recompute_scale_factor=True)
    assert ours == theirs == [1.0, 4.0]
    four = np.arange(4, dtype=np.float32).reshape(1, 1, 1, 4)
    ours, theirs = both(four, scale_factor=(1, 1.2), mode="bilinear")  # 4 * 1.2 -> 4 pixels: torch copies
    assert ours == theirs == [0.0, 1.0, 2.0, 3.0]
    ours, theirs = both(six, size=(1, 3), mode="bilinear", align_corners=True)
    assert ours == theirs == [0.0, 2.5, 5.0]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0, on purpose
def test_interpolate_non_finite_values_as_torch():
    """torch weighs the two neighbours even where one weight is 0, and an unchanged axis's element by 1 and 0:
    an infinity there gives NaN, in torch and here; nearest only copies."""
    x = np.array([[[[1.0, np.inf, 3.0], [4.0, 5.0, np.nan]]]], np.float32)
    for kw in ({"size": (2, 3)}, {"size": (2, 5)}, {"size": (4, 3)}, {"size": (3, 4), "align_corners": True}):
        ours = F.interpolate(cr.tensor(x), mode="bilinear", **kw).numpy()
        np.testing.assert_array_equal(ours, TF.interpolate(torch.tensor(x), mode="bilinear", **kw).numpy())
    ours = F.interpolate(cr.tensor(x), scale_factor=2).numpy()
    np.testing.assert_array_equal(ours, TF.interpolate(torch.tensor(x), scale_factor=2).numpy())


# (module kwargs, input shape)
UPSAMPLE_CASES = [
    ({"scale_factor": 2}, (2, 3, 3, 4)),
    ({"size": (5, 7)}, (2, 2, 3, 4)),
    ({"scale_factor": (1.5, 0.7)}, (1, 2, 4, 6)),
    ({"scale_factor": 2, "mode": "bilinear"}, (2, 2, 3, 4)),
    ({"scale_factor": 1.7, "mode": "bilinear", "align_corners": True}, (1, 3, 4, 3)),
    ({"size": (2, 9), "mode": "bilinear"}, (1, 2, 5, 4)),
    ({"scale_factor": 2.5, "mode": "nearest-exact"}, (1, 2, 3, 3)),
    ({"scale_factor": 1.6, "mode": "bilinear", "recompute_scale_factor": True}, (1, 2, 5, 4)),
    ({"size": 7, "mode": "linear"}, (2, 3, 4)),
    ({"scale_factor": 2, "mode": "trilinear"}, (1, 2, 2, 3, 2)),
    ({"size": (3, 4, 2)}, (1, 2, 2, 3, 4)),
]


@pytest.mark.parametrize("case", UPSAMPLE_CASES, ids=lambda c: str(c[0]))
def test_upsample_parity_with_torch(case):
    kwargs, shape = case
    x = _rng("up", str(case)).standard_normal(shape).astype(np.float32)
    _parity(nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs), x)


def test_upsampling_layers_parity_and_gradcheck():
    x = _rng("ups").standard_normal((2, 2, 3, 4)).astype(np.float32)
    _parity(nn.UpsamplingNearest2d(scale_factor=2), torch.nn.UpsamplingNearest2d(scale_factor=2), x)
    _parity(nn.UpsamplingBilinear2d(size=(5, 7)), torch.nn.UpsamplingBilinear2d(size=(5, 7)), x)
    x64 = cr.tensor(x, dtype=cr.float64, requires_grad=True)
    assert gradcheck(nn.Upsample(scale_factor=(1.5, 0.6), mode="bilinear"), x64)
    assert gradcheck(nn.Upsample(scale_factor=2.5), x64)
    t64 = cr.tensor(_rng("tri").standard_normal((1, 1, 2, 3, 2)), dtype=cr.float64, requires_grad=True)
    assert gradcheck(nn.Upsample(size=(3, 2, 4), mode="trilinear", align_corners=True), t64)


def test_upsample_stores_its_arguments_as_torch():
    for kwargs in ({"scale_factor": 2}, {"scale_factor": (2, 3)}, {"size": 4}, {"size": (4, 5), "mode": "bilinear"}):
        ours, theirs = nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs)
        for name in ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"):
            assert getattr(ours, name) == getattr(theirs, name), (kwargs, name)
    assert nn.UpsamplingBilinear2d(scale_factor=2).align_corners is True


def test_interpolate_errors():
    x = cr.zeros(1, 2, 3, 4)
    with pytest.raises(ArgumentError, match="align_corners"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ArgumentError, match="align_corners"):
        nn.Upsample(scale_factor=2, align_corners=False)
    with pytest.raises(ArgumentError, match="not both"):
        F.interpolate(x, size=4, scale_factor=2)
    with pytest.raises(ArgumentError, match="size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ArgumentError, match="mode"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ShapeError, match=r"interpolate: size \(4, 5, 6\).*\(1, 2, 3, 4\)"):
        F.interpolate(x, size=(4, 5, 6))
    with pytest.raises(ShapeError, match=r"Upsample: mode='bilinear' needs a 4D.*\(1, 2, 3\)"):
        nn.Upsample(scale_factor=2, mode="bilinear")(cr.zeros(1, 2, 3))
    with pytest.raises(ShapeError, match="at least 1"):
        F.interpolate(x, scale_factor=0.2)
    with pytest.raises(ArgumentError, match="recompute_scale_factor"):
        F.interpolate(x, size=4, recompute_scale_factor=True)


# ---- GroupNorm -------------------------------------------------------------------------------------------------


def _group_norm_magnitudes(num_groups, eps=1e-5):
    """As tests/ops/cases_vision.py's rule: x (N, C, *) seen as (N, S, G, C / G), normalised over axes (1, 3)."""

    def rule(torch_fn, arrays, upstreams=None):
        x = np.asarray(arrays[0], dtype=np.float64)
        n, c = x.shape[:2]

        def grouped(a):
            return np.moveaxis(a.reshape(n, num_groups, c // num_groups, -1), 3, 1)

        def back(a):
            return np.moveaxis(a, 1, 3).reshape(x.shape)

        params = [np.asarray(a).reshape(num_groups, c // num_groups) for a in arrays[1:]]
        ups = None if upstreams is None else [grouped(np.asarray(upstreams[0], dtype=np.float64))]
        (mag,), grads = T.normalization((1, 3), eps=eps)(None, [grouped(x), *params], ups)
        return [back(mag)], ([] if ups is None else [back(grads[0])] + [g.reshape(c) for g in grads[1:]])

    return rule


@pytest.mark.parametrize("groups,channels,shape,affine", [
    (2, 4, (2, 4, 3, 3), True),
    (1, 3, (2, 3, 5), True),  # one group: a layer norm over (C, L)
    (6, 6, (2, 6, 2, 2), True),  # a group per channel: an instance norm
    (3, 6, (3, 6), False),  # no spatial axes
    (2, 4, (1, 4, 2, 3, 2), True),
])
def test_group_norm_parity_with_torch(groups, channels, shape, affine):
    layer = nn.GroupNorm(groups, channels, affine=affine)
    tlayer = torch.nn.GroupNorm(groups, channels, affine=affine)
    _same_keys_and_shapes(layer, tlayer)
    if affine:  # parameters other than the ones and zeros they start as
        rng = _rng("gn_params", shape)
        layer.weight._data[...] = rng.uniform(0.5, 1.5, channels)
        layer.bias._data[...] = rng.standard_normal(channels)
    x = _rng("gn", shape).standard_normal(shape).astype(np.float32)
    _parity(layer, tlayer, x, rule=_group_norm_magnitudes(groups))


def test_group_norm_errors_and_gradcheck():
    layer = nn.GroupNorm(2, 4)
    with pytest.raises(ShapeError, match=r"GroupNorm\(2, 4\).*\(N, 4, \*\).*\(2, 6, 3\)"):
        layer(cr.zeros(2, 6, 3))
    with pytest.raises(ShapeError, match=r"GroupNorm\(2, 4\).*\(4,\)"):
        layer(cr.zeros(4))
    with pytest.raises(ArgumentError, match="divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ShapeError, match=r"group_norm: input of shape \(2, 5, 3\) has 5 channels"):
        F.group_norm(cr.zeros(2, 5, 3), 2)
    with pytest.raises(ShapeError, match=r"group_norm: weight of shape \(3,\)"):
        F.group_norm(cr.zeros(2, 4, 3), 2, cr.ones(3))
    assert nn.GroupNorm(2, 4, affine=False).weight is None
    rng = _rng("gn_gc")
    x = cr.tensor(rng.standard_normal((2, 4, 3)), dtype=cr.float64, requires_grad=True)
    w = cr.tensor(rng.standard_normal(4), dtype=cr.float64, requires_grad=True)
    b = cr.tensor(rng.standard_normal(4), dtype=cr.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b, eps=1e-3), (x, w, b))


# ---- PReLU, ReLU6, Hardtanh, Mish ------------------------------------------------------------------------------


def _prelu_magnitudes(torch_fn, arrays, upstreams=None):
    """As tests/ops/cases_vision.py's rule: x or w * x by the sign of x, linear in each (T.linear, real signs)."""
    x, w = arrays
    positive = torch.tensor(np.asarray(x) > 0)
    shape = (-1,) + (1,) * (x.ndim - 2) if x.ndim >= 2 else (-1,)
    return T.linear(lambda a, b: torch.where(positive, a, a * b.reshape(shape)), arrays, upstreams)


@pytest.mark.parametrize("num,shape", [(1, (2, 3, 4, 4)), (3, (2, 3, 4, 4)), (3, (4, 3)), (1, (7,)), (1, (3, 5))])
def test_prelu_parity_with_torch(num, shape):
    layer, tlayer = nn.PReLU(num), torch.nn.PReLU(num)
    _same_keys_and_shapes(layer, tlayer)
    np.testing.assert_array_equal(layer.weight.numpy(), tlayer.weight.detach().numpy())  # init=0.25, as torch
    layer.weight._data[...] = _rng("prelu_w", num).uniform(-0.5, 1.5, num)
    x = _rng("prelu", num, shape).standard_normal(shape).astype(np.float32)
    x.flat[::5] = 0.0  # at 0 the input gradient is w * g and the weight's is 0, as torch
    _parity(layer, tlayer, x, rule=_prelu_magnitudes)


def test_prelu_init_errors_and_gradcheck():
    np.testing.assert_array_equal(nn.PReLU(4, init=0.1).weight.numpy(), np.full(4, 0.1, np.float32))
    with pytest.raises(ShapeError, match=r"PReLU\(num_parameters=3\).*\(3,\).*\(2, 4, 5\)"):
        nn.PReLU(3)(cr.zeros(2, 4, 5))
    with pytest.raises(ShapeError, match="prelu: weight must be a scalar or 1-D"):
        F.prelu(cr.zeros(2, 3), cr.zeros(3, 1))
    rng = _rng("prelu_gc")
    x = cr.tensor(rng.choice([-1, 1], (2, 3, 2)) * rng.uniform(0.2, 2, (2, 3, 2)), dtype=cr.float64,
                  requires_grad=True)
    w = cr.tensor(rng.standard_normal(3), dtype=cr.float64, requires_grad=True)
    assert gradcheck(F.prelu, (x, w))


KINKS = np.array([-7.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 6.5], np.float32)


@pytest.mark.parametrize("name,ours,theirs", [
    ("hardtanh", nn.Hardtanh(), torch.nn.Hardtanh()),
    ("hardtanh_bounds", nn.Hardtanh(-0.5, 3.0), torch.nn.Hardtanh(-0.5, 3.0)),
    ("relu6", nn.ReLU6(), torch.nn.ReLU6()),
    ("mish", nn.Mish(), torch.nn.Mish()),
])
def test_clipping_activations_at_their_kinks_as_torch(name, ours, theirs):
    """On the bounds themselves torch's gradient is 0 (hardtanh's backward passes only strictly inside)."""
    x = cr.tensor(KINKS, requires_grad=True)
    xt = torch.tensor(KINKS, requires_grad=True)
    out, tout = ours(x), theirs(xt)
    (mag,), (gmag,) = T.elementwise(lambda a: theirs(a), [KINKS], [np.ones(KINKS.shape)])
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    out.backward(cr.ones(*KINKS.shape))
    tout.backward(torch.ones(KINKS.shape))
    T.assert_close(x.grad.numpy(), xt.grad.numpy(), gmag, "gradient")
    if name != "mish":
        np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


def test_mish_extremes_and_activation_arguments():
    x = np.array([-100.0, -30.0, -20.5, 19.5, 20.5, 30.0, 100.0], np.float32)
    xt = torch.tensor(x, requires_grad=True)
    tout = TF.mish(xt)
    tout.sum().backward()
    t = cr.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in exp
        out = F.mish(t)
        out.sum().backward()
    (mag,), (gmag,) = T.elementwise(TF.mish, [x], [np.ones(x.shape)])
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    T.assert_close(t.grad.numpy(), xt.grad.numpy(), gmag, "gradient")
    with pytest.raises(ArgumentError, match="max_val"):
        nn.Hardtanh(1.0, 1.0)
    for layer, tlayer in ((nn.Hardtanh(-2.0, 3.0, inplace=True), torch.nn.Hardtanh(-2.0, 3.0, inplace=True)),
                          (nn.ReLU6(inplace=True), torch.nn.ReLU6(inplace=True)), (nn.Mish(), torch.nn.Mish())):
        for k, v in layer.get_config().items():
            assert getattr(tlayer, k) == v, k
