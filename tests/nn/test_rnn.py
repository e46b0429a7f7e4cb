"""RNN, LSTM, GRU and their cells against PyTorch (float32, with tolerances from a first-order magnitude model, see
below), through chainrule's gradient checker in float64, and their errors, configs and files.

The magnitude model (``Mag`` and the ops after it) is shared with tests/nn/test_attention.py.
"""

import json
import warnings

import numpy as np
import pytest
import tolerance as T
import torch

import chainrule as cr
from chainrule import nn
from chainrule.autograd import gradcheck
from chainrule.errors import ArgumentError, ArgumentTypeError, ShapeError

# ---- a first-order magnitude model of a composite -------------------------------------------------------------------
#
# A recurrent network or an attention block chains many ops, some of them saturating (sigmoid, tanh, softmax), so
# ``tolerance.linear`` (the network on absolute values) does not bound it: sigmoid's value is at most 1, but a
# positive polynomial with sigmoid left out grows step after step. Instead the model follows, in float64 at the
# real point, first-order error analysis: an op's error is its own rounding plus its inputs' errors times its
# local derivatives, in absolute value. Each value carries
#
# * ``m``, the magnitude of its forward error in float32 (the error is at most C * eps * m): the op's rounding
#   terms (those of tolerance.py's rules: |a| |b| for a product, |y| + 1 for an activation, s (1 + |x - max|) for
#   a softmax) plus |f'| times its inputs' m;
# * ``v``, the value as a torch tensor whose autograd derivative is the op's absolute Jacobian |J| (each op is
#   written as its first-order expansion y0 + |J| (x - x0): the value is right, the slope is chosen), so that
#   the gradient of v at |g| is what tolerance.linear gives for a chain of products: the sum over every path of
#   the absolute values of the terms the backward multiplies and adds, the magnitude of its rounding;
# * ``w``, a second channel for the errors the backward makes by reading saved values that carry forward errors
#   (the other factor's m for a product, |f''| m for an activation) and by rounding a derivative's formula
#   (1 + |f'|): w = |J| w_x + K (x - x0), so that the gradient of v + w at |g| adds, once per op (first order),
#   K times the upstream gradient's magnitude, carried on by the absolute Jacobians.
#
# The forward's bound is C * eps * m of an output, the backward's C * eps times the gradient of v + w at |g|.
# C = 8 covers a few roundings in any order (tolerance.py); the sums here are short (a handful of terms per
# element) and every magnitude counts each rounding at its worst, so the two libraries' errors stay inside.


class Mag:
    """A value ``v`` (derivatives |J|), its backward-error channel ``w`` and its forward error magnitude ``m``."""

    __slots__ = ("v", "w", "m")

    def __init__(self, v, w, m):
        self.v, self.w, self.m = v, w, m

    @property
    def x0(self):
        return self.v.detach()

    @property
    def dx(self):
        """v - x0: zero in value, of derivative 1 (0 where x0 is infinite: a masked score)."""
        x0 = self.v.detach()
        return torch.where(torch.isfinite(x0), self.v - x0, torch.zeros_like(x0))


def _zeros(t):
    return torch.zeros(t.shape, dtype=torch.float64)


def leaf(a):
    """An exact input (float32 data) whose gradient's magnitude is wanted."""
    t = torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
    return Mag(t, _zeros(t), _zeros(t))


def const(a):
    t = torch.tensor(np.asarray(a, dtype=np.float64))
    return Mag(t, _zeros(t), _zeros(t))


def move(fn, *xs):
    """An op that only moves values (slices, reshapes, permutations, stacking): exact."""
    return Mag(fn(*[x.v for x in xs]), fn(*[x.w for x in xs]), fn(*[x.m for x in xs]))


def positive_map(fn, *xs):
    """A linear map with non-negative coefficients (a sum, a mean, a positive scale): it is its own absolute
    Jacobian; its rounding is of the size of the map of the absolute values."""
    return Mag(fn(*[x.v for x in xs]), fn(*[x.w for x in xs]), fn(*[x.m + x.x0.abs() for x in xs]))


def bilinear(fn, a, b):
    """An op linear in each of two inputs (a product, a matrix product, x @ W.T): rounding fn(|a|, |b|), errors
    fn(m_a, |b|) + fn(|a|, m_b); the backward for a reads b, with its error m_b (and b's reads a)."""
    a0, b0 = a.x0, b.x0
    v = fn(a0, b0) + fn(a.dx, b0.abs()) + fn(a0.abs(), b.dx)
    w = fn(a.w, b0.abs()) + fn(a0.abs(), b.w) + fn(a.dx, b.m) + fn(a.m, b.dx)
    return Mag(v, w, fn(a.m, b0.abs()) + fn(a0.abs(), b.m) + fn(a0.abs(), b0.abs()))


def mul(a, b):
    return bilinear(torch.mul, a, b)


def matmul(a, b):
    return bilinear(torch.matmul, a, b)


def linear(x, w, b=None):
    """x @ w.T + b for a weight ``w`` and a bias ``b``."""
    y = bilinear(lambda u, v: u @ v.transpose(-1, -2), x, w)
    return y if b is None else add(y, b)


def add(a, b, sign=1.0):
    """a + sign * b (broadcasting): rounding |a + sign b|, derivatives of absolute value 1."""
    y0 = a.x0 + sign * b.x0
    return Mag(y0 + a.dx + b.dx, a.w + b.w, a.m + b.m + y0.abs())


def unary(z, f, df, ddf, terms, dterms):
    """An elementwise y = f(z): its argument's error carried on, |f'| m_z, plus its own rounding ``terms``
    (a few ulps of the terms its formula adds); the backward reads f' with the error |f''| m_z and rounds its
    formula by ``dterms``."""
    z0 = z.x0
    s = df(z0).abs()
    y0 = f(z0)
    k = ddf(z0).abs() * z.m + dterms(z0, y0)
    return Mag(y0 + s * z.dx, s * z.w + k * z.dx, s * z.m + terms(z0, y0))


def sigmoid(z):
    """1 / (1 + exp(-z)): rounding |y| (1 + exp(-z), then its inverse); derivative s (1 - s): terms s + s^2."""

    def ds(x):
        s = torch.sigmoid(x)
        return s * (1 - s)

    return unary(z, torch.sigmoid, ds, lambda x: ds(x) * (1 - 2 * torch.sigmoid(x)), lambda x, y: 2 * y.abs(),
                 lambda x, y: y.abs() + y * y)


def tanh(z):
    """Rounding a few ulps of |y|; derivative 1 - t^2: terms 1 + t^2."""
    return unary(z, torch.tanh, lambda x: 1 - torch.tanh(x) ** 2,
                 lambda x: 2 * torch.tanh(x) * (1 - torch.tanh(x) ** 2), lambda x, y: y.abs(), lambda x, y: 1 + y * y)


def relu(z):
    """Exact, and so is its derivative (0 or 1)."""
    return unary(z, torch.relu, lambda x: (x > 0).double(), torch.zeros_like, lambda x, y: torch.zeros_like(y),
                 lambda x, y: torch.zeros_like(y))


def gelu(z):
    """x (1 + erf(x / sqrt 2)) / 2: terms |x| (tolerance.elementwise); derivative (1 + erf) / 2 + x phi(x): terms
    1 + |x| phi(x)."""

    def phi(x):
        return torch.exp(-x * x / 2) / np.sqrt(2 * np.pi)

    return unary(z, torch.nn.functional.gelu, lambda x: 0.5 * (1 + torch.erf(x / np.sqrt(2))) + x * phi(x),
                 lambda x: phi(x) * (2 - x * x), lambda x, y: y.abs() + x.abs(), lambda x, y: 1 + x.abs() * phi(x))


def one_minus(z):
    return add(const(1.0), z, sign=-1.0)


def softmax(x):
    """Softmax over the last axis, -inf scores masked (rows with every score masked give 0, as chainrule's and
    PyTorch's scaled_dot_product_attention): tolerance.softmax_terms' rounding s (1 + |x - max|) plus the
    propagated s (m_x + sum s m_x). Its absolute Jacobian is bounded by dx -> s dx + s sum(s dx); its backward,
    s g - s sum(s g), reads s with the error m_s."""
    x0 = x.x0
    finite = torch.isfinite(x0)
    zero = _zeros(x0)
    s0 = torch.nan_to_num(torch.softmax(x0, dim=-1), nan=0.0)
    mx = torch.where(finite, x.m, zero)
    top = x0.max(dim=-1, keepdim=True).values
    shift = torch.where(finite, (x0 - top).abs(), zero)
    m = s0 * (mx + (s0 * mx).sum(-1, keepdim=True)) + s0 * (1 + shift)
    dx = torch.where(finite, x.dx, zero)
    wx = torch.where(finite, x.w, zero)

    def jac(d):
        return s0 * d + s0 * (s0 * d).sum(-1, keepdim=True)

    k = m * dx + m * (s0 * dx).sum(-1, keepdim=True) + s0 * (m * dx).sum(-1, keepdim=True)
    return Mag(s0 + jac(dx), jac(wx) + k, m)


def layer_norm(x, w, b, eps):
    """Layer normalisation over the last axis, y = w xhat + b, as the fused op both libraries run (two-pass
    statistics, closed-form backward). Its rounding is tolerance.normalization's, Mx = (|x| + |mean|) / std +
    |xhat| rel, with the variance's relative error rel = 1 + 2 mean(|x - mean| (|x| + |mean|)) / var of a
    two-pass variance (the deviations' rounding, doubled by the square); the input's error is carried on by the absolute
    Jacobian |w| / std (dx + mean dx + |xhat| mean(|xhat| dx)); the backward, std^-1 (g w - mean(g w) - xhat
    mean(g w xhat)) and sum(g xhat), reads xhat (error Mx) and 1 / std (relative error rel / 2)."""
    x0 = x.x0
    n = x0.shape[-1]

    def mean(a):
        return a.mean(-1, keepdim=True)

    mu = mean(x0)
    var = mean((x0 - mu) ** 2)
    sd = torch.sqrt(var + eps)
    xhat = (x0 - mu) / sd
    dev = x0.abs() + mu.abs()
    rel = 1 + 2 * mean((x0 - mu).abs() * dev) / (var + eps)
    mx = dev / sd + xhat.abs() * rel
    aw = torch.ones(n, dtype=torch.float64) if w is None else w.x0.abs()
    ah = xhat.abs()

    def jac(d):  # the absolute Jacobian of xhat, times |w|
        return aw / sd * (d + mean(d) + ah * mean(ah * d))

    y0 = xhat * (1 if w is None else w.x0) + (0 if b is None else b.x0)
    v = y0 + jac(x.dx)
    m = aw * (mx + jac(x.m) / aw) + (aw * ah) + (0 if b is None else b.x0.abs())
    dx = x.dx
    k = (aw * ah * (mx * dx).sum(-1, keepdim=True) + aw * mx * (ah * dx).sum(-1, keepdim=True)
         + rel / 2 * (n * aw * dx + aw * dx.sum(-1, keepdim=True) + aw * ah * (ah * dx).sum(-1, keepdim=True)))
    k = k / (n * sd)
    wch = jac(x.w) + k
    if w is not None:
        v = v + ah * w.dx
        wch = wch + mx * w.dx
    if b is not None:
        v = v + b.dx
    return Mag(v, wch, m)


def grad_magnitudes(outputs, leaves, upstreams):
    """The backward's magnitudes: the gradient of the outputs' v + w at |g|, for each leaf (zeros if unused)."""
    ups = [torch.as_tensor(np.abs(np.asarray(g, np.float64))) for g in upstreams]
    pairs = [(t, g) for o, g in zip(outputs, ups) for t in (o.v, o.w) if t.requires_grad]
    got = torch.autograd.grad([t for t, _ in pairs], [lf.v for lf in leaves], [g for _, g in pairs],
                              allow_unused=True)
    return [np.zeros(lf.v.shape) if g is None else g.numpy() for g, lf in zip(got, leaves)]


def magnitude(mag):
    return mag.m.numpy()


# ---- helpers ---------------------------------------------------------------------------------------------------------


def _rng(seed=0):
    return np.random.default_rng(seed)


def _normal(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _torch_copy(model, tmodel):
    tmodel.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    return tmodel


def _mags(model):
    """Every parameter of a chainrule module as a leaf of the magnitude model."""
    return {k: leaf(p.numpy()) for k, p in model.named_parameters()}


def _step_mag(mode, gi, state, p, suffix, hidden):
    """One time step in the magnitude model (the PyTorch equations, time-major)."""
    gh = linear(state[0], p[f"weight_hh{suffix}"], p.get(f"bias_hh{suffix}"))
    if mode in ("RNN_TANH", "RNN_RELU"):
        return ((tanh if mode == "RNN_TANH" else relu)(add(gi, gh)),)

    def chunk(a, k):
        return move(lambda t: t[..., k * hidden:(k + 1) * hidden], a)

    if mode == "LSTM":
        gates = add(gi, gh)
        i, f, g, o = (chunk(gates, k) for k in range(4))
        c = add(mul(sigmoid(f), state[1]), mul(sigmoid(i), tanh(g)))
        h = mul(sigmoid(o), tanh(c))
        w_hr = p.get(f"weight_hr{suffix}")
        return (h if w_hr is None else linear(h, w_hr), c)
    r = sigmoid(add(chunk(gi, 0), chunk(gh, 0)))
    z = sigmoid(add(chunk(gi, 1), chunk(gh, 1)))
    n = tanh(add(chunk(gi, 2), mul(r, chunk(gh, 2))))
    return (add(mul(one_minus(z), n), mul(z, state[0])),)


def _rnn_mag(model, p, x, states):
    """The magnitude model of RNNBase.forward for time-major batched ``x`` (a Mag (L, N, H_in)) and the initial
    ``states`` (one tuple of Mags (N, size) per layer and direction). Returns (output, [h_n, (c_n)])."""
    directions = 2 if model.bidirectional else 1
    length = x.x0.shape[0]
    finals = []
    for layer in range(model.num_layers):
        outs = []
        for d in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            gi = linear(x, p[f"weight_ih{suffix}"], p.get(f"bias_ih{suffix}"))
            state = states[layer * directions + d]
            seq = [None] * length
            for t in range(length - 1, -1, -1) if d else range(length):
                state = _step_mag(model.mode, move(lambda a, t=t: a[t], gi), state, p, suffix, model.hidden_size)
                seq[t] = state[0]
            outs.append(move(lambda *a: torch.stack(a), *seq))
            finals.append(state)
        x = outs[0] if directions == 1 else move(lambda *a: torch.cat(a, -1), *outs)
        if model.training and model.dropout and layer < model.num_layers - 1:
            assert model.dropout == 1.0, "only p = 0 or 1 is deterministic"
            x = move(lambda a: a * 0.0, x)
    hidden = [move(lambda *a: torch.stack(a), *[s[k] for s in finals]) for k in range(len(finals[0]))]
    return x, hidden


def _sizes(model):
    count = model.num_layers * (2 if model.bidirectional else 1)
    sizes = [model.proj_size or model.hidden_size]
    if model.mode == "LSTM":
        sizes.append(model.hidden_size)
    return count, sizes


def _check_rnn(model, tmodel, x, hx=None, seed=2):
    """Forward and backward of ``model`` and the torch module ``tmodel`` (same weights) on ``x`` with initial
    state ``hx`` (arrays, or None): outputs, final states, gradients of x, of the initial states and of every
    parameter, with an upstream gradient for every output."""
    lstm = model.mode == "LSTM"
    hx_list = [] if hx is None else (list(hx) if lstm else [hx])
    xs = [cr.tensor(x, requires_grad=True)] + [cr.tensor(h, requires_grad=True) for h in hx_list]
    ts = [torch.tensor(x, requires_grad=True)] + [torch.tensor(h, requires_grad=True) for h in hx_list]

    def pack(hs):
        return None if not hs else (tuple(hs) if lstm else hs[0])

    out, hn = model(xs[0], pack(xs[1:]))
    tout, thn = tmodel(ts[0], pack(ts[1:]))
    outs = [out, *(hn if lstm else (hn,))]
    touts = [tout, *(thn if lstm else (thn,))]
    rng = _rng(seed)
    gs = [_normal(rng, *o.shape) for o in outs]

    # the magnitude model, time-major and batched
    batched = x.ndim == 3
    x_tm = x if not batched or not model.batch_first else x.transpose(1, 0, 2)
    x_tm = x_tm if batched else x_tm[:, None]
    xm = leaf(x_tm)
    p = _mags(model)
    count, sizes = _sizes(model)
    batch = x_tm.shape[1]
    h_leaves = [leaf(h if batched else h[:, None]) for h in hx_list]
    if h_leaves:
        states = [tuple(move(lambda a, k=k: a[k], h) for h in h_leaves) for k in range(count)]
    else:
        states = [tuple(const(np.zeros((batch, s))) for s in sizes)] * count
    mout, mhidden = _rnn_mag(model, p, xm, states)

    def layout(a, is_output):
        """A time-major batched magnitude array in the module's layout."""
        if not batched:
            return a[:, 0]
        return a.transpose(1, 0, 2) if is_output and model.batch_first else a

    mags = [layout(magnitude(mout), True)] + [layout(magnitude(h), False) for h in mhidden]
    for k, (o, to, mg) in enumerate(zip(outs, touts, mags)):
        T.assert_close(o.numpy(), to, mg, f"output {k}")

    # gradients: upstreams in the magnitude model's layout
    ups = [g.transpose(1, 0, 2) if batched and model.batch_first and k == 0 else g for k, g in enumerate(gs)]
    ups = [u if batched else u[:, None] for u in ups]
    names = [n for n, _ in model.named_parameters()]
    params = [q for _, q in model.named_parameters()]
    grads = cr.autograd.grad(outs, xs + params, gs)
    tparams = dict(tmodel.named_parameters())
    tgrads = torch.autograd.grad(touts, ts + [tparams[n] for n in names], [torch.tensor(g) for g in gs])
    gmags = grad_magnitudes([mout, *mhidden], [xm, *h_leaves, *[p[n] for n in names]], ups)
    gx, gh = gmags[0], gmags[1:1 + len(h_leaves)]
    gx = gx if not batched or not model.batch_first else gx.transpose(1, 0, 2)
    gx = gx if batched else gx[:, 0]
    gh = [g if batched else g[:, 0] for g in gh]
    for k, (a, b, mg) in enumerate(zip(grads, tgrads, [gx, *gh, *gmags[1 + len(h_leaves):]])):
        what = "input" if k == 0 else (f"h0[{k - 1}]" if k <= len(h_leaves) else names[k - 1 - len(h_leaves)])
        T.assert_close(a.numpy(), b, mg, f"gradient of {what}")


TORCH = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}
OURS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}

CASES = [
    ("RNN", {}, "plain"),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}, "relu two layers"),
    ("RNN", {"bidirectional": True, "batch_first": True}, "bidirectional batch_first"),
    ("LSTM", {}, "plain"),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, "two layers bidirectional"),
    ("LSTM", {"batch_first": True, "bias": False}, "batch_first no bias"),
    ("LSTM", {"proj_size": 2, "num_layers": 2, "bidirectional": True}, "projections"),
    ("GRU", {}, "plain"),
    ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}, "two layers bidirectional batch_first"),
    ("GRU", {"bias": False, "num_layers": 2}, "no bias"),
]


def _build(kind, kwargs, input_size=3, hidden=4, seed=0):
    cr.manual_seed(seed)
    model = OURS[kind](input_size, hidden, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "LSTM with projections is not supported with oneDNN"
        tmodel = _torch_copy(model, TORCH[kind](input_size, hidden, **kwargs))
    return model, tmodel


def _hx(model, rng, batch):
    count, sizes = _sizes(model)
    hs = [_normal(rng, count, *([batch] if batch else []), s) for s in sizes]
    return tuple(hs) if model.mode == "LSTM" else hs[0]


@pytest.mark.parametrize("kind,kwargs,what", CASES, ids=[f"{k}-{w}" for k, _, w in CASES])
@pytest.mark.parametrize("given_state", [False, True], ids=["zero-state", "given-state"])
def test_parity_with_torch(kind, kwargs, what, given_state):
    model, tmodel = _build(kind, kwargs)
    rng = _rng(1)
    length, batch = 5, 2
    shape = (batch, length, 3) if kwargs.get("batch_first") else (length, batch, 3)
    x = _normal(rng, *shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_rnn(model, tmodel, x, _hx(model, rng, batch) if given_state else None)


@pytest.mark.parametrize("kind,kwargs", [("RNN", {"num_layers": 2}), ("LSTM", {"bidirectional": True}),
                                         ("GRU", {"batch_first": True}), ("LSTM", {"proj_size": 2})])
@pytest.mark.parametrize("given_state", [False, True], ids=["zero-state", "given-state"])
def test_unbatched_input_as_torch(kind, kwargs, given_state):
    model, tmodel = _build(kind, kwargs)
    rng = _rng(3)
    x = _normal(rng, 4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_rnn(model, tmodel, x, _hx(model, rng, None) if given_state else None)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_train_mode_with_zero_dropout_matches_torch(kind):
    model, tmodel = _build(kind, {"num_layers": 2, "dropout": 0.0})
    model.train()
    tmodel.train()
    _check_rnn(model, tmodel, _normal(_rng(4), 3, 2, 3))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers(kind):
    """p = 1 zeroes the first layer's output in training (deterministic: as torch), the last layer's output is
    never dropped, and evaluation ignores dropout."""
    model, tmodel = _build(kind, {"num_layers": 2, "dropout": 1.0})
    x = _normal(_rng(5), 3, 2, 3)
    model.train()
    tmodel.train()
    _check_rnn(model, tmodel, x)
    model.eval()
    tmodel.eval()
    _check_rnn(model, tmodel, x)


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers"):
        nn.LSTM(3, 4, dropout=0.5)


def test_parameter_names_shapes_and_order_are_torch_s():
    for kind, kwargs, _ in CASES:
        model, tmodel = _build(kind, kwargs)
        ours = [(k, v.shape) for k, v in model.state_dict().items()]
        theirs = [(k, tuple(v.shape)) for k, v in tmodel.state_dict().items()]
        assert ours == theirs, kind
        assert [n for n, _ in model.named_parameters()] == [n for n, _ in tmodel.named_parameters()]
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    assert lstm._flat_weights_names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert [p.shape for p in lstm.all_weights[1]] == [(16, 3), (16, 4), (16,), (16,)]
    assert lstm.all_weights[1][0] is lstm.weight_ih_l0_reverse
    lstm.flatten_parameters()  # a no-op kept for PyTorch scripts


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_default_initialisation_is_uniform_in_one_over_sqrt_hidden(cls):
    cr.manual_seed(0)
    hidden = 16
    model = cls(8, hidden)
    values = np.concatenate([p.numpy().ravel() for p in model.parameters()])
    bound = 1 / np.sqrt(hidden)
    assert np.abs(values).max() <= bound
    # U(-b, b): mean 0 and standard deviation b / sqrt(3), within 5 standard errors
    n = values.size
    assert abs(values.mean()) < 5 * bound / np.sqrt(3 * n)
    assert abs(values.std() - bound / np.sqrt(3)) < 5 * bound / np.sqrt(n)


# ---- cells -----------------------------------------------------------------------------------------------------------

CELLS = {"rnn_tanh": (nn.RNNCell, torch.nn.RNNCell, {}), "rnn_relu": (nn.RNNCell, torch.nn.RNNCell,
                                                                      {"nonlinearity": "relu"}),
         "lstm": (nn.LSTMCell, torch.nn.LSTMCell, {}), "gru": (nn.GRUCell, torch.nn.GRUCell, {}),
         "gru_no_bias": (nn.GRUCell, torch.nn.GRUCell, {"bias": False})}
MODES = {nn.RNNCell: None, nn.LSTMCell: "LSTM", nn.GRUCell: "GRU"}


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("given_state", [False, True], ids=["zero-state", "given-state"])
def test_cell_parity_with_torch(name, batched, given_state):
    cls, tcls, kwargs = CELLS[name]
    cr.manual_seed(0)
    cell = cls(3, 4, **kwargs)
    tcell = _torch_copy(cell, tcls(3, 4, **kwargs))
    rng = _rng(6)
    lead = (2,) if batched else ()
    x = _normal(rng, *lead, 3)
    lstm = cls is nn.LSTMCell
    hs = [_normal(rng, *lead, 4) for _ in range(2 if lstm else 1)] if given_state else []
    xs = [cr.tensor(a, requires_grad=True) for a in [x, *hs]]
    ts = [torch.tensor(a, requires_grad=True) for a in [x, *hs]]
    state = (tuple(xs[1:]) if lstm else xs[1]) if hs else None
    tstate = (tuple(ts[1:]) if lstm else ts[1]) if hs else None
    out, tout = cell(xs[0], state), tcell(ts[0], tstate)
    outs, touts = (list(out), list(tout)) if lstm else ([out], [tout])
    gs = [_normal(rng, *o.shape) for o in outs]

    mode = MODES[cls] or ("RNN_TANH" if kwargs.get("nonlinearity", "tanh") == "tanh" else "RNN_RELU")
    p = {k.replace("_l0", ""): v for k, v in _mags(cell).items()}
    xm = leaf(x if batched else x[None])
    h_leaves = [leaf(h if batched else h[None]) for h in hs]
    zeros = const(np.zeros((xm.x0.shape[0], 4)))
    states = tuple(h_leaves) if h_leaves else (zeros,) * (2 if lstm else 1)
    gi = linear(xm, p["weight_ih"], p.get("bias_ih"))
    mouts = list(_step_mag(mode, gi, states, p, "", 4))
    for o, to, mo in zip(outs, touts, mouts):
        T.assert_close(o.numpy(), to, magnitude(mo) if batched else magnitude(mo)[0], "output")
    names = [n for n, _ in cell.named_parameters()]
    grads = cr.autograd.grad(outs, xs + [q for _, q in cell.named_parameters()], gs)
    tp = dict(tcell.named_parameters())
    tgrads = torch.autograd.grad(touts, ts + [tp[n] for n in names], [torch.tensor(g) for g in gs])
    ups = [g if batched else g[None] for g in gs]
    gmags = grad_magnitudes(mouts, [xm, *h_leaves, *[p[n] for n in names]], ups)
    for k, (a, b, mg) in enumerate(zip(grads, tgrads, gmags)):
        mg = mg if batched or k > len(hs) else mg[0]
        T.assert_close(a.numpy(), b, mg, f"gradient {k}")


# ---- float64 gradient checks -----------------------------------------------------------------------------------------


def _call_with(module, names, tensors, run):
    """``run(module)`` with the parameters ``names`` of ``module`` replaced by ``tensors`` (the copies gradcheck
    perturbs), put back afterwards."""
    saved = []
    for name, t in zip(names, tensors):
        *path, last = name.split(".")
        owner = module
        for part in path:
            owner = owner._modules[part]
        saved.append((owner, last, owner._parameters[last]))
        owner._parameters[last] = t
        owner.__dict__[last] = t
    try:
        return run(module)
    finally:
        for owner, last, p in saved:
            owner._parameters[last] = p
            owner.__dict__[last] = p


def gradcheck_module(module, inputs, call=lambda m, *a: m(*a), flatten=lambda out: out):
    """gradcheck in float64 of ``flatten(call(module, *inputs))`` (a tensor or a tuple of tensors) with respect to
    ``inputs`` and every parameter of ``module``."""
    module.double()
    names = [n for n, _ in module.named_parameters()]
    params = [cr.tensor(p.numpy(), dtype=cr.float64, requires_grad=True) for _, p in module.named_parameters()]
    k = len(inputs)

    def fn(*args):
        return flatten(_call_with(module, names, args[k:], lambda m: call(m, *args[:k])))

    return gradcheck(fn, (*inputs, *params))


def _flat(out):
    first, second = out
    return (first, *second) if isinstance(second, tuple) else (first, second)


def _lstm_call(m, x, h, c):
    return m(x, (h, c))


@pytest.mark.parametrize("kind,kwargs", [("RNN", {"num_layers": 2, "bidirectional": True}),
                                         ("RNN", {"nonlinearity": "relu"}),
                                         ("LSTM", {"num_layers": 2, "bidirectional": True}),
                                         ("LSTM", {"proj_size": 1, "batch_first": True}),
                                         ("GRU", {"num_layers": 2, "bidirectional": True})])
def test_gradcheck_float64(kind, kwargs):
    cr.manual_seed(0)
    model = OURS[kind](2, 2, **kwargs)
    rng = _rng(7)
    x = cr.tensor(rng.standard_normal((2, 3, 2) if model.batch_first else (3, 2, 2)), dtype=cr.float64,
                  requires_grad=True)
    count, sizes = _sizes(model)
    hs = [cr.tensor(rng.standard_normal((count, 2, s)), dtype=cr.float64, requires_grad=True) for s in sizes]
    call = _lstm_call if kind == "LSTM" else (lambda m, *a: m(*a))
    assert gradcheck_module(model, (x, *hs), call, _flat)


@pytest.mark.parametrize("cls", [nn.RNNCell, nn.GRUCell, nn.LSTMCell])
def test_gradcheck_cells_float64(cls):
    cr.manual_seed(0)
    cell = cls(2, 3)
    rng = _rng(8)
    x = cr.tensor(rng.standard_normal((2, 2)), dtype=cr.float64, requires_grad=True)
    hs = [cr.tensor(rng.standard_normal((2, 3)), dtype=cr.float64, requires_grad=True)
          for _ in range(2 if cls is nn.LSTMCell else 1)]
    call = _lstm_call if cls is nn.LSTMCell else (lambda m, *a: m(*a))
    assert gradcheck_module(cell, (x, *hs), call)


# ---- errors ----------------------------------------------------------------------------------------------------------


def test_bad_arguments_are_refused_with_typed_errors():
    with pytest.raises(ArgumentError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ArgumentError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ArgumentError, match="dropout"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ArgumentError, match="hidden_size"):
        nn.GRU(3, 0)
    with pytest.raises(ArgumentTypeError, match="hidden_size"):
        nn.LSTM(3, 4.0)
    with pytest.raises(ArgumentTypeError, match="batch_first"):
        nn.RNN(3, 4, batch_first="yes")
    with pytest.raises(ArgumentError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="gelu")


def test_bad_inputs_are_refused_with_shape_errors():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ShapeError, match="3-D"):
        lstm(cr.zeros(2, 2, 2, 3))
    with pytest.raises(ShapeError, match="input_size|features"):
        lstm(cr.zeros(5, 2, 2))
    with pytest.raises(ShapeError, match=r"h_0 of shape \(2, 2, 4\)"):
        lstm(cr.zeros(5, 2, 3), (cr.zeros(1, 2, 4), cr.zeros(2, 2, 4)))
    with pytest.raises(ShapeError, match="c_0"):
        lstm(cr.zeros(5, 2, 3), (cr.zeros(2, 2, 4), cr.zeros(2, 2, 3)))
    with pytest.raises(ShapeError, match="unbatched"):
        lstm(cr.zeros(5, 3), (cr.zeros(2, 1, 4), cr.zeros(2, 1, 4)))
    with pytest.raises(ArgumentTypeError, match="tuple"):
        lstm(cr.zeros(5, 2, 3), cr.zeros(2, 2, 4))
    with pytest.raises(ShapeError, match="hx"):
        nn.GRUCell(3, 4)(cr.zeros(2, 3), cr.zeros(3, 4))
    with pytest.raises(ShapeError, match="1-D"):
        nn.GRUCell(3, 4)(cr.zeros(2, 2, 3))


# ---- configs and files (the conformance table cannot run a forward that returns a tuple) -----------------------------


MODULES = [(nn.RNN, {"num_layers": 2, "nonlinearity": "relu", "bidirectional": True}),
           (nn.LSTM, {"proj_size": 2, "batch_first": True, "dropout": 0.25, "num_layers": 2}),
           (nn.GRU, {"bias": False}), (nn.RNNCell, {"nonlinearity": "relu"}), (nn.LSTMCell, {}),
           (nn.GRUCell, {"bias": False})]


def _outputs(model, x):
    with cr.no_grad():
        out = model(x)
    flat = []
    for o in out if isinstance(out, tuple) else (out,):
        flat.extend(o if isinstance(o, tuple) else (o,))
    return [o.numpy() for o in flat]


@pytest.mark.parametrize("cls,kwargs", MODULES, ids=[c.__name__ for c, _ in MODULES])
def test_config_rebuild_and_model_file_round_trip(cls, kwargs, tmp_path):
    cr.manual_seed(0)
    model = cls(3, 4, **kwargs).eval()
    config = model.get_config()
    assert json.loads(json.dumps(config)) == config
    assert {k: v for k, v in config.items() if k in kwargs} == kwargs
    rebuilt = cls.from_config(config)
    rebuilt.load_state_dict(model.state_dict())
    rebuilt.eval()
    x = cr.tensor(_normal(_rng(10), 5, 2, 3) if issubclass(cls, nn.RNNBase) else _normal(_rng(10), 2, 3))
    for a, b in zip(_outputs(rebuilt, x), _outputs(model, x)):
        np.testing.assert_array_equal(a, b)
    cr.save(model, tmp_path / "m.crm")
    loaded = cr.load(tmp_path / "m.crm")
    assert type(loaded) is cls and repr(loaded) == repr(model)
    for a, b in zip(_outputs(loaded, x), _outputs(model, x)):
        np.testing.assert_array_equal(a, b)
