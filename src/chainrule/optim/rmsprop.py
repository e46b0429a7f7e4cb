"""``RMSprop``: divide the gradient by a running root mean square of recent gradients."""

import numpy as np

from ..backend import aligned_like
from ..registry import register
from .optimizer import Optimizer, lerp_


@register("rmsprop", kind="optimizer")
class RMSprop(Optimizer):
    """RMSprop, exactly as ``torch.optim.RMSprop`` (``centered`` subtracts the squared running mean of
    the gradient; ``momentum`` accumulates the normalised steps)."""

    def __init__(
        self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *, maximize=False
    ):
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_options(self, o, where):
        super()._check_options(o, where)
        for key in ("eps", "momentum", "weight_decay", "alpha"):
            self._require(o, where, key, lambda v: v >= 0, "it must be >= 0")

    def update(self, p, g, state, o):
        lr, alpha, eps, wd, momentum = o["lr"], o["alpha"], o["eps"], o["weight_decay"], o["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = aligned_like(p, 0)
        # created on first use, also when momentum or centered is switched on later
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = aligned_like(p, 0)
        if o["centered"] and "grad_avg" not in state:
            state["grad_avg"] = aligned_like(p, 0)
        if o["maximize"]:
            g = -g
        state["step"] += 1
        if wd != 0:
            g = g + wd * p
        square_avg = state["square_avg"]
        square_avg *= alpha
        sq = g * (1 - alpha)
        sq *= g
        square_avg += sq
        if o["centered"]:
            grad_avg = state["grad_avg"]
            lerp_(grad_avg, g, 1 - alpha)
            avg = np.multiply(grad_avg, grad_avg, out=sq)
            np.subtract(square_avg, avg, out=avg)
            np.sqrt(avg, out=avg)
        else:
            avg = np.sqrt(square_avg, out=sq)
        avg += eps
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += g / avg
            p -= lr * buf
        else:
            update = g * -lr
            update /= avg
            p += update
