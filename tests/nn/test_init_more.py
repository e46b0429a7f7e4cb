"""nn.init's trunc_normal_, eye_, dirac_, orthogonal_ and sparse_ against torch.nn.init (values where they are
deterministic, the same algorithm on the same draws, statistics of the draws), initialisers on parameters
whatever the grad mode, and a DCGAN-style ``model.apply(weights_init)`` through ``.data``."""

import inspect
import math
import warnings

import numpy as np
import pytest
import tolerance as T
import torch

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import ArgumentError, BackwardError, ShapeError
from chainrule.random import default_generator


def _empty(*shape):
    return nn.Parameter(np.zeros(shape, dtype=np.float32))


def _phi(z):
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def _cdf(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


@pytest.mark.parametrize("name", ["trunc_normal_", "eye_", "dirac_", "orthogonal_", "sparse_"])
def test_signatures_are_torchs(name):
    ours = list(inspect.signature(getattr(nn.init, name)).parameters.values())
    theirs = list(inspect.signature(getattr(torch.nn.init, name)).parameters.values())
    assert [(p.name, p.default) for p in ours[: len(theirs)]] == [(p.name, p.default) for p in theirs]
    assert [p.name for p in ours[len(theirs):]] in ([], ["seed"])  # chainrule's seed= after torch's arguments
    assert name in nn.init.__all__


# ---- trunc_normal_ ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 3.0), (0.0, 0.02, -0.04, 0.04),
                                             (1.0, 1.0, 2.0, 4.0)])
def test_trunc_normal_is_torchs_inverse_cdf_on_the_same_draws(mean, std, a, b):
    t = _empty(60, 50)
    assert nn.init.trunc_normal_(t, mean, std, a, b, generator=np.random.default_rng(3)) is t
    # torch's algorithm in float64: u ~ U(2 cdf(a) - 1, 2 cdf(b) - 1), erfinv(u) std sqrt(2) + mean, clamped
    lo, hi = _cdf((a - mean) / std), _cdf((b - mean) / std)
    p = np.random.default_rng(3).uniform(lo, hi, t.shape)
    z = torch.special.erfinv(torch.tensor(2 * p - 1, dtype=torch.float64)).numpy() * math.sqrt(2)
    expected = np.clip(z * std + mean, a, b)
    T.assert_close(t.numpy(), expected, abs(mean) + std * np.abs(z) + np.abs(expected), "trunc_normal_")
    assert t.numpy().min() >= a and t.numpy().max() <= b


def test_trunc_normal_statistics_like_torch():
    mean, std, a, b, n = 0.5, 2.0, -1.0, 3.0, 200_000
    ours = nn.init.trunc_normal_(_empty(n), mean, std, a, b, seed=0).numpy().astype(np.float64)
    torch.manual_seed(0)
    theirs = torch.nn.init.trunc_normal_(torch.empty(n), mean, std, a, b).numpy().astype(np.float64)
    alpha, beta = (a - mean) / std, (b - mean) / std
    z = _cdf(beta) - _cdf(alpha)
    m = mean + std * (_phi(alpha) - _phi(beta)) / z
    var = std**2 * (1 + (alpha * _phi(alpha) - beta * _phi(beta)) / z - ((_phi(alpha) - _phi(beta)) / z) ** 2)
    se = math.sqrt(var / n)  # the standard error of a sample mean
    for values in (ours, theirs):
        assert values.min() >= a and values.max() <= b
        assert abs(values.mean() - m) < 6 * se
        assert abs(values.var() - var) < 6 * var * math.sqrt(2 / n)  # roughly: the variance's standard error
        # the empirical distribution function against the truncated normal's, at a few points
        for q in (-0.5, 0.5, 1.5, 2.5):
            f = (_cdf((q - mean) / std) - _cdf(alpha)) / z
            assert abs((values <= q).mean() - f) < 6 * math.sqrt(f * (1 - f) / n)
    assert abs(ours.mean() - theirs.mean()) < 6 * math.sqrt(2) * se


def test_trunc_normal_edge_cases_and_errors():
    t = nn.init.trunc_normal_(_empty(5, 4), 0.0, 1.0, 0.7, 0.7, seed=1)  # a == b: every value is the bound
    np.testing.assert_array_equal(t.numpy(), np.full((5, 4), 0.7, np.float32))
    # a far tail (torch's inverse CDF loses accuracy there, and both warn; the values stay within the bounds)
    with pytest.warns(UserWarning, match="mean is more than 2 std"):
        t = nn.init.trunc_normal_(_empty(1000), 0.0, 1.0, 6.0, 7.0, seed=2)
    assert t.numpy().min() >= 6.0 and t.numpy().max() <= 7.0
    with pytest.warns(UserWarning, match="mean is more than 2 std"):
        torch.nn.init.trunc_normal_(torch.empty(3), mean=10.0, std=1.0, a=-2.0, b=2.0)
    with pytest.warns(UserWarning, match="mean is more than 2 std"):
        nn.init.trunc_normal_(_empty(3), mean=10.0, std=1.0, a=-2.0, b=2.0, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.init.trunc_normal_(_empty(3), mean=3.9, std=1.0, a=-2.0, b=2.0, seed=0)
    with pytest.raises(ArgumentError, match="std must be positive"):
        nn.init.trunc_normal_(_empty(3), std=0.0)
    with pytest.raises(ArgumentError, match="must not be greater than b"):
        nn.init.trunc_normal_(_empty(3), a=1.0, b=-1.0)
    # torch's defaults: N(0, 1) truncated to [-2, 2]
    cr.manual_seed(4)
    values = nn.init.trunc_normal_(_empty(10_000)).numpy()
    assert values.min() >= -2 and values.max() <= 2 and values.min() < -1.9 and values.max() > 1.9


def test_trunc_normal_generators_and_seeds():
    first = nn.init.trunc_normal_(_empty(40), generator=cr.Generator().manual_seed(5)).numpy().copy()
    again = nn.init.trunc_normal_(_empty(40), generator=np.random.default_rng(5)).numpy()
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, nn.init.trunc_normal_(_empty(40), seed=5).numpy())
    cr.manual_seed(8)
    a = nn.init.trunc_normal_(_empty(40)).numpy().copy()
    cr.manual_seed(8)
    np.testing.assert_array_equal(a, nn.init.trunc_normal_(_empty(40)).numpy())
    assert not np.array_equal(a, first)


# ---- eye_, dirac_ -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (4, 2), (1, 1)], ids=str)
def test_eye_like_torch(shape):
    t = _empty(*shape)
    t.numpy()[...] = 7.0
    assert nn.init.eye_(t) is t
    np.testing.assert_array_equal(t.numpy(), torch.nn.init.eye_(torch.full(shape, 7.0)).numpy())


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4)], ids=str)
def test_eye_needs_two_dimensions(shape):
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        torch.nn.init.eye_(torch.empty(shape))
    with pytest.raises(ShapeError, match="only tensors with 2 dimensions"):
        nn.init.eye_(_empty(*shape))


@pytest.mark.parametrize("shape, groups", [((4, 2, 3), 1), ((2, 4, 5), 1), ((6, 3, 3, 3), 1), ((6, 3, 3, 4), 2),
                                           ((6, 2, 3, 3), 3), ((4, 4, 3, 3, 3), 2), ((3, 3, 1, 1), 1)], ids=str)
def test_dirac_like_torch(shape, groups):
    t = _empty(*shape)
    t.numpy()[...] = 7.0
    assert nn.init.dirac_(t, groups) is t
    np.testing.assert_array_equal(t.numpy(), torch.nn.init.dirac_(torch.full(shape, 7.0), groups).numpy())


def test_dirac_convolution_keeps_its_input():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32)
    conv = nn.Conv2d(3, 3, 3, padding=1, bias=False)
    nn.init.dirac_(conv.weight)
    np.testing.assert_array_equal(conv(cr.tensor(x)).numpy(), x)
    grouped = nn.Conv2d(4, 4, 3, padding=1, groups=2, bias=False)
    nn.init.dirac_(grouped.weight, 2)
    x4 = np.random.default_rng(1).standard_normal((1, 4, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(grouped(cr.tensor(x4)).numpy(), x4)


def test_dirac_errors_like_torch():
    for shape in ((3, 3), (2, 2, 2, 2, 2, 2)):
        with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
            torch.nn.init.dirac_(torch.empty(shape))
        with pytest.raises(ShapeError, match="only tensors with 3, 4 or 5 dimensions"):
            nn.init.dirac_(_empty(*shape))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        torch.nn.init.dirac_(torch.empty(5, 2, 3), groups=2)
    with pytest.raises(ArgumentError, match=r"dimension 0 \(5\) must be divisible by groups \(2\)"):
        nn.init.dirac_(_empty(5, 2, 3), groups=2)
    with pytest.raises(ArgumentError, match="groups must be a positive int"):
        nn.init.dirac_(_empty(4, 2, 3), groups=0)


# ---- orthogonal_, sparse_ -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3), (6, 2, 3), (2, 3, 2, 2)], ids=str)
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal_is_torchs_qr_on_the_same_draws(shape, gain):
    t = _empty(*shape)
    assert nn.init.orthogonal_(t, gain, generator=np.random.default_rng(5)) is t
    rows = shape[0]
    cols = math.prod(shape) // rows
    # torch's algorithm, in float64: Q of the QR of a normal matrix (transposed when wide), signs from R
    m = torch.tensor(np.random.default_rng(5).normal(0.0, 1.0, (rows, cols)))
    wide = rows < cols
    q, r = torch.linalg.qr(m.T if wide else m)
    q = q * torch.diagonal(r).sign()
    expected = ((q.T if wide else q) * gain).reshape(shape).numpy()
    T.assert_close(t.numpy(), expected, np.abs(expected), "orthogonal_")
    # (semi-)orthogonal: the rows (or the columns, whichever are fewer) orthonormal, times gain
    w = t.numpy().reshape(rows, cols)  # float32: its entries' rounding is float32's
    gram = w @ w.T if wide else w.T @ w
    w64 = np.abs(w.astype(np.float64))
    mag = w64 @ w64.T if wide else w64.T @ w64
    T.assert_close(gram, gain**2 * np.eye(min(rows, cols)), mag, "Q^T Q")


def test_orthogonal_statistics_like_torch_and_errors():
    # the entries of a random orthogonal n x n matrix have mean 0 and variance 1 / n, as torch's
    n = 64
    ours = nn.init.orthogonal_(_empty(n, n), seed=0).numpy().astype(np.float64)
    torch.manual_seed(0)
    theirs = torch.nn.init.orthogonal_(torch.empty(n, n)).numpy().astype(np.float64)
    for values in (ours, theirs):
        assert abs(values.mean()) < 6 / n**1.5  # n^2 entries of standard deviation 1 / sqrt(n)
        assert abs(values.var() - 1 / n) < 6 * math.sqrt(2) / n**2
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        torch.nn.init.orthogonal_(torch.empty(4))
    with pytest.raises(ShapeError, match="only tensors with 2 or more dimensions"):
        nn.init.orthogonal_(_empty(4))
    empty = _empty(0, 3)
    assert nn.init.orthogonal_(empty) is empty and torch.nn.init.orthogonal_(torch.empty(0, 3)).shape == (0, 3)


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 1.0])
def test_sparse_zeros_as_many_per_column_as_torch(sparsity):
    rows, cols = 40, 30
    ours = nn.init.sparse_(_empty(rows, cols), sparsity, std=0.5, seed=0).numpy()
    torch.manual_seed(0)
    theirs = torch.nn.init.sparse_(torch.empty(rows, cols), sparsity, std=0.5).numpy()
    np.testing.assert_array_equal((ours == 0).sum(axis=0), (theirs == 0).sum(axis=0))
    np.testing.assert_array_equal((ours == 0).sum(axis=0), math.ceil(sparsity * rows))
    kept = ours[ours != 0]
    if kept.size > 500:  # the survivors are N(0, 0.5^2): their sample std within a few standard errors
        assert abs(kept.std() - 0.5) < 6 * 0.5 / math.sqrt(2 * kept.size)
    # a different column gets a different pattern of zeros
    if 0 < sparsity < 1:
        assert len({tuple(np.flatnonzero(ours[:, j] == 0)) for j in range(cols)}) > 1


def test_sparse_errors():
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        torch.nn.init.sparse_(torch.empty(3, 4, 5), 0.5)
    with pytest.raises(ShapeError, match="only tensors with 2 dimensions"):
        nn.init.sparse_(_empty(3, 4, 5), 0.5)
    with pytest.raises(ArgumentError, match="sparsity must be between 0 and 1"):
        nn.init.sparse_(_empty(3, 4), 1.5)


def test_new_initialisers_do_nothing_while_skipped():
    tensors = [_empty(4, 6), _empty(4, 4), _empty(4, 2, 3), _empty(4, 6), _empty(4, 6)]
    for t in tensors:
        t.numpy()[...] = 3.0
    cr.manual_seed(1)
    with nn.init.skipped():
        nn.init.trunc_normal_(tensors[0])
        nn.init.eye_(tensors[1])
        nn.init.dirac_(tensors[2])
        nn.init.orthogonal_(tensors[3])
        nn.init.sparse_(tensors[4], 0.5)
    for t in tensors:
        assert (t.numpy() == 3.0).all()
    after = default_generator().random()
    cr.manual_seed(1)
    assert after == default_generator().random()  # nothing was drawn


# ---- on parameters, whatever the grad mode --------------------------------------------------------------------------

INITS = {
    "uniform_": lambda t: nn.init.uniform_(t, -0.1, 0.1),
    "normal_": lambda t: nn.init.normal_(t, 0.0, 0.02),
    "constant_": lambda t: nn.init.constant_(t, 0.3),
    "zeros_": nn.init.zeros_,
    "ones_": nn.init.ones_,
    "xavier_uniform_": nn.init.xavier_uniform_,
    "xavier_normal_": nn.init.xavier_normal_,
    "kaiming_uniform_": nn.init.kaiming_uniform_,
    "kaiming_normal_": nn.init.kaiming_normal_,
    "trunc_normal_": lambda t: nn.init.trunc_normal_(t, std=0.02),
    "eye_": nn.init.eye_,
    "orthogonal_": nn.init.orthogonal_,
    "sparse_": lambda t: nn.init.sparse_(t, 0.3),
}


@pytest.mark.parametrize("name", sorted(INITS))
def test_initialisers_fill_a_parameter_in_grad_mode_like_torch(name):
    """torch runs them under no_grad: on a parameter that requires grad they work outside it, stay unrecorded,
    and count as an in-place change (a backward through the old value fails)."""
    cr.manual_seed(0)
    assert cr.is_grad_enabled()
    lin = nn.Linear(4, 6)
    w = lin.weight
    memory = w.numpy()
    before = w._version
    x = cr.tensor(np.ones((2, 4), np.float32), requires_grad=True)
    y = lin(x)  # saves the weight for the input's gradient
    assert INITS[name](w) is w
    assert w.numpy() is memory and w.is_leaf and w.requires_grad and w.grad_fn is None
    assert w._version == before + 1
    with pytest.raises(BackwardError, match="modified by an in-place operation"):
        y.sum().backward()
    tlin = torch.nn.Linear(4, 6)
    ty = tlin(torch.ones(2, 4, requires_grad=True))
    getattr(torch.nn.init, name)(tlin.weight, *([0.3] if name in ("constant_", "sparse_") else []))
    assert tlin.weight.is_leaf and tlin.weight.requires_grad
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ty.sum().backward()


def test_data_in_place_methods_change_the_parameter():
    cr.manual_seed(2)
    conv = nn.Conv2d(3, 8, 3)
    w, b = conv.weight, conv.bias
    memory = w.numpy()
    assert conv.weight.data.normal_(0, 0.02) is not w  # .data: a tensor of its own, the same memory
    conv.bias.data.fill_(0)
    assert conv.weight is w and w.numpy() is memory and w.is_leaf and w.requires_grad
    assert not b.numpy().any()
    assert abs(w.numpy().std() - 0.02) < 0.006 and abs(w.numpy().mean()) < 0.006  # 216 draws
    # nn.init on .data alike
    nn.init.constant_(conv.bias.data, 0.5)
    np.testing.assert_array_equal(b.numpy(), np.full(8, 0.5, np.float32))
    nn.init.normal_(conv.weight.data, 1.0, 0.02, seed=0)
    np.testing.assert_array_equal(
        w.numpy(), np.random.default_rng(0).normal(1.0, 0.02, w.shape).astype(np.float32))


# ---- DCGAN ----------------------------------------------------------------------------------------------------------


def _generator(m, nz=8, ngf=8):
    """The DCGAN tutorial's generator, small: z (N, nz, 1, 1) -> images (N, 3, 16, 16); ``m`` is chainrule's nn
    or torch's."""
    return m.Sequential(
        m.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), m.BatchNorm2d(ngf * 4), m.ReLU(True),
        m.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), m.BatchNorm2d(ngf * 2), m.ReLU(True),
        m.ConvTranspose2d(ngf * 2, 3, 4, 2, 1, bias=False), m.Tanh(),
    )


def _discriminator(m, ndf=8):
    return m.Sequential(
        m.Conv2d(3, ndf, 4, 2, 1, bias=False), m.LeakyReLU(0.2, inplace=True),
        m.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), m.BatchNorm2d(ndf * 2), m.LeakyReLU(0.2, inplace=True),
        m.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False), m.Sigmoid(),
    )


def _weights_init_by_name(m):
    """The DCGAN tutorial's, word for word but for the imports."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


def _weights_init_by_type(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        m.weight.data.normal_(0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        m.weight.data.normal_(1.0, 0.02)
        m.bias.data.fill_(0)


@pytest.mark.parametrize("weights_init", [_weights_init_by_name, _weights_init_by_type], ids=["by_name", "by_type"])
def test_dcgan_weights_init_through_apply(weights_init):
    cr.manual_seed(0)
    gen, disc = _generator(nn), _discriminator(nn)
    params = {id(p): p.numpy() for p in [*gen.parameters(), *disc.parameters()]}
    assert gen.apply(weights_init) is gen and disc.apply(weights_init) is disc
    # the same parameters, in the same memory
    assert {id(p): p.numpy() for p in [*gen.parameters(), *disc.parameters()]}.keys() == params.keys()
    assert all(p.numpy() is params[id(p)] for p in [*gen.parameters(), *disc.parameters()])
    conv_weights = np.concatenate([m.weight.numpy().ravel() for m in [*gen.modules(), *disc.modules()]
                                   if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]).astype(np.float64)
    norms = [m for m in [*gen.modules(), *disc.modules()] if isinstance(m, nn.BatchNorm2d)]
    bn_weights = np.concatenate([m.weight.numpy() for m in norms]).astype(np.float64)
    n = conv_weights.size  # 9,728 draws: standard errors 0.02 / sqrt(n) for the mean, 0.02 / sqrt(2n) for the std
    assert abs(conv_weights.mean()) < 6 * 0.02 / math.sqrt(n)
    assert abs(conv_weights.std() - 0.02) < 6 * 0.02 / math.sqrt(2 * n)
    assert abs(bn_weights.mean() - 1.0) < 6 * 0.02 / math.sqrt(bn_weights.size)
    assert all(not m.bias.numpy().any() for m in norms)
    assert all((m.running_mean.numpy() == 0).all() and (m.running_var.numpy() == 1).all() for m in norms)
    # torch's model, initialised by the same function written for torch, has the same statistics
    torch.manual_seed(0)
    tgen = _generator(torch.nn)
    tgen.apply(lambda m: torch.nn.init.normal_(m.weight.data, 0.0, 0.02) if "Conv" in type(m).__name__ else None)
    tconv = np.concatenate([m.weight.detach().numpy().ravel() for m in tgen.modules()
                            if isinstance(m, torch.nn.ConvTranspose2d)]).astype(np.float64)
    assert abs(tconv.std() - 0.02) < 6 * 0.02 / math.sqrt(2 * tconv.size)


def test_dcgan_trains_with_inplace_activations_like_its_out_of_place_twin():
    cr.manual_seed(1)
    gen, disc = _generator(nn).apply(_weights_init_by_name), _discriminator(nn).apply(_weights_init_by_name)
    twin_gen = nn.Sequential(*[nn.ReLU() if isinstance(m, nn.ReLU) else m for m in _generator(nn)])
    twin_disc = nn.Sequential(*[nn.LeakyReLU(0.2) if isinstance(m, nn.LeakyReLU) else m for m in _discriminator(nn)])
    twin_gen.load_state_dict(gen.state_dict())
    twin_disc.load_state_dict(disc.state_dict())
    assert any(getattr(m, "inplace", False) for m in gen.modules())
    assert not any(getattr(m, "inplace", False) for m in twin_gen.modules())
    z = np.random.default_rng(2).standard_normal((4, 8, 1, 1)).astype(np.float32)
    outputs = []
    for g, d in ((gen, disc), (twin_gen, twin_disc)):
        zz = cr.tensor(z, requires_grad=True)
        out = d(g(zz))
        assert out.shape == (4, 1, 1, 1)
        loss = F.binary_cross_entropy(out.reshape(-1), cr.ones(4))
        loss.backward()
        outputs.append(out.detach().numpy())
        for p in [*g.parameters(), *d.parameters()]:
            assert p.grad is not None and p.grad.shape == p.shape and np.isfinite(p.grad.numpy()).all()
        assert np.isfinite(zz.grad.numpy()).all() and zz.grad.numpy().any()
    np.testing.assert_array_equal(outputs[0], outputs[1])
    # a step of the tutorial's optimiser moves every parameter that has a gradient
    opt = cr.optim.Adam(gen.parameters(), lr=0.0002, betas=(0.5, 0.999))
    before = [p.numpy().copy() for p in gen.parameters()]
    opt.step()
    assert all(not np.array_equal(b, p.numpy()) for b, p in zip(before, gen.parameters()))
