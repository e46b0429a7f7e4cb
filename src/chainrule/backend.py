"""The array backend: NumPy on the CPU, CuPy on a GPU when one is used.

Ops take the array module from their inputs (``xp = array_module(a)``) instead of
assuming NumPy, so the same derivative rules run on both. NumPy ufuncs dispatch to
CuPy arrays through ``__array_ufunc__``, so plain ``np.exp(a)`` works on both too.
"""

import contextlib
import contextvars
import math
import operator
import os
import threading
import weakref

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

    ``parameter_array`` makes nn.Linear's weight (out, in) column-major (see there). Code that flattens
    parameters or makes arrays to go with them (gradients, optimiser state) keeps their order with this.
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


# ---- parameters' memory: the one place where its layout is decided (DESIGN convention 13) ---------------------

_ARENA_LARGEST = 2**16  # bytes: parameters up to this size are laid out one after the other in shared chunks
_ARENA_CHUNK = 2**20  # bytes per chunk; zeroed (calloc), so the padding between parameters holds zeros
_arenas = {}  # dtype -> [the chunk (a uint8 array on a cache line), bytes handed out]
_arena_owners = weakref.WeakValueDictionary()  # id -> an array that owns a chunk's memory (its views' .base)
_arena_lock = threading.Lock()


def _from_arena(nbytes, dtype):
    """``nbytes`` of the current chunk for ``dtype``, starting on a cache line (a 1-D array of ``dtype``)."""
    with _arena_lock:
        arena = _arenas.get(dtype)
        if arena is None or arena[1] + nbytes > _ARENA_CHUNK:
            raw = np.zeros(_ARENA_CHUNK + _ALIGN, np.uint8)
            skip = -_address(raw) % _ALIGN
            arena = _arenas[dtype] = [raw[skip : skip + _ARENA_CHUNK], 0]
            _arena_owners[id(raw)] = raw
        chunk, start = arena
        arena[1] += nbytes + (-nbytes % _ALIGN)  # the next one starts on a cache line too
    return chunk[start : start + nbytes].view(dtype)


_budget = contextvars.ContextVar("chainrule_parameter_budget", default=None)  # [bytes left] within parameter_budget


class ParameterBudgetError(MemoryError):
    """``parameter_array`` was asked for more than the ``parameter_budget`` in force allows."""


@contextlib.contextmanager
def parameter_budget(nbytes):
    """Within this block ``parameter_array`` hands out at most ``nbytes`` in all, and raises
    ``ParameterBudgetError`` (a MemoryError) before allocating past that. A model file's reader sets it
    from the weights the file holds, so that a few bytes of architecture cannot make it allocate gigabytes."""
    token = _budget.set([nbytes])
    try:
        yield
    finally:
        _budget.reset(token)


def parameter_array(shape, dtype=np.float32, *, matmul_weight=False, order=None):
    """The memory of a new parameter (an uninitialised NumPy array). Every parameter chainrule makes gets its
    memory here (``nn.Parameter.empty``, and ``nn.Parameter(data)`` for its copy of ``data``). Its layout
    tricks, each with the benchmark case that justifies it:

    * every parameter starts on a cache line (see ``empty_aligned``; benchmark train_mlp: steps 5-8% faster);
    * ``matmul_weight=True``: a weight (out, in) that a layer applies as ``x @ W.T`` (nn.Linear) is stored
      column-major, so that W.T, the (in, out) kernel, is C-contiguous: OpenBLAS runs a training step's
      products faster so (see ``ops.nn.Linear``; benchmark train_mlp, batch 32 and 128: steps 4-8% faster).
      Its values, shape and state dict are PyTorch's;
    * parameters up to 64 KiB are laid out one after the other, in the order they are made, in shared
      chunks (one per dtype), with only the padding to the next cache line between them: a small model's
      parameters, made layer by layer, fill one stretch of memory (``joint_memory``), which the optimiser
      updates in one go and in place, each ``p._data`` staying the array it is (``optim.Optimizer._flat_step``;
      benchmark german_credit, Adam: the update 2x faster than parameter by parameter, with no copy in or out).

    ``order`` ("C" or "F") overrides the memory order (``nn.Parameter(data)`` keeps that of ``data``).
    """
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(operator.index(n) for n in shape)
    if any(n < 0 for n in shape):
        raise ValueError("negative dimensions are not allowed")  # as np.empty
    if order is None:
        order = "F" if matmul_weight and len(shape) == 2 else "C"
    column_major = order == "F" and len(shape) > 1
    stored = shape[::-1] if column_major else shape  # a column-major array is the transpose of a C-order one
    nbytes = math.prod(shape) * dtype.itemsize
    _charge(nbytes, shape, "parameter")
    a = _from_arena(nbytes, dtype).reshape(stored) if nbytes <= _ARENA_LARGEST else empty_aligned(stored, dtype)
    return a.T if column_major else a


def _charge(nbytes, shape, what):
    """Take ``nbytes`` from the ``parameter_budget`` in force, if any, or raise before anything is allocated."""
    budget = _budget.get()
    if budget is not None:
        budget[0] -= nbytes
        if budget[0] < 0:
            raise ParameterBudgetError(f"a {what} of shape {str(shape)[:80]} ({nbytes:,} bytes) exceeds the budget")


def buffer_array(shape, dtype=np.float32, fill=0):
    """A module buffer's array (running statistics), filled with ``fill``: an ordinary NumPy array (buffers
    stay out of the parameters' shared chunks), counted against the ``parameter_budget`` in force."""
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(operator.index(n) for n in shape)
    _charge(math.prod(shape) * dtype.itemsize, shape, "buffer")
    return np.full(shape, fill, dtype)


def _address(a):
    return a.__array_interface__["data"][0]


def joint_memory(arrays):
    """``(flat, offsets)``: a 1-D view of the memory that ``arrays`` (NumPy arrays of one dtype, each contiguous
    in its memory order) fill one after the other, in this order, with at most the padding to a cache line
    between two of them, and the offset of each in it; None where they do not.

    Parameters made in a row by ``parameter_array`` do, so that an optimiser can update them in one go, in
    place: array ``i`` is ``flat[o : o + a.size].reshape(a.shape, order=memory_order(a))``. The padding
    belongs to no array: chunks are zeroed, so it holds zeros unless an update writes there.
    """
    first = arrays[0]
    base = first.base
    if not isinstance(first, np.ndarray) or base is None or _arena_owners.get(id(base)) is not base:
        return None  # only in parameter_array's chunks is the padding between two arrays nobody's
    itemsize = first.dtype.itemsize
    start = end = _address(first)
    offsets = []
    for a in arrays:
        if a.base is not base or a.dtype != first.dtype or not (a.flags.c_contiguous or a.flags.f_contiguous):
            return None
        at = _address(a)
        if at != end and (end % _ALIGN == 0 or at != end + (-end % _ALIGN) or (at - end) % itemsize):
            return None  # not next to the one before (only padding up to a cache line may lie between)
        offsets.append((at - start) // itemsize)
        end = at + a.nbytes
    first_byte = start - _address(base)
    return base[first_byte : first_byte + end - start].view(first.dtype), offsets


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


_freed_memory_kept = None  # the result of keep_freed_memory()'s one attempt in this process; None: not asked yet
_freed_memory_lock = threading.Lock()


def keep_freed_memory():
    """Ask the C library to keep freed memory for reuse instead of giving it back to the system.

    A training step allocates and frees the same large arrays (activations, gradients, im2col
    columns) again and again. By default glibc serves blocks above 128 KiB with ``mmap`` and
    returns them to the system when freed, so every step page-faults its arrays in anew, one
    fault per 4 KiB page: on the CPU that costs as much as the arithmetic of a small CNN or of
    an MLP at batch 1024 (benchmarks cnn and train_mlp, batch 1024: 1.3-1.4x faster steps with
    this setting). With it, blocks up to 32 MiB come from the heap, and up to 256 MiB of freed
    memory stays in the process; the peak memory is unchanged, but memory freed after a peak is kept.

    ``import chainrule`` leaves the allocator alone; the entry points that train (the ``chainrule``
    command, ``Trainer.fit``) call this. Only the first call does anything (on Linux with glibc);
    later ones return its result at once. ``CHAINRULE_KEEP_FREED_MEMORY=0`` in the environment
    leaves the allocator alone. Returns True when the setting was made.
    """
    global _freed_memory_kept
    if _freed_memory_kept is None:
        with _freed_memory_lock:
            if _freed_memory_kept is None:
                _freed_memory_kept = os.environ.get("CHAINRULE_KEEP_FREED_MEMORY", "1") != "0" and _mallopt()
    return _freed_memory_kept


def _mallopt():
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
