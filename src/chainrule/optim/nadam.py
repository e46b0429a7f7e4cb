"""``NAdam``: Adam with Nesterov momentum, whose momentum coefficient warms up over the steps."""

import numpy as np

from ..backend import aligned_like
from ..errors import ArgumentError
from ..registry import register
from ..tensor import Tensor
from .optimizer import Optimizer, lerp_


def _number(value):
    """A one-element array or Tensor (as torch's state dicts hold ``mu_product``) as a Python float."""
    raw = value._data if isinstance(value, Tensor) else value
    if isinstance(raw, np.ndarray | np.generic) and raw.size == 1 and raw.dtype.kind in "iuf":
        return float(raw.item())
    return value


@register("nadam", kind="optimizer")
class NAdam(Optimizer):
    """NAdam (Dozat, 2016), exactly as ``torch.optim.NAdam``.

    At step ``t`` the momentum coefficient is ``mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))``
    and ``mu_product`` the product of all of them so far; with Adam's moments ``exp_avg`` and
    ``exp_avg_sq`` and ``denom = sqrt(exp_avg_sq / (1 - beta2 ** t)) + eps``::

        p -= lr * (1 - mu_t) / (1 - mu_product) * g / denom
        p -= lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * exp_avg / denom

    ``weight_decay`` adds ``weight_decay * p`` to the gradient, or with ``decoupled_weight_decay``
    multiplies ``p`` by ``1 - lr * weight_decay`` (as AdamW); ``maximize`` ascends.
    """

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        momentum_decay=4e-3,
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
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_options(self, o, where):
        super()._check_options(o, where)
        for key in ("eps", "weight_decay", "momentum_decay"):
            self._require(o, where, key, lambda v: v >= 0, "it must be >= 0")
        rule = "each beta must be in [0, 1)"
        self._require(o, where, "betas", lambda b: len(b) == 2 and all(0 <= x < 1 for x in b), rule)

    def update(self, p, g, state, o):
        lr, (beta1, beta2), eps, wd = o["lr"], o["betas"], o["eps"], o["weight_decay"]
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = aligned_like(p, 0)
            state["exp_avg_sq"] = aligned_like(p, 0)
        if o["maximize"]:
            g = -g
        state["step"] = step = state["step"] + 1
        bias_correction2 = 1 - beta2**step
        if wd != 0:
            if o["decoupled_weight_decay"]:
                p *= 1 - lr * wd
            else:
                g = g + wd * p
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * o["momentum_decay"]))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * o["momentum_decay"]))
        # PyTorch keeps the product in a float32 scalar (its default dtype) whatever the parameters' dtype
        state["mu_product"] = mu_product = float(np.float32(state["mu_product"]) * np.float32(mu))
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        lerp_(exp_avg, g, 1 - beta1)
        exp_avg_sq *= beta2
        sq = g * (1 - beta2)
        sq *= g
        exp_avg_sq += sq
        denom = np.divide(exp_avg_sq, bias_correction2, out=sq)
        np.sqrt(denom, out=denom)
        denom += eps
        update = g * (-lr * (1.0 - mu) / (1.0 - mu_product))
        update /= denom
        p += update
        update = np.multiply(exp_avg, -lr * mu_next / (1.0 - mu_product * mu_next), out=update)
        update /= denom
        p += update

    def load_state_dict(self, state_dict):
        """Load a state dict from ``state_dict()`` (or PyTorch's, its tensors as arrays: a one-element
        ``mu_product`` array becomes a number)."""
        if isinstance(state_dict, dict) and isinstance(state_dict.get("state"), dict):
            state = {}
            for key, s in state_dict["state"].items():
                if isinstance(s, dict) and "mu_product" in s:
                    s = {**s, "mu_product": _number(s["mu_product"])}
                state[key] = s
            state_dict = {**state_dict, "state": state}
        super().load_state_dict(state_dict)
