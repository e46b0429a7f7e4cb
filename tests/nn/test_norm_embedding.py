"""BatchNorm1d/2d, LayerNorm and Embedding (layers and functional forms) against PyTorch, through
chainrule's gradient checker in float64, and their errors and configs."""

import json

import numpy as np
import pytest
import tolerance as T
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import ArgumentError, DTypeError, OutOfRangeError, ShapeError
from chainrule.registry import get as registered


def _close(a, t, magnitude, msg=""):
    """Within C * eps of the magnitude of what each element sums (``tests/tolerance.py``)."""
    a = a.numpy() if isinstance(a, cr.Tensor) else a
    T.assert_close(a, t, magnitude, msg)


def _bn_axes(x):
    return (0, *range(2, np.ndim(x)))


def _rule(layer, torch_layer, x):
    """The magnitude rule of a normalisation layer in its current mode (``tolerance.normalization``)."""
    if isinstance(layer, nn.LayerNorm):
        k = len(layer.normalized_shape)
        return T.normalization(tuple(range(x.ndim - k, x.ndim)), eps=layer.eps)
    running = not torch_layer.training and torch_layer.track_running_stats
    stats = (torch_layer.running_mean.numpy(), torch_layer.running_var.numpy()) if running else None
    return T.normalization(_bn_axes(x), channel_axis=1, stats=stats, eps=layer.eps)


def _running_terms(x, momentum, step):
    """The terms one training step adds to the running mean and the (unbiased) running variance, each weighted by
    the step's momentum (1 / (step + 1) for a cumulative average), and that weight."""
    m = 1 / (step + 1) if momentum is None else momentum
    axes = _bn_axes(x)
    var_terms, _ = T.variance_terms(x, axis=axes, ddof=1)
    return m * np.abs(x).astype(np.float64).mean(axis=axes), m * var_terms, m


def _torch_copy(layer, torch_layer):
    torch_layer.load_state_dict({k: torch.tensor(v) for k, v in layer.state_dict().items()})
    return torch_layer


def _randomise(layer, rng):
    for p in layer.parameters():
        p.numpy()[...] = rng.standard_normal(p.shape).astype(np.float32)


def _step(layer, torch_layer, x, rng, msg):
    """One forward and backward with a random upstream gradient; compares output and every gradient."""
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    rule = _rule(layer, torch_layer, x)  # before the forward moves the running statistics
    out, tout = layer(xc), torch_layer(xt)
    assert out.dtype == cr.float32 and out.shape == tuple(tout.shape)
    g = rng.standard_normal(out.shape).astype(np.float32)
    mag, (gx_mag,), param_mags = T.module_magnitudes(rule, torch_layer, [x], g)
    _close(out, tout, mag, f"{msg}: forward")
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    _close(xc.grad, xt.grad, gx_mag, f"{msg}: input gradient")
    for name, p in layer.named_parameters():
        tp = dict(torch_layer.named_parameters())[name]
        assert p.grad.dtype == cr.float32
        _close(p.grad, tp.grad, param_mags[name], f"{msg}: gradient of {name}")
    layer.zero_grad()
    torch_layer.zero_grad()


# ---- batch norm ------------------------------------------------------------------------------------

BN_CASES = [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 4)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 4, 5)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 4, 5, 3)),
]
BN_OPTIONS = [
    {},
    {"momentum": 0.3, "eps": 1e-3},
    {"momentum": None},
    {"affine": False},
    {"track_running_stats": False},
    {"affine": False, "track_running_stats": False, "momentum": None},
]


@pytest.mark.parametrize("options", BN_OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
@pytest.mark.parametrize("cls,tcls,shape", BN_CASES, ids=lambda v: v.__name__ if isinstance(v, type) else str(v))
def test_batch_norm_matches_torch(cls, tcls, shape, options):
    rng = np.random.default_rng(len(shape) * 10 + len(options))
    layer = cls(shape[1], **options)
    _randomise(layer, rng)
    tlayer = _torch_copy(layer, tcls(shape[1], **options))
    assert list(layer.state_dict()) == list(tlayer.state_dict())
    # a running statistic is (1 - m) old + m new: its terms follow the same recursion, from |0| and |1|
    running = {"running_mean": np.zeros(shape[1]), "running_var": np.ones(shape[1]), "num_batches_tracked": 0}
    for step in range(3):  # training: batch statistics, running statistics updated
        x = rng.standard_normal(shape) * 2 + rng.standard_normal(shape[1]).reshape((1, -1) + (1,) * (len(shape) - 2))
        _step(layer, tlayer, x.astype(np.float32), rng, f"train step {step}")
        mean_terms, var_terms, m = _running_terms(x.astype(np.float32), options.get("momentum", 0.1), step)
        running["running_mean"] = (1 - m) * running["running_mean"] + mean_terms
        running["running_var"] = (1 - m) * running["running_var"] + var_terms
    state, tstate = layer.state_dict(), tlayer.state_dict()
    assert list(state) == list(tstate)
    for k in state:
        assert state[k].dtype == tstate[k].numpy().dtype, k
        _close(state[k], tstate[k], running.get(k, 0), f"state {k}")  # the parameters did not move: equal
    if options.get("track_running_stats", True):
        assert state["num_batches_tracked"].shape == () and int(state["num_batches_tracked"]) == 3
    layer.eval()
    tlayer.eval()
    _step(layer, tlayer, rng.standard_normal(shape).astype(np.float32), rng, "eval")
    for k, v in layer.state_dict().items():  # eval leaves the running statistics alone
        np.testing.assert_array_equal(v, state[k])


def test_batch_norm_updates_buffers_in_place_even_without_grad():
    bn = nn.BatchNorm1d(3)
    arrays = [b.numpy() for b in bn.buffers()]
    with cr.no_grad():
        out = bn(cr.tensor(np.arange(12.0).reshape(4, 3)))
    assert not out.requires_grad
    assert all(b.numpy() is a for b, a in zip(bn.buffers(), arrays))
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * np.array([4.5, 5.5, 6.5]), rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * np.full(3, 15.0), rtol=1e-6)  # unbiased: 45 / 3
    assert bn.num_batches_tracked.dtype == cr.int64 and int(bn.num_batches_tracked.numpy()) == 1


def test_functional_batch_norm_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 3, 4)).astype(np.float32)
    w, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    rm, rv = rng.standard_normal(3).astype(np.float32), rng.random(3).astype(np.float32) + 0.5
    for training, stats in [(True, True), (True, False), (False, True)]:
        crm, crv = cr.tensor(rm), cr.tensor(rv)
        trm, trv = torch.tensor(rm), torch.tensor(rv)
        xs = [cr.tensor(a, requires_grad=True) for a in (x, w, b)]
        ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
        rule = T.normalization((0, 2), channel_axis=1, stats=None if training else (rm, rv), eps=1e-4)
        out = F.batch_norm(xs[0], crm if stats else None, crv if stats else None, xs[1], xs[2], training, 0.2, 1e-4)
        tout = TF.batch_norm(ts[0], trm if stats else None, trv if stats else None, ts[1], ts[2], training, 0.2, 1e-4)
        g = rng.standard_normal(x.shape).astype(np.float32)
        (mag,), grad_mags = rule(None, [x, w, b], [g])
        _close(out, tout, mag, f"forward training={training}")
        mean_terms, var_terms, _ = _running_terms(x, 0.2, 0) if training else (0, 0, 0)
        _close(crm, trm, mean_terms + 0.8 * np.abs(rm), "running_mean")
        _close(crv, trv, var_terms + 0.8 * np.abs(rv), "running_var")
        out.backward(g)
        tout.backward(torch.from_numpy(g))
        for i, (a, t, m) in enumerate(zip(xs, ts, grad_mags)):
            _close(a.grad, t.grad, m, f"gradient of input {i}, training={training}")


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_backward_stays_float32(training):
    rng = np.random.default_rng(2)
    x, w, b = (cr.tensor(rng.standard_normal(s), requires_grad=True) for s in [(6, 3, 2), (3,), (3,)])
    out = F.batch_norm(x, cr.zeros(3), cr.ones(3), w, b, training=training)
    grads = out.grad_fn.backward(np.ones(out.shape, dtype=np.float32))  # the op's own arrays, before the engine
    assert out.dtype == np.float32 and [g.dtype for g in grads] == [np.float32] * 3


def test_batch_norm_without_weight_or_bias_and_any_input_mix():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 2, 3)).astype(np.float32)
    w = rng.standard_normal(2).astype(np.float32)
    xc, wc = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out = F.batch_norm(xc, None, None, weight=wc, training=True)
    tout = TF.batch_norm(xt, None, None, weight=wt, training=True)
    (mag,), (gx_mag, gw_mag) = T.normalization((0, 2), channel_axis=1)(None, [x, w], [np.ones(x.shape)])
    _close(out, tout, mag, "forward")
    out.sum().backward()
    tout.sum().backward()
    _close(xc.grad, xt.grad, gx_mag, "input gradient")
    _close(wc.grad, wt.grad, gw_mag, "weight gradient")
    # only the weight requires a gradient: the input's is not computed
    wc.grad = None
    F.batch_norm(cr.tensor(x), None, None, weight=wc, training=True).sum().backward()
    _close(wc.grad, wt.grad, gw_mag, "weight gradient")


# ---- layer norm ------------------------------------------------------------------------------------

LN_CASES = [
    ((4, 5), 5, {}),
    ((2, 3, 4), (3, 4), {}),
    ((2, 2, 3, 4), [2, 3, 4], {"eps": 1e-3}),
    ((3, 6), (6,), {"elementwise_affine": False}),
    ((2, 3, 4), (4,), {"bias": False}),
]


@pytest.mark.parametrize("shape,normalized_shape,options", LN_CASES, ids=lambda v: str(v))
def test_layer_norm_matches_torch(shape, normalized_shape, options):
    rng = np.random.default_rng(len(shape))
    layer = nn.LayerNorm(normalized_shape, **options)
    _randomise(layer, rng)
    tlayer = _torch_copy(layer, torch.nn.LayerNorm(normalized_shape, **options))
    assert list(layer.state_dict()) == list(tlayer.state_dict())
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    _step(layer, tlayer, x, rng, "layer_norm")


def test_layer_norm_backward_stays_float32():
    rng = np.random.default_rng(4)
    x, w, b = (cr.tensor(rng.standard_normal(s), requires_grad=True) for s in [(2, 3, 4), (3, 4), (3, 4)])
    out = F.layer_norm(x, (3, 4), w, b)
    grads = out.grad_fn.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == np.float32 and [g.dtype for g in grads] == [np.float32] * 3


# ---- embedding -------------------------------------------------------------------------------------


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx):
    cr.manual_seed(0)
    layer = nn.Embedding(6, 4, padding_idx=padding_idx)
    if padding_idx is not None:
        np.testing.assert_array_equal(layer.weight.numpy()[padding_idx], 0)
        layer.weight.numpy()[padding_idx] = 7.0  # the padding row is looked up as it is, whatever it holds
    tlayer = _torch_copy(layer, torch.nn.Embedding(6, 4, padding_idx=padding_idx))
    idx = np.array([[0, 2, 2, 5], [1, 2, 0, 0], [5, 5, 5, 3]])  # repeats accumulate
    out, tout = layer(cr.tensor(idx)), tlayer(torch.tensor(idx))
    assert out.shape == (3, 4, 4)
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())  # a gather: exact
    g = np.random.default_rng(5).standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    # the rows used several times sum their gradients: the same sum of |g|
    _, _, grad_mags = T.module_magnitudes(T.linear, tlayer, [], g, constants=[idx])
    _close(layer.weight.grad, tlayer.weight.grad, grad_mags["weight"], "weight gradient")
    if padding_idx is not None:
        np.testing.assert_array_equal(layer.weight.grad.numpy()[padding_idx], 0)
    np.testing.assert_array_equal(layer.weight.grad.numpy()[4], 0)  # an unused row


def test_embedding_initialisation_and_functional_form():
    cr.manual_seed(0)
    w = nn.Embedding(2000, 8).weight.numpy()
    assert w.dtype == np.float32 and abs(w.mean()) < 0.05 and abs(w.std() - 1) < 0.05
    weight = cr.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    out = F.embedding(np.array([3, 0, 3], dtype=np.int32), weight, padding_idx=0)
    np.testing.assert_array_equal(out.numpy(), [[9, 10, 11], [0, 1, 2], [9, 10, 11]])
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), [[0, 0, 0], [0, 0, 0], [0, 0, 0], [2, 2, 2]])
    assert F.embedding(np.zeros((0, 2), dtype=np.int64), weight).shape == (0, 2, 3)


# ---- gradcheck in float64 --------------------------------------------------------------------------


def _inputs(rng, *shapes):
    return tuple(cr.tensor(rng.standard_normal(s), dtype=cr.float64, requires_grad=True) for s in shapes)


@pytest.mark.parametrize("shape", [(4, 2), (3, 2, 3), (2, 2, 2, 2)])
def test_gradcheck_batch_norm_training(shape):
    inputs = _inputs(np.random.default_rng(6), shape, (2,), (2,))
    assert cr.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), inputs)
    assert cr.autograd.gradcheck(lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3), inputs[:1])


def test_gradcheck_batch_norm_eval():
    rm, rv = np.array([0.5, -1.0]), np.array([2.0, 0.3])
    inputs = _inputs(np.random.default_rng(7), (3, 2, 2), (2,), (2,))
    assert cr.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), inputs)


@pytest.mark.parametrize("shape,normalized_shape", [((3, 4), 4), ((2, 2, 3), (2, 3))])
def test_gradcheck_layer_norm(shape, normalized_shape):
    inputs = _inputs(np.random.default_rng(8), shape, shape[-2:] if normalized_shape != 4 else (4,))
    w_shape = inputs[1].shape
    inputs += _inputs(np.random.default_rng(9), w_shape)
    assert cr.autograd.gradcheck(lambda x, w, b: F.layer_norm(x, normalized_shape, w, b), inputs)
    assert cr.autograd.gradcheck(lambda x: F.layer_norm(x, normalized_shape), inputs[:1])


def test_gradcheck_embedding():
    (weight,) = _inputs(np.random.default_rng(10), (5, 3))
    idx = np.array([[1, 1, 4], [0, 1, 3]])  # repeated rows; the padding row 2 is not looked up (it would
    # be, its true gradient would not be zero: padding_idx deliberately departs from the derivative)
    assert cr.autograd.gradcheck(lambda w: F.embedding(idx, w, padding_idx=2) * F.embedding(idx, w), (weight,))


# ---- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer,shape,words",
    [
        (nn.BatchNorm1d(3), (2, 3, 4, 5), ["BatchNorm1d(3)", "2-D", "3-D", "(2, 3, 4, 5)"]),
        (nn.BatchNorm1d(3), (3,), ["BatchNorm1d(3)", "(3,)"]),
        (nn.BatchNorm1d(3), (2, 4), ["BatchNorm1d(3)", "3 channels", "(2, 4)"]),
        (nn.BatchNorm2d(3), (2, 3, 4), ["BatchNorm2d(3)", "4-D", "(2, 3, 4)"]),
        (nn.BatchNorm2d(3), (2, 5, 4, 4), ["BatchNorm2d(3)", "3 channels", "(2, 5, 4, 4)"]),
        (nn.LayerNorm((3, 4)), (2, 4, 3), ["LayerNorm", "(*, 3, 4)", "(2, 4, 3)"]),
        (nn.LayerNorm(4), (), ["LayerNorm", "()"]),
    ],
)
def test_shape_errors_name_the_layer_and_the_shape(layer, shape, words):
    with pytest.raises(ShapeError) as e:
        layer(cr.zeros(shape))
    for w in words:
        assert w in str(e.value)


def test_functional_errors():
    with pytest.raises(ShapeError, match=r"more than 1 value per channel.*\(1, 3\)"):
        F.batch_norm(cr.zeros((1, 3)), None, None, training=True)
    with pytest.raises(ArgumentError, match="running_mean and running_var"):
        F.batch_norm(cr.zeros((2, 3)), None, None, training=False)
    with pytest.raises(ShapeError, match=r"running_mean of shape \(4,\).*expected shape \(3,\)"):
        F.batch_norm(cr.zeros((2, 3)), cr.zeros(4), cr.ones(4))
    with pytest.raises(ShapeError, match=r"batch_norm: weight of shape \(2,\)"):
        F.batch_norm(cr.zeros((2, 3)), None, None, cr.ones(2), training=True)
    with pytest.raises(ShapeError, match=r"layer_norm: input of shape \(2, 3\) does not end in normalized_shape"):
        F.layer_norm(cr.zeros((2, 3)), 4)
    with pytest.raises(ShapeError, match=r"layer_norm: weight of shape \(2,\)"):
        F.layer_norm(cr.zeros((2, 3)), 3, cr.ones(2))


def test_embedding_errors():
    layer = nn.Embedding(10, 3)
    with pytest.raises(DTypeError, match=r"Embedding\(10, 3\): indices must be integers, got dtype float32"):
        layer(cr.tensor([1.0, 2.0]))
    with pytest.raises(DTypeError, match="got dtype bool"):
        layer(np.array([True]))
    with pytest.raises(OutOfRangeError, match=r"Embedding\(10, 3\): indices must lie in \[0, 9\].*got .* \[2, 12\]"):
        layer(cr.tensor([2, 12]))
    with pytest.raises(OutOfRangeError, match=r"got indices in \[-1, 4\]"):
        layer(np.array([[4, -1]]))
    with pytest.raises(DTypeError, match="embedding: indices must be integers"):
        F.embedding(np.array([0.5]), layer.weight)
    with pytest.raises(OutOfRangeError, match=r"embedding: indices must lie in \[0, 9\].*got indices in \[10, 10\]"):
        F.embedding([10], layer.weight)
    with pytest.raises(ArgumentError, match="padding_idx 10"):
        nn.Embedding(10, 3, padding_idx=10)


# ---- configs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,layer,x",
    [
        ("batch_norm1d", nn.BatchNorm1d(3, eps=1e-3, momentum=None, affine=False), np.ones((2, 3))),
        ("batch_norm2d", nn.BatchNorm2d(2, track_running_stats=False), np.ones((2, 2, 3, 3))),
        ("layer_norm", nn.LayerNorm((2, 3), elementwise_affine=True, bias=False), np.ones((4, 2, 3))),
        ("layer_norm", nn.LayerNorm(3, elementwise_affine=False), np.ones((4, 3))),
        ("embedding", nn.Embedding(7, 2, padding_idx=-2), np.array([[0, 5, 6]])),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_get_config_rebuilds_the_layer(name, layer, x):
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    rebuilt = registered(name).from_config(json.loads(json.dumps(config)))
    assert type(rebuilt) is type(layer) and rebuilt.get_config() == config
    assert repr(rebuilt) == repr(layer)
    rebuilt.load_state_dict(layer.state_dict())
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in layer.state_dict().items()}
    layer.eval()
    rebuilt.eval()
    np.testing.assert_array_equal(rebuilt(cr.tensor(x)).numpy(), layer(cr.tensor(x)).numpy())


def test_configs_as_torch():
    config = {"normalized_shape": [5], "eps": 1e-5, "elementwise_affine": True, "bias": True}
    assert nn.LayerNorm(5).get_config() == config
    assert nn.Embedding(7, 2, padding_idx=-2).padding_idx == torch.nn.Embedding(7, 2, padding_idx=-2).padding_idx
    bn = nn.BatchNorm2d(4, affine=False, track_running_stats=False)
    assert bn.weight is None and bn.running_mean is None and bn.state_dict() == {}
    assert [n for n, _ in nn.BatchNorm1d(2).named_parameters()] == ["weight", "bias"]
