"""Initialisers, as ``torch.nn.init``: each fills a tensor in place and returns it.

As torch, which runs them under ``no_grad``, they work on a parameter (or its ``.data``) whatever the grad
mode, record no gradient and move the tensor's version. Every random one takes ``generator=``
(a ``numpy.random.Generator`` or ``chainrule.Generator``) or ``seed=``; without them it draws from chainrule's
default generator, so ``cr.manual_seed(0)`` makes model construction reproducible bit for bit.
"""

import contextlib
import math
import warnings

import numpy as np

from ..autograd.function import note_write
from ..errors import ArgumentError, ShapeError
from ..random import rng

__all__ = [
    "calculate_gain",
    "constant_",
    "dirac_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "sparse_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


_skip = False


@contextlib.contextmanager
def skipped():
    """Within this block initialisers leave tensors as they are (used when weights come from a file)."""
    global _skip
    prev, _skip = _skip, True
    try:
        yield
    finally:
        _skip = prev


def calculate_gain(nonlinearity, param=None):
    """The recommended scale for an initialiser followed by ``nonlinearity`` (as torch.nn.init)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
              "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ArgumentError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fill(tensor, values):
    if not _skip:
        tensor._data[...] = values
        note_write(tensor)  # an in-place change, as torch's (a backward through an older saved value fails)
    return tensor


def _noop(tensor):
    """True where an initialiser leaves ``tensor`` as it is: while skipped, or when it has no elements (as
    PyTorch, where fan in and fan out may be 0: ``nn.Linear(0, 4)``)."""
    return _skip or tensor._data.size == 0


def _fans(tensor):
    shape = tensor.shape
    if len(shape) < 2:
        raise ShapeError(f"fan in and fan out need a tensor of at least 2 dimensions, got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ArgumentError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None, seed=None):
    """Fill with U(a, b)."""
    return tensor if _skip else _fill(tensor, rng(seed, generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None, seed=None):
    """Fill with N(mean, std^2)."""
    return tensor if _skip else _fill(tensor, rng(seed, generator).normal(mean, std, tensor.shape))


def constant_(tensor, val):
    return _fill(tensor, val)


def zeros_(tensor):
    return _fill(tensor, 0)


def ones_(tensor):
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain=1.0, generator=None, seed=None):
    """Glorot: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    if _noop(tensor):
        return tensor
    fan_in, fan_out = _fans(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator, seed)


def xavier_normal_(tensor, gain=1.0, generator=None, seed=None):
    """Glorot: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    if _noop(tensor):
        return tensor
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator, seed)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, seed=None):
    """He: U(-b, b) with b = gain * sqrt(3 / fan), gain from ``nonlinearity`` (and slope ``a``)."""
    if _noop(tensor):
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator, seed)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, seed=None):
    """He: N(0, std^2) with std = gain / sqrt(fan)."""
    if _noop(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator, seed)


# Acklam's rational approximation of the standard normal quantile (relative error below 1.2e-9): a central
# piece for |p - 0.5| <= 0.47575 and one for the tails, in sqrt(-2 log p)
_Q_CENTRAL_NUM = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
                  -3.066479806614716e01, 2.506628277459239e00)
_Q_CENTRAL_DEN = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
                  -1.328068155288572e01, 1.0)
_Q_TAIL_NUM = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
               4.374664141464968e00, 2.938163982698783e00)
_Q_TAIL_DEN = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00, 1.0)
_P_LOW = 0.02425


def _horner(coefficients, x):
    out = np.zeros_like(x)
    for c in coefficients:
        out = out * x + c
    return out


def _normal_quantile(p):
    """The x with P(N(0, 1) <= x) = p, elementwise for an array ``p`` in [0, 1] (float64; finite: p = 0 and 1
    give the quantiles of the nearest probabilities inside (0, 1))."""
    p = np.clip(p, np.finfo(np.float64).tiny, 1 - 2.0**-53)
    out = np.empty_like(p)
    low, high = p < _P_LOW, p > 1 - _P_LOW
    mid = ~(low | high)
    q = p[mid] - 0.5
    r = q * q
    out[mid] = q * _horner(_Q_CENTRAL_NUM, r) / _horner(_Q_CENTRAL_DEN, r)
    for where, tail, sign in ((low, p[low], 1.0), (high, 1 - p[high], -1.0)):
        q = np.sqrt(-2 * np.log(tail))
        out[where] = sign * _horner(_Q_TAIL_NUM, q) / _horner(_Q_TAIL_DEN, q)
    return out


def _normal_cdf(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2.0)))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None, seed=None):
    """Fill with N(mean, std^2) truncated to [a, b] (``a`` and ``b`` are values, not numbers of std), as
    torch: a uniform sample of the normal CDF between a and b, mapped back through its inverse.

    As torch, warns when ``mean`` lies more than 2 std outside [a, b], where the values may be inaccurate.
    """
    if not std > 0:
        raise ArgumentError(f"trunc_normal_: std must be positive, got {std}")
    if not a <= b:
        raise ArgumentError(f"trunc_normal_: the lower bound a ({a}) must not be greater than b ({b})")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("trunc_normal_: mean is more than 2 std from [a, b]; the distribution of values may be "
                      "incorrect", stacklevel=2)
    if _noop(tensor):
        return tensor
    lo, hi = _normal_cdf((a - mean) / std), _normal_cdf((b - mean) / std)
    p = rng(seed, generator).uniform(lo, hi, tensor.shape)
    return _fill(tensor, np.clip(mean + std * _normal_quantile(p), a, b))


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the main diagonal of a rectangle too), as torch."""
    if tensor.ndim != 2:
        raise ShapeError(f"eye_: only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Fill a convolution weight (3, 4 or 5 dimensions: (out, in, *kernel)) with the Dirac delta, so that the
    convolution keeps its input: in each of ``groups`` groups, output channel d gets a one at the centre of the
    kernel of input channel d (for d < min(out / groups, in)), zeros elsewhere (as torch)."""
    if tensor.ndim not in (3, 4, 5):
        raise ShapeError(f"dirac_: only tensors with 3, 4 or 5 dimensions are supported, got shape {tensor.shape}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ArgumentError(f"dirac_: groups must be a positive int, got {groups!r}")
    out_channels = tensor.shape[0]
    if out_channels % groups:
        raise ArgumentError(f"dirac_: dimension 0 ({out_channels}) must be divisible by groups ({groups})")
    per_group = out_channels // groups
    centre = tuple(k // 2 for k in tensor.shape[2:])
    values = np.zeros(tensor.shape)
    for g in range(groups):
        for d in range(min(per_group, tensor.shape[1])):
            values[(g * per_group + d, d, *centre)] = 1
    return _fill(tensor, values)


def orthogonal_(tensor, gain=1.0, generator=None, seed=None):
    """Fill with a (semi-)orthogonal matrix times ``gain``, as torch: the Q of the QR decomposition of a
    standard normal matrix of shape (shape[0], numel / shape[0]) (transposed when it is wide), each column's
    sign made that of R's diagonal, so Q is uniformly distributed; reshaped to the tensor's shape."""
    if tensor.ndim < 2:
        raise ShapeError(f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape "
                         f"{tensor.shape}")
    if _noop(tensor):
        return tensor
    rows = tensor.shape[0]
    cols = tensor._data.size // rows
    flat = rng(seed, generator).normal(0.0, 1.0, (rows, cols))
    wide = rows < cols
    q, r = np.linalg.qr(flat.T if wide else flat)
    q = q * np.sign(np.diagonal(r))
    return _fill(tensor, (q.T if wide else q).reshape(tensor.shape) * gain)


def sparse_(tensor, sparsity, std=0.01, generator=None, seed=None):
    """Fill a 2-D tensor with N(0, std^2) and then zero ceil(sparsity * rows) elements of each column, chosen at
    random (as torch)."""
    if tensor.ndim != 2:
        raise ShapeError(f"sparse_: only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    if not 0 <= sparsity <= 1:
        raise ArgumentError(f"sparse_: sparsity must be between 0 and 1, got {sparsity}")
    if _skip:
        return tensor
    g = rng(seed, generator)
    rows, cols = tensor.shape
    values = g.normal(0.0, std, (rows, cols))
    zeros = int(math.ceil(sparsity * rows))
    for col in range(cols):
        values[g.permutation(rows)[:zeros], col] = 0
    return _fill(tensor, values)
