"""cr.set_num_threads / cr.get_num_threads drive the BLAS thread pool (threadpoolctl)."""

import pytest
from threadpoolctl import threadpool_info

import chainrule as cr


def blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_set_and_get_num_threads():
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        assert cr.get_num_threads() == 1
        assert blas_threads() and all(n == 1 for n in blas_threads())
    finally:
        cr.set_num_threads(before)
    assert cr.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_thread_count(bad):
    with pytest.raises(cr.errors.ArgumentError, match="set_num_threads"):
        cr.set_num_threads(bad)


def test_keep_freed_memory_sets_the_c_library_allocator_on_glibc():
    import platform

    from chainrule.backend import keep_freed_memory

    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert keep_freed_memory() is expected
    assert keep_freed_memory() is expected  # idempotent
