"""The CUDA rules of the basic constructors on the emulated device: Join (mixed dtypes,
strided inputs, empty pieces), Split (views), ARange (exact integer bounds and NumPy's fill for
float bounds) and Eye, with NumPy's errors. Values are checked against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError
from exprc.link.cuda import using_device
from exprc.link.cuda.device import DeviceArray
from tests.cuda_harness import cuda_function, emulated_device, have_compilers

pytestmark = pytest.mark.skipif(not have_compilers(), reason="no C++ compiler for the emulator")

RNG = np.random.default_rng(3)


def places(f, op_name: str) -> set[str]:
    """Where the nodes of op class ``op_name`` run."""
    return {where for description, where in f.placement()
            if description.split(": ", 1)[1].split("{")[0] == op_name}


def check(got, want, rtol=0.0):
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        w = np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (k, g.dtype, w.dtype, g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=rtol, err_msg=f"output {k}")


def test_join():
    x = T.matrix("x", dtype="float32")
    y = T.matrix("y", dtype="float32")
    z = T.matrix("z", dtype="float32")
    k = T.matrix("k", dtype="int32")
    t = T.tensor3("t")
    outs = [T.join(0, x, y), T.join(1, x, z.T[:, ::-1]), T.join(0, x, k),  # float64 result
            T.join(2, t, t[:, :, ::2], t[:, :, :0]), T.join(1, x[:, :0], z.T)]
    f = cuda_function([x, y, z, k, t], outs)
    assert places(f, "Join") == {"cuda"}
    xv = RNG.standard_normal((3, 2)).astype("float32")
    yv = RNG.standard_normal((2, 2)).astype("float32")
    zv = RNG.standard_normal((4, 3)).astype("float32")
    kv = RNG.integers(-50, 50, (4, 2)).astype("int32")
    tv = RNG.standard_normal((2, 3, 5))
    want = [np.concatenate([xv, yv]), np.concatenate([xv, zv.T[:, ::-1]], axis=1),
            np.concatenate([xv, kv]), np.concatenate([tv, tv[:, :, ::2], tv[:, :, :0]], axis=2),
            np.concatenate([xv[:, :0], zv.T], axis=1)]
    check(f(xv, yv, zv, kv, tv), want)
    with pytest.raises(ExprcShapeError, match=r"Join\{axis=0\}: cannot join arrays of shapes "
                                              r"\(3, 2\), \(2, 3\): sizes differ"):
        f(xv, np.zeros((2, 3), "float32"), zv, kv, tv)


def test_split_makes_views():
    x = T.matrix("x")
    sizes = T.lvector("sizes")
    pieces = T.split(x, sizes, 3, axis=1)
    f = cuda_function([x, sizes], pieces)
    assert places(f, "Split") == {"cuda"}
    xv = RNG.standard_normal((2, 6))
    check(f(xv, np.array([1, 0, 5])), np.split(xv, [1, 1], axis=1))
    with pytest.raises(ExprcShapeError, match="cannot split an array of shape"):
        f(xv, np.array([1, 2, 4]))
    with using_device(emulated_device()) as device:
        xd = DeviceArray.from_host(device, xv)
        got = f.program([xd, np.array([2, 2, 2])])
    assert all(g.buffer is xd.buffer for g in got)
    check([g.to_host() for g in got], np.split(xv, 3, axis=1))


def test_arange_float_and_exact_integer_bounds():
    start, stop, step = T.scalar("start"), T.scalar("stop"), T.scalar("step")
    a, b = T.lscalar("a"), T.lscalar("b")
    w = T.vector("w")
    on_device = T.cast(w.sum(), "int64")  # an integer computed on the device
    outs = [T.arange(start, stop, step, dtype="float32"),
            T.arange(start, stop, step),
            T.arange(start, stop, step, dtype="int32"),
            T.arange(a, b, 3, dtype="float32"),            # exact integers, cast
            T.arange(on_device, 6, dtype="int16"),        # an integer arange on the device
            T.arange(b, a, -2, dtype="uint64")]
    f = cuda_function([start, stop, step, a, b, w], outs)
    assert places(f, "ARange") == {"cuda"}
    for sv, ev, tv, av, bv, wv in [(0.1, 2.0, 0.3, -5, 7, [1.0, 2.0]),
                                   (5.5, -1.0, -0.7, 3, 3, [2.0]),
                                   (0.0, 1.0, 2.0, 2**40, 2**40 + 7, [-3.0]),
                                   (1.0, 0.5, 1.0, 7, -3, [0.0])]:
        got = f(sv, ev, tv, av, bv, np.array(wv))
        d = int(np.sum(wv))
        want = [np.arange(sv, ev, tv, dtype="float32"), np.arange(sv, ev, tv),
                np.arange(sv, ev, tv, dtype="int32"), np.arange(av, bv, 3).astype("float32"),
                np.arange(d, 6).astype("int16"), np.arange(bv, av, -2).astype("uint64")]
        check(got, want)
    with pytest.raises(ExprcShapeError, match="step must not be zero"):
        f(0.0, 1.0, 0.0, 0, 1, np.zeros(1))


def test_eye():
    n, m, k = T.lscalar("n"), T.lscalar("m"), T.lscalar("k")
    f = cuda_function([n, m, k], [T.eye(n, m, k, dtype="float32"), T.eye(n, m, k, dtype="int8"),
                                  T.eye(n, m, k, dtype="bool")])
    assert places(f, "Eye") == {"cuda"}
    for nv, mv, kv in [(3, 4, 0), (4, 3, -1), (2, 5, 3), (3, 3, 10), (3, 3, -10), (0, 3, 0),
                       (3, 0, 1)]:
        check(f(nv, mv, kv), [np.eye(nv, mv, kv, dtype=d) for d in ("float32", "int8", "bool")])
    with pytest.raises(ExprcShapeError, match="negative size: n=-1, m=2"):
        f(-1, 2, 0)


def test_join_gradient_matches_the_reference():
    x = T.matrix("x")
    y = T.matrix("y")
    cost = (T.join(1, x, y) ** 2 * T.arange(5.0)).sum()
    outs = [cost, *exprc.grad(cost, [x, y])]
    f = cuda_function([x, y], outs)
    reference = exprc.function([x, y], outs, mode="REFERENCE")
    values = [RNG.standard_normal((3, 2)), RNG.standard_normal((3, 3))]
    check(f(*values), reference(*values), rtol=1e-12)
