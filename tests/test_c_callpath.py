"""The native call path of compiled functions (csrc/exprc_callpath.c, exprc/link/c/callpath.py).

A compiled function is called through a C entry point that accepts only arrays exactly of its
inputs' types and answers NotImplemented for anything else, so that the Python path converts
the arguments or raises an error naming the input. These tests check both paths agree with
NumPy, that outputs own fresh memory, and that the program's buffers kept between calls are
safe under threads.
"""

import threading

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.cache.store import CompileCache
from exprc.errors import ExprcError, ExprcTypeError
from exprc.link.c import callpath
from exprc.link.c.linker import CProgram
from exprc.link.c.program import DECLARATIONS
from exprc.link.c.toolchain import CToolchain


@pytest.fixture(scope="module")
def axpy():
    x, y = T.dvector("x"), T.dmatrix("y")
    return exprc.function([x, y], [2.0 * x + y, (x * y).sum()])


def test_default_mode_compiles_to_c_with_a_native_entry(axpy):
    assert isinstance(axpy.program, CProgram)
    assert axpy.program.native is not None
    assert {backend for _, backend in axpy.placement()} == {"c"}


def test_native_entry_runs_exact_arrays(axpy):
    x, y = np.arange(3.0), np.arange(6.0).reshape(2, 3)
    out, total = axpy.program.native(x, y)
    np.testing.assert_array_equal(out, 2 * x + y)
    assert total == (x * y).sum()


@pytest.mark.parametrize("args", [
    ([0.0, 1.0, 2.0], np.zeros((2, 3))),                      # a list
    (np.arange(3, dtype=np.float32), np.zeros((2, 3))),       # another dtype
    (np.zeros((1, 3)), np.zeros((2, 3))),                     # another rank
    (np.arange(3.0),),                                        # too few
    (np.arange(3.0), np.zeros((2, 3)), np.zeros(1)),          # too many
])
def test_native_entry_declines_anything_else(axpy, args):
    assert axpy.program.native(*args) is NotImplemented


def test_declined_arguments_are_converted_or_named(axpy):
    expected = 2 * np.arange(3.0) + np.ones((2, 3))
    out, _ = axpy([0, 1, 2], np.ones((2, 3), dtype=np.float32))
    np.testing.assert_array_equal(out, expected)
    with pytest.raises(ExprcTypeError, match=r"input 'x' \(argument 0\)"):
        axpy(np.zeros((1, 3)), np.ones((2, 3)))
    with pytest.raises(ExprcTypeError, match="missing input 'y'"):
        axpy(np.zeros(3))
    out, _ = axpy(y=np.ones((2, 3)), x=np.arange(3.0))
    np.testing.assert_array_equal(out, expected)


def test_byte_swapped_and_misaligned_inputs_give_correct_values(axpy):
    x = np.arange(3.0).astype(">f8")
    raw = np.zeros(6 * 8 + 1, dtype=np.uint8)
    y = raw[1:].view(np.float64).reshape(2, 3)       # misaligned by one byte
    y[...] = np.arange(6.0).reshape(2, 3)
    assert not y.flags.aligned
    assert axpy.program.native(x, y) is NotImplemented
    out, total = axpy(x, y)
    np.testing.assert_array_equal(out, 2 * np.arange(3.0) + np.arange(6.0).reshape(2, 3))
    assert total == (np.arange(3.0) * np.arange(6.0).reshape(2, 3)).sum()


def test_strided_and_broadcast_inputs_run_natively(axpy):
    x = np.arange(6.0)[::2]
    y = np.broadcast_to(np.arange(3.0), (2, 3))
    result = axpy.program.native(x, y)
    assert result is not NotImplemented
    np.testing.assert_array_equal(result[0], 2 * x + y)


def test_static_shapes_are_checked_natively():
    x = T.tensor("float64", shape=(3,), name="x")
    f = exprc.function([x], x * 2)
    assert f.program.native(np.ones(4)) is NotImplemented
    with pytest.raises(ExprcError, match="size 3 on axis 0"):
        f(np.ones(4))
    np.testing.assert_array_equal(f(np.ones(3)), np.full(3, 2.0))


def test_outputs_are_fresh_writeable_arrays_that_outlive_the_function():
    x = T.dvector("x")
    f = exprc.function([x], [x + 1, x + 1, x])
    a = np.arange(4.0)
    first, second, same = f(a)
    assert first.flags.writeable and first.flags.owndata is False
    assert not np.shares_memory(first, second) and not np.shares_memory(same, a)
    again = f(a)[0]
    assert not np.shares_memory(first, again)
    first[:] = -1
    np.testing.assert_array_equal(f(a)[0], a + 1)
    del f
    np.testing.assert_array_equal(again, a + 1)   # the buffer outlives the program


def test_native_errors_name_the_node():
    v, i = T.dvector("v"), T.lvector("i")
    f = exprc.function([v, i], v[i])
    with pytest.raises(IndexError, match="C backend"):
        f(np.arange(3.0), np.array([5]))


def test_updates_and_default_values_on_the_native_path():
    w = exprc.shared(np.zeros(3), name="w")
    x = T.dvector("x")
    step = exprc.function([x], w.sum(), updates=[(w, w + x)])
    for k in range(3):
        assert step(np.ones(3)) == 3.0 * k
    np.testing.assert_array_equal(w.get_value(), np.full(3, 3.0))
    s = T.dscalar("s")
    scaled = exprc.function([x, exprc.In(s, value=10.0)], x * s)
    np.testing.assert_array_equal(scaled(np.ones(2)), np.full(2, 10.0))
    np.testing.assert_array_equal(scaled(np.ones(2), 3.0), np.full(2, 3.0))


def test_buffers_are_kept_between_calls_and_safe_under_threads():
    x = T.dmatrix("x")
    # Intermediates large enough to live in the free list between calls.
    f = exprc.function([x], (T.exp(x) + x.T.dot(x).sum()).sum(axis=1))
    program = f.program
    values = [np.random.default_rng(k).standard_normal((40, 40)) for k in range(8)]
    expected = [(np.exp(v) + (v.T @ v).sum()).sum(axis=1) for v in values]
    calls_before = program._state.calls
    errors = []

    def worker(k):
        for _ in range(50):
            got = f(values[k])
            if not np.allclose(got, expected[k], rtol=1e-12, atol=1e-9):
                errors.append(k)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert program._state.calls > calls_before   # the kept free list was used


def test_keep_buffers_off_frees_them_after_each_call():
    x = T.dvector("x")
    with exprc.config.change_flags(keep_buffers=False):
        f = exprc.function([x], (T.exp(x) * 2).sum() + x)
    f(np.ones(1000))
    assert f.program._state.pool.count == 0
    with exprc.config.change_flags(keep_buffers=True):
        g = exprc.function([x], T.sqrt(T.exp(x) * 2 + 1) * x.sum())
    g(np.ones(1000))
    np.testing.assert_allclose(g(np.ones(3)), np.sqrt(np.exp(1.0) * 2 + 1) * 3)


def test_cffi_path_when_the_native_module_is_unavailable(monkeypatch, tmp_path):
    monkeypatch.setattr(callpath, "_module", None)
    monkeypatch.setattr(callpath, "_failure", "ExprcError: no Python headers (simulated)")
    monkeypatch.setattr(callpath, "_builder", None)
    monkeypatch.setattr(callpath, "_warned", False)
    x, i = T.dvector("x"), T.lvector("i")
    with pytest.warns(callpath.CallPathWarning, match="simulated"):
        f = exprc.function([x, i], [x[i] * 2, x.sum()])
    assert f.program.native is None
    out, total = f(np.arange(4.0).astype(">f8"), [3, 0])
    np.testing.assert_array_equal(out, [6.0, 0.0])
    assert total == 6.0
    with pytest.raises(IndexError, match="C backend"):
        f(np.arange(4.0), [4])


def test_cffi_declarations_match_the_c_structs(tmp_path):
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(DECLARATIONS)
    source = ('#include "exprc_runtime.h"\n'
              "EXPRC_EXPORT int64_t size_of(int which) {\n"
              "    return which == 0 ? (int64_t)sizeof(exprc_array)\n"
              "         : which == 1 ? (int64_t)sizeof(exprc_error)\n"
              "         : which == 2 ? (int64_t)sizeof(exprc_state)\n"
              "         : (int64_t)offsetof(exprc_state, pool); }\n")
    cache = CompileCache(tmp_path, CToolchain())
    module = cache.load(source, "int64_t size_of(int which);")
    assert module.size_of(0) == ffi.sizeof("exprc_array")
    assert module.size_of(1) == ffi.sizeof("exprc_error")
    assert module.size_of(2) == ffi.sizeof("exprc_state")
    assert module.size_of(3) == ffi.offsetof("exprc_state", "pool")


def test_large_graphs_spread_over_chunk_functions_give_the_same_results(monkeypatch):
    from exprc.link.c import program

    monkeypatch.setattr(program, "CHUNK_NODES", 2)
    x, i = T.dmatrix("x"), T.lvector("i")
    w = exprc.shared(np.ones(3), name="w_chunks")
    outs = [T.exp(x).sum(axis=0) * w, x[i].T.dot(x[i]), T.concatenate([x, x * 2]).max(axis=1)]
    f = exprc.function([x, i], outs, updates=[(w, w * 0.5 + x.sum(axis=0))])
    ref = exprc.function([x, i], outs, mode="REFERENCE")
    assert "exprc_chunk3" in f.program.source
    xv = np.arange(12.0).reshape(4, 3) / 10
    expected = ref(xv, [0, 3])   # before f's update changes w
    for got, want in zip(f(xv, [0, 3]), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(w.get_value(), 0.5 + xv.sum(axis=0))
    with pytest.raises(IndexError, match="C backend"):   # an error from inside a chunk
        f(xv, [7])
    np.testing.assert_allclose(f(xv, [1])[1], xv[[1]].T @ xv[[1]])


@pytest.mark.parametrize("through_cffi", [False, True])
def test_released_output_memory_is_reused_by_the_next_call(monkeypatch, through_cffi):
    x = T.dvector("x")
    f = exprc.function([x], T.exp(x) * 2)
    if through_cffi:
        monkeypatch.setattr(f, "_native", None)
        monkeypatch.setattr(f.program, "native", None)
    a = np.linspace(0, 1, 100_000)
    first = f(a)
    address = first.__array_interface__["data"][0]
    kept = f(a)                       # the first output is still alive: fresh memory
    assert kept.__array_interface__["data"][0] != address
    del first
    again = f(a)                      # takes the memory the first output gave back
    assert again.__array_interface__["data"][0] == address
    np.testing.assert_array_equal(again, kept)
    np.testing.assert_allclose(again, np.exp(a) * 2, rtol=1e-15)
    del f                             # outputs outlive the function and its state
    np.testing.assert_allclose(kept, np.exp(a) * 2, rtol=1e-15)
