"""Shape inference (``exprc.rewriting.shape_rules``) and the ``shape`` rewrite pass.

Every registry case checks the inferred shape of its outputs against the shape NumPy computes,
both as :func:`shape_of` expressions run on the reference executor and as ``out.shape``
compiled through the whole pipeline. The pass itself is tested on the exact graphs it gives.
"""

import itertools

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.graph.fgraph import FunctionGraph
from exprc.graph.ir import Constant
from exprc.graph.traversal import ancestors, equal_computations
from exprc.rewriting.rules.shape_pass import graph_memo
from exprc.rewriting.shape_rules import reads_shape_of, shape_of
from exprc.tensor.elemwise import SumToShape
from exprc.tensor.shape import SpecifyShape
from tests.registry import load_all

CASES = load_all()


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def ops(f):
    return [type(n.op).__name__ for n in f.fgraph.toposort()]


def op_names(f):
    return [str(n.op) for n in f.fgraph.toposort()]


# --------------------------------------------------------------------------- registry
@pytest.mark.parametrize("case", CASES, ids=str)
def test_inferred_shapes_match_numpy(case):
    symbols = case.symbols()
    outputs = _as_list(case.build(*symbols))
    memo = {}
    sizes = [shape_of(out, memo) for out in outputs]
    # A size read back from the output itself (data-dependent) proves nothing: skip it.
    checked = [(k, axis, s) for k, shape in enumerate(sizes) for axis, s in enumerate(shape)
               if not reads_shape_of(s, outputs[k])]
    # Two functions: an op that overwrites its input must not run before the sizes read it.
    values = exprc.function(symbols, outputs, mode="REFERENCE",
                            on_unused_input="ignore")(*case.sample(0))
    inferred = exprc.function(symbols, [s for _, _, s in checked], mode="REFERENCE",
                              on_unused_input="ignore")(*case.sample(0))
    for (k, axis, _), size in zip(checked, inferred):
        assert size.dtype == np.int64 and size.ndim == 0
        assert size == values[k].shape[axis], f"{case}: output {k}, axis {axis}"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_compiled_shapes_match_numpy(case):
    symbols = case.symbols()
    outputs = _as_list(case.build(*symbols))
    f = exprc.function(symbols, [out.shape for out in outputs] + outputs,
                       on_unused_input="ignore")
    results = f(*case.sample(0))
    shapes, values = results[:len(outputs)], results[len(outputs):]
    assert [tuple(s) for s in shapes] == [v.shape for v in values], str(case)


# --------------------------------------------------------------------------- shape_of
def test_static_sizes_are_constants_and_input_sizes_are_read_from_the_input():
    x = T.tensor("float64", shape=(None, 3), name="x")
    rows, cols = shape_of(T.exp(x))
    assert isinstance(cols, Constant) and cols.data == 3
    assert equal_computations([rows], [x.shape[0]])


def test_shapes_are_shared_through_a_memo_and_deep_graphs_are_fine():
    x, v = T.matrix("x"), T.vector("v")
    y = x
    for _ in range(1200):  # deeper than Python's recursion limit
        y = T.tanh(y * v)
    memo = {}
    rows, cols = shape_of(y, memo)
    assert shape_of(y, memo) == (rows, cols)
    assert rows is shape_of(x, memo)[0]  # v cannot change the number of rows
    created = [a for a in ancestors([cols], [x, v]) if a.owner is not None]
    assert len(created) < 5 * 1200  # a constant number of size nodes per graph node
    f = exprc.function([x, v], [rows, cols], mode="REFERENCE")
    assert [int(s) for s in f(np.ones((2, 1)), np.ones(5))] == [2, 5]


def test_broadcast_sizes_follow_numpy_including_a_run_time_one_and_zero():
    x, y = T.matrix("x"), T.matrix("y")
    f = exprc.function([x, y], list(shape_of(x + y)), mode="REFERENCE")
    for a, b in [((3, 1), (1, 4)), ((1, 0), (2, 1)), ((2, 3), (2, 3)), ((1, 1), (0, 5))]:
        expected = np.broadcast_shapes(a, b)
        assert tuple(int(s) for s in f(np.ones(a), np.ones(b))) == expected


def test_slice_lengths_follow_python_for_every_sign_and_bound():
    x = T.vector("x")
    start, stop, step = T.lscalar("start"), T.lscalar("stop"), T.lscalar("step")
    symbolic = exprc.function([x, start, stop, step], shape_of(x[start:stop:step])[0],
                              mode="REFERENCE")
    bounds = [-7, -1, 0, 2, 6]
    for n, a, b, c in itertools.product([0, 1, 4], bounds, bounds, [-3, -1, 1, 2]):
        assert int(symbolic(np.zeros(n), a, b, c)) == len(range(n)[a:b:c]), (n, a, b, c)
    for a, b, c in itertools.product([None, -2, 3], [None, -1, 9], [None, 3, -2]):
        length = exprc.function([x], shape_of(x[a:b:c])[0], mode="REFERENCE")
        for n in (0, 1, 5):
            assert int(length(np.zeros(n))) == len(range(n)[a:b:c]), (n, a, b, c)


def test_reshape_with_a_symbolic_minus_one():
    x, n = T.matrix("x"), T.lscalar("n")
    f = exprc.function([x, n], list(shape_of(T.reshape(x, (n, 3)))), mode="REFERENCE")
    assert [int(s) for s in f(np.ones((4, 3)), -1)] == [4, 3]
    assert [int(s) for s in f(np.ones((4, 3)), 4)] == [4, 3]


def test_a_boolean_mask_leaves_only_its_own_axis_to_the_data():
    x = T.matrix("x")
    rows, cols = shape_of(x[:, x[0] > 0])
    assert equal_computations([rows], [x.shape[0]])
    assert reads_shape_of(cols, cols.owner.inputs[0].owner.inputs[0])


# --------------------------------------------------------------------------- the shape pass
def test_shape_of_a_product_needs_no_product():
    # The inner sizes are static, so the product cannot fail: only its shape is needed.
    x, w = T.matrix("x", shape=(None, 3)), T.matrix("W", shape=(3, None))
    f = exprc.function([x, w], T.dot(x, w).shape)
    assert "Dot" not in ops(f)
    assert equal_computations(f.fgraph.outputs, [T.stack([x.shape[0], w.shape[1]])])
    assert f.rewrite_log.fired["infer_shape"] == 1
    assert list(f(np.ones((2, 3)), np.ones((3, 5)))) == [2, 5]


def test_a_product_that_may_fail_still_runs_for_its_shape():
    # Unknown inner sizes are checked by the product itself; the shape must not hide an error.
    x, w = T.matrix("x"), T.matrix("W")
    f = exprc.function([x, w], T.dot(x, w).shape)
    assert "Dot" in ops(f)
    assert list(f(np.ones((2, 3)), np.ones((3, 5)))) == [2, 5]
    with pytest.raises(ValueError):
        f(np.ones((2, 3)), np.ones((4, 5)))


def test_a_size_of_an_elementwise_result_reads_the_input():
    x = T.matrix("x")
    f = exprc.function([x], T.exp(x).shape[0])
    assert op_names(f) == ["Shape", "Subtensor{[0]}"]
    assert f.fgraph.toposort()[0].inputs[0] is x
    assert int(f(np.ones((3, 2)))) == 3


def test_static_shapes_become_constants():
    x = T.tensor("float64", shape=(2, 3), name="x")
    f = exprc.function([x], [T.exp(x).shape, x.shape[1]])
    assert f.fgraph.apply_nodes == set()
    assert all(isinstance(out, Constant) for out in f.fgraph.outputs)
    shape, cols = f(np.ones((2, 3)))
    assert list(shape) == [2, 3] and cols == 3


def test_the_shape_of_a_graph_input_is_left_alone():
    x = T.matrix("x")
    f = exprc.function([x], [x.shape, x.shape[1]])
    assert op_names(f) == ["Shape", "Subtensor{[1]}"]
    assert not f.rewrite_log.fired["infer_shape"] and not f.rewrite_log.fired["infer_size"]


def test_sizes_never_keep_a_computation_alive():
    x, i = T.matrix("x"), T.lscalar("i")
    f = exprc.function([x, i], T.exp(T.log1p(x))[i:, ::2].shape)
    assert not {"Elemwise{exp}", "Elemwise{log1p}"} & set(op_names(f))
    assert "Subtensor" not in ops(f)[:1]
    value = np.zeros((5, 5))
    for k in (-7, -2, 0, 3, 9):
        assert tuple(f(value, k)) == value[k:, ::2].shape


def test_a_data_dependent_size_keeps_only_the_selection():
    x = T.vector("x")
    f = exprc.function([x], T.exp(x[x > 0]).shape)
    assert "Elemwise{exp}" not in op_names(f)
    assert "AdvancedSubtensor" in ops(f)
    assert list(f(np.array([1.0, -1.0, 2.0]))) == [2]


def test_an_entry_of_a_stacked_shape_is_the_size_itself():
    x, n = T.matrix("x"), T.lscalar("n")
    f = exprc.function([x, n], T.stack([x.shape[0], n])[1])
    assert f.fgraph.outputs[0] is n


def test_sum_to_shape_between_equal_shapes_is_removed():
    x = T.matrix("x")
    g = T.exp(x) * 2.0
    f = exprc.function([x], SumToShape(x.type.shape)(g, x.shape))
    assert "SumToShape" not in ops(f)
    assert f.rewrite_log.fired["drop_sum_to_same_shape"] == 1
    value = np.random.default_rng(0).normal(size=(2, 3))
    np.testing.assert_allclose(f(value), np.exp(value) * 2.0)


def test_sum_to_shape_that_may_sum_is_kept():
    x, y = T.matrix("x"), T.matrix("y")
    f = exprc.function([x, y], SumToShape(x.type.shape)(x * y, x.shape))
    assert "SumToShape" in ops(f)
    reference = exprc.function([x, y], SumToShape(x.type.shape)(x * y, x.shape),
                               mode="REFERENCE")
    a, b = np.ones((1, 3)), np.full((4, 3), 2.0)
    np.testing.assert_array_equal(f(a, b), reference(a, b))


def test_gradients_lose_their_useless_sums():
    x = T.matrix("x")
    f = exprc.function([x], exprc.grad(T.sum(T.exp(x) * x), x))
    assert "SumToShape" not in ops(f)
    value = np.random.default_rng(1).normal(size=(2, 3))
    np.testing.assert_allclose(f(value), np.exp(value) * (1 + value))


def test_specify_shape_of_an_input_that_already_has_it_is_removed():
    x = T.tensor("float64", shape=(2, None), name="x")
    f = exprc.function([x], T.exp(SpecifyShape((2, None))(T.exp(x))))
    assert "SpecifyShape" not in ops(f)
    g = exprc.function([x], T.exp(SpecifyShape((2, 3))(x)))
    assert "SpecifyShape" in ops(g)
    with pytest.raises(exprc.errors.ExprcShapeError):
        g(np.ones((2, 4)))


def test_the_memo_is_forgotten_when_another_pass_edits_the_graph():
    x = T.vector("x")
    fgraph = FunctionGraph([x], [T.exp(x)])
    memo = graph_memo(fgraph)
    shape_of(fgraph.outputs[0], memo)
    assert memo and graph_memo(fgraph) is memo
    fgraph.replace(fgraph.outputs[0], T.log(x), "another pass")
    assert not memo


@pytest.mark.parametrize("build", [
    lambda x, v, i: T.reshape(T.exp(x), (-1,)).shape,
    lambda x, v, i: T.concatenate([x, T.exp(x)], axis=1).shape,
    lambda x, v, i: T.repeat(T.exp(x), T.abs(i) + 1, axis=0).shape,
    lambda x, v, i: T.arange(i, v.shape[0] * 3, 2).shape,
    lambda x, v, i: T.tile(T.exp(v), (2, T.abs(i) + 1)).shape,
    lambda x, v, i: (T.exp(x)[v.astype("int64") % x.shape[0], None] + v).shape,
    lambda x, v, i: T.sum(x * v, axis=0, keepdims=True).shape,
    lambda x, v, i: exprc.grad(T.sum(T.tanh(x * v)), v).shape,
], ids=["reshape", "join", "repeat", "arange", "tile", "advanced", "reduce", "grad"])
def test_compiled_shapes_equal_the_reference(build):
    x, v, i = T.matrix("x"), T.vector("v"), T.lscalar("i")
    fast = exprc.function([x, v, i], build(x, v, i), on_unused_input="ignore")
    slow = exprc.function([x, v, i], build(x, v, i), mode="REFERENCE", on_unused_input="ignore")
    rng = np.random.default_rng(3)
    for rows, cols, k in [(2, 3, 1), (3, 3, -2), (1, 3, 0), (4, 1, 2)]:
        args = (rng.normal(size=(rows, cols)), rng.integers(0, 2, cols).astype(float), k)
        np.testing.assert_array_equal(fast(*args), slow(*args))


# --------------------------------------------------------------------------- one size formula
def _three_shapes(build, inputs, values):
    """For each tuple of ``values``: the static shape of ``build`` on inputs of those shapes
    (``make_node``'s sizes on ints), its shape inferred with every input size unknown (the
    shape rule's sizes as expressions, evaluated) and the shape the reference computes."""
    out = build(*inputs)
    inferred = exprc.function(inputs, list(shape_of(out)), mode="REFERENCE",
                              on_unused_input="ignore")
    computed = exprc.function(inputs, out, mode="REFERENCE")
    for args in values:
        static = build(*[T.tensor(a.dtype, shape=a.shape) for a in args]).type.shape
        yield static, tuple(int(s) for s in inferred(*args)), computed(*args).shape


@pytest.mark.parametrize("kwargs", [
    {"ws": (3, 2), "ignore_border": False, "stride": (2, 1)},
    {"ws": (2, 3), "ignore_border": False, "stride": (1, 2)},
    {"ws": (3, 3), "stride": (1, 2), "pad": (2, 1)},
    {"ws": (4, 2), "stride": (3, 3)},
], ids=str)
def test_pooling_sizes_are_one_formula_for_ints_and_expressions(kwargs):
    x = T.dtensor3("x")
    values = [(np.ones((2, r, c)),) for r, c in [(0, 2), (1, 1), (2, 5), (3, 3), (7, 4)]]
    for static, inferred, computed in _three_shapes(
            lambda v: T.signal.pool.pool_2d(v, **kwargs), [x], values):
        assert static == inferred == computed


@pytest.mark.parametrize("kwargs", [
    {}, {"border_mode": "full", "subsample": (2, 1)},
    {"border_mode": "half", "filter_dilation": (2, 3), "subsample": (1, 3)},
    {"border_mode": (1, 2), "subsample": (3, 2), "filter_dilation": (1, 2)},
], ids=str)
def test_convolution_sizes_are_one_formula_for_ints_and_expressions(kwargs):
    x, w = T.dtensor4("x"), T.dtensor4("w")
    values = [(np.ones((1, 2, r, c)), np.ones((3, 2, kh, kw)))
              for r, c, kh, kw in [(5, 4, 1, 2), (7, 8, 3, 3), (9, 6, 2, 4)]]
    for static, inferred, computed in _three_shapes(
            lambda a, b: T.nnet.conv2d(a, b, **kwargs), [x, w], values):
        assert static == inferred == computed
