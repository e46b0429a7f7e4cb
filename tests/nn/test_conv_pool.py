"""Conv2d and the pooling layers: PyTorch parity (forward and every gradient, float32), gradcheck (float64),
shape errors, max-pool tie routing, get_config rebuild and repr."""

import json
import math
import zlib

import numpy as np
import pytest
import tolerance as T
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.functional as F
from chainrule import nn, registry
from chainrule.autograd import gradcheck
from chainrule.errors import ArgumentError, ShapeError


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _parity(cr_layer, torch_layer, x_np, seed=0, rule=T.linear, bounding=None):
    """Forward values and the gradients of the input and of every parameter, against torch, in float32, within
    C * eps of the magnitudes ``rule`` gives (``tests/tolerance.py``): ``linear`` (the convolution of |x| with
    |w|, a pool of |x|) or ``exact`` (max-pooling); ``bounding``, a torch module with the layer's parameters
    whose ``rule`` magnitudes bound the layer's (default: the torch layer itself)."""
    torch_layer.load_state_dict({k: torch.tensor(v) for k, v in cr_layer.state_dict().items()})
    x, xt = cr.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    out, tout = cr_layer(x), torch_layer(xt)
    assert out.shape == tuple(tout.shape)
    assert out.dtype == cr.float32
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(np.float32)
    mag, (gx_mag,), param_mags = T.module_magnitudes(rule, bounding or torch_layer, [x_np], g)
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    out.backward(g)
    tout.backward(torch.tensor(g))
    assert x.grad.dtype == cr.float32 and x.grad.shape == x.shape
    T.assert_close(x.grad.numpy(), xt.grad.numpy(), gx_mag, "input gradient")
    tparams = dict(torch_layer.named_parameters())
    for name, p in cr_layer.named_parameters():
        assert p.grad is not None, f"{name} received no gradient"
        assert p.grad.dtype == cr.float32
        T.assert_close(p.grad.numpy(), tparams[name].grad.numpy(), param_mags[name], f"gradient of {name}")


# ---- Conv2d against torch ------------------------------------------------------------------------------------------

# (in, out, kernel_size, stride, padding, dilation, groups, bias, input shape)
CONV_CASES = [
    (3, 4, 3, 1, 0, 1, 1, True, (2, 3, 7, 7)),
    (3, 4, 3, 1, 1, 1, 1, False, (2, 3, 6, 5)),
    (3, 6, (3, 2), (2, 1), (1, 0), 1, 1, True, (2, 3, 8, 7)),
    (4, 6, 3, 2, 2, 2, 2, True, (2, 4, 9, 9)),
    (6, 6, 3, 1, 1, 1, 6, True, (2, 6, 6, 6)),  # depthwise
    (6, 12, 3, 2, 1, 1, 3, False, (2, 6, 7, 8)),
    (4, 8, (2, 3), 3, (0, 1), (2, 1), 4, True, (1, 4, 10, 9)),
    (3, 5, 1, 1, 0, 1, 1, True, (2, 3, 4, 5)),  # 1x1
    (2, 3, 2, 3, 0, 1, 1, True, (2, 2, 8, 8)),  # stride larger than the kernel: some pixels unused
    (2, 4, 3, 1, "same", (1, 2), 1, True, (2, 2, 6, 7)),
    (2, 3, 4, 1, "same", 1, 1, True, (2, 2, 6, 6)),  # even kernel: torch pads one more at the end
    (2, 3, 3, 1, "valid", 1, 1, True, (1, 2, 5, 5)),
    (3, 4, 3, 2, 1, 1, 1, True, (3, 7, 7)),  # unbatched (C, H, W)
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "-".join(map(str, c[2:8])).replace(" ", ""))
def test_conv2d_parity_with_torch(case):
    cin, cout, k, s, p, d, g, bias, shape = case
    cr.manual_seed(0)
    layer = nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, groups=g, bias=bias)
    tlayer = torch.nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, groups=g, bias=bias)
    x = _rng("conv", case).standard_normal(shape).astype(np.float32)
    _parity(layer, tlayer, x)


def test_functional_conv2d_gradients_only_where_asked():
    rng = np.random.default_rng(1)
    xn, wn, bn = (rng.standard_normal(s).astype(np.float32) for s in [(2, 3, 5, 5), (4, 3, 3, 3), (4,)])
    x, w, b = cr.tensor(xn), cr.tensor(wn, requires_grad=True), cr.tensor(bn)
    F.conv2d(x, w, b, padding=1).sum().backward()
    assert x.grad is None and b.grad is None
    wt = torch.tensor(wn, requires_grad=True)
    TF.conv2d(torch.tensor(xn), wt, torch.tensor(bn), padding=1).sum().backward()
    _, (_, w_mag, _) = T.linear(lambda *t: TF.conv2d(*t, padding=1), [xn, wn, bn], [np.ones((2, 4, 5, 5))])
    T.assert_close(w.grad.numpy(), wt.grad.numpy(), w_mag, "weight gradient")

    x.requires_grad = True
    w2 = cr.tensor(wn)
    F.conv2d(x, w2, stride=2).sum().backward()
    xt = torch.tensor(xn, requires_grad=True)
    TF.conv2d(xt, torch.tensor(wn), stride=2).sum().backward()
    _, (x_mag, _) = T.linear(lambda *t: TF.conv2d(*t, stride=2), [xn, wn], [np.ones((2, 4, 2, 2))])
    T.assert_close(x.grad.numpy(), xt.grad.numpy(), x_mag, "input gradient")
    with cr.no_grad():
        assert not F.conv2d(x, w, b).requires_grad


def test_conv2d_float64_stays_float64():
    rng = np.random.default_rng(2)
    x = cr.tensor(rng.standard_normal((1, 2, 4, 4)), dtype=cr.float64, requires_grad=True)
    w = cr.tensor(rng.standard_normal((3, 2, 2, 2)), dtype=cr.float64, requires_grad=True)
    out = F.conv2d(x, w)
    assert out.dtype == cr.float64
    out.sum().backward()
    assert x.grad.dtype == cr.float64 and w.grad.dtype == cr.float64


# ---- pooling against torch -----------------------------------------------------------------------------------------

# (kernel_size, stride, padding, dilation)
MAX_CASES = [
    (2, None, 0, 1),  # windows tile the input: the reshape path
    (3, None, 0, 1),  # stride = kernel, but 8 x 9 is not a multiple of 3 x 3
    (3, 2, 1, 1),
    (3, 1, 1, 1),
    ((2, 3), (1, 2), (1, 1), 1),
    (2, 2, 1, 1),
    (3, 2, 1, 2),
    ((3, 2), (2, 3), 0, (1, 2)),
]


@pytest.mark.parametrize("case", MAX_CASES, ids=str)
def test_max_pool2d_parity_with_torch(case):
    k, s, p, d = case
    x = _rng("max", case).standard_normal((2, 3, 8, 9)).astype(np.float32)
    _parity(nn.MaxPool2d(k, s, p, d), torch.nn.MaxPool2d(k, s, p, d), x, rule=T.exact)


AVG_CASES = [(2, None, 0), (3, None, 0), (3, 2, 1), (3, 1, 1), ((2, 3), (1, 2), (1, 1)), (2, 2, 1), (4, 3, 2)]


@pytest.mark.parametrize("case", AVG_CASES, ids=str)
def test_avg_pool2d_parity_with_torch(case):
    k, s, p = case
    x = _rng("avg", case).standard_normal((2, 3, 8, 9)).astype(np.float32)
    _parity(nn.AvgPool2d(k, s, p), torch.nn.AvgPool2d(k, s, p), x)


@pytest.mark.parametrize("size", [1, (1, 1), 4, (4, 7), (2, 3), (3, 5), (None, 3), (10, 3), (8, None)], ids=str)
def test_adaptive_avg_pool2d_parity_with_torch(size):
    x = _rng("adaptive", size).standard_normal((2, 3, 8, 7)).astype(np.float32)
    _parity(nn.AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size), x)


@pytest.mark.parametrize(
    "make",
    [
        lambda: (nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
        lambda: (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
        lambda: (nn.AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3))),
    ],
    ids=["max", "avg", "adaptive"],
)
def test_pools_take_unbatched_input(make):
    x = np.random.default_rng(3).standard_normal((3, 6, 7)).astype(np.float32)
    layer, torch_layer = make()
    _parity(layer, torch_layer, x, rule=T.exact if isinstance(layer, nn.MaxPool2d) else T.linear)


def test_small_network_parity_with_torch():
    """Conv outputs are strided views: the layers after them must cope with any memory layout."""

    def build(m):
        return m.Sequential(
            m.Conv2d(3, 8, 3, padding=1),
            m.ReLU(),
            m.MaxPool2d(2),
            m.Conv2d(8, 8, 3, stride=2, padding=1, groups=2),
            m.ReLU(),
            m.AvgPool2d(3, 1, 1),
            m.Conv2d(8, 6, 1),
            m.AdaptiveAvgPool2d(1),
            m.Flatten(),
            m.Linear(6, 4),
        )

    cr.manual_seed(0)
    x = np.random.default_rng(4).standard_normal((3, 3, 12, 12)).astype(np.float32)
    model, torch_model = build(nn), build(torch.nn)
    torch_model.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    # the magnitudes of a network of products and sums on absolute values bound the real one's terms and the
    # errors it carries from layer to layer, with each ReLU left out (|relu(z)| <= |z|, slope <= 1) and the
    # max-pool's selection bounded by the sum over its window (a 1-norm pool: every element it may take)
    bounding = build(torch.nn)
    bounding.load_state_dict(torch_model.state_dict())
    bounding[1] = bounding[4] = torch.nn.Identity()
    bounding[2] = torch.nn.LPPool2d(1, 2)
    _parity(model, torch_model, x, bounding=bounding)


# ---- gradcheck (float64) -------------------------------------------------------------------------------------------


def _t(shape, seed, distinct=False):
    rng = np.random.default_rng(seed)
    if distinct:  # well-separated values: no two within a window are closer than the finite-difference step
        a = rng.permutation(np.prod(shape)).reshape(shape) * 0.1
    else:
        a = rng.standard_normal(shape)
    return cr.tensor(a, dtype=cr.float64, requires_grad=True)


@pytest.mark.parametrize(
    "options, wshape",
    [
        ({"padding": 1}, (2, 2, 3, 3)),
        ({"stride": 2, "padding": (1, 0), "dilation": (1, 2)}, (3, 2, 2, 2)),
        ({"groups": 2, "padding": 1}, (4, 1, 3, 2)),
        ({"padding": "same"}, (2, 2, 2, 3)),
    ],
    ids=["pad", "stride-dilation", "groups", "same"],
)
def test_conv2d_gradcheck(options, wshape):
    x, w, b = _t((2, 2, 5, 4), 0), _t(wshape, 1), _t((wshape[0],), 2)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **options), (x, w, b))


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.max_pool2d(x, 2),
        lambda x: F.max_pool2d(x, 3, 2, 1),
        lambda x: F.max_pool2d(x, (2, 3), 1, (1, 1), (2, 1)),
        lambda x: F.avg_pool2d(x, 2),
        lambda x: F.avg_pool2d(x, 3, 2, 1),
        lambda x: F.adaptive_avg_pool2d(x, 1),
        lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
        lambda x: F.adaptive_avg_pool2d(x, (4, 3)),
    ],
    ids=["max-tiles", "max-pad", "max-dilation", "avg-tiles", "avg-pad", "adaptive-1", "adaptive-uneven", "ad-tiles"],
)
def test_pool_gradcheck(fn):
    assert gradcheck(fn, _t((2, 2, 4, 6), 3, distinct=True))


# ---- max-pool ties and special values ------------------------------------------------------------------------------


@pytest.mark.parametrize("options", [(2, None, 0), (3, 1, 1), (3, 2, 1), ((2, 3), (1, 2), (1, 0))], ids=str)
def test_max_pool2d_ties_route_like_torch(options):
    """torch sends each window's gradient to one element, the first maximum in row-major order."""
    rng = np.random.default_rng(5)
    for x_np in [np.zeros((2, 2, 6, 7), np.float32), rng.integers(0, 3, (2, 2, 6, 7)).astype(np.float32)]:
        x, xt = cr.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
        out, tout = F.max_pool2d(x, *options), TF.max_pool2d(xt, *options)
        g = rng.standard_normal(out.shape).astype(np.float32)
        out.backward(g)
        tout.backward(torch.tensor(g))
        np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
        # overlapping windows add their gradients where they pick the same element: exact up to those sums
        _, (gx_mag,) = T.exact(lambda t: TF.max_pool2d(t, *options), [x_np], [g])
        T.assert_close(x.grad.numpy(), xt.grad.numpy(), gx_mag, "input gradient")


@pytest.mark.parametrize("options", [(3, 2, 1), (2, None, 0), (3, 1, 1)], ids=str)
def test_max_pool2d_nan_and_minus_inf_like_torch(options):
    """A NaN is the maximum and takes the gradient (the last NaN of a window, as torch); an all -inf window
    sends it to its first real element, never to padding."""
    x_np = np.random.default_rng(6).standard_normal((1, 2, 6, 6)).astype(np.float32)
    x_np[0, 0, 1, 1] = x_np[0, 0, 1, 2] = x_np[0, 0, 2, 1] = x_np[0, 0, 4, 2] = np.nan
    x_np[0, 1] = -np.inf
    x, xt = cr.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    out, tout = F.max_pool2d(x, *options), TF.max_pool2d(xt, *options)
    g = np.random.default_rng(7).standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    _, (gx_mag,) = T.exact(lambda t: TF.max_pool2d(t, *options), [x_np], [g])  # sums of overlapping windows
    T.assert_close(x.grad.numpy(), xt.grad.numpy(), gx_mag, "input gradient")


# ---- errors --------------------------------------------------------------------------------------------------------


def test_conv2d_channel_mismatch_names_op_and_shapes():
    x, w = cr.zeros((2, 3, 8, 8)), cr.zeros((4, 2, 3, 3))
    with pytest.raises(ShapeError) as e:
        F.conv2d(x, w)
    assert str(e.value) == (
        "conv2d: input of shape (2, 3, 8, 8) has 3 channels but weight of shape (4, 2, 3, 3) expects 2 (groups=1)"
    )
    with pytest.raises(ShapeError, match=r"weight of shape \(4, 2, 3, 3\) expects 4 \(groups=2\)"):
        F.conv2d(x, w, groups=2)


@pytest.mark.parametrize(
    "xshape, wshape, kwargs, pattern",
    [
        (
            (2, 3, 2, 2),
            (4, 3, 3, 3),
            {},
            r"conv2d: input of shape \(2, 3, 2, 2\), padded to 2x2, is smaller than the 3x3 window of weight of "
            r"shape \(4, 3, 3, 3\): the output would be empty",
        ),
        ((2, 3, 5, 5), (4, 3, 3, 3), {"dilation": 3}, r"conv2d: .*7x7 window of weight.*with dilation \(3, 3\)"),
        ((3, 8, 8), (4, 3, 3), {}, r"conv2d: weight must be 4D .*shape \(4, 3, 3\)"),
        ((8, 8), (4, 1, 3, 3), {}, r"conv2d: expected a 4D .*input of shape \(8, 8\)"),
        ((1, 4, 5, 5), (3, 2, 3, 3), {"groups": 2}, r"conv2d: weight of shape \(3, 2, 3, 3\) has 3 output channels"),
        ((1, 3, 5, 5), (4, 3, 3, 3), {"bias": (3,)}, r"conv2d: bias of shape \(3,\) does not fit weight of shape"),
    ],
)
def test_conv2d_shape_errors(xshape, wshape, kwargs, pattern):
    if "bias" in kwargs:
        kwargs = dict(kwargs, bias=cr.zeros(kwargs["bias"]))
    with pytest.raises(ShapeError, match=pattern):
        F.conv2d(cr.zeros(xshape), cr.zeros(wshape), **kwargs)


def test_conv2d_argument_errors():
    x, w = cr.zeros((1, 2, 5, 5)), cr.zeros((2, 2, 3, 3))
    with pytest.raises(ArgumentError, match="conv2d: stride must be at least 1"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ArgumentError, match="conv2d: padding='same' needs stride 1"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ArgumentError, match="conv2d: padding must be"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ArgumentError, match="conv2d: dilation must be an int or a pair"):
        F.conv2d(x, w, dilation=(1, 2, 3))
    with pytest.raises(ArgumentError, match=r"Conv2d: in_channels \(3\) and out_channels \(4\) must both be divisible"):
        nn.Conv2d(3, 4, 3, groups=2)


def test_pool_errors():
    x = cr.zeros((2, 3, 4, 4))
    with pytest.raises(
        ShapeError, match=r"max_pool2d: input of shape \(2, 3, 4, 4\).*smaller than the 5x5 window of kernel_size=5"
    ):
        F.max_pool2d(x, 5)
    with pytest.raises(
        ShapeError, match=r"avg_pool2d: input of shape \(2, 3, 4, 4\).*the 1x6 window of kernel_size=\(1, 6\)"
    ):
        F.avg_pool2d(x, (1, 6))
    with pytest.raises(ArgumentError, match="max_pool2d: padding 2 is more than half of the kernel size 3"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(ShapeError, match=r"avg_pool2d: expected a 4D .*input of shape \(4, 4\)"):
        F.avg_pool2d(cr.zeros((4, 4)), 2)
    with pytest.raises(ShapeError, match=r"adaptive_avg_pool2d: input of shape \(2, 3, 0, 4\) has an empty"):
        F.adaptive_avg_pool2d(cr.zeros((2, 3, 0, 4)), 1)
    with pytest.raises(ArgumentError, match="adaptive_avg_pool2d: output_size must be"):
        F.adaptive_avg_pool2d(x, 0)
    with pytest.raises(ArgumentError, match="MaxPool2d: kernel_size must be at least 1"):
        nn.MaxPool2d(0)


# ---- layers: init, config, repr, registry --------------------------------------------------------------------------


def test_conv2d_init_like_torch():
    cr.manual_seed(0)
    layer = nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)  # kaiming_uniform_(a=sqrt(5)) and the bias rule both give 1/sqrt(fan_in)
    for p in (layer.weight.numpy(), layer.bias.numpy()):
        assert p.dtype == np.float32
        assert np.abs(p).max() <= np.float32(bound)  # rounding to float32 is monotonic
    w = layer.weight.numpy()
    assert w.shape == (32, 16, 3, 3)
    assert np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert nn.Conv2d(4, 6, (3, 2), groups=2).weight.shape == (6, 2, 3, 2)


LAYERS = [
    lambda: nn.Conv2d(4, 6, 3),
    lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=2, groups=2, bias=False),
    lambda: nn.Conv2d(4, 4, 3, padding="same"),
    lambda: nn.MaxPool2d(3, 2, 1, 2),
    lambda: nn.MaxPool2d((2, 3)),
    lambda: nn.AvgPool2d(3, stride=1, padding=1),
    lambda: nn.AdaptiveAvgPool2d((2, None)),
]


@pytest.mark.parametrize("make", LAYERS, ids=range(len(LAYERS)))
def test_get_config_rebuilds_the_layer(make):
    cr.manual_seed(1)
    layer = make()
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    rebuilt = type(layer).from_config(json.loads(json.dumps(config)))
    assert rebuilt.get_config() == config
    assert repr(rebuilt) == repr(layer)
    rebuilt.load_state_dict(layer.state_dict())
    x = cr.tensor(np.random.default_rng(7).standard_normal((2, 4, 7, 8)).astype(np.float32))
    np.testing.assert_array_equal(rebuilt(x).numpy(), layer(x).numpy())


def test_config_and_repr():
    conv = nn.Conv2d(16, 32, 3, padding=1)
    assert repr(conv) == (
        "Conv2d(in_channels=16, out_channels=32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), "
        "dilation=(1, 1), groups=1, bias=True)"
    )
    assert nn.Conv2d(2, 2, 1, bias=False).get_config()["bias"] is False
    assert list(nn.Conv2d(2, 2, 1, bias=False).state_dict()) == ["weight"]
    assert "padding='same'" in repr(nn.Conv2d(2, 2, 3, padding="same"))
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1)"
    assert repr(nn.AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.AdaptiveAvgPool2d(1)) == "AdaptiveAvgPool2d(output_size=1)"


def test_registered_names_and_exports():
    for name, cls in [
        ("conv2d", nn.Conv2d),
        ("max_pool2d", nn.MaxPool2d),
        ("avg_pool2d", nn.AvgPool2d),
        ("adaptive_avg_pool2d", nn.AdaptiveAvgPool2d),
    ]:
        assert registry.get(name) is cls
    for name in ["conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]:
        assert callable(getattr(F, name))
