"""csrc/exprc_math.h: accuracy in ulp against NumPy, special values, and vectorization.

Each function is applied to a NumPy array through a small compiled harness.  The reference for
float32 is float64 NumPy (or libm through ``math`` for erf/erfc) rounded once; for float64 it is
NumPy's long double where the platform has one wider than double, else the check is looser.
"""

import math
import os
import re
import subprocess

import numpy as np
import pytest

from exprc.link.c.toolchain import compile_flags, compile_shared, find_compiler, load_module

CSRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "csrc")

UNARY = (
    "exp", "expm1", "log", "log1p", "log2", "log10", "exp2", "sin", "cos", "tan", "tanh", "sinh",
    "cosh", "sigmoid", "softplus", "erf", "erfc", "atan", "asin", "acos", "asinh", "acosh", "atanh",
)
BINARY = ("atan2", "pow")
LIBM_FLOAT64 = {"sin", "cos", "tan", "pow"}
"""float64 functions that call libm, so their loops are not expected to vectorize."""

MAX_ULP_FLOAT32 = 2.0
MAX_ULP_FLOAT64 = 4.0
WIDE_LONG_DOUBLE = np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant


def _ctype(dtype):
    return "float" if dtype == np.float32 else "double"


def _harness_source():
    lines = ['#include "exprc_common.h"', '#include "exprc_math.h"']
    for dtype, suffix in ((np.float32, "f"), (np.float64, "")):
        t = _ctype(dtype)
        for name in UNARY:
            lines.append(
                f"EXPRC_EXPORT void v_{name}{suffix}(const {t} *EXPRC_RESTRICT x, "
                f"{t} *EXPRC_RESTRICT out, exprc_int n) "
                f"{{ for (exprc_int i = 0; i < n; i++) out[i] = exprc_{name}{suffix}(x[i]); }}")
        for name in BINARY:
            lines.append(
                f"EXPRC_EXPORT void v_{name}{suffix}(const {t} *EXPRC_RESTRICT x, "
                f"const {t} *EXPRC_RESTRICT y, {t} *EXPRC_RESTRICT out, exprc_int n) "
                f"{{ for (exprc_int i = 0; i < n; i++) "
                f"out[i] = exprc_{name}{suffix}(x[i], y[i]); }}")
    return "\n".join(lines) + "\n"


def _declarations():
    decls = []
    for dtype, suffix in ((np.float32, "f"), (np.float64, "")):
        t = _ctype(dtype)
        decls += [f"void v_{n}{suffix}(const {t} *, {t} *, int64_t);" for n in UNARY]
        decls += [f"void v_{n}{suffix}(const {t} *, const {t} *, {t} *, int64_t);"
                  for n in BINARY]
    return "\n".join(decls)


@pytest.fixture(scope="module")
def compiler():
    return find_compiler()


@pytest.fixture(scope="module")
def harness(compiler, tmp_path_factory):
    folder = tmp_path_factory.mktemp("c_math")
    source = folder / "harness.c"
    source.write_text(_harness_source())
    flags = (*compile_flags(compiler, optimize=False, openmp=False), f"-I{CSRC}")
    compile_shared(compiler, source, folder / "harness.so", flags, ("-lm",))
    return load_module(folder / "harness.so", _declarations())


def apply(module, name, dtype, *args):
    """Run ``exprc_<name>`` (``f`` suffix for float32) elementwise over NumPy arrays."""
    args = [np.ascontiguousarray(a, dtype=dtype) for a in args]
    out = np.empty_like(args[0])
    suffix = "f" if dtype == np.float32 else ""
    ptr = f"{_ctype(dtype)}[]"
    getattr(module, f"v_{name}{suffix}")(*[module.ffi.from_buffer(ptr, a) for a in args],
                                         module.ffi.from_buffer(ptr, out), out.size)
    return out


# --- references ---------------------------------------------------------------------------------

def _erf_ref(x, complement):
    f = np.frompyfunc(math.erfc if complement else math.erf, 1, 1)
    return f(np.asarray(x, dtype=np.float64)).astype(np.float64)


def _softplus(x):
    return np.logaddexp(np.zeros_like(x), x)


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


REFERENCES = {
    "exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "log2": np.log2,
    "log10": np.log10, "exp2": np.exp2, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh, "sigmoid": _sigmoid,
    "softplus": _softplus, "erf": lambda x: _erf_ref(x, False),
    "erfc": lambda x: _erf_ref(x, True), "atan": np.arctan, "asin": np.arcsin,
    "acos": np.arccos, "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh,
    "atan2": np.arctan2, "pow": np.power,
}


def reference(name, dtype, *args):
    """The correctly rounded result to within far less than an ulp of ``dtype``."""
    wide = np.longdouble if dtype == np.float64 else np.float64
    if name in ("erf", "erfc"):  # libm's double erf: under 1 ulp of float64
        wide = np.float64
    with np.errstate(all="ignore"):
        return REFERENCES[name](*[np.asarray(a, dtype=dtype).astype(wide) for a in args])


def ulp_error(got, ref, dtype):
    """Largest error in units of the last place of ``dtype`` (at the reference value)."""
    with np.errstate(all="ignore"):
        rounded = ref.astype(dtype)
        finite = np.isfinite(rounded)
        assert np.array_equal(np.isnan(got), np.isnan(rounded)), "NaN where NumPy has none"
        assert np.array_equal(got[~finite & ~np.isnan(got)], rounded[~finite & ~np.isnan(got)])
        if not finite.any():
            return 0.0
        spacing = np.spacing(np.abs(rounded[finite])).astype(ref.dtype)
        err = np.abs(got[finite].astype(ref.dtype) - ref[finite]) / spacing
        return float(np.max(err))


# --- samples ------------------------------------------------------------------------------------

SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1e-30,
                    -1e-30, 1e-45, 5e-324, 1e30, -1e30, 1e300, -1e300, 88.72, -103.9, 709.78,
                    -745.1, 3.0e38, -3.0e38])


def _uniform(rng, lo, hi, n):
    return rng.uniform(lo, hi, n)


def _logspace(rng, lo_exp, hi_exp, n, signed=True):
    x = 10.0 ** rng.uniform(lo_exp, hi_exp, n)
    return x * rng.choice([-1.0, 1.0], n) if signed else x


def samples(name, dtype, rng, n=20000):
    """Dense samples of the usual range, then extreme magnitudes, then special values."""
    big = 38 if dtype == np.float32 else 307
    tiny = -45 if dtype == np.float32 else -320
    near_one = 1 - _logspace(rng, -16, 0, n, False)
    parts = {
        "exp": [_uniform(rng, -110, 90, n), _uniform(rng, -750, 712, n), _uniform(rng, -1, 1, n)],
        "exp2": [_uniform(rng, -155, 130, n), _uniform(rng, -1080, 1030, n)],
        "expm1": [_uniform(rng, -3, 3, n), _logspace(rng, tiny, 0, n), _uniform(rng, -50, 712, n)],
        "sigmoid": [_uniform(rng, -20, 20, n), _uniform(rng, -750, 750, n)],
        "softplus": [_uniform(rng, -20, 20, n), _uniform(rng, -750, 750, n)],
        "tanh": [_uniform(rng, -5, 5, n), _logspace(rng, tiny, 2, n)],
        "sinh": [_uniform(rng, -5, 5, n), _logspace(rng, tiny, 3, n)],
        "cosh": [_uniform(rng, -5, 5, n), _logspace(rng, tiny, 3, n)],
        "sin": [_uniform(rng, -10, 10, n), _logspace(rng, tiny, big, n)],
        "cos": [_uniform(rng, -10, 10, n), _logspace(rng, tiny, big, n)],
        "tan": [_uniform(rng, -10, 10, n), _logspace(rng, tiny, big, n)],
        "erf": [_uniform(rng, -6, 6, n), _logspace(rng, tiny, 2, n)],
        "erfc": [_uniform(rng, -6, 30, n), _logspace(rng, tiny, 2, n)],
        "atan": [_uniform(rng, -4, 4, n), _logspace(rng, tiny, big, n)],
        "asin": [_uniform(rng, -1, 1, n), _logspace(rng, tiny, 0, n), near_one],
        "acos": [_uniform(rng, -1, 1, n), _logspace(rng, tiny, 0, n), near_one],
        "asinh": [_uniform(rng, -5, 5, n), _logspace(rng, tiny, big, n)],
        "acosh": [_uniform(rng, 1, 5, n), 1 + _logspace(rng, -16, big, n, False)],
        "atanh": [_uniform(rng, -1, 1, n), _logspace(rng, tiny, 0, n), near_one],
    }
    default = [_uniform(rng, 0, 4, n), _logspace(rng, tiny, big, n, False), _uniform(rng, -1, 4, n),
               _logspace(rng, tiny, 0, n)]
    with np.errstate(all="ignore"):
        x = np.concatenate(parts.get(name, default) + [SPECIAL]).astype(dtype)
    return x


def binary_samples(name, dtype, rng, n=20000):
    big = 38 if dtype == np.float32 else 307
    if name == "atan2":
        y = np.concatenate([rng.uniform(-4, 4, n), _logspace(rng, -30, big, n)])
        x = np.concatenate([rng.uniform(-4, 4, n), _logspace(rng, -30, big, n)])
    else:
        x = np.concatenate([rng.uniform(0, 4, n), _logspace(rng, -30, 30, n, False),
                            -np.round(rng.uniform(0, 20, n))])
        y = np.concatenate([rng.uniform(-30, 30, n), rng.uniform(-3, 3, n),
                            np.round(rng.uniform(-20, 20, n))])
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0,
                        -3.0])
    sx, sy = np.meshgrid(special, special)
    with np.errstate(all="ignore"):
        return (np.concatenate([x, sx.ravel()]).astype(dtype),
                np.concatenate([y, sy.ravel()]).astype(dtype))


def max_ulp(module, name, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if name in BINARY:
        args = binary_samples(name, dtype, rng)
    else:
        args = (samples(name, dtype, rng),)
    got = apply(module, name, dtype, *args)
    return ulp_error(got, reference(name, dtype, *args), dtype)


# --- tests --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [*UNARY, *BINARY])
def test_float32_within_two_ulp(harness, name):
    assert max_ulp(harness, name, np.float32) <= MAX_ULP_FLOAT32


@pytest.mark.parametrize("name", [*UNARY, *BINARY])
def test_float64_within_a_few_ulp(harness, name):
    limit = MAX_ULP_FLOAT64 if WIDE_LONG_DOUBLE and name not in ("erf", "erfc") else 8.0
    assert max_ulp(harness, name, np.float64) <= limit


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values(harness, dtype):
    def check(name, x, expected):
        got = apply(harness, name, dtype, np.array([x]))[0]
        if np.isnan(expected):
            assert np.isnan(got), (name, x)
        else:
            assert got == expected and np.signbit(got) == np.signbit(expected), (name, x, got)

    inf, nan = np.inf, np.nan
    check("exp", -inf, 0.0)
    check("exp", inf, inf)
    check("exp", 1000.0, inf)
    check("exp", -1000.0, 0.0)
    check("log", 0.0, -inf)
    check("log", -0.0, -inf)
    check("log", -1.0, nan)
    check("log", inf, inf)
    check("log1p", -1.0, -inf)
    check("log1p", -0.0, -0.0)
    check("expm1", -0.0, -0.0)
    check("expm1", -inf, -1.0)
    check("tanh", inf, 1.0)
    check("tanh", -inf, -1.0)
    check("tanh", -0.0, -0.0)
    check("sinh", -inf, -inf)
    check("cosh", -inf, inf)
    check("sigmoid", -1000.0, 0.0)
    check("sigmoid", -inf, 0.0)
    check("sigmoid", inf, 1.0)
    check("softplus", 1000.0, 1000.0)
    check("softplus", -inf, 0.0)
    check("softplus", inf, inf)
    check("erf", -inf, -1.0)
    check("erfc", -inf, 2.0)
    check("erfc", inf, 0.0)
    check("atanh", 1.0, inf)
    check("atanh", -1.0, -inf)
    check("acosh", 0.5, nan)
    check("sin", inf, nan)
    check("sin", -0.0, -0.0)
    check("atan", -inf, -np.pi / 2 if dtype == np.float64 else np.float32(-np.pi / 2))
    for name in UNARY:
        assert np.isnan(apply(harness, name, dtype, np.array([nan]))[0]), name


def test_subnormal_results(harness):
    x = np.array([-740.0, -720.0, -708.5])
    assert np.array_equal(apply(harness, "exp", np.float64, x), np.exp(x))
    xf = np.array([-100.0, -90.0, -87.5], dtype=np.float32)
    assert np.array_equal(apply(harness, "exp", np.float32, xf), np.exp(xf.astype(np.float64))
                          .astype(np.float32))


def test_loops_vectorize_at_full_optimization(compiler, tmp_path):
    """Every loop but the libm-backed float64 ones vectorizes with the optimized flags."""
    if "gcc" not in compiler.version.lower() and "free software" not in compiler.version.lower():
        pytest.skip("the vectorization report is gcc's")
    source = tmp_path / "harness.c"
    source.write_text(_harness_source())
    missing = _not_vectorized(compiler, source, tmp_path)
    if missing and _native_march(compiler) == "icelake-client":
        # GCC's cost model for this target declines the loops of the functions that read a
        # coefficient table (erf, erfc, asin, acos, atan2), which it vectorizes for the
        # server parts of the same instruction set: the kernels are vectorizable as written.
        missing = _not_vectorized(compiler, source, tmp_path, ["-mtune=icelake-server"])
    assert not missing, f"not vectorized: {missing}"


def _native_march(compiler) -> str:
    done = subprocess.run([*compiler.command, "-march=native", "-Q", "--help=target"],
                          capture_output=True, text=True, check=False)
    found = re.search(r"^\s*-march=\s*(\S+)", done.stdout, re.M)
    return found.group(1) if found else ""


def _not_vectorized(compiler, source, tmp_path, extra=()) -> list[str]:
    """The kernels of the harness whose loops GCC reports not vectorized (libm's float64
    ones aside), with the optimized flags and ``extra``."""
    command = [*compiler.command, *compile_flags(compiler, openmp=False), *extra, f"-I{CSRC}",
               "-fopt-info-vec-optimized", "-c", "-o", str(tmp_path / "harness.o"), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    vectorized = {int(m) for m in re.findall(r"harness\.c:(\d+):\d+: optimized: loop vectorized",
                                             done.stderr)}
    missing = []
    for number, line in enumerate(source.read_text().splitlines(), start=1):
        found = re.search(r"exprc_(\w+)\(x", line)
        if found is None:
            continue
        name = found.group(1)
        if name in LIBM_FLOAT64:  # the float64 names; the float32 ones end in f
            continue
        if number not in vectorized:
            missing.append(name)
    return missing


# --- float32 kernels: dense sweep over the bit patterns ----------------------------------------

NATIVE_FLOAT32 = ("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan",
                  "tanh")
"""The float32 functions evaluated in float arithmetic (the others round a double result)."""


def every_float32(stride):
    """Every ``stride``-th float32 bit pattern: all binades of both signs, inf and NaN."""
    bits = np.arange(0, 1 << 32, stride, dtype=np.uint64).astype(np.uint32)
    with np.errstate(over="ignore"):  # SPECIAL's float64-only magnitudes become inf
        return np.concatenate([bits.view(np.float32), SPECIAL.astype(np.float32)])


@pytest.mark.parametrize("name", NATIVE_FLOAT32)
def test_float32_kernels_over_every_binade(harness, name):
    x = every_float32(4099)  # a prime stride: about a million arguments, varied mantissas
    got = apply(harness, name, np.float32, x)
    assert ulp_error(got, reference(name, np.float32, x), np.float32) <= MAX_ULP_FLOAT32


@pytest.mark.parametrize("name", NATIVE_FLOAT32)
def test_float32_kernels_dense_near_the_origin(harness, name):
    x = np.linspace(-12, 12, 400001, dtype=np.float32)
    got = apply(harness, name, np.float32, x)
    assert ulp_error(got, reference(name, np.float32, x), np.float32) <= MAX_ULP_FLOAT32


def test_float32_kernel_limits(harness):
    """Overflow to inf, gradual underflow, subnormal arguments and huge trigonometric ones."""
    f32 = np.float32
    exp_args = np.array([88.72, 88.73, 89.5, -87.5, -100.0, -103.9, -104.0, -200.0], dtype=f32)
    with np.errstate(over="ignore"):
        expected = np.exp(exp_args.astype(np.float64)).astype(f32)
    assert np.array_equal(apply(harness, "exp", f32, exp_args), expected)
    assert np.array_equal(apply(harness, "exp2", f32, np.array([128.0, -149.0, -150.0], f32)),
                          np.array([np.inf, 2.0 ** -149, 0.0], f32))
    subnormal = np.array([1e-45, 3e-40, 1e-38], dtype=f32)
    for name in ("log", "log2", "log10"):
        got = apply(harness, name, f32, subnormal)
        assert ulp_error(got, reference(name, f32, subnormal), f32) <= MAX_ULP_FLOAT32
    huge = np.array([3.4e38, -3.4e38, 1e30, 2.0 ** 100, 123456789.0], dtype=f32)
    for name in ("sin", "cos", "tan"):
        got = apply(harness, name, f32, huge)
        assert ulp_error(got, reference(name, f32, huge), f32) <= MAX_ULP_FLOAT32
    assert apply(harness, "expm1", f32, np.array([89.0], f32))[0] == np.inf
    assert apply(harness, "tanh", f32, np.array([9.02], f32))[0] == 1.0
    assert np.signbit(apply(harness, "tan", f32, np.array([-0.0], f32))[0])
    assert np.signbit(apply(harness, "log1p", f32, np.array([-0.0], f32))[0])
