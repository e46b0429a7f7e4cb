"""``Adagrad``: per-coordinate learning rates from the sum of all past squared gradients."""

import numpy as np

from ..backend import aligned_like
from ..registry import register
from .optimizer import Optimizer


@register("adagrad", kind="optimizer")
class Adagrad(Optimizer):
    """Adagrad, exactly as ``torch.optim.Adagrad``: ``sum += g*g``;
    ``p -= lr / (1 + (step - 1) * lr_decay) * g / (sqrt(sum) + eps)``."""

    def __init__(
        self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *, maximize=False
    ):
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:  # as PyTorch, the state exists from the start
            for p in group["params"]:
                self._init_state(p._data, self.state[p], group)

    def _check_options(self, o, where):
        super()._check_options(o, where)
        for key in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            self._require(o, where, key, lambda v: v >= 0, "it must be >= 0")

    @staticmethod
    def _init_state(p, state, o):
        if not state:
            state["step"] = 0
            state["sum"] = aligned_like(p, o["initial_accumulator_value"])

    def update(self, p, g, state, o):
        self._init_state(p, state, o)
        if o["maximize"]:
            g = -g
        state["step"] = step = state["step"] + 1
        if o["weight_decay"] != 0:
            g = g + o["weight_decay"] * p
        clr = o["lr"] / (1 + (step - 1) * o["lr_decay"])
        state_sum = state["sum"]
        sq = g * g
        state_sum += sq
        std = np.sqrt(state_sum, out=sq)
        std += o["eps"]
        update = g * -clr
        update /= std
        p += update
