"""The C backend (``Mode(linker="c")``) against the reference executor.

Every registry case whose rewritten graph the C backend covers is compiled to one native
function and compared with ``REFERENCE``; cases it does not cover yet are skipped with the op
that is missing. Builds use the quick compile flags and a cache folder shared by the module.
"""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.cache.store import CompileCache
from exprc.compile.mode import Mode
from exprc.link.c.linker import CProgram
from exprc.link.c.program import C_CODE, CUnsupportedError, c_comment, generate
from exprc.link.c.toolchain import CToolchain
from exprc.tensor.subtensor import ExprcIndexError
from tests.registry import load_all

# Sparse values are scipy.sparse matrices: functions holding them run on the reference
# executor by design (every sparse op is exempt from C_CODE), so their cases are not C cases.
CASES = [c for c in load_all() if not c.module.endswith(("cases_sparse", "cases_sparse_math"))]
C_MODE = Mode(linker="c")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return CompileCache(tmp_path_factory.mktemp("c_backend_cache"), CToolchain())


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def compile_c(inputs, outputs, cache, **kwargs):
    """A FAST_RUN-rewritten function running on a quickly built C program."""
    f = exprc.function(inputs, outputs, mode="FAST_RUN", on_unused_input="ignore", **kwargs)
    f.program = CProgram(f.fgraph, cache=cache, optimize=False)
    return f


def _tolerance(case, dtype):
    # Sums accumulate in another order than NumPy's pairwise summation.
    floor = 1e-4 if dtype == "float32" else 1e-9
    return max(case.rtol, floor), max(case.atol, floor)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_registry_case_matches_reference(case, cache):
    symbols = case.symbols()
    outputs = _as_list(case.build(*symbols))
    probe = exprc.function(symbols, outputs, mode="FAST_RUN", on_unused_input="ignore")
    try:
        generate(probe.fgraph.inputs, probe.fgraph.outputs)
    except CUnsupportedError as exc:
        pytest.skip(str(exc).split(" (node")[0])
    f = compile_c(symbols, outputs, cache)
    reference = exprc.function(symbols, outputs, mode="REFERENCE", on_unused_input="ignore")
    values = case.sample(0)
    try:
        expected = _as_list(reference(*[v.copy() for v in values]))
    except (ValueError, IndexError, TypeError, MemoryError) as exc:
        # The C backend must fail with the same kind of exception.
        kind = next((k for k in (IndexError, ValueError, TypeError, MemoryError)
                     if isinstance(exc, k)), Exception)
        with pytest.raises(kind):
            f(*values)
        return
    got = _as_list(f(*values))
    for var, g, e in zip(outputs, got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype, f"{case}: {g.dtype}{g.shape}"
        rtol, atol = _tolerance(case, var.dtype)
        if g.dtype.kind in "biu":
            np.testing.assert_array_equal(g, e, err_msg=str(case))
        else:
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=str(case))


def assert_every_node_compiled(f):
    """Every node of ``f``'s program has its code in the C source that runs (the generator
    marks each node's block with ``/* node k: op */``), and placement reports it as C."""
    source, nodes = f.program.source, f.program.nodes
    missing = [f"{k}: {node.op}" for k, node in enumerate(nodes)
               if c_comment(f"node {k}: {node.op}") not in source]
    assert not missing, f"nodes without C code: {missing}"
    assert [backend for _, backend in f.placement()] == ["c"] * len(nodes)


def test_mode_c_runs_natively_end_to_end():
    x = T.dvector("x")
    f = exprc.function([x], [x + 1, (x * 2).sum()], mode=C_MODE)
    assert isinstance(f.program, CProgram)
    assert_every_node_compiled(f)
    out, total = f(np.arange(4.0))
    np.testing.assert_array_equal(out, [1, 2, 3, 4])
    assert float(total) == 12.0
    assert out.flags.writeable and out.flags.c_contiguous


def test_default_mode_compiles_to_c_and_reference_mode_does_not():
    from exprc.link.reference import ReferenceProgram

    x = T.dvector("x")
    assert isinstance(exprc.function([x], x + 1).program, CProgram)
    assert isinstance(exprc.function([x], x + 1, mode="FAST_RUN").program, CProgram)
    assert isinstance(exprc.function([x], x + 1, mode="REFERENCE").program, ReferenceProgram)
    assert isinstance(exprc.function([x], x + 1, mode="FAST_COMPILE").program,
                      ReferenceProgram)


def test_strided_and_transposed_inputs(cache):
    a, b = T.dmatrix("a"), T.dmatrix("b")
    v = T.dvector("v")
    outs = [T.exp(a) * b, a.sum(axis=0), T.dot(a, b.T), a[1:, ::-1], T.dot(a, v),
            a.reshape((-1,)), (a + v).max(axis=1)]
    f = compile_c([a, b, v], outs, cache)
    ref = exprc.function([a, b, v], outs, mode="REFERENCE")
    base = np.random.default_rng(0).normal(size=(8, 10))
    # Transposed and step-sliced (4, 4) views, and a reversed vector.
    args = [base[::2, 1:9:2].T, base[1:5, ::-2][:, 1:], base[3, 8:0:-2]]
    assert not any(x.flags.c_contiguous for x in args[:2])
    for got, expected in zip(f(*args), ref(*args)):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_outputs_never_alias_inputs_or_each_other(cache):
    x = T.dvector("x")
    f = compile_c([x], [x, x.T, x + 0], cache)
    value = np.arange(3.0)
    a, b, c = f(value)
    a[0] = 99
    assert value[0] == 0 and b[0] == 0 and c[0] == 0


def test_repeated_calls_reuse_buffers_without_corrupting_results(cache):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    h = T.tanh(T.dot(x, y) + 1)
    out = [T.dot(h, y).sum(axis=1), (h * 2).T]
    f = compile_c([x, y], out, cache)
    ref = exprc.function([x, y], out, mode="REFERENCE")
    rng = np.random.default_rng(1)
    kept = []
    for n in (3, 5, 3):
        args = [rng.normal(size=(n, 4)), rng.normal(size=(4, 4))]
        got = f(*args)
        kept.append((got, ref(*args)))
    for got, expected in kept:  # earlier results are untouched by later calls
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-12)


def test_index_error_names_the_node_and_the_user_line(cache):
    x = T.dvector("x")
    i = T.lscalar("i")
    f = compile_c([x, i], x[i] * 2, cache)
    assert float(f(np.arange(3.0), 2)) == 4.0
    with pytest.raises(ExprcIndexError) as info:
        f(np.arange(3.0), 5)
    message = str(info.value)
    assert "index 5 is out of bounds for axis 0 with size 3" in message
    assert "Subtensor" in message and "test_c_backend.py" in message


def test_shape_mismatch_is_a_value_error_naming_the_node(cache):
    x, y = T.dvector("x"), T.dvector("y")
    f = compile_c([x, y], x * y + 1, cache)
    with pytest.raises(ValueError) as info:
        f(np.ones(3), np.ones(4))
    message = str(info.value)
    assert "(3,) and (4,)" in message and "test_c_backend.py" in message


def test_reshape_and_empty_max_errors(cache):
    x = T.dmatrix("x")
    f = compile_c([x], [x.reshape((5, -1))], cache)
    with pytest.raises(ValueError, match="cannot reshape"):
        f(np.ones((3, 4)))
    g = compile_c([x], [x.max(axis=0)], cache)
    with pytest.raises(ValueError, match="max of an empty axis"):
        g(np.ones((0, 2)))


def test_an_op_without_a_c_rule_is_refused_at_compile_time(monkeypatch):
    # Every op may have a rule by now: take ArgSort's away for this test.
    from exprc.tensor.sort import ArgSort

    monkeypatch.delitem(C_CODE._rules, ArgSort)
    x = T.dvector("x")
    with pytest.raises(CUnsupportedError, match="does not cover ArgSort yet"):
        exprc.function([x], T.argsort(x), mode=C_MODE)


def _logreg_step(mode):
    x, y = T.matrix("x"), T.ivector("y")
    W = exprc.shared(np.zeros((784, 10), exprc.config.floatX), name="W")
    p = T.exp(T.dot(x, W))
    p = p / p.sum(axis=1, keepdims=True)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    return exprc.function([x, y], cost, updates=[(W, W - 0.5 * exprc.grad(cost, W))],
                          mode=mode), W


def test_mnist_logistic_regression_step_runs_natively():
    try:
        f, W = _logreg_step(C_MODE)
    except CUnsupportedError as exc:
        pytest.skip(f"not covered yet: {str(exc).split(' (node')[0]}")
    assert_every_node_compiled(f)
    g, W_ref = _logreg_step("REFERENCE")
    rng = np.random.default_rng(0)
    for _ in range(2):
        xb = rng.random((100, 784)).astype(exprc.config.floatX)
        yb = rng.integers(0, 10, 100).astype("int32")
        np.testing.assert_allclose(f(xb, yb), g(xb, yb), rtol=1e-5)
    np.testing.assert_allclose(W.get_value(), W_ref.get_value(), rtol=1e-4, atol=1e-6)
