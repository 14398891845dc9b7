"""The C toolchain: compiler discovery, flags, compile + load + call, errors, OpenBLAS."""

import ctypes
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import exprc
from exprc.link.c import blas
from exprc.link.c.toolchain import (
    FAST_FLAGS,
    OPENMP_FLAG,
    PARTS_MARKER,
    CompileError,
    accepts_flags,
    compile_flags,
    compile_shared,
    find_compiler,
    load_module,
)

CSRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "csrc")

SCALE_SOURCE = """
#include "exprc_common.h"
EXPRC_EXPORT void scale(const double *EXPRC_RESTRICT x, double *EXPRC_RESTRICT out,
                        double factor, exprc_int n) {
    for (exprc_int i = 0; i < n; i++) out[i] = factor * x[i];
}
"""
SCALE_DECL = "void scale(const double *x, double *out, double factor, int64_t n);"


@pytest.fixture(scope="module")
def compiler():
    return find_compiler()


def build(compiler, folder, source, declarations, flags=None, link_args=()):
    if flags is None:
        flags = compile_flags(compiler, optimize=False, openmp=False)
    source_path = folder / "module.c"
    source_path.write_text(source)
    compile_shared(compiler, source_path, folder / "module.so", (*flags, f"-I{CSRC}"), link_args)
    return load_module(folder / "module.so", declarations)


def test_compiler_identity_includes_version(compiler):
    assert os.path.isabs(compiler.command[0])
    assert compiler.version
    assert compiler.version.splitlines()[0] in compiler.identity


def test_cc_variable_with_several_words(compiler, monkeypatch):
    monkeypatch.setenv("CC", f"{compiler.command[0]} -DEXPRC_FROM_CC=1")
    found = find_compiler()
    assert found.command[1:] == ("-DEXPRC_FROM_CC=1",)


def test_missing_compiler_is_a_compile_error():
    with pytest.raises(CompileError, match="not found"):
        find_compiler("exprc-no-such-compiler")


def test_fast_and_optimized_flags(compiler):
    fast = compile_flags(compiler, optimize=False, openmp=False)
    full = compile_flags(compiler, openmp=False)
    assert set(FAST_FLAGS) <= set(fast) and "-O2" not in fast
    assert "-O2" in full and "-fno-math-errno" in full
    assert not any("fast-math" in flag for flag in full)
    assert OPENMP_FLAG not in full
    assert compile_flags(compiler, optimize=False, extra=("-DX=1",))[-1] == "-DX=1"


def test_compile_load_call_in_folder_with_spaces(compiler, tmp_path):
    folder = tmp_path / "a folder, with spaces"
    folder.mkdir()
    module = build(compiler, folder, SCALE_SOURCE, SCALE_DECL)
    x = np.arange(5.0)
    out = np.empty_like(x)
    module.scale(module.ffi.from_buffer("double[]", x), module.ffi.from_buffer("double[]", out),
                 2.5, x.size)
    np.testing.assert_array_equal(out, 2.5 * x)


def test_only_marked_functions_are_exported(compiler, tmp_path):
    source = SCALE_SOURCE + "double helper(double x) { return x; }\n"
    module = build(compiler, tmp_path, source, SCALE_DECL + "double helper(double x);")
    assert not hasattr(module, "helper")


def test_compile_error_names_command_stderr_and_source(compiler, tmp_path):
    with pytest.raises(CompileError) as info:
        build(compiler, tmp_path, "int broken(void) { return undefined_name; }\n",
              "int broken(void);")
    error = info.value
    assert "undefined_name" in error.stderr
    assert error.command[0] == compiler.command[0]
    assert error.source_path == tmp_path / "module.c" and error.source_path.exists()
    assert str(error.source_path) in str(error) and "undefined_name" in str(error)


def test_debug_levels_print_source_and_command(compiler, tmp_path, capsys):
    with exprc.config.change_flags(debug=3):
        build(compiler, tmp_path, SCALE_SOURCE, SCALE_DECL)
    err = capsys.readouterr().err
    assert "EXPRC_EXPORT void scale" in err and "-shared" not in err
    with exprc.config.change_flags(debug=4):
        build(compiler, tmp_path, SCALE_SOURCE, SCALE_DECL)
    assert "-shared" in capsys.readouterr().err


def test_full_optimisation_keeps_nan_and_inf(compiler, tmp_path):
    source = """
    #include <math.h>
    #include "exprc_common.h"
    EXPRC_EXPORT int is_nan(double x) { return isnan(x); }
    EXPRC_EXPORT double maximum(double a, double b) { return a > b ? a : b; }
    EXPRC_EXPORT double reciprocal(double x) { return 1.0 / x; }
    """
    decl = "int is_nan(double); double maximum(double, double); double reciprocal(double);"
    module = build(compiler, tmp_path, source, decl, flags=compile_flags(compiler, openmp=False))
    assert module.is_nan(math.nan) and not module.is_nan(1.0)
    assert math.isnan(module.maximum(1.0, math.nan))
    assert module.reciprocal(0.0) == math.inf


def test_openmp_loop(compiler, tmp_path):
    if not accepts_flags(compiler, (OPENMP_FLAG,)):
        pytest.skip("the compiler does not support OpenMP")
    source = """
    #include "exprc_common.h"
    EXPRC_EXPORT void square(const float *x, float *out, exprc_int n) {
        #pragma omp parallel for
        for (exprc_int i = 0; i < n; i++) out[i] = x[i] * x[i];
    }
    """
    flags = compile_flags(compiler, optimize=False, openmp=True)
    module = build(compiler, tmp_path, source, "void square(const float *, float *, int64_t);",
                   flags=flags)
    x = np.linspace(-1, 1, 10_000, dtype=np.float32)
    out = np.empty_like(x)
    module.square(module.ffi.from_buffer("float[]", x), module.ffi.from_buffer("float[]", out),
                  x.size)
    np.testing.assert_array_equal(out, x * x)


def test_blas_routines_bound_by_address_match_numpy():
    # The runtime library calls OpenBLAS through addresses found at load time, with the CBLAS
    # enumeration values of csrc/exprc_blas.h (row major 101, no transpose 111, transpose 112).
    sgemm = ctypes.CFUNCTYPE(None, *[ctypes.c_int] * 6, ctypes.c_float, ctypes.c_void_p,
                             ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_float,
                             ctypes.c_void_p, ctypes.c_int)(blas.blas_routine("cblas_sgemm"))
    rng = np.random.default_rng(0)
    m, n, k = 7, 5, 9
    at, b = rng.standard_normal((k, m), np.float32), rng.standard_normal((k, n), np.float32)
    c = np.empty((m, n), np.float32)
    sgemm(101, 112, 111, m, n, k, 2.0, at.ctypes.data, m, b.ctypes.data, n, 0.0,
          c.ctypes.data, n)
    np.testing.assert_allclose(c, 2.0 * at.T @ b, rtol=1e-5, atol=1e-5)


def test_program_loads_in_a_fresh_process(tmp_path):
    # A program records the runtime library by its full path, so a bare interpreter (no
    # LD_LIBRARY_PATH, nothing of exprc loaded) can load it.
    import exprc
    import exprc.tensor as T
    from exprc.cache.store import CompileCache

    x = T.matrix("x")
    cache = CompileCache(tmp_path)
    with exprc.config.change_flags(compiledir=str(tmp_path)):
        f = exprc.function([x], T.dot(x, x.T).sum())
    assert f(np.eye(2, dtype=x.dtype)) == 2
    programs = [e.path / "module.so" for e in cache.entries()
                if (e.path / "module.c").read_text().startswith(PARTS_MARKER)]
    assert programs
    script = "import ctypes, sys; ctypes.CDLL(sys.argv[1]).exprc_run"
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    subprocess.run([sys.executable, "-c", script, str(programs[0])], check=True, env=env)


def test_openblas_thread_count(compiler):
    before = blas.get_num_threads()
    try:
        blas.set_num_threads(1)
        assert blas.get_num_threads() == 1
    finally:
        blas.set_num_threads(before)
    with pytest.raises(ValueError):
        blas.set_num_threads(0)


UNLOAD_CHILD = r"""
import ctypes, gc, os, signal, sys, time
from pathlib import Path
import numpy as np
from exprc.link.c.toolchain import compile_flags, compile_shared, find_compiler, load_module

folder, csrc = Path(sys.argv[1]), sys.argv[2]
compiler = find_compiler()
flags = (*compile_flags(compiler, optimize=False, openmp=True), f"-I{csrc}")
source = '''
#include "exprc_common.h"
EXPRC_EXPORT void square(const float *x, float *out, exprc_int n) {
    #pragma omp parallel for
    for (exprc_int i = 0; i < n; i++) out[i] = x[i] * x[i];
}
'''

def square(k):
    path = folder / f"square{k}.c"
    path.write_text(source + f"/* {k} */\n")
    compile_shared(compiler, path, folder / f"square{k}.so", flags)
    module = load_module(folder / f"square{k}.so", "void square(const float *, float *, int64_t);")
    x = np.linspace(-1, 1, 100_000, dtype=np.float32)
    out = np.empty_like(x)
    module.square(module.ffi.from_buffer("float[]", x), module.ffi.from_buffer("float[]", out),
                  x.size)
    assert np.array_equal(out, x * x)

for k in range(2):
    square(k)   # the first module brings libgomp in, and starts its worker threads
    gc.collect()  # each module is unloaded once dropped
maps = open("/proc/self/maps").read()
assert "square0.so" not in maps and "square1.so" not in maps
# Wake every other thread: an idle OpenMP worker whose libgomp was unloaded with the module
# returns into unmapped code and crashes the process.
signal.signal(signal.SIGUSR1, lambda *args: None)
tgkill = ctypes.CDLL(None, use_errno=True).tgkill
for task in os.listdir("/proc/self/task"):
    if int(task) != os.getpid():
        tgkill(os.getpid(), int(task), signal.SIGUSR1)
time.sleep(0.2)
print("ok")
"""


def test_unloading_the_first_openmp_module_keeps_libgomp(compiler, tmp_path):
    """Modules are unloaded once dropped; libgomp, which the first OpenMP module brought in,
    must stay under its idle worker threads."""
    if not accepts_flags(compiler, (OPENMP_FLAG,)):
        pytest.skip("the compiler does not support OpenMP")
    if not os.path.exists("/proc/self/task") or not hasattr(ctypes.CDLL(None), "tgkill"):
        pytest.skip("needs Linux's /proc and glibc's tgkill")
    script = tmp_path / "unload.py"
    script.write_text(UNLOAD_CHILD)
    done = subprocess.run([sys.executable, str(script), str(tmp_path), CSRC],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", (done.returncode,
                                                                   done.stderr[-2000:])
