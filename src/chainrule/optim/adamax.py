"""``Adamax``: Adam with the infinity norm of past gradients in place of their root mean square."""

import numpy as np

from ..backend import aligned_like
from ..errors import ArgumentError
from ..registry import register
from .optimizer import Optimizer, lerp_


@register("adamax", kind="optimizer")
class Adamax(Optimizer):
    """Adamax, exactly as ``torch.optim.Adamax``::

        exp_avg = beta1 * exp_avg + (1 - beta1) * g
        exp_inf = max(beta2 * exp_inf, |g| + eps)
        p -= lr / (1 - beta1 ** step) * exp_avg / exp_inf

    ``weight_decay`` adds ``weight_decay * p`` to the gradient first; ``maximize`` ascends.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *, maximize=False):
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise ArgumentError(f"{type(self).__name__}: betas must be a pair (beta1, beta2), got {betas!r:.60}")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, o, where):
        super()._check_options(o, where)
        self._require(o, where, "eps", lambda v: v >= 0, "it must be >= 0")
        self._require(o, where, "weight_decay", lambda v: v >= 0, "it must be >= 0")
        rule = "each beta must be in [0, 1)"
        self._require(o, where, "betas", lambda b: len(b) == 2 and all(0 <= x < 1 for x in b), rule)

    def update(self, p, g, state, o):
        lr, (beta1, beta2), eps, wd = o["lr"], o["betas"], o["eps"], o["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = aligned_like(p, 0)
            state["exp_inf"] = aligned_like(p, 0)
        if o["maximize"]:
            g = -g
        state["step"] = step = state["step"] + 1
        if wd != 0:
            g = g + wd * p
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        lerp_(exp_avg, g, 1 - beta1)
        exp_inf *= beta2
        norm = np.abs(g)
        norm += eps
        np.maximum(exp_inf, norm, out=exp_inf)
        clr = lr / (1 - beta1**step)
        update = np.multiply(exp_avg, -clr, out=norm)
        update /= exp_inf
        p += update
