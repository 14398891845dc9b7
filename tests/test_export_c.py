"""Standalone C export: the program's interface, memory plan, weights, errors and portability.

Each exported program is compiled with ``-std=c99 -Wall -Wextra -Werror`` (a warning fails the
test) and its results are compared with the compiled exprc function's.
"""

from __future__ import annotations

import pickle
import re
import shutil
import subprocess

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcTypeError, ExprcValueError
from exprc.export.c import to_c
from exprc.export.c.program import ExportProgram
from exprc.export.graph import ExportError, c_identifier, prepare
from exprc.tensor.shared_randomstreams import RandomStreams
from tests.export_c_harness import CC, build_exported, have_compiler, run_exported, run_program

pytestmark = pytest.mark.skipif(not have_compiler(), reason="no C compiler")

RNG = np.random.default_rng(7)


def _f32(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _check(outputs, expected, rtol=1e-6, atol=1e-6):
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)


# --------------------------------------------------------------------------- programs
def test_elementwise_broadcasting_views_and_repeated_outputs(tmp_path):
    x = T.matrix("x", dtype="float32")
    v = T.vector("v", dtype="float32")
    W = exprc.shared(_f32(5), name="W")
    y = T.tanh(x * W + v.dimshuffle(0, "x")) * 2 + T.exp(-x)
    f = exprc.function([x, v], [y, y.T, x.dimshuffle(1, 0), y, T.cast(x > 0, "int8"), x])
    inputs = [_f32(3, 5), _f32(3)]
    _check(run_exported(f, inputs, tmp_path), f(*inputs))


def test_constant_and_shared_only_outputs(tmp_path):
    x = T.vector("x", dtype="float64")
    W = exprc.shared(np.arange(4.0), name="W")
    f = exprc.function([x], [x + 1, W * 2, T.constant(np.float64(3.5))])
    inputs = [np.linspace(-1, 1, 6)]
    _check(run_exported(f, inputs, tmp_path), f(*inputs))


def test_integer_and_bool_arithmetic_follow_numpy(tmp_path):
    a = T.vector("a", dtype="int32")
    b = T.vector("b", dtype="int32")
    f = exprc.function([a, b], [a // b, a % b, a * b + 7, (a > b) & (b > 0),
                                T.cast(a, "uint8")])
    inputs = [np.array([7, -7, 5, -3, 2**31 - 1, 0], "int32"),
              np.array([2, 2, -3, 0, 2, 0], "int32")]
    with np.errstate(all="ignore"):
        expected = f(*inputs)
    _check(run_exported(f, inputs, tmp_path), expected)


def test_memory_plan_of_a_chain_holds_one_buffer(tmp_path):
    """Six steps, each reading only the step before: after the first (which reads the caller's
    read-only input), every step writes over its input in place, so the arena holds one value
    of 1000 float32 (4000 bytes, 64-byte aligned), however long the chain."""
    x = T.matrix("x", dtype="float32")
    y = x
    for _ in range(3):
        y = T.nnet.softmax(T.tanh(y) * 3)
    f = exprc.function([x], y.sum())
    exe, files = build_exported(f, tmp_path, input_shapes=[(1, 1000)])
    inputs = [_f32(1, 1000)]
    _check(run_program(exe, files, inputs), [f(*inputs)], rtol=1e-5)
    assert files.arena_bytes == 4032

    graph = prepare(f, [(1, 1000)])
    program = ExportProgram(graph, "chain").build()
    steps = [n for n in graph.nodes if "tanh" in str(n.op)]
    assert len(steps) == 3
    for node in steps[1:]:  # the first reads the caller's input, which is read-only
        assert program.layouts[node.outputs[0]].buffer is program.layouts[node.inputs[0]].buffer


def test_in_place_is_refused_when_the_input_is_read_again(tmp_path):
    x = T.matrix("x", dtype="float32")
    a = T.nnet.softmax(x)
    b = T.exp(a) + a.T  # reads a through a transposed view while writing
    f = exprc.function([x], [b, a * 2])
    inputs = [_f32(5, 5)]
    _check(run_exported(f, inputs, tmp_path), f(*inputs), rtol=1e-5)


# --------------------------------------------------------------------------- memory
def test_static_memory_program_never_calls_malloc(tmp_path):
    x = T.matrix("x", dtype="float32")
    W = exprc.shared(_f32(4, 3), name="W")
    f = exprc.function([x], T.nnet.sigmoid(T.dot(x, W)).sum(axis=1) if hasattr(T, "nnet")
                       else T.tanh(x * 2).sum(axis=1))
    files = to_c(f, "net", tmp_path, input_shapes=[(2, 4)])
    source = files.source.read_text()
    assert not re.search(r"\b(malloc|calloc|realloc|free)\s*\(", source)
    # A main that replaces malloc with one that aborts while the program runs.
    (tmp_path / "main.c").write_text("""
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include "net.h"
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static int armed;
void *malloc(size_t n) { if (armed) abort(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (armed) abort(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (armed) abort(); return __libc_realloc(p, n); }
int main(void)
{
    float x[8], out[2];
    int status;
    for (int i = 0; i < 8; ++i) x[i] = (float)i / 8.0f - 0.5f;
    armed = 1;
    status = net_run(x, out);
    armed = 0;
    printf("%d %.9g %.9g\\n", status, out[0], out[1]);
    return status;
}
""")
    exe = tmp_path / "program"
    subprocess.run([CC, "-O2", "-std=gnu99", "-o", str(exe), str(tmp_path / "main.c"),
                    str(files.source), "-lm"], check=True, capture_output=True)
    done = subprocess.run([str(exe)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    status, *values = done.stdout.split()
    expected = f((np.arange(8, dtype="float32") / 8 - 0.5).reshape(2, 4))
    np.testing.assert_allclose([float(v) for v in values], expected, rtol=1e-5)


def test_dynamic_memory_and_caller_arena(tmp_path):
    x = T.vector("x", dtype="float64")
    f = exprc.function([x], T.sort(x) if hasattr(T, "sort") else x * 2)
    inputs = [np.array([3.0, -1.0, 2.0])]
    _check(run_exported(f, inputs, tmp_path, static_memory=False), [f(*inputs)])
    assert "malloc(" in (tmp_path / "model.c").read_text()


# --------------------------------------------------------------------------- weights
def _weights_function():
    x = T.vector("x", dtype="float32")
    W = exprc.shared(_f32(16), name="W")
    b = exprc.shared(_f32(16), name="b")
    return exprc.function([x], T.tanh(x * W + b))


def test_weights_file_round_trip_and_damage(tmp_path):
    f = _weights_function()
    exe, files = build_exported(f, tmp_path, input_shapes=[(16,)], weights="file")
    assert files.weights.stat().st_size == 64 + 128  # header, two 64-byte-aligned arrays
    assert "0x" not in files.source.read_text().split("_run_arena")[0][-2000:]
    inputs = [_f32(16)]
    _check(run_program(exe, files, inputs), [f(*inputs)])
    data = bytearray(files.weights.read_bytes())
    data[100] ^= 1
    files.weights.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="checksum"):
        run_program(exe, files, inputs)
    files.weights.write_bytes(bytes(data[:-3]))
    with pytest.raises(RuntimeError, match="truncated|checksum"):
        run_program(exe, files, inputs)
    files.weights.write_bytes(b"not a weights file" * 10)
    with pytest.raises(RuntimeError, match="header"):
        run_program(exe, files, inputs)


def test_embedded_weights_are_exact(tmp_path):
    x = T.vector("x", dtype="float64")
    special = np.array([0.1, -0.0, 1e-308, 5e-324, 1.7976931348623157e308, np.pi, -2.5, 3],
                       "float64")
    W = exprc.shared(special, name="W")
    f = exprc.function([x], x * 0 + W)
    got = run_exported(f, [np.zeros(8)], tmp_path)[0]
    assert got.tobytes() == (np.zeros(8) * 0 + special).tobytes()


# --------------------------------------------------------------------------- errors
def test_refuses_bad_names_and_options(tmp_path):
    f = _weights_function()
    for name in ["", "1net", "net-1", 'x"; system("rm -rf /"); //', "int", "a" * 40, "_x"]:
        with pytest.raises(ExprcValueError, match="C identifier"):
            to_c(f, name, tmp_path, input_shapes=[(16,)])
    with pytest.raises(ExprcTypeError):
        to_c(f, 3, tmp_path, input_shapes=[(16,)])
    with pytest.raises(ExprcValueError, match="weights"):
        to_c(f, "net", tmp_path, weights="cloud", input_shapes=[(16,)])
    assert list(tmp_path.iterdir()) == []


def test_refuses_updates_randomness_and_unknown_sizes(tmp_path):
    x = T.vector("x", dtype="float32")
    s = exprc.shared(np.float32(0), name="counter")
    f = exprc.function([x], x * 2, updates=[(s, s + 1)])
    with pytest.raises(ExportError, match="updates.*counter"):
        to_c(f, "net", tmp_path, input_shapes=[(3,)])
    rng = RandomStreams(1)
    g = exprc.function([x], x * rng.uniform(size=(3,), dtype="float32"))
    with pytest.raises(ExportError, match="random numbers.*deterministic"):
        to_c(g, "net", tmp_path, input_shapes=[(3,)])
    h = exprc.function([x], x + 1)
    with pytest.raises(ExportError, match="unknown size on axis 0.*input_shapes"):
        to_c(h, "net", tmp_path)
    with pytest.raises(ExprcValueError, match="has 1 axes"):
        to_c(h, "net", tmp_path, input_shapes=[(3, 4)])
    m = exprc.function([x], x[x > 0])
    with pytest.raises(ExportError, match="depends on the input values"):
        to_c(m, "net", tmp_path, input_shapes=[(3,)])


def test_hostile_input_and_output_names_become_identifiers(tmp_path):
    nasty = 'x */ #include "/etc/passwd" \n ??/'
    x = T.vector(nasty, dtype="float32")
    y = T.exp(x)
    y.name = "y\"); exit(1); //"
    f = exprc.function([exprc.In(x, name=nasty)], y)
    inputs = [_f32(4)]
    _check(run_exported(f, inputs, tmp_path), [f(*inputs)])
    for path in (tmp_path / "model.h", tmp_path / "model.c", tmp_path / "README.md"):
        text = path.read_text()
        assert "/etc/passwd" not in text, path.name
        for line in text.splitlines():  # the names' text only ever inside one closed comment
            if "exit(1)" in line:
                assert line.lstrip().startswith("/*") and line.count("*/") == 1 \
                    and line.rstrip().endswith("*/"), line
    assert c_identifier(nasty, "input0") == "x_include_etc_passwd_"
    assert "out_y_exit_1_" in (tmp_path / "model.h").read_text()


def test_command_line(tmp_path):
    from exprc.export.__main__ import main

    f = _weights_function()
    model = tmp_path / "model.pkl"
    model.write_bytes(pickle.dumps(f))
    out = tmp_path / "build"
    assert main(["c", str(model), "--name", "tiny", "--out", str(out), "--input-shape",
                 "16", "--weights", "file"]) == 0
    assert {p.name for p in out.iterdir()} == {"tiny.h", "tiny.c", "tiny.weights", "README.md"}
    assert main(["c", str(model), "--name", "tiny", "--out", str(out)]) == 1  # size unknown
    assert main(["c", str(tmp_path / "missing.pkl"), "--name", "t"]) == 2


# --------------------------------------------------------------------------- portability
AARCH64_CC = shutil.which("aarch64-linux-gnu-gcc")
QEMU = shutil.which("qemu-aarch64")


@pytest.mark.skipif(not (AARCH64_CC and QEMU),
                    reason="needs gcc-aarch64-linux-gnu and qemu-user "
                           "(apt-get install gcc-aarch64-linux-gnu qemu-user)")
def test_cross_compiled_for_aarch64_gives_the_same_results(tmp_path):
    x = T.matrix("x", dtype="float32")
    W = exprc.shared(_f32(6, 4), name="W")
    y = T.exp(-abs(x)) * W + T.log1p(x * x)
    f = exprc.function([x], [y, y.argmax(axis=1) if hasattr(y, "argmax") else y])
    inputs = [_f32(6, 4)]
    native = run_exported(f, inputs, tmp_path / "native")
    arm = run_exported(f, inputs, tmp_path / "arm", cc=AARCH64_CC, extra_flags=("-static",),
                       runner=(QEMU,))
    for a, b in zip(native, arm):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
