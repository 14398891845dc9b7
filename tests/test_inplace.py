"""The in-place pass, its safety checker and the executor's handling of ``destroy_map``."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exprc
import exprc.tensor as T
from exprc.compile.mode import Mode
from exprc.errors import ExprcError
from exprc.graph.fgraph import FunctionGraph
from exprc.graph.traversal import toposort
from exprc.link.reference import REFERENCE, ReferenceProgram, run_node
from exprc.rewriting.destroy import MAX_FAMILY, check_destroyers, destroy_refusal
from exprc.tensor.blas import Gemm
from exprc.tensor.elemwise import InplaceElemwise
from exprc.tensor.scalar import SCALAR_OPS
from tests.registry import load_all

NO_FUSION = Mode().excluding("fusion")


def _node(fgraph, name):
    """The one node of ``fgraph`` applying scalar op (or op class) ``name``."""
    found = [n for n in fgraph.apply_nodes
             if (n.op.scalar_op.name if type(n.op).__name__ == "Elemwise"
                 else type(n.op).__name__) == name]
    assert len(found) == 1, found
    return found[0]


def _refusal(inputs, outputs, name, index):
    fgraph = FunctionGraph(inputs, outputs)
    return destroy_refusal(fgraph, _node(fgraph, name), index)


# ---------------------------------------------------------------------- the checker
def test_accepts_a_temporary_read_once():
    x = T.matrix("x")
    assert _refusal([x], [T.exp(x) + 1], "add", 0) is None


def test_refuses_graph_inputs_and_constants():
    x = T.matrix("x")
    assert "graph input" in _refusal([x], [T.exp(x)], "exp", 0)
    c = T.constant(np.ones((2, 2)))
    assert "graph input or constant" in _refusal([x], [c * x], "mul", 0)


def test_refuses_shared_values():
    w = exprc.shared(np.ones((2, 3)), name="w")
    x = T.matrix("x")
    assert "graph input" in _refusal([x, w], [w - x], "sub", 0)
    f = exprc.function([x], w - x, mode=NO_FUSION)
    f(np.zeros((2, 3)))
    np.testing.assert_array_equal(w.get_value(), np.ones((2, 3)))
    assert not any(n.op.destroy_map for n in f.fgraph.apply_nodes)


def test_refuses_an_input_read_twice():
    x = T.matrix("x")
    a = T.exp(x)
    assert "also read by" in _refusal([x], [a + a], "add", 0)
    assert "also read by" in _refusal([x], [a + a.T], "add", 0)


def test_refuses_a_value_read_after():
    x = T.matrix("x")
    a = T.exp(x)
    # a is also a graph output, or read by another node that may run later.
    assert "graph output" in _refusal([x], [a, a + 1], "add", 0)
    assert "also read by" in _refusal([x], [a + 1, T.tanh(a)], "add", 0)


def test_refuses_a_view_of_a_still_used_array():
    x = T.matrix("x")
    a = T.exp(x)
    v = a.T
    assert "also read by" in _refusal([x], [v + 1, a * 2], "add", 0)
    assert "also read by" in _refusal([x], [v + 1, a * 2], "mul", 0)
    row = a[0]
    assert "also read by" in _refusal([x], [row + 1, a.sum()], "add", 0)
    # A view read only by the destroying node is fine: nothing else sees the memory.
    assert _refusal([x], [v + 1], "add", 0) is None


def test_refuses_broadcasting_and_other_dtypes():
    row, m = T.row("row"), T.matrix("m")
    assert "broadcast" in _refusal([row, m], [T.exp(row) + m], "add", 0)
    x32, y64 = T.fmatrix("x32"), T.dmatrix("y64")
    assert "cannot hold" in _refusal([x32, y64], [T.exp(x32) + y64], "add", 0)
    s = T.tensor("float64", shape=(2, 1), name="s")
    t = T.tensor("float64", shape=(2, 3), name="t")
    assert "broadcast" in _refusal([s, t], [T.exp(s) * t], "mul", 0)


def test_family_too_large_is_refused():
    x = T.vector("x")
    a = T.exp(x)
    views = a
    for _ in range(MAX_FAMILY + 1):
        views = views[:]
    assert "more than" in _refusal([x], [views + 1], "add", 0)


def test_validation_of_a_whole_graph():
    x = T.matrix("x")
    a = T.exp(x)
    bad = InplaceElemwise(SCALAR_OPS["add"], 0)(a, 1.0)
    fgraph = FunctionGraph([x], [bad, T.tanh(a)])
    assert check_destroyers(fgraph)
    good = FunctionGraph([x], [InplaceElemwise(SCALAR_OPS["add"], 0)(a, 1.0)])
    assert check_destroyers(good) == []


# ---------------------------------------------------------------------- the pass
def test_chain_runs_in_place_and_results_are_unchanged():
    x, y = T.matrix("x"), T.matrix("y")
    out = T.tanh((T.exp(x) + 1) * 2) + y
    f = exprc.function([x, y], out, mode=NO_FUSION)
    kinds = [type(n.op) for n in f.fgraph.toposort()]
    assert kinds.count(InplaceElemwise) == 4
    assert check_destroyers(f.fgraph) == []
    xv, yv = np.random.rand(3, 4), np.random.rand(3, 4)
    x0, y0 = xv.copy(), yv.copy()
    ref = exprc.function([x, y], out, mode="REFERENCE")
    np.testing.assert_allclose(f(xv, yv), ref(xv, yv), rtol=1e-14)  # C tanh/exp: few ulp
    np.testing.assert_array_equal(xv, x0)
    np.testing.assert_array_equal(yv, y0)


def test_memory_is_reused():
    x = T.matrix("x")
    f = exprc.function([x], T.exp(x) * 3 + 1, mode=NO_FUSION)
    program = ReferenceProgram(f.fgraph.inputs, f.fgraph.outputs)
    results = {}

    def spy(node, rule):
        def run(n, *args):
            out = rule(n, *args)
            results[n] = out[0]
            return out
        return run

    program.rules = [spy(n, r) for n, r in zip(program.nodes, program.rules)]
    (value,) = program([np.random.rand(2, 3)])
    first, *rest = [results[n] for n in program.nodes]
    assert all(np.shares_memory(first, r) for r in rest)
    assert all(isinstance(n.op, InplaceElemwise) for n in program.nodes[1:])
    assert value is rest[-1]


def test_gemm_accumulates_in_place():
    x, y, z = T.matrix("x"), T.matrix("y"), T.matrix("z")
    out = T.dot(x, y) - 0.5 * T.exp(z)
    f = exprc.function([x, y, z], out, mode=NO_FUSION)
    (gemm,) = [n for n in f.fgraph.apply_nodes if isinstance(n.op, Gemm)]
    assert gemm.op.inplace and check_destroyers(f.fgraph) == []
    vals = [np.random.rand(3, 4), np.random.rand(4, 2), np.random.rand(3, 2)]
    z_tmp = np.exp(vals[2])
    got = run_node(gemm, REFERENCE[gemm.op], [z_tmp, np.array(1.0), vals[0], vals[1],
                                               np.array(-0.5)])[0]
    assert got is z_tmp
    np.testing.assert_allclose(f(*vals), np.dot(vals[0], vals[1]) - 0.5 * np.exp(vals[2]))


def test_runtime_broadcast_falls_back_to_a_fresh_array():
    x, y = T.matrix("x"), T.matrix("y")
    out = T.exp(x) + y  # x may have one row at run time: then exp(x) cannot hold the sum
    f = exprc.function([x, y], out, mode=NO_FUSION)
    assert any(isinstance(n.op, InplaceElemwise) for n in f.fgraph.apply_nodes)
    xv, yv = np.random.rand(1, 4), np.random.rand(3, 4)
    np.testing.assert_allclose(f(xv, yv), np.exp(xv) + yv, rtol=1e-15)  # C exp: within 1 ulp


# ---------------------------------------------------------------------- the executor
def test_executor_never_overwrites_inputs_or_constants():
    x = T.matrix("x")
    c = T.constant(np.ones((2, 2)))
    op = InplaceElemwise(SCALAR_OPS["add"], 0)
    for graph_input, out in [(x, op(x, 1.0)), (x, op(c, x)), (x, op(x.T, 1.0))]:
        program = ReferenceProgram([graph_input], [out])
        xv = np.arange(4.0).reshape(2, 2)
        program([xv])
        np.testing.assert_array_equal(xv, np.arange(4.0).reshape(2, 2))
        np.testing.assert_array_equal(c.data, np.ones((2, 2)))
    # The input was copied, not overwritten, so reading it again is fine.
    program = ReferenceProgram([x], [op(x, 1.0) + x])
    np.testing.assert_array_equal(program([np.ones((2, 2))])[0], np.full((2, 2), 3.0))


def test_executor_refuses_to_read_an_overwritten_value():
    x = T.matrix("x")
    a = T.exp(x)
    out = InplaceElemwise(SCALAR_OPS["add"], 0)(a, 1.0) + a
    program = ReferenceProgram([x], [out])
    with pytest.raises(ExprcError, match="overwrote it in place"):
        program([np.ones((2, 2))])


# ---------------------------------------------------------------------- view declarations
def _buffers(value):
    """The arrays holding ``value``: itself, or a sparse matrix's compressed arrays."""
    if hasattr(value, "indptr"):
        return [value.data, value.indices, value.indptr]
    return [value] if isinstance(value, np.ndarray) else []


def _shares(a, b):
    return any(np.shares_memory(x, y) for x in _buffers(a) for y in _buffers(b))


def test_every_view_is_declared():
    """An op whose reference result may share memory with an input must say so, or the
    checker could let another op overwrite that memory."""
    undeclared = set()
    for case in load_all():
        symbols = case.symbols()
        outputs = case.build(*symbols)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        values = dict(zip(symbols, case.sample(0)))
        for node in toposort(outputs, symbols):
            args = [values[v] if v in values else getattr(v, "data", None) for v in node.inputs]
            results = REFERENCE[node.op](node, *args)
            declared = {(o, i) for m in (node.op.view_map, node.op.destroy_map)
                        for o, ins in m.items() for i in ins}
            for o, result in enumerate(results):
                values[node.outputs[o]] = (result if hasattr(result, "indptr")
                                           else np.asarray(result))
                for i, arg in enumerate(args):
                    if _shares(result, arg) and (o, i) not in declared:
                        undeclared.add(type(node.op).__name__)
    assert not undeclared, f"ops returning views without a view_map: {sorted(undeclared)}"


# ---------------------------------------------------------------------- random graphs
UNARY = [T.exp, T.tanh, T.neg, lambda a: a.T, lambda a: a[::-1], lambda a: a * 2.0]
BINARY = [T.add, T.sub, T.mul, T.maximum, lambda a, b: T.dot(a, b.T) + a]


@st.composite
def graphs(draw):
    """A random graph over two (3, 3) inputs mixing elementwise ops, views, products and
    repeated reads; some intermediate terms are outputs too."""
    x, y = T.matrix("x"), T.matrix("y")
    terms = [x, y]
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            fn = draw(st.sampled_from(UNARY))
            terms.append(fn(draw(st.sampled_from(terms))))
        else:
            fn = draw(st.sampled_from(BINARY))
            terms.append(fn(draw(st.sampled_from(terms)), draw(st.sampled_from(terms))))
    extra = draw(st.lists(st.sampled_from(terms[2:] or terms), max_size=2))
    return [x, y], [terms[-1]] + extra


@settings(derandomize=True, max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_random_graphs_give_the_same_results_with_and_without_inplace(graph):
    inputs, outputs = graph
    with_inplace = exprc.function(inputs, outputs, mode=NO_FUSION, on_unused_input="ignore")
    without = exprc.function(inputs, outputs, mode=NO_FUSION.excluding("inplace"),
                             on_unused_input="ignore")
    assert check_destroyers(with_inplace.fgraph) == []
    rng = np.random.default_rng(0)
    values = [rng.uniform(-1, 1, (3, 3)) for _ in inputs]
    copies = [v.copy() for v in values]
    for got, want in zip(with_inplace(*values), without(*values)):
        np.testing.assert_array_equal(got, want)
    for v, c in zip(values, copies):
        np.testing.assert_array_equal(v, c)
