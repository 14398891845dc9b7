"""Reductions and BLAS coefficients on the C backend, against NumPy and the reference executor.

Sums are pairwise (``csrc/exprc_reduce.h``), so a float32 sum of millions of elements must be
about as accurate as NumPy's; every axis set of 3-d and 4-d inputs of any layout must give
NumPy's values; the result must not depend on the number of OpenMP threads; and a Gemm, Gemv
or Ger whose ``beta`` (or ``alpha``) is 0 must keep the NaN of ``0 * NaN`` as the reference
executor does.
"""

import itertools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.tensor.blas import Gemm, Gemv, Ger

C_MODE = exprc.Mode(linker="c")


def _c_function(inputs, outputs):
    return exprc.function(inputs, outputs, mode=C_MODE)


def _sum_error(got, x, axis=None):
    exact = x.astype(np.float64).sum(axis=axis)
    return np.max(np.abs(np.asarray(got, dtype=np.float64) - exact)), exact


def _ulp(value):
    return np.spacing(np.float32(np.max(np.abs(value))))


# ------------------------------------------------------------------ accuracy of float32 sums
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_float32_sum_of_ten_million_is_as_accurate_as_numpy(layout):
    rng = np.random.default_rng(1)
    base = rng.random(2 * 10**7 if layout == "strided" else 10**7, dtype=np.float32)
    x = base[::2] if layout == "strided" else base
    v = T.vector("v", dtype="float32")
    got = _c_function([v], T.sum(v))(x)
    ours, exact = _sum_error(got, x)
    numpy_error, _ = _sum_error(x.sum(), x)
    bound = 4 * max(numpy_error, _ulp(exact))
    assert ours <= bound, (ours, numpy_error)
    # A sequential float32 sum is far outside the bound, so the test can tell the two apart.
    sequential, _ = _sum_error(np.cumsum(x, dtype=np.float32)[-1], x)
    assert sequential > 10 * bound


@pytest.mark.parametrize("axis", [0, 1])
def test_float32_axis_sums_are_as_accurate_as_numpy(axis):
    rng = np.random.default_rng(2)
    shape = (2**17, 48) if axis == 0 else (48, 2**17)
    x = rng.random(shape, dtype=np.float32) + np.float32(1)
    m = T.matrix("m", dtype="float32")
    got = _c_function([m], T.sum(m, axis=axis))(x)
    ours, exact = _sum_error(got, x, axis)
    numpy_error, _ = _sum_error(x.sum(axis=axis), x, axis)
    assert ours <= 4 * max(numpy_error, _ulp(exact)), (ours, numpy_error)


def test_float32_mean_is_accurate():
    x = np.random.default_rng(3).random(3 * 10**6, dtype=np.float32)
    v = T.vector("v", dtype="float32")
    got = _c_function([v], T.mean(v))(x)
    exact = x.astype(np.float64).mean()
    assert abs(float(got) - exact) <= 4 * max(abs(float(x.mean()) - exact), _ulp(exact))


# ------------------------------------------------------------------ every axis set, any layout
def _axis_sets(ndim):
    return [axes for r in range(ndim + 1) for axes in itertools.combinations(range(ndim), r)]


def _layouts(x):
    """``x`` as it is, transposed, sliced with steps, reversed."""
    nd = x.ndim
    yield "contiguous", x
    yield "transposed", x.transpose(tuple(reversed(range(nd))))
    yield "rolled", x.transpose(tuple(range(1, nd)) + (0,))
    yield "strided", x[(slice(None, None, 2),) * nd]
    yield "reversed", x[::-1, ..., ::-1]


@pytest.mark.parametrize("ndim", [3, 4])
def test_every_axis_set_on_every_layout_float64(ndim):
    rng = np.random.default_rng(ndim)
    shape = (6, 5, 4, 7)[:ndim]
    base = rng.standard_normal(tuple(2 * s for s in shape))
    t = T.TensorType("float64", shape=(None,) * ndim)("t")
    sets = _axis_sets(ndim)
    outputs = []
    for axes in sets:
        outputs += [T.sum(t, axis=axes), T.prod(t, axis=axes), T.max(t, axis=axes),
                    T.min(t, axis=axes)]
    f = _c_function([t], outputs)
    for name, x in _layouts(base):
        got = f(x)
        for k, axes in enumerate(sets):
            expected = [x.sum(axis=axes), x.prod(axis=axes), x.max(axis=axes),
                        x.min(axis=axes)]
            for g, e, op in zip(got[4 * k:4 * k + 4], expected, ("sum", "prod", "max", "min")):
                np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12,
                                           err_msg=f"{op} over {axes} of {name}")


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64", "bool"])
def test_integer_and_bool_reductions_are_exact(dtype):
    rng = np.random.default_rng(7)
    base = rng.integers(0, 2 if dtype == "bool" else 100, size=(40, 30, 50)).astype(dtype)
    if dtype in ("int8", "int32", "int64"):
        base = base - base.astype(dtype).max() // 2
    t = T.TensorType(dtype, shape=(None, None, None))("t")
    sets = _axis_sets(3)
    outputs = []
    for axes in sets:
        outputs += [T.sum(t, axis=axes), T.any(t, axis=axes), T.all(t, axis=axes),
                    T.max(t, axis=axes)]
    f = _c_function([t], outputs)
    for name, x in _layouts(base):
        got = f(x)
        for k, axes in enumerate(sets):
            expected = [x.sum(axis=axes), x.any(axis=axes), x.all(axis=axes),
                        x.max(axis=axes)]
            for g, e in zip(got[4 * k:4 * k + 4], expected):
                assert g.dtype == e.dtype, (axes, name, g.dtype, e.dtype)
                np.testing.assert_array_equal(g, e, err_msg=f"{axes} of {name}")


def test_int64_sum_wraps_around_as_numpy():
    x = np.full(1000, 2**61, dtype="int64")
    v = T.vector("v", dtype="int64")
    f = _c_function([v], [T.sum(v), T.prod(v[:3])])
    total, product = f(x)
    assert total == x.sum() and product == x[:3].prod()


def test_large_integer_sum_is_exact():
    x = np.random.default_rng(8).integers(-2**40, 2**40, size=3 * 10**6)
    m = T.matrix("m", dtype="int64")
    f = _c_function([m], [T.sum(m), T.sum(m, axis=0), T.sum(m, axis=1)])
    x = x.reshape(3000, 1000)
    for g, e in zip(f(x), [x.sum(), x.sum(axis=0), x.sum(axis=1)]):
        np.testing.assert_array_equal(g, e)


# ------------------------------------------------------------------ empty reductions
def test_empty_reductions_give_the_identity():
    m = T.matrix("m")
    f = _c_function([m], [T.sum(m, axis=0), T.sum(m, axis=1), T.prod(m, axis=0), T.sum(m),
                          T.any(m, axis=0), T.all(m, axis=0)])
    x = np.zeros((0, 5))
    got = f(x)
    expected = [x.sum(axis=0), x.sum(axis=1), x.prod(axis=0), x.sum(), x.any(axis=0),
                x.all(axis=0)]
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_array_equal(g, e)


def test_max_of_an_empty_axis_is_a_value_error():
    m = T.matrix("m")
    f = _c_function([m], T.max(m, axis=0))
    with pytest.raises(ValueError, match="empty"):
        f(np.zeros((0, 3)))
    np.testing.assert_array_equal(f(np.zeros((3, 0))), np.zeros((0,)))


def test_nan_propagates_through_max_min_and_sum():
    x = np.arange(3000.0).reshape(30, 100)
    x[17, 42] = np.nan
    m = T.matrix("m")
    f = _c_function([m], [T.max(m), T.min(m, axis=0), T.sum(m, axis=1)])
    got = f(x)
    expected = [x.max(), x.min(axis=0), x.sum(axis=1)]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, equal_nan=True)


# ------------------------------------------------------------------ threads
_THREADS_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import exprc, exprc.tensor as T
    rng = np.random.default_rng(5)
    big = rng.random(3 * 2**20 + 77, dtype=np.float32)
    wide = rng.random((1500, 1003), dtype=np.float32)
    tall = rng.random((2**16 + 5, 40), dtype=np.float32)
    v = T.vector("v", dtype="float32")
    m = T.matrix("m", dtype="float32")
    f = exprc.function([v, m], [T.sum(v), T.max(v), T.sum(m, axis=0), T.sum(m, axis=1),
                                T.sum(m)], mode=exprc.Mode(linker="c"))
    g = exprc.function([m], [T.sum(m, axis=0), T.sum(m)], mode=exprc.Mode(linker="c"))
    outs = list(f(big, wide)) + list(f(big[::3], wide.T)) + list(g(tall))
    np.savez(sys.argv[1], *outs)
""")


def test_result_does_not_depend_on_the_thread_count(tmp_path):
    results = []
    for threads in (1, 2, 3):
        path = tmp_path / f"threads{threads}.npz"
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        subprocess.run([sys.executable, "-c", _THREADS_CHILD, str(path)], check=True, env=env,
                       cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with np.load(path) as data:
            results.append([data[k] for k in sorted(data.files, key=lambda s: int(s[4:]))])
    rng = np.random.default_rng(5)
    big = rng.random(3 * 2**20 + 77, dtype=np.float32)
    wide = rng.random((1500, 1003), dtype=np.float32)
    tall = rng.random((2**16 + 5, 40), dtype=np.float32)
    expected = [big.sum(dtype=np.float64), big.max(), wide.sum(0, dtype=np.float64),
                wide.sum(1, dtype=np.float64), wide.sum(dtype=np.float64)]
    expected += [big[::3].sum(dtype=np.float64), big[::3].max(),
                 wide.T.sum(0, dtype=np.float64), wide.T.sum(1, dtype=np.float64),
                 wide.sum(dtype=np.float64)]
    expected += [tall.sum(0, dtype=np.float64), tall.sum(dtype=np.float64)]
    for got, e in zip(results[0], expected):
        np.testing.assert_allclose(got, e, rtol=2e-6)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ BLAS with zero coefficients
def _blas_case(op, dtype):
    z = T.TensorType(dtype, shape=(None,) * (1 if op is Gemv else 2))("z")
    a, b = T.scalar("a", dtype=dtype), T.scalar("b", dtype=dtype)
    if op is Gemm:
        x, y = T.matrix("x", dtype=dtype), T.matrix("y", dtype=dtype)
        shapes = [(4, 5), (4, 3), (3, 5)]
    elif op is Gemv:
        x, y = T.matrix("x", dtype=dtype), T.vector("y", dtype=dtype)
        shapes = [(4,), (4, 3), (3,)]
    else:
        x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
        shapes = [(4, 5), (4,), (5,)]
    return [z, a, x, y, b], op()(z, a, x, y, b), shapes


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", [Gemm, Gemv, Ger], ids=lambda o: o.__name__)
def test_zero_coefficients_keep_nan_as_the_reference(op, dtype):
    inputs, out, shapes = _blas_case(op, dtype)
    f = _c_function(inputs, out)
    assert any(isinstance(n.op, op) for n in f.fgraph.toposort())
    reference = exprc.function(inputs, out, mode="REFERENCE")
    rng = np.random.default_rng(9)
    z, x, y = (rng.standard_normal(s).astype(dtype) for s in shapes)
    z.flat[0], z.flat[-1] = np.nan, np.inf
    x.flat[1] = np.nan
    for alpha, beta in [(1.5, 0.0), (0.0, 1.0), (0.0, 0.0), (-0.5, 2.0)]:
        args = [z, np.array(alpha, dtype), x, y, np.array(beta, dtype)]
        with np.errstate(invalid="ignore"):
            expected = reference(*[np.copy(v) for v in args])
        got = f(*[np.copy(v) for v in args])
        np.testing.assert_allclose(got, expected, rtol=1e-5, equal_nan=True,
                                   err_msg=f"alpha={alpha} beta={beta}")
        assert np.array_equal(np.isnan(got), np.isnan(expected))
