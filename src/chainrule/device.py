"""Devices, as PyTorch names them: ``cr.device("cpu")``, ``cr.device("cuda:0")``.

chainrule computes on NumPy arrays (the CPU) or on CuPy arrays (a CUDA GPU). ``device("cuda")`` can
always be written down; using it (``x.to("cuda")``, ``cr.zeros(3, device="cuda")``) needs CuPy and a GPU,
and without them is a ``DeviceError`` naming what is missing.
"""

import numpy as np

from .errors import ArgumentError, DeviceError

_TYPES = ("cpu", "cuda")


class device:  # noqa: N801 - PyTorch's name
    """Where a tensor's data lies: ``device("cpu")``, ``device("cuda")``, ``device("cuda", 1)`` or ``"cuda:1"``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 - PyTorch's argument name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise ArgumentError(f"device: expected a string such as 'cpu' or 'cuda:0', got {type!r}")
        name, _, number = type.partition(":")
        if number:
            if index is not None or not number.isdigit():
                raise ArgumentError(f"device: invalid device string {type!r}; use e.g. 'cpu', 'cuda' or 'cuda:0'")
            index = int(number)
        if name not in _TYPES:
            raise ArgumentError(f"device: unknown device type {name!r}; chainrule runs on {' or '.join(_TYPES)}")
        self.type, self.index = name, index

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except ArgumentError:
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        return f"device(type={self.type!r}" + ("" if self.index is None else f", index={self.index}") + ")"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")
_default = CPU
_cupy_state = []  # [cupy module or None, why not]: looked up once


def _cupy():
    """(cupy, None) when CuPy and a GPU are usable, else (None, the reason)."""
    if not _cupy_state:
        try:
            import cupy

            count = cupy.cuda.runtime.getDeviceCount()
            _cupy_state[:] = [cupy, None] if count > 0 else [None, "CuPy found no CUDA GPU"]
        except ImportError:
            _cupy_state[:] = [None, "CuPy is not installed (pip install 'chainrule[cuda]' on a machine with a GPU)"]
        except Exception as e:  # CuPy present, driver or runtime missing: cupy raises its own error types
            _cupy_state[:] = [None, f"CuPy cannot reach a GPU ({type(e).__name__}: {e})"]
    return tuple(_cupy_state)


def cuda_available():
    """True when CuPy and a CUDA GPU are usable."""
    return _cupy()[0] is not None


def as_device(d):
    """``d`` (a device, a string, an int GPU index or None for the default) as a device."""
    if d is None:
        return _default
    if isinstance(d, int) and not isinstance(d, bool):
        return device("cuda", d)
    return d if isinstance(d, device) else device(d)


def _usable(d):
    if d.type == "cuda":
        cupy, why = _cupy()
        if cupy is None:
            raise DeviceError(f"device {str(d)!r} was asked for, but {why}; use 'cpu'")
        return cupy
    return np


def set_default_device(d):
    """Make ``d`` where creation functions put new tensors when no ``device=`` is given."""
    global _default
    d = as_device(d)
    _usable(d)
    _default = d


def get_default_device():
    return _default


def of_array(a):
    """The device of array ``a``."""
    if isinstance(a, np.ndarray):
        return CPU
    dev = getattr(a, "device", None)
    return device("cuda", getattr(dev, "id", 0))


def to_host(a):
    """A NumPy copy of a CuPy array ``a``."""
    return a.get()


def place(array, d=None):
    """``array`` (made in host memory) on device ``d`` (None: the default device)."""
    d = as_device(d)
    if d.type == "cpu":
        return array
    cupy = _usable(d)
    with cupy.cuda.Device(d.index or 0):
        return cupy.asarray(array)


def move(t, d):
    """Tensor ``t`` on device ``d``: itself when it is there already, else a copy (cut off from the graph)."""
    d = as_device(d)
    xp = _usable(d)
    a = t._data
    if d.type == "cpu":
        if isinstance(a, np.ndarray):
            return t
        out = type(t)._wrap(to_host(a))
    else:
        if not isinstance(a, np.ndarray) and (d.index is None or of_array(a).index == d.index):
            return t
        with xp.cuda.Device(d.index or 0):
            out = type(t)._wrap(xp.asarray(a if isinstance(a, np.ndarray) else to_host(a)))
    if t.requires_grad and t.is_leaf:
        out.requires_grad = True
    return out
