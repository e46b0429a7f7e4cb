"""The backend's seams: parameters' memory (``parameter_array``, ``joint_memory``, ``parameter_budget``) and the
allocator setting (``keep_freed_memory``), which ``import chainrule`` must leave alone."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chainrule as cr
from chainrule import backend, nn
from chainrule.backend import joint_memory, memory_order, parameter_array, parameter_budget


def _on_a_cache_line(a):
    return a.__array_interface__["data"][0] % 64 == 0


# ---- parameters' memory --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (0,), (3,), (5, 7), (2, 3, 4), (300, 400)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_parameter_arrays_start_on_a_cache_line_in_their_order(shape, dtype):
    a = parameter_array(shape, dtype)
    assert a.shape == shape and a.dtype == dtype and (a.size == 0 or _on_a_cache_line(a))
    assert a.flags.c_contiguous and a.flags.writeable
    if len(shape) == 2:
        w = parameter_array(shape, dtype, matmul_weight=True)
        assert w.shape == shape and memory_order(w) == "F" and _on_a_cache_line(w)
        assert w.T.flags.c_contiguous


def test_parameter_arrays_refuse_what_numpy_refuses():
    with pytest.raises(ValueError, match="negative"):
        parameter_array((2, -1))
    with pytest.raises(TypeError):
        parameter_array((2.5, 3))


def test_parameters_made_in_a_row_share_one_stretch_of_memory():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 2), nn.LayerNorm(2))
    arrays = [p.numpy() for p in model.parameters()]
    flat, offsets = joint_memory(arrays)
    assert flat.dtype == np.float32 and offsets[0] == 0
    for a, o in zip(arrays, offsets):
        piece = flat[o : o + a.size].reshape(a.shape, order=memory_order(a))
        assert np.shares_memory(piece, a) and np.array_equal(piece, a)
        assert _on_a_cache_line(a)
    flat[offsets[1]] = 7.0  # it is the parameters' own memory
    assert model[0].bias.numpy()[0] == 7.0
    # between two parameters lies only the padding to the next cache line, and it holds zeros
    used = np.zeros(flat.size, bool)
    for a, o in zip(arrays, offsets):
        used[o : o + a.size] = True
    assert not flat[~used].any() and (~used).sum() < 16 * len(arrays)


def test_arrays_that_do_not_lie_in_a_row_have_no_joint_memory():
    a, b, c = (parameter_array(4) for _ in range(3))
    assert joint_memory([a, b, c]) is not None
    assert joint_memory([a, c]) is None  # b lies between
    assert joint_memory([b, a]) is None  # the wrong order
    assert joint_memory([a, np.zeros(4, np.float32)]) is None
    assert joint_memory([np.zeros(4, np.float32), np.zeros(4, np.float32)]) is None
    assert joint_memory([a, parameter_array(4, np.float64)]) is None
    big = parameter_array(100_000)  # beyond the shared chunks: its own memory
    assert joint_memory([a, big]) is None
    raw = np.zeros(64, np.uint8)  # a user's buffer sliced alike: its padding may be somebody's
    assert joint_memory([raw[:16].view(np.float32), raw[32:48].view(np.float32)]) is None


def test_a_parameter_made_from_data_copies_it_into_parameter_memory():
    data = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    p = nn.Parameter(data)
    assert p.numpy() is not data and np.array_equal(p.numpy(), data) and memory_order(p.numpy()) == "F"
    assert _on_a_cache_line(p.numpy())
    shared = nn.Parameter(cr.tensor(data))  # a Tensor's array is shared, as in PyTorch
    t = cr.tensor(data)
    assert nn.Parameter(t).numpy() is t.numpy() and shared.numpy().dtype == np.float32
    assert nn.Parameter.empty((2, 3), matmul_weight=True).numpy().flags.f_contiguous
    assert nn.Parameter.empty(4, np.float64).dtype == np.float64


def test_the_parameter_budget_refuses_before_allocating():
    with parameter_budget(1000):
        parameter_array(200)  # 800 bytes
        with pytest.raises(MemoryError, match="exceeds the budget"):
            parameter_array(100)
        with pytest.raises(MemoryError):
            parameter_array((10**6, 10**6))
    parameter_array(100)  # the budget ended with the block
    with parameter_budget(0):
        with pytest.raises(MemoryError):
            nn.Linear(3, 2)


# ---- keep_freed_memory -----------------------------------------------------------------------------------------

_SPY = textwrap.dedent("""
    import ctypes, json, os, sys
    calls = []
    real = ctypes.CDLL

    class Spy:
        def __init__(self, *args, **kwargs):
            self._lib = real(*args, **kwargs)

        def __getattr__(self, name):
            fn = getattr(self._lib, name)
            if name != "mallopt":
                return fn
            def mallopt(*args):
                calls.append(args)
                return fn(*args)
            return mallopt

    ctypes.CDLL = Spy
    import chainrule
    from chainrule import backend
    out = {"after_import": len(calls), "flag_after_import": backend._freed_memory_kept}
    if sys.argv[1] == "call":
        first = backend.keep_freed_memory()
        out["first_calls"] = len(calls)
        out["results"] = [first] + [backend.keep_freed_memory() for _ in range(1000)]
        out["calls"] = len(calls)
        out["flag"] = backend._freed_memory_kept
    print(json.dumps(out))
""")


def _run(mode, **env):
    environ = {k: v for k, v in os.environ.items() if k != "CHAINRULE_KEEP_FREED_MEMORY"}
    environ.update(env)
    done = subprocess.run([sys.executable, "-c", _SPY, mode], capture_output=True, text=True, env=environ,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _glibc():
    import platform

    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def test_importing_chainrule_leaves_the_allocator_alone():
    out = _run("import")
    assert out == {"after_import": 0, "flag_after_import": None}


def test_keep_freed_memory_acts_once_per_process():
    out = _run("call")
    assert out["after_import"] == 0
    expected = _glibc()
    assert out["results"] == [expected] * 1001
    assert out["first_calls"] == out["calls"] == (2 if expected else 0)  # the two settings, made once
    assert out["flag"] is expected


def test_keep_freed_memory_can_be_switched_off():
    out = _run("call", CHAINRULE_KEEP_FREED_MEMORY="0")
    assert out["calls"] == 0 and out["results"] == [False] * 1001 and out["flag"] is False


def test_keep_freed_memory_in_this_process_is_idempotent():
    first = backend.keep_freed_memory()
    assert all(backend.keep_freed_memory() is first for _ in range(100))
    assert backend._freed_memory_kept is first
