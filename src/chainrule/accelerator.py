"""``cr.accelerator``: the accelerator chainrule can use, as ``torch.accelerator`` answers it.

The one accelerator chainrule knows is a CUDA GPU through CuPy.
"""

from . import cuda as _cuda
from . import device as _device


def is_available():
    """True when an accelerator (CuPy and a CUDA GPU) is usable."""
    return _device.cuda_available()


def current_accelerator(check_available=False):
    """``device("cuda")`` when a GPU is usable, else None."""
    return _device.device("cuda") if _device.cuda_available() else None


def device_count():
    """The number of accelerators (CUDA GPUs) usable."""
    return _cuda.device_count()


__all__ = ["current_accelerator", "device_count", "is_available"]
