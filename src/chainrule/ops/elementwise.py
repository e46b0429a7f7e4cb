"""Elementwise primitives: arithmetic, exp/log, comparisons' differentiable cousins, activations.

Each forward works on raw arrays and stores what its backward needs; binary ops
broadcast and let the engine sum their gradients back to each input's shape. NumPy ufuncs
(np.exp, np.maximum) serve any array module (they dispatch through ``__array_ufunc__``); other
functions come from the inputs' module (``xp = array_module(a)``).
"""

import math

import numpy as np

from ..autograd.function import Primitive
from ..backend import array_module
from ..errors import ArgumentError
from ._compat import erf


class _Binary(Primitive):
    broadcasts = True

    @classmethod
    def _shape_message(cls, arrays, err):
        a, b = (tuple(getattr(x, "shape", ())) for x in arrays[:2])
        return f"{cls.op_name()}: cannot broadcast shapes {a} and {b}"


class Add(_Binary):
    deeplift = "linear"

    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class Sub(_Binary):
    deeplift = "linear"

    def forward(self, a, b):
        return a - b

    def backward(self, g):
        return g, (-g if self.needs_input_grad[1] else None)


class Mul(_Binary):
    deeplift = "product"

    def forward(self, a, b):
        self.saved = (a, b)
        return a * b

    def backward(self, g):
        a, b = self.saved
        n = self.needs_input_grad
        return (g * b if n[0] else None), (g * a if n[1] else None)


class Div(_Binary):
    deeplift = "divide"

    def forward(self, a, b):
        out = a / b
        self.saved = (b, out)
        return out

    def backward(self, g):
        b, out = self.saved
        ga = g / b
        return ga, (-ga * out if self.needs_input_grad[1] else None)


class Pow(_Binary):
    deeplift = "rescale"

    def forward(self, a, b):
        out = a**b
        self.saved = (a, b, out)
        return out

    def backward(self, g):
        a, b, out = self.saved
        n = self.needs_input_grad
        ga = g * b * a ** (b - 1) if n[0] else None
        gb = None
        if n[1]:
            # d(a^b)/db = a^b log a, taken as 0 where a == 0 (as PyTorch), so 0 ** b stays finite
            xp = array_module(g)
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = xp.where(a == 0, 0, g * out * np.log(xp.where(a == 0, 1, a)))
        return ga, gb


class Remainder(_Binary):
    """``a mod b`` with the sign of ``b`` (Python's ``%``, ``torch.remainder``): ``a - b * floor(a / b)``, so the
    gradient is 1 for ``a`` and ``-floor(a / b)`` for ``b``."""

    deeplift = "rescale"

    def forward(self, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.needs_input_grad[1]:
                self.saved = (np.floor_divide(a, b),)
            return np.mod(a, b)

    def backward(self, g):
        return g, (-g * self.saved[0] if self.needs_input_grad[1] else None)


class Fmod(_Binary):
    """``a mod b`` with the sign of ``a`` (C's ``fmod``, ``torch.fmod``): ``a - b * trunc(a / b)``."""

    deeplift = "rescale"

    def forward(self, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.fmod(a, b)
            if self.needs_input_grad[1]:
                self.saved = (np.trunc(a / b),)
        return out

    def backward(self, g):
        return g, (-g * self.saved[0] if self.needs_input_grad[1] else None)


class Maximum(_Binary):
    deeplift = "maximum"

    def forward(self, a, b):
        self.saved = (a, b)
        return np.maximum(a, b)

    def backward(self, g):
        a, b = self.saved
        # ties share the gradient equally between the two inputs, as PyTorch does
        wa = (a > b) + 0.5 * (a == b)
        n = self.needs_input_grad
        return (g * wa if n[0] else None), (g * (1 - wa) if n[1] else None)


class Minimum(_Binary):
    deeplift = "minimum"

    def forward(self, a, b):
        self.saved = (a, b)
        return np.minimum(a, b)

    def backward(self, g):
        a, b = self.saved
        wa = (a < b) + 0.5 * (a == b)
        n = self.needs_input_grad
        return (g * wa if n[0] else None), (g * (1 - wa) if n[1] else None)


class Where(Primitive):
    broadcasts = True
    deeplift = "where"

    def forward(self, cond, a, b):
        self.saved = (cond,)
        xp = array_module(a if hasattr(a, "dtype") else b)
        return xp.where(cond, a, b)

    def backward(self, g):
        (cond,) = self.saved
        n = self.needs_input_grad
        zero = g.dtype.type(0)
        xp = array_module(g)
        return None, (xp.where(cond, g, zero) if n[1] else None), (xp.where(cond, zero, g) if n[2] else None)

    @classmethod
    def _shape_message(cls, arrays, err):
        c, a, b = (tuple(getattr(x, "shape", ())) for x in arrays)
        return f"where: cannot broadcast shapes {c} (condition), {a} and {b}"


class Neg(Primitive):
    deeplift = "linear"

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Exp(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        out = np.exp(a)
        self.saved = (out,)
        return out

    def backward(self, g):
        return g * self.saved[0]


class Log(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        self.saved = (a,)
        return np.log(a)

    def backward(self, g):
        return g / self.saved[0]


class Sqrt(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        out = np.sqrt(a)
        self.saved = (out,)
        return out

    def backward(self, g):
        out = self.saved[0]
        return g / (out + out)


class Abs(Primitive):
    deeplift = "rescale"

    def forward(self, a):
        self.saved = (a,)
        return np.abs(a)

    def backward(self, g):
        return g * np.sign(self.saved[0])


class Clip(Primitive):
    deeplift = "rescale"

    def forward(self, a, lo=None, hi=None):
        out = array_module(a).clip(a, lo, hi)
        # the gradient passes where lo <= a <= hi (bounds included), as torch.clamp
        mask = None if lo is None else a >= lo
        if hi is not None:
            mask = a <= hi if mask is None else mask & (a <= hi)
        self.saved = (mask,)
        return out

    def backward(self, g):
        mask = self.saved[0]
        return g if mask is None else g * mask


class Cast(Primitive):
    """Change the floating dtype; the gradient is cast back."""

    promotes = False  # a float64 result is asked for, not a by-product of NumPy's promotion
    deeplift = "linear"

    def forward(self, a, dtype=None):
        return a.astype(dtype)

    def backward(self, g):
        return g  # the engine casts gradients to each input's dtype


# ---- activations -----------------------------------------------------------------------------


def _sigmoid(x):
    # 1 / (1 + e^-x) with the exponent capped below overflow: no warning, no nan at |x| = 1000
    e = np.exp(np.minimum(-x, 80.0 if x.dtype.itemsize <= 4 else 700.0))
    e += 1
    return 1 / e


class Sigmoid(Primitive):
    deeplift = "rescale"

    def forward(self, x):
        out = _sigmoid(x)
        self.saved = (out,)
        return out

    def backward(self, g):
        (s,) = self.saved
        gs = g * s
        return gs - gs * s  # g s (1 - s), with no Python number (NumPy is slow to mix those in)


class Tanh(Primitive):
    deeplift = "rescale"

    def forward(self, x):
        out = np.tanh(x)
        self.saved = (out,)
        return out

    def backward(self, g):
        (t,) = self.saved
        return g - g * t * t  # g (1 - t^2), with no Python number (NumPy is slow to mix those in)


class ReLU(Primitive):
    deeplift = "rescale"

    def forward(self, x):
        out = np.maximum(x, 0)
        self.saved = (out,)
        return out

    def backward(self, g):
        # from the saved output: out > 0 exactly where x > 0 (gradient 0 at x = 0, as PyTorch); the mask
        # is cast inside the multiply's loop (faster than NumPy's default mixed-type float * bool)
        return np.multiply(g, self.saved[0] > 0, dtype=g.dtype)


class LeakyReLU(Primitive):
    deeplift = "rescale"

    def forward(self, x, negative_slope=0.01):
        self.slope = negative_slope
        pos = x > 0
        self.saved = (pos,)
        return array_module(x).where(pos, x, x * negative_slope)

    def backward(self, g):
        return array_module(g).where(self.saved[0], g, g * self.slope)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GELU(Primitive):
    deeplift = "rescale"

    def forward(self, x, approximate="none"):
        self.approximate = approximate
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
            self.saved = (x, t)
            return 0.5 * x * (1 + t)
        if approximate != "none":
            raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        cdf = 0.5 * (1 + erf(x * (1 / math.sqrt(2.0))))
        self.saved = (x, cdf)
        return x * cdf

    def backward(self, g):
        x, v = self.saved
        if self.approximate == "tanh":
            dinner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return g * (0.5 * (1 + v) + 0.5 * x * (1 - v * v) * dinner)
        return g * (v + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x))


class Softplus(Primitive):
    deeplift = "rescale"

    def forward(self, x, beta=1.0, threshold=20.0):
        # log(1 + e^(beta x)) / beta, and x itself above the threshold (as torch.nn.functional.softplus)
        bx = x * beta
        lin = bx > threshold
        self.saved = (bx, lin)
        return array_module(x).where(lin, x, np.logaddexp(0, bx) / beta)

    def backward(self, g):
        bx, lin = self.saved
        return array_module(g).where(lin, g, g * _sigmoid(bx))


class ELU(Primitive):
    deeplift = "rescale"

    def forward(self, x, alpha=1.0):
        self.alpha = alpha
        pos = x > 0
        em1 = np.expm1(np.minimum(x, 0))
        self.saved = (pos, em1)
        return array_module(x).where(pos, x, alpha * em1)

    def backward(self, g):
        pos, em1 = self.saved
        return array_module(g).where(pos, g, g * (self.alpha * (em1 + 1)))


class SiLU(Primitive):
    """x * sigmoid(x)."""

    deeplift = "rescale"

    def forward(self, x):
        s = _sigmoid(x)
        self.saved = (x, s)
        return x * s

    def backward(self, g):
        x, s = self.saved
        return g * (s + x * s * (1 - s))


class Step(Primitive):
    """Binary step: 1 where x >= 0, else 0. Its derivative is 0 wherever it exists (not at 0)."""

    deeplift = "rescale"

    def forward(self, x):
        return (x >= 0).astype(x.dtype)

    def backward(self, g):
        return array_module(g).zeros_like(g)
