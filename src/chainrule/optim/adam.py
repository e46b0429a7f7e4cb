"""``Adam`` and ``AdamW``: adaptive moment estimation, with L2 or decoupled weight decay."""

import numpy as np

from ..backend import aligned_like
from ..errors import ArgumentError
from ..registry import register
from .optimizer import Optimizer, lerp_


@register("adam", kind="optimizer")
class Adam(Optimizer):
    """Adam, exactly as ``torch.optim.Adam`` (bias-corrected moments; ``amsgrad`` keeps the running
    maximum of the second moment; ``decoupled_weight_decay=True`` is AdamW)."""

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        maximize=False,
        decoupled_weight_decay=False,
    ):
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise ArgumentError(f"{type(self).__name__}: betas must be a pair (beta1, beta2), got {betas!r}")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
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
        if o["amsgrad"] and "max_exp_avg_sq" not in state:  # also when amsgrad is switched on later
            state["max_exp_avg_sq"] = aligned_like(p, 0)
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
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        step_size = lr / bias_correction1
        if o["amsgrad"]:
            second = np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
        else:
            second = exp_avg_sq
        denom = np.sqrt(second, out=sq)
        denom /= bias_correction2_sqrt
        denom += eps
        update = exp_avg * -step_size
        update /= denom
        p += update


@register("adamw", kind="optimizer")
class AdamW(Adam):
    """Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` before the Adam step), as
    ``torch.optim.AdamW``."""

    def __init__(
        self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)
