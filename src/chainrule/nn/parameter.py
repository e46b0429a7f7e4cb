"""``Parameter``: a Tensor that a Module learns."""

import numpy as np

from ..tensor import Tensor, _to_array


class Parameter(Tensor):
    """A leaf Tensor registered by a Module when assigned to one of its attributes.

    ``Parameter(data, requires_grad=True)``: ``data`` is a Tensor (its array is shared,
    as in PyTorch) or anything ``cr.tensor`` accepts (copied; float64 becomes float32).
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        self.data = data.data if isinstance(data, Tensor) else _to_array(data)
        self.grad = None
        self._ctx = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
