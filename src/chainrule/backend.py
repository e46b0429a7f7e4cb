"""The array backend: NumPy on the CPU, CuPy on a GPU when one is used.

Ops take the array module from their inputs (``xp = array_module(a)``) instead of
assuming NumPy, so the same derivative rules run on both. NumPy ufuncs dispatch to
CuPy arrays through ``__array_ufunc__``, so plain ``np.exp(a)`` works on both too.
"""

import numpy as np


def array_module(a):
    """Return the array module (``numpy`` or ``cupy``) that owns array ``a``."""
    if isinstance(a, np.ndarray | np.generic):
        return np
    mod = type(a).__module__.split(".")[0]
    if mod == "cupy":
        import cupy

        return cupy
    return np
