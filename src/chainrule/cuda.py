"""``cr.cuda``: whether a CUDA GPU is usable (through CuPy), as ``torch.cuda`` answers it."""

from . import device as _device


def is_available():
    """True when CuPy and a CUDA GPU are usable."""
    return _device.cuda_available()


def device_count():
    """The number of CUDA GPUs CuPy sees (0 without CuPy)."""
    cupy = _device._cupy()[0]
    return 0 if cupy is None else int(cupy.cuda.runtime.getDeviceCount())


def manual_seed(seed):
    """Accepted for PyTorch scripts: chainrule has one generator for every device (``cr.manual_seed``)."""


manual_seed_all = manual_seed

__all__ = ["device_count", "is_available", "manual_seed", "manual_seed_all"]
