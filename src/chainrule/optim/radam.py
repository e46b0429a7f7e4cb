"""``RAdam``: Adam whose adaptive step is rectified while the second moment's estimate is still unreliable."""

import numpy as np

from ..backend import aligned_like
from ..errors import ArgumentError
from ..registry import register
from .optimizer import Optimizer, lerp_


@register("radam", kind="optimizer")
class RAdam(Optimizer):
    """RAdam (Liu et al., 2019), exactly as ``torch.optim.RAdam``.

    With Adam's moments, ``rho_inf = 2 / (1 - beta2) - 1`` and
    ``rho_t = rho_inf - 2 t beta2 ** t / (1 - beta2 ** t)``: while ``rho_t <= 5`` the step is
    momentum SGD, ``p -= lr * exp_avg / (1 - beta1 ** t)``; afterwards it is Adam's step times the
    rectification ``sqrt((rho_t - 4) (rho_t - 2) rho_inf / ((rho_inf - 4) (rho_inf - 2) rho_t))``.

    ``weight_decay`` adds ``weight_decay * p`` to the gradient, or with ``decoupled_weight_decay``
    multiplies ``p`` by ``1 - lr * weight_decay`` (as AdamW); ``maximize`` ascends.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        decoupled_weight_decay=False,
        *,
        maximize=False,
    ):
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise ArgumentError(f"{type(self).__name__}: betas must be a pair (beta1, beta2), got {betas!r:.60}")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
        }
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
            state["exp_avg_sq"] = aligned_like(p, 0)
        if o["maximize"]:
            g = -g
        state["step"] = step = state["step"] + 1
        if wd != 0:
            if o["decoupled_weight_decay"]:
                p *= 1 - lr * wd
            else:
                g = g + wd * p
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        lerp_(exp_avg, g, 1 - beta1)
        exp_avg_sq *= beta2
        sq = g * (1 - beta2)
        sq *= g
        exp_avg_sq += sq
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        update = exp_avg / bias_correction1
        update *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            adaptive = np.sqrt(exp_avg_sq, out=sq)
            adaptive += eps
            np.divide(bias_correction2**0.5, adaptive, out=adaptive)
            update *= adaptive
            update *= ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        p -= update
