"""Math primitives: trigonometric, hyperbolic and logarithmic functions, the error function and its inverse,
rounding, ``nan_to_num``, the product over dimensions, the vector p-norm and ``einsum``.

The elementwise ones work on floating arrays (``chainrule.functional`` turns integer inputs into float32 first,
as PyTorch does) and save what their derivative reads: the input or the output. Rounding and ``sign`` are
piecewise constant: their gradient is zero, as PyTorch's.
"""

import math

import numpy as np

from ..autograd.function import Primitive
from ..backend import array_module
from ._compat import erf
from .reduce import normalize_axis

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Sin(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        self.saved = (a,)
        return np.sin(a)

    def backward(self, g):
        return g * np.cos(self.saved[0])


class Cos(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        self.saved = (a,)
        return np.cos(a)

    def backward(self, g):
        return -g * np.sin(self.saved[0])


class Tan(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        out = np.tan(a)
        self.saved = (out,)
        return out

    def backward(self, g):
        (t,) = self.saved
        return g + g * t * t  # g (1 + tan^2), from the output as PyTorch


class Asin(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        self.saved = (a,)
        return np.arcsin(a)

    def backward(self, g):
        (a,) = self.saved
        return g / np.sqrt(1 - a * a)


class Acos(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        self.saved = (a,)
        return np.arccos(a)

    def backward(self, g):
        (a,) = self.saved
        return -g / np.sqrt(1 - a * a)


class Atan(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        self.saved = (a,)
        return np.arctan(a)

    def backward(self, g):
        (a,) = self.saved
        return g / (1 + a * a)


class Sinh(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        self.saved = (a,)
        return np.sinh(a)

    def backward(self, g):
        return g * np.cosh(self.saved[0])


class Cosh(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        self.saved = (a,)
        return np.cosh(a)

    def backward(self, g):
        return g * np.sinh(self.saved[0])


class Log1p(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        self.saved = (a,)
        return np.log1p(a)

    def backward(self, g):
        return g / (1 + self.saved[0])


class Expm1(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        out = np.expm1(a)
        self.saved = (out,)
        return out

    def backward(self, g):
        return g * (self.saved[0] + 1)


class Log2(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        self.saved = (a,)
        return np.log2(a)

    def backward(self, g):
        return g / (self.saved[0] * _LN2)


class Log10(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        self.saved = (a,)
        return np.log10(a)

    def backward(self, g):
        return g / (self.saved[0] * _LN10)


class Rsqrt(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        out = 1 / np.sqrt(a)
        self.saved = (out,)
        return out

    def backward(self, g):
        (r,) = self.saved
        return g * r * r * r * -0.5


class Reciprocal(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        out = 1 / a
        self.saved = (out,)
        return out

    def backward(self, g):
        (r,) = self.saved
        return -g * r * r


class Erf(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        self.saved = (a,)
        return erf(a)

    def backward(self, g):
        (a,) = self.saved
        return g * (_TWO_OVER_SQRT_PI * np.exp(-a * a))


def _erfinv_start(x):
    """erfinv to about float32 precision: M. Giles, "Approximating the erfinv function" (GPU Computing Gems,
    2011), the single-precision polynomials in w = -log(1 - x^2), central (w < 5) and tail."""
    w = -np.log((1 - x) * (1 + x))
    c = w - 2.5
    central = 2.81022636e-08
    for k in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164,
              0.246640727, 1.50140941):
        central = k + central * c
    t = np.sqrt(np.maximum(w, 5.0)) - 3  # the tail's argument (clamped where the central branch is taken)
    tail = -0.000200214257
    for k in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
              1.00167406, 2.83297682):
        tail = k + tail * t
    return x * array_module(x).where(w < 5, central, tail)


class Erfinv(Primitive):
    """The inverse of erf on (-1, 1): +-inf at +-1, nan outside. Giles' approximation refined by two Newton
    steps on erf(y) = x in float64 (each squares the relative error: 1e-7, 1e-14, then rounding); the
    derivative is sqrt(pi) / 2 exp(y^2), from the output."""

    deeplift = "rescale"

    def forward(self, a):
        xp = array_module(a)
        x = a.astype("float64")  # refined in double precision, then rounded to the input's dtype
        inside = np.abs(x) < 1
        xi = xp.where(inside, x, 0.0)
        with np.errstate(over="ignore"):
            y = _erfinv_start(xi)
            for _ in range(2):
                y = y - (erf(y) - xi) / (_TWO_OVER_SQRT_PI * np.exp(-y * y))
        edge = xp.where(np.abs(x) == 1, np.copysign(np.inf, x), np.nan)  # nan for |x| > 1 and for nan
        out = xp.where(inside, y, edge).astype(a.dtype)
        self.saved = (out,)
        return out

    def backward(self, g):
        (y,) = self.saved
        return g * (np.exp(y * y) / _TWO_OVER_SQRT_PI)


# ---- piecewise constant: the gradient is zero wherever it exists, and PyTorch takes it as zero everywhere -----


class _Constant(Primitive):
    deeplift = "rescale"

    def backward(self, g):
        return array_module(g).zeros_like(g)


class Sign(_Constant):
    """-1, 0 or 1 as PyTorch: (x > 0) - (x < 0), so sign(-0.0) = 0 and sign(nan) = 0 (NumPy's gives nan)."""

    def forward(self, a):
        if a.dtype.kind == "b":
            return a.copy()
        return (a > 0).astype(a.dtype) - (a < 0).astype(a.dtype)


class Floor(_Constant):
    def forward(self, a):
        return np.floor(a)


class Ceil(_Constant):
    def forward(self, a):
        return np.ceil(a)


class Trunc(_Constant):
    def forward(self, a):
        return np.trunc(a)


class Round(_Constant):
    """Half to even; with ``decimals``, rint(x * 10^d) / 10^d (d > 0) or rint(x / 10^-d) * 10^-d (d < 0), in the
    input's dtype, PyTorch's formula."""

    def forward(self, a, decimals=0):
        if decimals == 0:
            return np.rint(a)
        scale = a.dtype.type(10.0 ** abs(decimals))
        return np.rint(a * scale) / scale if decimals > 0 else np.rint(a / scale) * scale


class NanToNum(Primitive):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (the dtype's extremes by default); the
    gradient passes where the input is finite and is zero where it was replaced (as PyTorch)."""

    name = "nan_to_num"
    deeplift = "rescale"

    def forward(self, a, nan=0.0, posinf=None, neginf=None):
        self.saved = (np.isfinite(a),)
        return array_module(a).nan_to_num(a, copy=True, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):
        return g * self.saved[0]


# ---- reductions and products ----------------------------------------------------------------------------------


class Prod(Primitive):
    """The product over ``axis`` (an int, a tuple, or None for every axis).

    A primitive for its gradient with zeros in the input, where out / x_i is 0 / 0: the gradient of x_i is
    the product of the other factors, computed with no division as the product of those before it times
    the product of those after it (exclusive cumulative products from both ends), right at any zeros.
    """

    def forward(self, x, axis=None, keepdims=False):
        axes = normalize_axis(axis, x.ndim, "prod")
        kept = [i for i in range(x.ndim) if i not in axes]
        self.order = kept + list(axes)  # the reduced axes last
        self.n_kept = len(kept)
        self.saved = (x,)
        out = x.prod(axis=axes, keepdims=True)
        return out if keepdims else out.reshape([x.shape[i] for i in kept])

    def backward(self, g):
        (x,) = self.saved
        xp = array_module(g)
        if x.size == 0:
            return xp.zeros_like(x)
        moved = x.transpose(self.order)
        lead = moved.shape[: self.n_kept]
        flat = moved.reshape(lead + (math.prod(moved.shape[self.n_kept :]),))
        one = xp.ones(lead + (1,), dtype=flat.dtype)
        before = xp.cumprod(xp.concatenate([one, flat[..., :-1]], axis=-1), axis=-1)
        after = xp.flip(xp.cumprod(xp.concatenate([one, xp.flip(flat[..., 1:], -1)], axis=-1), axis=-1), -1)
        grad = (g.reshape(lead + (1,)) * (before * after)).reshape(moved.shape)
        return grad.transpose(sorted(range(x.ndim), key=self.order.__getitem__))


class Norm(Primitive):
    """The vector p-norm over ``axis``: (sum |x|^p)^(1/p), max |x| for p = inf, min |x| for -inf, the count of
    nonzero elements for p = 0.

    A primitive of its own for its gradient where the norm is zero: sqrt(sum(x^2)) composed from parts gives
    0 / 0 = nan there, PyTorch (and this rule) gives 0. At p = +-inf, tied extremes share the gradient equally.
    """

    def forward(self, x, p=2.0, axis=None, keepdims=False):
        self.axes = axes = normalize_axis(axis, x.ndim, "norm")
        self.p = p
        ax = np.abs(x)
        if p == 2:
            n = np.sqrt((x * x).sum(axis=axes, keepdims=True))
        elif p == 1:
            n = ax.sum(axis=axes, keepdims=True)
        elif p == math.inf:
            n = ax.max(axis=axes, keepdims=True)
        elif p == -math.inf:
            n = ax.min(axis=axes, keepdims=True)
        elif p == 0:
            n = (x != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        else:
            with np.errstate(divide="ignore"):  # a negative p at a zero element: inf, whose 1/p power is 0
                n = (ax**p).sum(axis=axes, keepdims=True) ** (1 / p)
        self.saved = (x, n)
        return n if keepdims else n.reshape([k for i, k in enumerate(x.shape) if i not in axes])

    def backward(self, g):
        x, n = self.saved
        p = self.p
        g = g.reshape(n.shape)
        xp = array_module(g)
        if p == 0:
            return xp.zeros_like(x)
        if p == 1:
            return g * np.sign(x)
        if p in (math.inf, -math.inf):
            mask = np.abs(x) == n
            count = mask.sum(axis=self.axes, keepdims=True).astype(g.dtype)
            return np.sign(x) * mask * (g / count)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                return x * xp.where(n == 0, 0, g / n)
            scaled = np.sign(x) * np.abs(x) ** (p - 1)
            if p < 1:  # |x|^(p - 1) is infinite at x = 0, where the gradient is taken as 0
                return xp.where(x == 0, 0, scaled) * g * n ** (1 - p)
            return scaled * xp.where(n == 0, 0, g / n ** (p - 1))


class Einsum(Primitive):
    """``einsum`` on normalised subscripts: one string of letters per operand (a letter may repeat within one, a
    diagonal), an explicit output, and each letter of one size wherever it appears (``functional.einsum``
    expands ``...``, finds the implicit output and removes size-1 broadcasting before calling it).

    The gradient of an operand is again an einsum: the upstream gradient with the other operands, summed into
    the operand's letters; letters found nowhere else are broadcast back, and a repeated letter's gradient is
    written onto the diagonal it read.
    """

    deeplift = "einsum"

    def forward(self, *operands, inputs=(), output=""):
        self.inputs, self.output = inputs, output
        self.shapes = [a.shape for a in operands]
        self.saved = operands
        xp = array_module(operands[0])
        equation = ",".join(inputs) + "->" + output
        return xp.einsum(equation, *operands, optimize=len(operands) > 2)

    def backward(self, g):
        operands = self.saved
        xp = array_module(g)
        sizes = {}
        for subs, shape in zip(self.inputs, self.shapes):
            sizes.update(zip(subs, shape))
        grads = []
        for i, subs in enumerate(self.inputs):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [j for j in range(len(operands)) if j != i]
            seen = set(self.output).union(*(self.inputs[j] for j in others))
            letters = "".join(dict.fromkeys(subs))  # each letter once, in order
            kept = "".join(c for c in letters if c in seen)
            equation = ",".join([self.output] + [self.inputs[j] for j in others]) + "->" + kept
            gk = xp.einsum(equation, g, *(operands[j] for j in others), optimize=len(operands) > 2)
            if kept != letters:  # letters summed in this operand alone: their gradient is the same along them
                gk = gk.reshape([sizes[c] if c in kept else 1 for c in letters])
                gk = xp.broadcast_to(gk, [sizes[c] for c in letters])
            if letters != subs:  # a repeated letter: the gradient lies on the diagonal, zero elsewhere
                out = xp.zeros(self.shapes[i], dtype=g.dtype)
                where = letters.index
                index = tuple(
                    xp.arange(sizes[c]).reshape([sizes[c] if k == where(c) else 1 for k in range(len(letters))])
                    for c in subs
                )
                out[index] = gk
                gk = out
            grads.append(gk)
        return tuple(grads)
