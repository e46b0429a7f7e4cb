"""The array backend: NumPy on the CPU, CuPy on a GPU when one is used.

Ops take the array module from their inputs (``xp = array_module(a)``) instead of
assuming NumPy, so the same derivative rules run on both. NumPy ufuncs dispatch to
CuPy arrays through ``__array_ufunc__``, so plain ``np.exp(a)`` works on both too.
"""

import math

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


def memory_order(a):
    """``"F"`` for an array stored column-major (only its transpose is C-contiguous), else ``"C"``.

    ``nn.Linear`` keeps its weight (out, in) column-major: see ``ops.nn.Linear``. Code that flattens
    parameters or makes arrays to go with them (optimisers) keeps their order with this.
    """
    flags = a.flags
    return "F" if flags.f_contiguous and not flags.c_contiguous else "C"


_ALIGN = 64  # bytes: a cache line


def empty_aligned(shape, dtype=np.float32, order="C", xp=np):
    """An uninitialised NumPy array whose data starts on a 64-byte boundary (for ``xp`` CuPy, a plain
    ``cupy.empty``: CuPy's allocations are aligned already).

    NumPy's allocator promises 16 bytes. Arrays that are written over and over (parameters,
    optimiser state) run their elementwise updates 10-15% faster when they start on a cache line,
    since AVX-512 stores that straddle two lines cost more; a training step of the MNIST MLP is
    5-8% faster with its parameters and their state so placed. (The array is a view of a slightly
    larger buffer.)
    """
    if xp is not np:
        return xp.empty(shape, dtype, order=order)
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    if any(n < 0 for n in shape):
        raise ValueError("negative dimensions are not allowed")  # as np.empty
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + _ALIGN, np.uint8)
    start = -raw.__array_interface__["data"][0] % _ALIGN
    return raw[start : start + nbytes].view(dtype).reshape(shape, order=order)


def aligned_like(a, fill=None):
    """An array of ``a``'s shape, dtype and memory order on a cache-line boundary (see ``empty_aligned``),
    holding ``fill`` (an array or a number) when given."""
    out = empty_aligned(a.shape, a.dtype, memory_order(a), array_module(a))
    if fill is not None:
        out[...] = fill
    return out


def expand_to(a, shape):
    """``broadcast_to(a, shape)``: a view that repeats ``a`` along stretched axes (never write to it).

    For NumPy arrays the zero-stride view is built directly, which costs a tenth of
    ``np.broadcast_to`` (about 3 us of Python per call); this runs in the backward of
    every sum and mean.
    """
    if a.__class__ is np.ndarray and a.size:
        if a.ndim == 0:  # the gradient of a full reduction (a loss): every element gets the same value
            return np.ndarray(shape, a.dtype, a, 0, (0,) * len(shape))
        a = np.ascontiguousarray(a)
        strides = (0,) * (len(shape) - a.ndim) + tuple(0 if n == 1 else s for n, s in zip(a.shape, a.strides))
        return np.ndarray(shape, a.dtype, a, 0, strides)
    return array_module(a).broadcast_to(a, shape)


def set_num_threads(n):
    """Let the BLAS library (matrix products, convolutions) use ``n`` threads from now on."""
    from threadpoolctl import threadpool_limits

    from .errors import ArgumentError

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ArgumentError(f"set_num_threads: expected a positive integer, got {n!r}")
    np.dot(np.ones((2, 2)), np.ones((2, 2)))  # make sure NumPy's BLAS is loaded, so threadpoolctl finds it
    threadpool_limits(limits=n, user_api="blas")


def get_num_threads():
    """The number of threads the BLAS library uses (1 if none is found)."""
    from threadpoolctl import threadpool_info

    counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return max(counts) if counts else 1


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
KEEP_FREED_MEMORY = 256 * 2**20  # bytes of freed memory the C library may keep for reuse
LARGEST_HEAP_BLOCK = 32 * 2**20  # blocks up to this size come from the reusable heap (glibc's maximum)


def keep_freed_memory():
    """Ask the C library to keep freed memory for reuse instead of giving it back to the system.

    A training step allocates and frees the same large arrays (activations, gradients, im2col
    columns) again and again. By default glibc serves blocks above 128 KiB with ``mmap`` and
    returns them to the system when freed, so every step page-faults its arrays in anew, one
    fault per 4 KiB page: on the CPU that costs as much as the arithmetic of a small CNN or of
    an MLP at batch 1024 (measured: 1.3-1.4x faster steps with this setting). With it, blocks up
    to 32 MiB come from the heap, and up to 256 MiB of freed memory stays in the process; the
    peak memory is unchanged, but memory freed after a peak is kept. chainrule calls this once
    when it is imported, on Linux with glibc; set ``CHAINRULE_KEEP_FREED_MEMORY=0`` to leave the
    allocator alone. Returns True when the setting was made.
    """
    import ctypes
    import ctypes.util
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        done = libc.mallopt(_M_MMAP_THRESHOLD, LARGEST_HEAP_BLOCK) == 1
        return libc.mallopt(_M_TRIM_THRESHOLD, KEEP_FREED_MEMORY) == 1 and done
    except (OSError, AttributeError):  # pragma: no cover - not glibc after all
        return False
