"""``Parameter``: a Tensor that a Module learns."""

import numpy as np

from ..backend import memory_order, parameter_array
from ..tensor import Tensor, _to_array


class Parameter(Tensor):
    """A leaf Tensor registered by a Module when assigned to one of its attributes.

    ``Parameter(data, requires_grad=True)``: ``data`` is a Tensor (its array is shared,
    as in PyTorch) or anything ``cr.tensor`` accepts (copied; float64 becomes float32).
    ``Parameter.empty(shape)`` makes one with uninitialised values, as layers do before
    their initialiser fills them. Either way a parameter's own memory comes from
    ``backend.parameter_array``, the one place where its layout is decided.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = parameter_array(0)
        elif not isinstance(data, Tensor):
            a = _to_array(data)
            data = parameter_array(a.shape, a.dtype, order=memory_order(a))  # in the order of a
            data[...] = a
        self._data = data._data if isinstance(data, Tensor) else data
        self._grad = None
        self._ctx = None
        self._vc = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def empty(cls, shape, dtype=np.float32, *, matmul_weight=False, requires_grad=True):
        """A parameter of ``shape`` with uninitialised values; ``matmul_weight=True`` for a weight (out, in) that
        its layer applies as ``x @ W.T`` (nn.Linear's: stored column-major, see ``backend.parameter_array``)."""
        return cls(Tensor._wrap(parameter_array(shape, dtype, matmul_weight=matmul_weight)), requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
