"""The C backend under bad input, on a whole training step, and in the compile cache.

- Bad arguments never crash the process: a fuzz loop (``tests/fuzz_child.py``, run in a child
  process) calls C-compiled functions of many op kinds with wrong dtypes, ranks, shapes,
  sizes, indices, layouts and values, and each call returns the reference executor's values or
  raises a Python exception; argument errors name the argument.
- Every node of the MNIST-style MLP training step runs natively, with the reference's results.
- Functions of one structure share one cache entry, and user names never reach the C source.

Defects the fuzz loop found are kept below as regression tests, each with its reproducer.
"""

import itertools
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.cache.store import CompileCache
from exprc.errors import ExprcTypeError
from exprc.link.c.linker import CProgram
from exprc.link.c.toolchain import PARTS_MARKER
from exprc.tensor import nnet
from tests.test_c_backend import assert_every_node_compiled

C_MODE = exprc.Mode(linker="c")
REPO = Path(__file__).resolve().parents[1]
FUZZ_SEED = 20240
FUZZ_CALLS = 500


# ---------------------------------------------------------------------- helpers
def _run_child(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python <args>`` from the repository root, with this process's environment."""
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ), check=False)


def _death(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit status {returncode}"


def _last_call(stdout: str) -> str:
    calls = [line for line in stdout.splitlines() if line.startswith("call ")]
    return calls[-1] if calls else "(no call started)"


def _in_child(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (for calls that may kill the process)."""
    return _run_child(["-c", code], timeout=60)


# ---------------------------------------------------------------------- 1. fuzzing
def test_bad_arguments_never_crash_and_match_the_reference():
    proc = _run_child(["-m", "tests.fuzz_child", "--seed", str(FUZZ_SEED),
                       "--calls", str(FUZZ_CALLS)])
    failures = [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
    if proc.returncode != 0:
        replay = (f"python -m tests.fuzz_child --seed {FUZZ_SEED} --first <k> --calls 1 "
                  "--no-attacks --verbose")
        pytest.fail(f"fuzz child: {_death(proc.returncode)} (seed {FUZZ_SEED})\n"
                    f"last call: {_last_call(proc.stdout)}\n" + "\n".join(failures[:20])
                    + f"\nreplay one call with: {replay}\nstderr:\n{proc.stderr[-3000:]}")
    done = re.search(r"done: (\d+) calls, 0 failures \(values: (\d+), argument errors: (\d+), "
                     r"run-time errors: (\d+)\)", proc.stdout)
    assert done, proc.stdout[-2000:]
    calls, values, argument_errors, runtime_errors = map(int, done.groups())
    # The loop is only worth something if every outcome is well represented.
    assert calls > FUZZ_CALLS  # the hand-picked attacks, then the random calls
    assert values > calls // 4 and argument_errors > calls // 10 and runtime_errors > calls // 10


def test_fuzz_child_reports_a_wrong_answer():
    """The judge of the fuzz loop flags a C result that differs from the reference."""
    from tests.fuzz_child import Outcome, judge

    ref = Outcome(values=[np.array([1.0, np.nan])])
    assert judge(Outcome(values=[np.array([1.0, np.nan])]), ref, ["x"]) is None
    assert "output 0" in judge(Outcome(values=[np.array([1.0, 2.0])]), ref, ["x"])
    assert "where the reference returned" in judge(Outcome(error=ValueError("no")), ref, ["x"])
    crash_like = Outcome(error=SystemError("bad"))
    assert "SystemError" in judge(crash_like, Outcome(error=ValueError("x")), ["x"])
    unnamed = Outcome(error=ExprcTypeError("wrong dtype"), in_bind=True)
    assert "does not name" in judge(unnamed, Outcome(error=ExprcTypeError("w"), in_bind=True),
                                    ["x"])


@pytest.mark.parametrize("bad, expected", [
    (np.ones((2, 2)), "must have 1 dimension"),
    (np.ones(3, "complex128"), "dtype complex128"),
    (np.array(["a", "b"]), "dtype str32"),
    (["a", "b"], "must be numeric"),
    (None, "must be numeric"),
    (np.array([object()]), "dtype object"),
    ([[1.0], [2.0, 3.0]], "cannot be converted"),
])
def test_argument_errors_name_the_input(bad, expected):
    x, i = T.dvector("x"), T.lvector("i")
    f = exprc.function([i, x], x[i] * 2, mode=C_MODE)
    with pytest.raises(ExprcTypeError) as info:
        f(np.array([0]), bad)
    message = str(info.value)
    assert expected in message and "'x'" in message and "argument 1" in message


def test_wrong_argument_count_and_keyword_are_type_errors():
    x, y = T.dvector("x"), T.dvector("y")
    f = exprc.function([x, y], x + y, mode=C_MODE)
    with pytest.raises(TypeError, match="missing input 'y'"):
        f(np.ones(2))
    with pytest.raises(TypeError, match="takes 2 input"):
        f(np.ones(2), np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match="no input named 'z'"):
        f(np.ones(2), z=np.ones(2))
    np.testing.assert_array_equal(f(np.ones(2), y=np.arange(2.0)), [1.0, 2.0])


# ---------------------------------------------------------------------- defects found
@pytest.mark.parametrize("mode", [C_MODE, "REFERENCE"], ids=["c", "reference"])
@pytest.mark.parametrize("downcast", [True, False])
@pytest.mark.parametrize("bad", [np.array(["1.5"]), np.array([1.5], dtype=object)])
def test_str_and_object_arrays_are_refused_even_when_downcasting_is_allowed(bad, downcast,
                                                                            mode):
    # NumPy's astype would parse '1.5' and call float() on objects: no number is guessed.
    x = T.dvector("x")
    f = exprc.function([x], x * 2, mode=mode, allow_input_downcast=downcast)
    with pytest.raises(ExprcTypeError, match=r"input 'x' \(argument 0\) must be numeric") as info:
        f(bad)
    assert f"dtype {bad.dtype.name}" in str(info.value)
    assert "allow_input_downcast" not in str(info.value)  # it would not help


@pytest.mark.parametrize("start, stop, step", [(-2**63, 2**63 - 1, 1),
                                               (2**63 - 1, -2**63, -1), (-2**62, 2**62, 1)])
def test_arange_longer_than_int64_is_refused(start, stop, step):
    a, b, s = T.lscalar("a"), T.lscalar("b"), T.lscalar("s")
    f = exprc.function([a, b, s], T.arange(a, b, s), mode=C_MODE)
    with pytest.raises((ValueError, MemoryError)):
        f(start, stop, step)


@pytest.mark.parametrize("start, stop, step", [(0, 6, 2**63 - 1), (3, -5, -2**63),
                                               (5, 0, -2**63 + 1), (0, 6, 2**63 - 5)])
def test_slice_with_a_huge_step_takes_one_element(start, stop, step):
    x, a, b, s = T.dvector("x"), T.lscalar("a"), T.lscalar("b"), T.lscalar("s")
    f = exprc.function([x, a, b, s], x[a:b:s], mode=C_MODE)
    value = np.arange(6.0)
    np.testing.assert_array_equal(f(value, start, stop, step), value[start:stop:step])


def test_reference_repeat_with_an_overflowing_length_raises():
    proc = _in_child(
        "import numpy as np, exprc, exprc.tensor as T\n"
        "x, r = T.dvector('x'), T.lscalar('r')\n"
        "f = exprc.function([x, r], T.repeat(x, r), mode='REFERENCE')\n"
        "try:\n    f(np.ones(4), 2**62)\n"
        "except (ValueError, MemoryError):\n    print('refused')\n")
    assert proc.returncode == 0 and "refused" in proc.stdout, _death(proc.returncode)


def test_reference_out_of_memory_is_a_memory_error():
    x, r = T.dvector("x"), T.lscalar("r")
    f = exprc.function([x, r], T.repeat(x, r), mode="REFERENCE")
    with pytest.raises(MemoryError, match="while computing Repeat"):
        f(np.ones(1), 2**40)


# ---------------------------------------------------------------------- 2. MLP runs natively
def _mlp_step(mode, seed: int = 0):
    """A 784-256-256-10 ReLU MLP's SGD step on a float32 batch with int labels."""
    rng = np.random.default_rng(seed)
    sizes = [784, 256, 256, 10]
    params = []
    for n_in, n_out in itertools.pairwise(sizes):
        w = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out)).astype("float32")
        params += [exprc.shared(w, name=f"W{len(params)}"),
                   exprc.shared(np.zeros(n_out, "float32"), name=f"b{len(params)}")]
    x, y = T.fmatrix("x"), T.ivector("y")
    h = x
    for k in range(0, len(params) - 2, 2):
        h = T.maximum(T.dot(h, params[k]) + params[k + 1], 0)
    p = nnet.softmax(T.dot(h, params[-2]) + params[-1])
    cost = nnet.categorical_crossentropy(p, y).mean()
    grads = exprc.grad(cost, params)
    updates = [(v, v - np.float32(0.1) * g) for v, g in zip(params, grads)]
    return exprc.function([x, y], cost, updates=updates, mode=mode), params


def test_mlp_training_step_runs_every_node_natively():
    f, params = _mlp_step(C_MODE)
    placement = f.placement()
    assert isinstance(f.program, CProgram)
    assert_every_node_compiled(f)
    assert len(placement) == len(f.fgraph.toposort()) > 10
    elsewhere = [node for node, backend in placement if backend != "c"]
    assert not elsewhere, f"nodes not running in C: {elsewhere}"

    g, ref_params = _mlp_step("REFERENCE")
    rng = np.random.default_rng(1)
    for _ in range(3):
        xb = rng.random((64, 784), dtype=np.float32)
        yb = rng.integers(0, 10, 64).astype("int32")
        np.testing.assert_allclose(f(xb, yb), g(xb, yb), rtol=1e-4)
    for mine, theirs in zip(params, ref_params):
        np.testing.assert_allclose(mine.get_value(), theirs.get_value(), rtol=1e-4, atol=1e-5,
                                   err_msg=mine.name)


# ---------------------------------------------------------------------- 3. cache and names
def _affine(names: tuple[str, str, str]):
    x, w, b = T.dvector(names[0]), T.dmatrix(names[1]), T.dvector(names[2])
    return [x, w, b], T.tanh(T.dot(w, x) + b)


def _programs(cache: CompileCache) -> list:
    """The cache's entries that are programs (not the runtime library or the call path)."""
    return [e for e in cache.entries()
            if (e.path / "module.c").read_text().startswith(PARTS_MARKER)]


def test_functions_of_one_structure_share_one_cache_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPRC_CACHE_DIR", str(tmp_path))
    cache = CompileCache(tmp_path)
    f = exprc.function(*_affine(("x", "W", "b")), mode=C_MODE)
    assert len(_programs(cache)) == 1
    g = exprc.function(*_affine(("inputs", "weights", "bias")), mode=C_MODE)
    assert g.program.source == f.program.source
    assert len(_programs(cache)) == 1
    args = [np.arange(3.0), np.ones((2, 3)), np.array([0.5, -0.5])]
    np.testing.assert_allclose(g(*args), f(*args))
    np.testing.assert_allclose(f(*args), np.tanh(args[1] @ args[0] + args[2]))
    # Another structure is another entry (so the count above can tell).
    x = T.dvector("x")
    exprc.function([x], T.sinh(x), mode=C_MODE)
    assert len(_programs(cache)) == 2


def test_c_hostile_names_never_reach_the_source():
    name = 'a"; system("rm -rf /"); //\n*/'
    x, y = T.dvector(name), T.dvector("*/ int injected_by_name; /*")
    f = exprc.function([x, y], (x * 2 + y).sum(), mode=C_MODE)
    source = f.program.source
    for fragment in (name, "system(", "rm -rf", "injected_by_name", 'a"'):
        assert fragment not in source
    assert float(f(np.arange(3.0), np.ones(3))) == 9.0
    with pytest.raises(ExprcTypeError) as info:
        f(np.ones((2, 2)), np.ones(3))
    assert repr(name) in str(info.value) and "argument 0" in str(info.value)
