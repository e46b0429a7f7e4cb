"""Linear, Identity, Flatten, Dropout, Dropout2d."""

import math

from .. import functional as F
from ..errors import ArgumentError
from ..random import rng
from ..registry import register
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Dropout", "Dropout2d", "Flatten", "Identity", "Linear"]


@register("linear")
class Linear(Module):
    """A layer of neurons: ``y = x W^T + b``, with W of shape (out_features, in_features).

    Initialised as PyTorch: W and b uniform in +-1/sqrt(in_features). W is stored column-major
    (``weight._data.T`` is C-contiguous, see ``backend.parameter_array``), which makes training faster
    with OpenBLAS; its values, shape, state dict and files are PyTorch's.
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        # the weight is applied as x @ W.T: backend.parameter_array decides its layout (column-major, see there)
        self.weight = Parameter.empty((out_features, in_features), matmul_weight=True)
        self.register_parameter("bias", Parameter.empty(out_features) if bias else None)
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


@register("identity")
class Identity(Module):
    def forward(self, x):
        return x


@register("flatten")
class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` (by default all but the batch axis)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)


@register("dropout")
class Dropout(Module):
    """Zero each element with probability ``p`` while training (scaling the rest by 1 / (1 - p)); identity in
    eval mode (as torch.nn.Dropout; ``inplace=True`` writes into the input tensor and returns it).

    With ``seed`` (a chainrule extension) the layer draws its masks from its own generator, else from
    chainrule's default one; it shows in ``get_config()`` and the repr only when given, so the repr is torch's.
    """

    def __init__(self, p=0.5, inplace=False, seed=None):
        super().__init__()
        if not (isinstance(p, int | float) and 0.0 <= p <= 1.0):
            raise ArgumentError(f"Dropout: p must be a probability between 0 and 1, got {p!r}")
        self.p = p
        self.inplace = inplace
        self.seed = seed
        self._generator = rng(seed) if seed is not None else None

    def get_config(self):
        config = super().get_config()
        if config.get("seed") is None:
            config.pop("seed", None)
        return config

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace, generator=self._generator)


@register("dropout2d")
class Dropout2d(Module):
    """Zero whole channels while training: each (sample, channel) map is zeroed with probability ``p`` and the
    others scaled by 1 / (1 - p); identity in eval mode (as torch.nn.Dropout2d, which takes a 3-D input as
    (N, C, L): see ``functional.dropout2d``).

    ``inplace=True`` is accepted and gives the same values, as a new tensor. With ``seed`` the layer draws
    its masks from its own generator, else from chainrule's default one.
    """

    def __init__(self, p=0.5, inplace=False, seed=None):
        super().__init__()
        if not (isinstance(p, int | float) and not isinstance(p, bool) and 0.0 <= p <= 1.0):
            raise ArgumentError(f"Dropout2d: p must be a probability between 0 and 1, got {p!r}")
        self.p = p
        self.inplace = inplace
        self.seed = seed
        self._generator = rng(seed) if seed is not None else None

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training, generator=self._generator)
