"""``Adadelta``: steps scaled by the ratio of running root mean squares of past steps and of gradients."""

import numpy as np

from ..backend import aligned_like
from ..registry import register
from .optimizer import Optimizer


@register("adadelta", kind="optimizer")
class Adadelta(Optimizer):
    """Adadelta, exactly as ``torch.optim.Adadelta``::

        square_avg = rho * square_avg + (1 - rho) * g * g
        delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta * delta
        p -= lr * delta

    ``weight_decay`` adds ``weight_decay * p`` to the gradient first; ``maximize`` ascends.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, o, where):
        super()._check_options(o, where)
        self._require(o, where, "rho", lambda v: 0 <= v <= 1, "it must be in [0, 1]")
        self._require(o, where, "eps", lambda v: v >= 0, "it must be >= 0")
        self._require(o, where, "weight_decay", lambda v: v >= 0, "it must be >= 0")

    def update(self, p, g, state, o):
        lr, rho, eps, wd = o["lr"], o["rho"], o["eps"], o["weight_decay"]
        if not state:
            state["step"] = 0
            state["square_avg"] = aligned_like(p, 0)
            state["acc_delta"] = aligned_like(p, 0)
        if o["maximize"]:
            g = -g
        state["step"] += 1
        if wd != 0:
            g = g + wd * p
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        buf = g * (1 - rho)
        buf *= g
        square_avg += buf
        std = np.add(square_avg, eps, out=buf)
        np.sqrt(std, out=std)
        delta = acc_delta + eps
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        acc_delta *= rho
        sq = np.multiply(delta, 1 - rho, out=buf)
        sq *= delta
        acc_delta += sq
        delta *= -lr
        p += delta
