"""Activations as modules: each applies its function from ``chainrule.functional``."""

from .. import functional as F
from ..errors import ArgumentError
from ..registry import register
from .module import Module

__all__ = ["ELU", "GELU", "LeakyReLU", "LogSoftmax", "ReLU", "SiLU", "Sigmoid", "Softmax", "Softplus", "Step", "Tanh"]


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
class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


@register("leaky_relu")
class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)


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
class ELU(Module):
    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return F.elu(x, self.alpha)


@register("silu")
class SiLU(Module):
    def forward(self, x):
        return F.silu(x)
