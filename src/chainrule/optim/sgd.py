"""``SGD``: stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay."""

from ..backend import aligned_like
from ..errors import ArgumentError
from ..registry import register
from .optimizer import Optimizer


@register("sgd", kind="optimizer")
class SGD(Optimizer):
    """Stochastic gradient descent, exactly as ``torch.optim.SGD``.

    With momentum the buffer starts as the first gradient, then
    ``buf = momentum * buf + (1 - dampening) * g``; Nesterov steps along ``g + momentum * buf``.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_options(self, o, where):
        super()._check_options(o, where)
        self._require(o, where, "momentum", lambda v: v >= 0, "it must be >= 0")
        self._require(o, where, "weight_decay", lambda v: v >= 0, "it must be >= 0")
        if o.get("nesterov") and (o.get("momentum", 0) <= 0 or o.get("dampening", 0) != 0):
            raise ArgumentError(f"{type(self).__name__}: Nesterov momentum{where} needs momentum > 0 and dampening = 0")

    def update(self, p, g, state, o):
        if o["maximize"]:
            g = -g
        if o["weight_decay"] != 0:
            g = g + o["weight_decay"] * p
        momentum = o["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = aligned_like(p, g)  # in the parameter's memory order
            else:
                buf *= momentum
                buf += g if o["dampening"] == 0 else (1 - o["dampening"]) * g
            g = g + momentum * buf if o["nesterov"] else buf
        p -= o["lr"] * g
