"""The CUDA rules of indexing on the emulated device: basic indices as views (no copy),
set/inc of a basic region, advanced reads and writes with index arrays held on the host or
computed on the device, masks, repeated positions (np.add.at, last write wins), NumPy's errors,
and gradients against the reference executor.

Values are checked against NumPy indexing of the same arrays."""

from __future__ import annotations

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.link.cuda import using_device
from exprc.link.cuda.device import DeviceArray
from tests.cuda_harness import cuda_function, emulated_device, have_compilers

pytestmark = pytest.mark.skipif(not have_compilers(), reason="no C++ compiler for the emulator")

RNG = np.random.default_rng(5)


def places(f, op_name: str) -> set[str]:
    """Where the nodes of op class ``op_name`` run."""
    return {where for description, where in f.placement()
            if description.split(": ", 1)[1].split("{")[0] == op_name}


def check(got, want, rtol=1e-12):
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        w = np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (k, g.dtype, w.dtype, g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=rtol, err_msg=f"output {k}")


# --------------------------------------------------------------------------- basic indices
def test_basic_indices_are_views_with_numpy_semantics():
    x = T.tensor3("x", dtype="float32")
    i = T.lscalar("i")
    a, b, c = T.lscalar("a"), T.lscalar("b"), T.lscalar("c")
    outs = [x[1], x[-1, ::-1], x[:, 1:3, None], x[..., 0], x[i, a:b:c], x.T[1:, i],
            x[1, 2, 3], x[::2, 5:], x[i:, :, -2]]
    f = cuda_function([x, i, a, b, c], outs)
    assert places(f, "Subtensor") == {"cuda"}
    xv = RNG.standard_normal((3, 4, 5)).astype("float32")
    iv, av, bv, cv = -2, 3, 0, -1
    want = [xv[1], xv[-1, ::-1], xv[:, 1:3, None], xv[..., 0], xv[iv, av:bv:cv], xv.T[1:, iv],
            xv[1, 2, 3], xv[::2, 5:], xv[iv:, :, -2]]
    check(f(xv, iv, av, bv, cv), want)

    with pytest.raises(IndexError, match=r"Subtensor.*index -4 is out of bounds for axis 0 "
                                         r"with size 3"):
        f(xv, -4, av, bv, cv)
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        f(xv, iv, av, bv, 0)


def test_a_basic_index_shares_the_input_buffer():
    x = T.matrix("x")
    f = cuda_function([x], [x[1:, ::2], x.T[0]])
    with using_device(emulated_device()) as device:
        xv = DeviceArray.from_host(device, np.arange(12.0).reshape(3, 4))
        first, second = f.program([xv])
    assert first.buffer is xv.buffer and second.buffer is xv.buffer
    np.testing.assert_array_equal(first.to_host(), np.arange(12.0).reshape(3, 4)[1:, ::2])
    np.testing.assert_array_equal(second.to_host(), np.arange(12.0).reshape(3, 4).T[0])


def test_set_and_inc_of_basic_regions():
    x = T.matrix("x", dtype="float32")
    y = T.vector("y", dtype="float32")
    k = T.matrix("k", dtype="int64")
    small = T.vector("small", dtype="int8")
    i = T.lscalar("i")
    outs = [T.set_subtensor(x[1:, 2], y[:3]),          # a column: strided region
            T.inc_subtensor(x[::-2], y[:4]),            # broadcast rows, reversed
            T.inc_subtensor(x.T[1:3], 2.5),             # a transposed input
            T.set_subtensor(x[i, i], -1.0),             # one element
            T.inc_subtensor(x[4:], y),                  # an empty region
            T.inc_subtensor(k[:, 1:], small[:2]),       # int8 values into int64
            T.set_subtensor(k[0], small[0])]
    f = cuda_function([x, y, k, small, i], outs)
    assert places(f, "IncSubtensor") == {"cuda"}
    xv = RNG.standard_normal((4, 4)).astype("float32")
    yv = RNG.standard_normal(4).astype("float32")
    kv = RNG.integers(-9, 9, (3, 3))
    sv = np.array([3, -7, 1], "int8")

    def numpy(xv, yv, kv, sv, iv):
        results = []
        for update in (lambda o: o.__setitem__((slice(1, None), 2), yv[:3]),
                       lambda o: o.__setitem__(slice(None, None, -2), o[::-2] + yv[:4]),
                       None,
                       lambda o: o.__setitem__((iv, iv), -1.0),
                       lambda o: o.__setitem__(slice(4, None), o[4:] + yv)):
            if update is None:  # the result of indexing x.T is x.T updated
                out = xv.T.copy()
                out[1:3] += np.float32(2.5)
            else:
                out = xv.copy()
                update(out)
            results.append(out)
        out = kv.copy()
        out[:, 1:] += sv[:2]
        results.append(out)
        out = kv.copy()
        out[0] = sv[0]
        results.append(out)
        return results

    check(f(xv, yv, kv, sv, -3), numpy(xv, yv, kv, sv, -3), rtol=1e-6)
    # The inputs are not modified.
    before = xv.copy()
    f(xv, yv, kv, sv, 0)
    np.testing.assert_array_equal(xv, before)
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 0 with size 4"):
        f(xv, yv, kv, sv, 4)


def test_inc_subtensor_values_that_do_not_fit():
    x = T.matrix("x")
    y = T.vector("y")
    f = cuda_function([x, y], T.inc_subtensor(x[1:], y))
    with pytest.raises(ValueError, match=r"shape mismatch: value array of shape \(3,\)"):
        f(np.zeros((3, 2)), np.zeros(3))


# --------------------------------------------------------------------------- advanced reads
def test_advanced_reads():
    x = T.matrix("x", dtype="float32")
    t = T.tensor3("t")
    i = T.lvector("i")
    j = T.matrix("j", dtype="int32")
    u = T.vector("u", dtype="uint8")
    m = T.matrix("m", dtype="bool")
    w = T.matrix("w")
    on_device = T.cast(w[0], "int64")  # index arrays computed on the device
    outs = [x[i], x[j], x[:, i], x[i, 1:], x[i, i[::-1]], x[u], t[i[:2], :, u[:2]],
            t[:, j[:1]], t[1, j, 2], x[m], x.T[i], x[i, -1], t[on_device], x[on_device, :2],
            t[on_device[:, None], i[:1]]]
    f = cuda_function([x, t, i, j, u, m, w], outs)
    assert places(f, "AdvancedSubtensor") == {"cuda"}
    xv = RNG.standard_normal((4, 3)).astype("float32")
    tv = RNG.standard_normal((4, 3, 3))
    iv = np.array([0, -1, 2, 2])
    jv = np.array([[1, 0], [-2, 2]], "int32")
    uv = np.array([2, 0, 1], "uint8")
    mv = xv > 0
    wv = np.array([[3.0, -4.0, 1.0], [0.0, 0.0, 0.0]])
    dv = np.array([3, -4, 1])
    want = [xv[iv], xv[jv], xv[:, iv], xv[iv, 1:], xv[iv, iv[::-1]], xv[uv],
            tv[iv[:2], :, uv[:2]], tv[:, jv[:1]], tv[1, jv, 2], xv[mv], xv.T[iv], xv[iv, -1],
            tv[dv], xv[dv, :2], tv[dv[:, None], iv[:1]]]
    check(f(xv, tv, iv, jv, uv, mv, wv), want)

    with pytest.raises(IndexError, match=r"AdvancedSubtensor.*index 4 is out of bounds for "
                                         r"axis 0 with size 4"):
        f(xv, tv, np.array([0, 4, 1, 1]), jv, uv, mv, wv)
    with pytest.raises(IndexError, match="index -5 is out of bounds for axis 0 with size 4"):
        f(xv, tv, iv, jv, uv, mv, np.array([[0.0, -5.0, 1.0], [0.0, 0.0, 0.0]]))
    with pytest.raises(IndexError, match="boolean index did not match"):
        f(xv, tv, iv, jv, uv, mv[:, :2], wv)


def test_advanced_reads_of_empty_arrays_and_broadcast_errors():
    x = T.matrix("x")
    i = T.lvector("i")
    k = T.lvector("k")
    f = cuda_function([x, i, k], [x[i], x[i, k]])
    got = f(np.zeros((3, 2)), np.zeros(0, "int64"), np.zeros(0, "int64"))
    assert [g.shape for g in got] == [(0, 2), (0,)]
    got = f(np.zeros((0, 2)), np.zeros(0, "int64"), np.zeros(0, "int64"))
    assert [g.shape for g in got] == [(0, 2), (0,)]
    with pytest.raises(IndexError, match="could not be broadcast together with shapes"):
        f(np.zeros((3, 2)), np.zeros(2, "int64"), np.zeros(3, "int64"))


# --------------------------------------------------------------------------- advanced writes
def test_advanced_writes_with_repeated_positions():
    x = T.matrix("x", dtype="float32")
    yy = T.matrix("yy", dtype="float32")
    y = T.vector("y", dtype="float32")
    b = T.vector("b", dtype="int8")
    v = T.vector("v", dtype="bool")
    i = T.lvector("i")
    w = T.matrix("w")
    on_device = T.cast(w[0], "int64")  # positions known only on the device
    outs = [T.inc_subtensor(x[i], y),                           # np.add.at, atomics
            T.set_subtensor(x[i], yy),                          # last write wins, in order
            T.inc_subtensor(x[i], yy, ignore_duplicates=True),  # x[i] += yy
            T.inc_subtensor(x[:, i], 1.0),                      # the block after a whole axis
            T.inc_subtensor(b[i], b[:4]),                       # no atomics for int8
            T.inc_subtensor(v[i], v[:4]),                       # booleans add with `or`
            T.set_subtensor(x[on_device], yy),
            T.inc_subtensor(x[on_device, 1], y),
            T.inc_subtensor(b[on_device], b[:4], ignore_duplicates=True),
            T.set_subtensor(x.T[i[:2], i[2:]], y[:2]),           # a transposed input
            T.inc_subtensor(x[i[:3]], b[:4])]                    # int8 values into float32
    f = cuda_function([x, yy, y, b, v, i, w], outs)
    assert places(f, "AdvancedIncSubtensor") == {"cuda"}
    xv = RNG.standard_normal((5, 4)).astype("float32")
    yyv = RNG.standard_normal((4, 4)).astype("float32")
    yv = RNG.standard_normal(4).astype("float32")
    bv = np.array([100, -100, 3, 4, 5], "int8")
    vv = np.array([False, True, False, True, False])
    iv = np.array([2, -3, 0, 2])  # 2 and -3 are the same row of 5, and column 1 of 4
    dv = np.array([1, 1, -4, 4])  # -4 is row 1 too

    def numpy():
        results = []

        def fresh(base, update):
            out = base.copy()
            update(out)
            results.append(out)

        fresh(xv, lambda o: np.add.at(o, iv, yv))
        fresh(xv, lambda o: o.__setitem__(iv, yyv))
        fresh(xv, lambda o: o.__setitem__(iv, o[iv] + yyv))
        fresh(xv, lambda o: np.add.at(o, (slice(None), iv), np.float32(1.0)))
        fresh(bv, lambda o: np.add.at(o, iv, bv[:4]))
        fresh(vv, lambda o: np.add.at(o, iv, vv[:4]))
        fresh(xv, lambda o: o.__setitem__(dv, yyv))
        fresh(xv, lambda o: np.add.at(o, (dv, 1), yv))
        fresh(bv, lambda o: o.__setitem__(dv, o[dv] + bv[:4]))
        fresh(xv.T, lambda o: o.__setitem__((iv[:2], iv[2:]), yv[:2]))
        fresh(xv, lambda o: np.add.at(o, iv[:3], bv[:4].astype("float32")))
        return results

    check(f(xv, yyv, yv, bv, vv, iv, np.stack([dv.astype(float), np.zeros(4)])), numpy(),
          rtol=1e-6)
    assert (numpy()[1][2] == yyv[3]).all() and (numpy()[6][1] == yyv[2]).all()
    with pytest.raises(IndexError, match=r"AdvancedIncSubtensor.*index 5 is out of bounds"):
        f(xv, yyv, yv, bv, vv, np.array([0, 5, 1, 1]), np.zeros((2, 4)))
    with pytest.raises(IndexError, match="index 7 is out of bounds for axis 0 with size 5"):
        f(xv, yyv, yv, bv, vv, iv, np.array([[0.0, 7.0, 1.0, 1.0], [0.0] * 4]))


def test_advanced_write_values_that_do_not_fit():
    x = T.matrix("x")
    y = T.matrix("y")
    i = T.lvector("i")
    f = cuda_function([x, y, i], T.inc_subtensor(x[i], y))
    with pytest.raises(ValueError, match=r"shape mismatch: value array of shape \(3, 2\)"):
        f(np.zeros((3, 2)), np.zeros((3, 2)), np.array([0, 1]))
    got = f(np.zeros((3, 2)), np.zeros((0, 2)), np.zeros(0, "int64"))
    np.testing.assert_array_equal(got, np.zeros((3, 2)))


# --------------------------------------------------------------------------- gradients
def test_indexing_gradients_match_the_reference():
    x = T.matrix("x")
    i = T.lvector("i")
    cost = ((x[i] ** 2).sum() + (x[1:, ::-2] * 3).sum() + x[i, i[::-1]].sum()
            + (T.set_subtensor(x[0], 0.0) ** 3).sum())
    outs = [cost, exprc.grad(cost, x)]
    f = cuda_function([x, i], outs)
    for op_name in ("AdvancedSubtensor", "AdvancedIncSubtensor", "IncSubtensor"):
        assert places(f, op_name) == {"cuda"}, op_name
    reference = exprc.function([x, i], outs, mode="REFERENCE")
    values = [RNG.standard_normal((4, 4)), np.array([1, 3, 1, -1])]
    for g, r in zip(f(*values), reference(*values)):
        np.testing.assert_allclose(g, r, rtol=1e-12)


def test_writes_take_over_a_buffer_no_later_node_reads(monkeypatch):
    """Where a write is the last reader of ``x`` (``Build.last_read``) and the call made
    ``x``, the write updates ``x``'s buffer instead of a copy; the values are the same."""
    from exprc.link.cuda.program import Run

    made = []
    empty = Run.empty
    monkeypatch.setattr(Run, "empty", lambda self, shape, dtype: made.append(shape)
                        or empty(self, shape, dtype))
    x = T.matrix("x")
    i = T.lvector("i")
    z = T.exp(x)  # made by the call, read by the first write only
    out = T.inc_subtensor(T.set_subtensor(z[0], 1.0)[1:, ::2], 2.0)
    out = T.inc_subtensor(out[i], 3.0)
    f = cuda_function([x, i], out)
    assert places(f, "IncSubtensor") == {"cuda"}
    xv = RNG.standard_normal((3, 4))
    iv = np.array([2, 0, 2])
    want = np.exp(xv)
    want[0] = 1.0
    want[1:, ::2] += 2.0
    np.add.at(want, iv, 3.0)
    made.clear()
    np.testing.assert_allclose(f(xv, iv), want, rtol=1e-12)
    assert made.count((3, 4)) == 1  # exp's result, updated in place by every write


def test_a_write_never_takes_over_a_value_read_later():
    x = T.matrix("x")
    z = T.exp(x)
    written = T.set_subtensor(z[0], 1.0)
    f = cuda_function([x], [written, z * 2])  # z is read again after the write
    xv = RNG.standard_normal((3, 4))
    got = f(xv)
    want = np.exp(xv)
    np.testing.assert_allclose(got[1], want * 2, rtol=1e-12)
    want[0] = 1.0
    np.testing.assert_allclose(got[0], want, rtol=1e-12)
