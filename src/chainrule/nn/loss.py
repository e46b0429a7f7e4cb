"""Losses as modules: each stores its arguments and applies its function from ``chainrule.functional``.

Arguments, their order and defaults follow ``torch.nn`` (without the deprecated ``size_average`` and
``reduce``). Class weights and ``pos_weight`` are buffers, so they are in the state dict under the
names PyTorch uses; ``get_config()`` gives them as lists (or None).

Every loss declares what it expects, so that ``Trainer`` (and anything else that prepares targets or
reads outputs) never has to recognise a loss by its name:

``target_kind``
    ``"class_index"``: one integer class per sample, shape (N,) or (N, d1, ...) for input (N, C, ...)
    (``CrossEntropyLoss`` also takes class probabilities of the input's shape); ``"probability"``: a
    target in [0, 1] of the input's shape (binary or multi-label); ``"value"``: a number of the
    input's shape (regression).
``input_kind``
    what the model's output fed to the loss holds: ``"logits"``, ``"probability"``,
    ``"log_probability"`` or ``"value"``.

A loss of your own declares them as class attributes (or, for a function, as attributes of it);
``Trainer`` treats a loss without them as a regression loss on values (see ``Trainer``).
"""

import numpy as np

from ..errors import ArgumentError
from ..functional import loss as FL
from ..registry import register
from ..tensor import Tensor
from .module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "SmoothL1Loss",
]


def _buffer(value):
    """A weight argument as a floating tensor (lists and integer arrays become float32), or None."""
    if value is None:
        return None
    t = value if isinstance(value, Tensor) else Tensor(value)
    return t if t.dtype.kind == "f" else t.astype(np.float32)


class _Loss(Module):
    """Base of the loss modules: checks ``reduction`` when built; buffers named as arguments go into the
    config as lists. Each subclass sets ``target_kind`` and ``input_kind`` (see the module's docstring)."""

    def __init__(self, reduction="mean"):
        super().__init__()
        FL._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def get_config(self):
        config = super().get_config()
        for k, b in self._buffers.items():
            if k in config:
                config[k] = None if b is None else b._data.tolist()
        return config


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))


@register("mse")
class MSELoss(_Loss):
    """Mean squared error: ``(input - target) ** 2``, reduced."""

    target_kind = "value"
    input_kind = "value"

    def forward(self, input, target):
        return FL.mse_loss(input, target, reduction=self.reduction)


@register("l1")
class L1Loss(_Loss):
    """Mean absolute error: ``|input - target|``, reduced."""

    target_kind = "value"
    input_kind = "value"

    def forward(self, input, target):
        return FL.l1_loss(input, target, reduction=self.reduction)


@register("huber")
class HuberLoss(_Loss):
    """Squared error below ``delta``, absolute error (times ``delta``) above it."""

    target_kind = "value"
    input_kind = "value"

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return FL.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


@register("bce")
class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities (use BCEWithLogitsLoss on logits: it is stabler)."""

    target_kind = "probability"
    input_kind = "probability"

    def forward(self, input, target):
        return FL.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


@register("bce_with_logits")
class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy on logits; ``pos_weight`` weighs the positive term (one value per class)."""

    target_kind = "probability"
    input_kind = "logits"

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input, target):
        return FL.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


@register("cross_entropy")
class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits against class indices or class probabilities (see F.cross_entropy)."""

    target_kind = "class_index"
    input_kind = "logits"

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        FL._check_label_smoothing(type(self).__name__, label_smoothing)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return FL.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


@register("nll")
class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities at class indices (LogSoftmax + NLLLoss = CrossEntropyLoss)."""

    target_kind = "class_index"
    input_kind = "log_probability"

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return FL.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


@register("smooth_l1")
class SmoothL1Loss(_Loss):
    """Squared error (divided by ``beta``) below ``beta``, absolute error above it (see F.smooth_l1_loss)."""

    target_kind = "value"
    input_kind = "value"

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        if isinstance(beta, bool) or not isinstance(beta, int | float | np.number) or not beta >= 0:
            raise ArgumentError(f"SmoothL1Loss: beta must be a number >= 0, got {beta!r:.60}")
        self.beta = beta

    def forward(self, input, target):
        return FL.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


@register("kl_div")
class KLDivLoss(Module):
    """Kullback-Leibler divergence of the target from the input's distribution; the input holds
    log-probabilities, the target probabilities (or log-probabilities with ``log_target``).
    ``reduction='batchmean'`` gives the divergence of the math (see F.kl_div)."""

    target_kind = "probability"
    input_kind = "log_probability"

    def __init__(self, reduction="mean", log_target=False):
        super().__init__()
        if not isinstance(reduction, str) or reduction not in FL._KL_REDUCTIONS:
            raise ArgumentError(
                f"KLDivLoss: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r:.60}"
            )
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input, target):
        return FL.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
