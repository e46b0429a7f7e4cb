"""Activations as modules: each applies its function from ``chainrule.functional``."""

from .. import functional as F
from ..errors import ArgumentError, ArgumentTypeError
from ..functional import vision as V
from ..registry import register
from ..tensor import Tensor
from . import init as _init  # as _init: PReLU's argument and attribute ``init`` are torch's
from .module import Module
from .parameter import Parameter

__all__ = [
    "ELU",
    "GELU",
    "Hardtanh",
    "LeakyReLU",
    "LogSoftmax",
    "Mish",
    "PReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Step",
    "Tanh",
]


class _InplaceActivation(Module):
    """An activation with torch's ``inplace`` flag: with ``inplace=True`` the forward writes its result into
    the input tensor and returns it (refused, as in torch, on a leaf that requires grad while gradients are
    recorded). As torch's repr, the flag shows in ``get_config()`` and the repr only when it is set."""

    def get_config(self):
        config = super().get_config()
        if not config.get("inplace"):
            config.pop("inplace", None)
        return config

    def _write(self, x, op, fn):
        """``fn(x)`` written into ``x`` in place (``op`` names it in errors)."""
        if not isinstance(x, Tensor):
            raise ArgumentTypeError(f"{type(self).__name__}(inplace=True) needs a Tensor to write into, "
                                    f"got {type(x).__name__}")
        return x._update(op, fn)


@register("step")
class Step(Module):
    """Binary step: 1 where x >= 0, else 0 (the perceptron's activation; its gradient is 0)."""

    def forward(self, x):
        return F.step(x)


@register("sigmoid")
class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


@register("tanh")
class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


@register("relu")
class ReLU(_InplaceActivation):
    """max(x, 0) (as torch.nn.ReLU; ``inplace=True`` writes into the input)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x, inplace=self.inplace)


@register("leaky_relu")
class LeakyReLU(_InplaceActivation):
    """x where x > 0, else negative_slope * x (as torch.nn.LeakyReLU; ``inplace=True`` writes into the input)."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, inplace=self.inplace)


@register("gelu")
class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ArgumentError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)


@register("softplus")
class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)


@register("softmax")
class Softmax(Module):
    """Softmax over ``dim`` (the last axis by default)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, axis=self.dim)


@register("log_softmax")
class LogSoftmax(Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, axis=self.dim)


@register("elu")
class ELU(_InplaceActivation):
    """x where x > 0, else alpha (exp(x) - 1) (as torch.nn.ELU; ``inplace=True`` writes into the input)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x):
        return F.elu(x, self.alpha, inplace=self.inplace)


@register("silu")
class SiLU(_InplaceActivation):
    """x * sigmoid(x) (as torch.nn.SiLU; ``inplace=True`` writes into the input)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.silu(x, inplace=self.inplace)


@register("prelu")
class PReLU(Module):
    """x where x > 0, else a * x, with ``a`` learned: one parameter (``num_parameters=1``) or one per channel
    (axis 1). ``weight`` has shape (num_parameters,), filled with ``init`` (as torch.nn.PReLU)."""

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        if not isinstance(num_parameters, int) or isinstance(num_parameters, bool) or num_parameters < 1:
            raise ArgumentError(f"PReLU: num_parameters must be a positive int, got {num_parameters!r}")
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter.empty(num_parameters)
        self.reset_parameters()

    def reset_parameters(self):
        _init.constant_(self.weight, self.init)

    def forward(self, x):
        return V._prelu(x, self.weight, f"PReLU(num_parameters={self.num_parameters})")


@register("hardtanh")
class Hardtanh(_InplaceActivation):
    """x clipped to [min_val, max_val] (as torch.nn.Hardtanh; ``inplace=True`` writes into the input)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if not max_val > min_val:
            raise ArgumentError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, x):
        if self.inplace:
            return self._write(x, "hardtanh_", lambda s: F.hardtanh(s, self.min_val, self.max_val))
        return F.hardtanh(x, self.min_val, self.max_val)


@register("relu6")
class ReLU6(_InplaceActivation):
    """min(max(x, 0), 6) (as torch.nn.ReLU6; ``inplace=True`` writes into the input)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        if self.inplace:
            return self._write(x, "relu6_", F.relu6)
        return F.relu6(x)


@register("mish")
class Mish(_InplaceActivation):
    """x * tanh(softplus(x)) (as torch.nn.Mish; ``inplace=True`` writes into the input)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        if self.inplace:
            return self._write(x, "mish_", F.mish)
        return F.mish(x)
