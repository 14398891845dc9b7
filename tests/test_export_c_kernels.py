"""Standalone C export of the products, convolutions and pooling (the portable GEMM, conv and
pool kernels of ``csrc/exprc_portable_*.h``).

Each test puts many nodes into one function (one compile each, to keep the module fast),
exports it with :func:`exprc.export.c.to_c`, compiles it with ``-std=c99 -Wall -Wextra
-Werror`` and compares every output with the compiled exprc function's (float32 within 1e-5
relative), and the products also with NumPy. Sizes straddle the GEMM's blocking (tiles of 4
rows and 8 float / 4 double columns, 256 steps of the sum, 128 rows, 1024 columns), inputs are
transposed or strided views, and NaNs must propagate as the reference says. One test compiles
with ``-DEXPRC_USE_CBLAS`` against the OpenBLAS exprc itself uses, one runs LeNet end to end.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.export.graph import prepare
from exprc.tensor.blas import Gemm, Gemv, Ger, gemm_no_inplace
from exprc.tensor.linalg import BatchedDot, Dot
from exprc.tensor.nnet.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights
from exprc.tensor.signal.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool, pool_2d
from tests.export_c_harness import build_exported, have_compiler, run_exported, run_program

pytestmark = pytest.mark.skipif(not have_compiler(), reason="no C compiler")

RNG = np.random.default_rng(20261208)
DTYPES = ["float32", "float64"]


def _normal(shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


def _tolerance(dtype) -> float:
    return 1e-5 if np.dtype(dtype) == np.float32 else 1e-10


def _compare(got, want, label):
    want = np.asarray(want)
    assert got.shape == want.shape, f"{label}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{label}: dtype {got.dtype} != {want.dtype}"
    if want.dtype.kind == "f":
        # Relative to the size of the values: sums of products cancel.
        finite = np.abs(want[np.isfinite(want)])
        scale = max(float(finite.max(initial=0.0)), 1.0)
        np.testing.assert_allclose(got, want, rtol=_tolerance(want.dtype),
                                   atol=_tolerance(want.dtype) * scale, equal_nan=True,
                                   err_msg=label)
    else:
        np.testing.assert_array_equal(got, want, err_msg=label)


def _check(f, inputs, directory, labels, numpy=None, **options):
    """The exported program's outputs equal ``f``'s, those of the same graph on the reference
    executor, and ``numpy``'s where given; returns them."""
    reference = exprc.function([i.variable for i in f.inputs],
                               [o.variable for o in f.outputs], mode="REFERENCE")
    with np.errstate(all="ignore"):
        expected = f(*inputs)
        specified = reference(*inputs)
    expected = expected if isinstance(expected, list) else [expected]
    specified = specified if isinstance(specified, list) else [specified]
    got = run_exported(f, inputs, directory, **options)
    assert len(got) == len(expected) == len(labels)
    for k, (g, w, r) in enumerate(zip(got, expected, specified)):
        _compare(g, w, labels[k])
        _compare(g, r, labels[k] + " (reference executor)")
        if numpy is not None and numpy[k] is not None:
            _compare(g, np.asarray(numpy[k]).astype(g.dtype), labels[k] + " (NumPy)")
    return got


def _ops(f, shapes) -> set:
    """The op classes the export runs (after the rewrites), to check a test tests them."""
    return {type(node.op) for node in prepare(f, shapes).nodes}


# --------------------------------------------------------------------------- blas
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_gemv_ger(tmp_path, dtype):
    x = T.matrix("x", dtype=dtype)
    w = T.matrix("w", dtype=dtype)
    wt = T.matrix("wt", dtype=dtype)
    b = T.vector("b", dtype=dtype)
    z = T.matrix("z", dtype=dtype)
    a = T.scalar("a", dtype=dtype)
    c = T.scalar("c", dtype=dtype)
    v = T.vector("v", dtype=dtype)
    u = T.vector("u", dtype=dtype)
    r = T.vector("r", dtype=dtype)
    row = T.matrix("row", dtype=dtype)
    zero, two = np.asarray(0, dtype), np.asarray(2, dtype)
    outs = {
        "x @ w + b (bias row)": T.dot(x, w) + b,
        "x @ wt.T + b (transposed weights)": T.dot(x, wt.T) + b,
        "a * x @ w + c * z (run-time scalars)": a * T.dot(x, w) + c * z,
        "beta 0 keeps z's NaN": gemm_no_inplace(z, T.constant(two), x, w, T.constant(zero)),
        "z larger than the product": gemm_no_inplace(T.concatenate([z, z])[:9], a, row, w, c),
        "w.T @ v + u (Gemv of a transposed matrix)": T.dot(w.T, v) + u,
        "v @ wt.T * a - u": T.dot(v, wt.T) * a - u,
        "a * outer(r, b) + z (Ger)": T.outer(r, b) * a + z,
        "Gemm in place over an intermediate": T.tanh(T.dot(x, w) + T.exp(z)),
    }
    f = exprc.function([x, w, wt, b, z, a, c, v, u, r, row], list(outs.values()))
    xs, ws, wts = _normal((13, 37), dtype), _normal((37, 11), dtype), _normal((11, 37), dtype)
    bs, zs, vs, us = (_normal((11,), dtype), _normal((13, 11), dtype), _normal((37,), dtype),
                      _normal((11,), dtype))
    rs, rows = _normal((13,), dtype), _normal((1, 37), dtype)
    zs[2, 3] = np.nan
    a_, c_ = np.asarray(1.5, dtype), np.asarray(-0.25, dtype)
    assert {Gemm, Gemv, Ger} <= _ops(f, [s.shape for s in (xs, ws, wts, bs, zs, a_, c_, vs, us,
                                                           rs, rows)])
    with np.errstate(invalid="ignore"):
        numpy = [xs @ ws + bs, xs @ wts.T + bs, a_ * (xs @ ws) + c_ * zs, 0 * zs + 2 * (xs @ ws),
                 c_ * np.concatenate([zs, zs])[:9] + a_ * (rows @ ws), ws.T @ vs + us,
                 (vs @ wts.T) * a_ - us, np.outer(rs, bs) * a_ + zs,
                 np.tanh(xs @ ws + np.exp(zs))]
    got = _check(f, [xs, ws, wts, bs, zs, a_, c_, vs, us, rs, rows], tmp_path, list(outs),
                 numpy)
    assert np.isnan(got[3][2, 3]) and np.isnan(got[3]).sum() == 1


# --------------------------------------------------------------------------- dot
def _has_avx2() -> bool:
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


@pytest.mark.parametrize("flags", [
    pytest.param((), id="baseline"),
    # With AVX the tiles are twice as wide: the planned work memory must fit them too.
    pytest.param(("-mavx2",), id="avx2", marks=pytest.mark.skipif(
        not _has_avx2(), reason="this processor has no AVX2")),
])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dot_every_rank_and_blocking_edge(tmp_path, dtype, flags):
    names = ["a", "b", "c", "d", "e", "g", "h", "p", "q", "r", "s"]
    shapes = [(130, 513), (513, 1030), (37,), (37, 5), (1, 9), (9, 1), (5, 3), (7, 5),
              (3, 0), (100, 70), (29, 37)]
    args = [T.tensor(dtype, shape=(None,) * len(s), name=n) for n, s in zip(names, shapes)]
    a, b, c, d, e, g, h, p, q, r, s = args
    outs = {
        "130x513 @ 513x1030 (past every block size)": T.dot(a, b),
        "vector . vector": T.dot(c, c),
        "vector @ matrix": T.dot(c, d),
        "matrix @ vector": T.dot(d.T, c),
        "strided vector @ strided matrix": T.dot(c[::2], d[::2, ::-1]),
        "1x9 @ 9x1": T.dot(e, g),
        "9x1 @ 1x9 (outer as a product)": T.dot(g, e),
        "transposed @ transposed": T.dot(h.T, p.T),
        "p @ h": T.dot(p, h),
        "5x3 @ 3x0: an empty result": T.dot(h, q),
        "inner size 0": T.dot(h[:, :0], T.zeros((0, 4), dtype=dtype)),
        "100 rows: B read in place, not packed": T.dot(r, a[:70, :33]),
        "row-major matrix @ vector (dot products)": T.dot(s, c),
        "3 rows @ vector (fewer than 4 dot products)": T.dot(s[:3], c),
        "vector @ 1030 columns (one row of A)": T.dot(a[0], b),
    }
    f = exprc.function(args, list(outs.values()))
    values = [_normal(s, dtype) for s in shapes]
    assert Dot in _ops(f, shapes)
    a_, b_, c_, d_, e_, g_, h_, p_, q_, r_, s_ = values
    numpy = [a_ @ b_, c_ @ c_, c_ @ d_, d_.T @ c_, c_[::2] @ d_[::2, ::-1], e_ @ g_, g_ @ e_,
             h_.T @ p_.T, p_ @ h_, h_ @ q_, np.zeros((5, 4), dtype), r_ @ a_[:70, :33],
             s_ @ c_, s_[:3] @ c_, a_[0] @ b_]
    _check(f, values, tmp_path, list(outs), numpy, extra_flags=flags)


def test_dot_integers_booleans_and_mixed_dtypes(tmp_path):
    i = T.matrix("i", dtype="int32")
    j = T.matrix("j", dtype="int32")
    s = T.vector("s", dtype="int8")
    bl = T.matrix("bl", dtype="bool")
    x = T.matrix("x", dtype="float32")
    y = T.matrix("y", dtype="float64")
    outs = {
        "int32 @ int32": T.dot(i, j), "int32 transposed": T.dot(j.T, i.T),
        "int8 wraps around": T.dot(s, s), "bool @ bool": T.dot(bl, bl.T),
        "float32 @ float64": T.dot(x, y), "int32 @ float32": T.dot(i, x.T[:, :4]),
    }
    f = exprc.function([i, j, s, bl, x, y], list(outs.values()))
    i_ = RNG.integers(-1000, 1000, (4, 6)).astype("int32")
    j_ = RNG.integers(-1000, 1000, (6, 4)).astype("int32")
    s_ = np.array([100, 100, -7, 3], "int8")
    bl_ = RNG.random((3, 5)) < 0.3
    x_, y_ = _normal((4, 6)), _normal((6, 2), "float64")
    numpy = [i_ @ j_, j_.T @ i_.T, np.dot(s_, s_), np.dot(bl_, bl_.T), x_ @ y_,
             np.dot(i_, x_.T[:, :4])]
    _check(f, [i_, j_, s_, bl_, x_, y_], tmp_path, list(outs), numpy)


@pytest.mark.parametrize("dtype", DTYPES + ["int16"])
def test_batched_dot(tmp_path, dtype):
    a = T.tensor3("a", dtype=dtype)
    b = T.tensor3("b", dtype=dtype)
    outs = {
        "batched": T.batched_dot(a, b),
        "transposed entries": T.batched_dot(b.dimshuffle(0, 2, 1), a.dimshuffle(0, 2, 1)),
        "strided batch and rows": T.batched_dot(a[::2, ::-1], b[::2]),
    }
    f = exprc.function([a, b], list(outs.values()))
    if dtype == "int16":
        a_ = RNG.integers(-50, 50, (5, 9, 7)).astype(dtype)
        b_ = RNG.integers(-50, 50, (5, 7, 10)).astype(dtype)
    else:
        a_, b_ = _normal((5, 9, 7), dtype), _normal((5, 7, 10), dtype)
    assert BatchedDot in _ops(f, [a_.shape, b_.shape])
    numpy = [a_ @ b_, b_.transpose(0, 2, 1) @ a_.transpose(0, 2, 1), a_[::2, ::-1] @ b_[::2]]
    _check(f, [a_, b_], tmp_path, list(outs), numpy)


# --------------------------------------------------------------------------- conv
CONV_CASES = [  # (image shape, filter shape, keyword arguments)
    ((2, 3, 9, 11), (4, 3, 3, 5), {}),
    ((2, 3, 9, 11), (4, 3, 3, 5), {"border_mode": "full", "filter_flip": False}),
    ((1, 2, 8, 7), (3, 2, 3, 3), {"border_mode": "half", "subsample": (2, 3)}),
    ((2, 4, 10, 9), (6, 2, 2, 3), {"border_mode": (1, 2), "num_groups": 2}),
    ((1, 2, 12, 13), (2, 2, 3, 2), {"filter_dilation": (2, 3), "border_mode": "half"}),
    ((3, 5, 6, 7), (9, 5, 1, 1), {}),  # pointwise: no im2col
    ((2, 1, 28, 28), (20, 1, 5, 5), {}),  # LeNet's first layer
    ((1, 1, 1, 1), (1, 1, 1, 1), {"border_mode": "full"}),
    ((2, 3, 5, 5), (2, 3, 5, 5), {"subsample": (2, 2)}),
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d(tmp_path, dtype):
    inputs, outs, values = [], {}, []
    for k, (ishape, fshape, kwargs) in enumerate(CONV_CASES):
        x = T.tensor4(f"x{k}", dtype=dtype)
        w = T.tensor4(f"w{k}", dtype=dtype)
        inputs += [x, w]
        values += [_normal(ishape, dtype), _normal(fshape, dtype)]
        outs[f"conv2d {ishape} {fshape} {kwargs}"] = T.nnet.conv2d(x, w, **kwargs)
    # A transposed input (NHWC stored, read as NCHW) and transposed filters.
    xt = T.tensor4("xt", dtype=dtype)
    wt = T.tensor4("wt", dtype=dtype)
    inputs += [xt, wt]
    values += [_normal((2, 9, 11, 3), dtype), _normal((3, 5, 3, 4), dtype)]
    outs["conv2d of NHWC and transposed filters"] = T.nnet.conv2d(
        xt.dimshuffle(0, 3, 1, 2), wt.dimshuffle(3, 2, 0, 1), border_mode=(2, 1))
    outs["conv2d of a reversed, strided view"] = T.nnet.conv2d(inputs[0][:, :, ::-1, ::2],
                                                               inputs[1])
    outs["1x1 conv2d of a strided view (im2col, not pointwise)"] = T.nnet.conv2d(
        inputs[10][:, :, :, ::2], inputs[11])
    f = exprc.function(inputs, list(outs.values()))
    assert Conv2d in _ops(f, [v.shape for v in values])
    _check(f, values, tmp_path, list(outs))


TRANSPOSE_CASES = [  # (input of the transpose, filters, output rows and cols, kwargs)
    ((2, 4, 5, 7), (4, 3, 3, 3), (7, 9), {}),
    ((1, 4, 5, 4), (4, 2, 3, 3), (9, 10), {"border_mode": "half", "input_dilation": (2, 3)}),
    ((2, 6, 6, 5), (6, 2, 2, 3), (5, 3), {"border_mode": (1, 2), "num_groups": 3,
                                          "filter_flip": False}),
    ((1, 3, 6, 6), (3, 2, 1, 1), (6, 6), {}),  # pointwise
    ((1, 2, 4, 3), (2, 2, 3, 2), (8, 5), {"filter_dilation": (2, 2)}),
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_transposed_convolution_and_gradients(tmp_path, dtype):
    inputs, outs, values = [], {}, []
    for k, (gshape, fshape, size, kwargs) in enumerate(TRANSPOSE_CASES):
        gy = T.tensor4(f"gy{k}", dtype=dtype)
        w = T.tensor4(f"w{k}", dtype=dtype)
        inputs += [gy, w]
        values += [_normal(gshape, dtype), _normal(fshape, dtype)]
        channels = fshape[1] * kwargs.get("num_groups", 1)
        outs[f"conv2d_transpose {gshape} {fshape} {kwargs}"] = T.nnet.conv2d_transpose(
            gy, w, (gshape[0], channels) + size, **kwargs)
    # The gradients of a convolution w.r.t. its input and filters (strided output gradient).
    x = T.tensor4("x", dtype=dtype)
    w = T.tensor4("w", dtype=dtype)
    gy = T.tensor4("gy", dtype=dtype)
    y = T.nnet.conv2d(x, w, border_mode=(1, 0), subsample=(2, 1), num_groups=2)
    gx, gw = exprc.grad((y * gy.dimshuffle(0, 1, 3, 2)).sum(), [x, w])
    inputs += [x, w, gy]
    values += [_normal((2, 4, 9, 8), dtype), _normal((4, 2, 3, 3), dtype),
               _normal((2, 4, 6, 5), dtype)]
    outs["gradient w.r.t. the input"] = gx
    outs["gradient w.r.t. the filters"] = gw
    xp = T.tensor4("xp", dtype=dtype)
    wp = T.tensor4("wp", dtype=dtype)
    gp = T.tensor4("gp", dtype=dtype)
    yp = T.nnet.conv2d(xp, wp)
    outs["pointwise filter gradient"] = exprc.grad((yp * gp).sum(), wp)
    inputs += [xp, wp, gp]
    values += [_normal((3, 5, 4, 6), dtype), _normal((2, 5, 1, 1), dtype),
               _normal((3, 2, 4, 6), dtype)]
    f = exprc.function(inputs, list(outs.values()))
    ops = _ops(f, [v.shape for v in values])
    assert {Conv2dGradInputs, Conv2dGradWeights} <= ops
    _check(f, values, tmp_path, list(outs))


# --------------------------------------------------------------------------- pool
POOL_CASES = [  # (ws, ignore_border, stride, pad)
    ((2, 2), True, None, (0, 0)),
    ((3, 2), False, (2, 3), (0, 0)),
    ((3, 3), True, (1, 1), (1, 1)),
    ((2, 3), True, (3, 2), (1, 2)),
    ((4, 4), False, None, (0, 0)),
    ((1, 1), True, (2, 2), (0, 0)),
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_pool_modes_borders_and_nans(tmp_path, dtype):
    x = T.tensor4("x", dtype=dtype)
    x3 = T.tensor3("x3", dtype=dtype)
    outs = {}
    for mode in ("max", "sum", "average_inc_pad", "average_exc_pad"):
        for ws, ignore_border, stride, pad in POOL_CASES:
            outs[f"{mode} ws={ws} ignore_border={ignore_border} stride={stride} pad={pad}"] = \
                pool_2d(x, ws, ignore_border, stride, pad, mode)
    outs["max of a transposed view"] = pool_2d(x.dimshuffle(1, 0, 3, 2), (2, 3), True)
    outs["average of a strided 3-d view"] = pool_2d(x3[::2, :, ::-1], (3, 2), False, (1, 2),
                                                    mode="average_exc_pad")
    f = exprc.function([x, x3], list(outs.values()))
    xs = _normal((2, 3, 9, 11), dtype)
    xs[0, 1, 4, 5] = np.nan  # one NaN: every max window over it is NaN, the others are not
    xs[1, 2, 0, 0] = -np.inf
    x3s = _normal((5, 7, 8), dtype)
    assert Pool in _ops(f, [xs.shape, x3s.shape])
    got = _check(f, [xs, x3s], tmp_path, list(outs))
    first = got[0]  # max 2x2: window (2, 2) of image (0, 1) holds the NaN
    assert np.isnan(first[0, 1, 2, 2]) and np.isnan(first).sum() == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_pool_gradients(tmp_path, dtype):
    x = T.tensor4("x", dtype=dtype)
    g = T.tensor4("g", dtype=dtype)
    outs = {}
    for mode in ("max", "sum", "average_inc_pad", "average_exc_pad"):
        y = pool_2d(x, (3, 2), True, (2, 1), (1, 1), mode)
        outs[f"{mode} gradient"] = exprc.grad((y * g).sum(), x)
    y = pool_2d(x, (2, 2), False, mode="max")
    gx = exprc.grad((y * g[:, :, :5, :6]).sum(), x)
    outs["max gradient, partial windows"] = gx
    outs["max gradient's gradient (MaxPoolGradGrad)"] = exprc.grad((gx * x).sum(), g)
    f = exprc.function([x, g], list(outs.values()))
    xs = np.round(_normal((2, 3, 9, 11), dtype), 1)  # rounded: ties, resolved row-major
    gs = _normal((2, 3, 5, 12), dtype)
    assert {MaxPoolGrad, MaxPoolGradGrad, AveragePoolGrad} <= _ops(f, [xs.shape, gs.shape])
    _check(f, [xs, gs], tmp_path, list(outs))


# --------------------------------------------------------------------------- CBLAS
def _openblas():
    try:
        import scipy_openblas32 as sob
    except ImportError:
        return None
    include, lib = Path(sob.get_include_dir()), Path(sob.get_lib_dir())
    if not (include / "cblas.h").is_file():
        return None
    return include, lib, sob.get_library()


@pytest.mark.skipif(_openblas() is None, reason="the scipy-openblas32 wheel is not installed")
def test_products_through_cblas(tmp_path):
    include, lib, name = _openblas()
    # The harness puts these flags before the sources: the linker must keep the library
    # although nothing needed it yet at that point (GNU ld's --as-needed would drop it).
    flags = (f"-I{include}", "-DEXPRC_CBLAS_PREFIX=scipy_", f"-L{lib}", f"-Wl,-rpath,{lib}",
             "-Wl,--no-as-needed", f"-l{name}")
    x = T.matrix("x", dtype="float32")
    w = T.matrix("w", dtype="float32")
    z = T.matrix("z", dtype="float32")
    v = T.vector("v", dtype="float64")
    m = T.matrix("m", dtype="float64")
    img = T.tensor4("img", dtype="float32")
    fil = T.tensor4("fil", dtype="float32")
    zero, one = np.float32(0), np.float32(1)
    outs = {
        "x @ w.T": T.dot(x, w.T),
        "beta 0 keeps z's NaN": gemm_no_inplace(z, T.constant(one), x, w.T, T.constant(zero)),
        "alpha 0 keeps the product's NaN": gemm_no_inplace(z, T.constant(zero), x, w.T,
                                                           T.constant(one)),
        "float64 matrix @ vector": T.dot(m.T, v),
        "conv2d": T.nnet.conv2d(img, fil, border_mode="half"),
    }
    f = exprc.function([x, w, z, v, m, img, fil], list(outs.values()))
    xs, ws, zs = _normal((7, 33)), _normal((10, 33)), _normal((7, 10))
    zs[1, 2] = np.nan
    xs[4, 0] = np.inf  # row 4 of the product is inf or NaN: alpha 0 makes it NaN
    values = [xs, ws, zs, _normal((9,), "float64"), _normal((9, 6), "float64"),
              _normal((2, 3, 8, 8)), _normal((4, 3, 3, 3))]
    got = _check(f, values, tmp_path, list(outs), blas=True, extra_flags=flags)
    assert np.isnan(got[1][1, 2]) and np.isnan(got[2][4]).all()
    undefined = subprocess.run(["nm", "-u", str(tmp_path / "program")], capture_output=True,
                               text=True).stdout if shutil.which("nm") else "scipy_cblas_sgemm"
    assert "scipy_cblas_sgemm" in undefined and "scipy_cblas_dgemm" in undefined


# --------------------------------------------------------------------------- aarch64
AARCH64_CC = shutil.which("aarch64-linux-gnu-gcc")
QEMU = shutil.which("qemu-aarch64")


@pytest.mark.skipif(not (AARCH64_CC and QEMU),
                    reason="needs gcc-aarch64-linux-gnu and qemu-user "
                           "(apt-get install gcc-aarch64-linux-gnu qemu-user)")
@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_cross_compiled_for_aarch64(tmp_path, dtype):
    """The same kernels built for 64-bit Arm (NEON instead of SSE2 vectors) and run under
    emulation give what the native build gives."""
    x = T.tensor4("x", dtype=dtype)
    w = T.tensor4("w", dtype=dtype)
    m = T.matrix("m", dtype=dtype)
    v = T.matrix("v", dtype=dtype)
    y = pool_2d(T.nnet.conv2d(x, w, border_mode="half"), (2, 2))
    f = exprc.function([x, w, m, v], [y, T.dot(m, v.T), exprc.grad((y ** 2).sum(), w)])
    inputs = [_normal(s, dtype) for s in ((2, 3, 9, 9), (5, 3, 3, 3), (13, 70), (21, 70))]
    native = run_exported(f, inputs, tmp_path / "native")
    arm = run_exported(f, inputs, tmp_path / "arm", cc=AARCH64_CC, extra_flags=("-static",),
                       runner=(QEMU,))
    for a, b in zip(native, arm):
        np.testing.assert_allclose(a, b, rtol=_tolerance(dtype), atol=_tolerance(dtype))


# --------------------------------------------------------------------------- LeNet
def test_lenet_end_to_end(tmp_path):
    """LeNet of examples/mnist_lenet.py (float32, random weights, nonzero biases, batch 8)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    try:
        import mnist_lenet
    finally:
        sys.path.pop(0)
    from exprc import nn

    with exprc.config.change_flags(floatX="float32"):
        network = mnist_lenet.build_network()
        for param in nn.layers.get_all_params(network):
            value = param.get_value()
            scale = 0.1 if value.ndim > 1 else 0.5  # biases: nonzero, so the adds are real
            param.set_value((RNG.standard_normal(value.shape) * scale).astype(value.dtype))
        x = T.tensor4("x", dtype="float32")
        f = exprc.function([x], nn.layers.get_output(network, x, deterministic=True))
    images = RNG.random((8, 1, 28, 28)).astype("float32")
    assert {Conv2d, Pool, Gemm} <= _ops(f, [images.shape])
    exe, files = build_exported(f, tmp_path, input_shapes=[images.shape])
    (got,) = run_program(exe, files, [images])
    want = f(images)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert (got.argmax(axis=1) == want.argmax(axis=1)).all()
