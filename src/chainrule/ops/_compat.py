"""The NumPy-only calls of the ops, each with its counterpart for another array module (CuPy).

Everything else in ``chainrule.ops`` takes its array module from its inputs (``array_module``) or calls
NumPy ufuncs, which dispatch to other array types through ``__array_ufunc__``;
``tests/ops/test_backend_calls.py`` keeps it so.
"""

import functools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided as _np_as_strided

from ..backend import array_module


def as_strided(a, shape, strides, writeable=False):
    """A strided view of ``a`` (``numpy.lib.stride_tricks.as_strided``): read only unless ``writeable``."""
    if array_module(a) is np:
        return _np_as_strided(a, shape, strides, writeable=writeable)
    import cupy.lib.stride_tricks  # pragma: no cover - needs a GPU

    return cupy.lib.stride_tricks.as_strided(a, shape, strides)  # pragma: no cover


def scatter_add(out, index, values):
    """``out[index] += values`` with repeated indices accumulating (``np.add.at``), in place."""
    if array_module(out) is np:
        np.add.at(out, index, values)
        return
    import cupyx  # pragma: no cover - needs a GPU

    cupyx.scatter_add(out, index, values)  # pragma: no cover


def scatter_add_rows(out, idx, rows):
    """``out[idx[i]] += rows[i]`` for a 1-D integer ``idx``, rows repeated in ``idx`` accumulating, in place.

    With NumPy the rows are summed in one pass over the indices sorted once (``np.add.reduceat``): several
    times faster than ``np.add.at``, the embedding backward's cost."""
    if not idx.size:
        return
    if array_module(out) is not np:
        scatter_add(out, idx, rows)  # pragma: no cover - needs a GPU
        return
    order = np.argsort(idx, kind="stable")
    s = idx[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    out[s[starts]] = np.add.reduceat(rows[order], starts, axis=0)


def pad_pairs(pad_width, ndim):
    """NumPy's ``pad_width`` (an int, a (before, after) pair, or one per axis) as ``ndim`` pairs of Python ints,
    by NumPy's broadcasting rules (a ValueError when it does not broadcast to (ndim, 2))."""
    return [(int(b), int(a)) for b, a in np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))]


@functools.cache
def _numpy_erf():
    """SciPy's erf when SciPy is installed (imported once, on first use), else the C library's elementwise."""
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:  # pragma: no cover - depends on the environment
        return np.frompyfunc(math.erf, 1, 1)
    return scipy_erf


def erf(x):
    """The error function elementwise, in ``x``'s dtype: SciPy's (CuPy's for CuPy arrays), else the C library's."""
    if array_module(x) is not np:
        from cupyx.scipy.special import erf as cupy_erf  # pragma: no cover - needs a GPU

        return cupy_erf(x)  # pragma: no cover
    return np.asarray(_numpy_erf()(x), dtype=x.dtype)
