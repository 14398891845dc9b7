"""Elementwise fusion: the exact graphs the ``fusion`` pass produces, and that they compute
what the unoptimized graphs compute."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.compile.mode import get_mode
from exprc.rewriting.rules.fusion import MAX_INPUTS, MAX_OPERANDS
from exprc.tensor.composite import Composite, compose
from exprc.tensor.elemwise import Elemwise
from exprc.tensor.scalar import SCALAR_OPS


def ops(f):
    return [type(n.op).__name__ for n in f.fgraph.toposort()]


def check_against_reference(inputs, outputs, values):
    fast = exprc.function(inputs, outputs, mode="FAST_RUN")
    ref = exprc.function(inputs, outputs, mode="REFERENCE")
    for got, want in zip(fast(*values), ref(*values)):
        assert got.shape == want.shape and got.dtype == want.dtype
        # The compiled loop's exp/tanh/... are within a few ulp of NumPy's, not bit-identical.
        if got.dtype.kind != "f":
            np.testing.assert_array_equal(got, want)
            continue
        eps = np.finfo(got.dtype).eps
        np.testing.assert_allclose(got, want, rtol=16 * eps, atol=16 * eps)
    return fast


def test_chain_of_five_becomes_one_composite():
    x, y, z = T.dmatrix("x"), T.dmatrix("y"), T.dmatrix("z")
    out = T.tanh(T.exp(x) * y + z) - x / y
    rng = np.random.default_rng(0)
    f = check_against_reference([x, y, z], out, [rng.uniform(0.5, 1, (3, 4)) for _ in "xyz"])
    assert ops(f) == ["Composite"]
    (node,) = f.fgraph.apply_nodes
    assert node.inputs == [x, y, z]
    assert str(node.op) == "Composite{tanh(i2 + i1 * exp(i0)) - i0 / i1}"


def test_shared_intermediate_is_computed_once():
    x, y = T.dvector("x"), T.dvector("y")
    s = T.exp(x) * y
    outs = [T.sin(s), T.cos(s) + s]
    f = check_against_reference([x, y], outs, [np.linspace(-1, 1, 5), np.arange(5.0)])
    (node,) = f.fgraph.apply_nodes
    steps = [sop.name for sop, _ in node.op.steps]
    assert sorted(steps) == sorted(["exp", "mul", "sin", "cos", "add"])
    assert set(f.fgraph.outputs) == set(node.outputs)


def test_intermediate_read_by_a_non_elementwise_op_is_an_output():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    s = T.exp(x) + y
    outs = [T.log(s), s.sum(axis=0)]
    f = check_against_reference([x, y], outs, [np.ones((2, 3)), np.ones((2, 3))])
    composites = [n for n in f.fgraph.apply_nodes if isinstance(n.op, Composite)]
    assert len(composites) == 1 and len(composites[0].outputs) == 2
    assert ops(f).count("Elemwise") == 0


def test_multi_output_composite_for_sibling_consumers():
    x, b = T.dmatrix("x"), T.drow("b")
    z = x + b
    outs = [T.maximum(z, 0), T.ge(z, 0)]
    f = check_against_reference([x, b], outs, [np.linspace(-1, 1, 6).reshape(2, 3),
                                               np.array([[0.1, -0.2, 0.3]])])
    (node,) = f.fgraph.apply_nodes
    assert str(node.op) == "Composite{t0 = i0 + i1; t0 >= 0.0, maximum(t0, 0.0)}"
    assert [o.dtype for o in node.outputs] == ["bool", "float64"]


def test_smaller_operand_stays_a_boundary():
    # exp(b) has one row; fusing it into the (?, 3) sum would compute it once per row.
    x, b = T.dmatrix("x"), T.drow("b")
    out = T.tanh(x * T.exp(b))
    f = check_against_reference([x, b], out, [np.ones((4, 3)), np.ones((1, 3))])
    assert ops(f) == ["Elemwise", "Composite"]
    exp_node, comp = f.fgraph.toposort()
    assert exp_node.op.scalar_op.name == "exp"
    expected = compose([x, exp_node.outputs[0]], [T.tanh(x * exp_node.outputs[0])])
    assert comp.op == expected


def test_runtime_broadcasting_of_unknown_sizes():
    # Unknown sizes are fused as equal; a size-1 operand then broadcasts inside the composite.
    x, y, z = T.dmatrix("x"), T.dmatrix("y"), T.dmatrix("z")
    outs = [T.exp(x) * y + z, T.exp(x)]
    values = [np.full((1, 3), 0.5), np.arange(6.0).reshape(2, 3), np.ones((2, 1))]
    f = check_against_reference([x, y, z], outs, values)
    assert ops(f) == ["Composite"]
    assert [r.shape for r in f(*values)] == [(2, 3), (1, 3)]


def test_broadcast_constants_become_literals():
    x = T.dmatrix("x")
    out = T.maximum(x * 2.0 + 1.0, 0)
    f = check_against_reference([x], out, [np.linspace(-2, 2, 6).reshape(3, 2)])
    (node,) = f.fgraph.apply_nodes
    assert node.inputs == [x]
    assert str(node.op) == "Composite{maximum(i0 * 2.0 + 1.0, 0.0)}"


def test_input_cap_cuts_the_group():
    xs = [T.dvector(f"x{i}") for i in range(MAX_INPUTS + 8)]
    out = xs[0]
    for x in xs[1:]:
        out = T.tanh(out + x)
    values = [np.full(3, 0.01 * i) for i in range(len(xs))]
    f = check_against_reference(xs, out, values)
    composites = [n for n in f.fgraph.apply_nodes if isinstance(n.op, Composite)]
    assert len(composites) == 2 and len(f.fgraph.apply_nodes) == 2
    assert all(len(n.inputs) <= MAX_INPUTS for n in composites)


def test_operand_cap_counts_outputs():
    # One input, many outputs: the composites together must stay within the loop's operands,
    # or the C backend could not run them.
    x, y = T.dvector("x"), T.dvector("y")
    outs = [T.tanh(x * (k + 1) + y) for k in range(MAX_OPERANDS + 10)]
    values = [np.linspace(-1, 1, 5), np.linspace(0, 0.5, 5)]
    f = check_against_reference([x, y], outs, values)
    composites = [n for n in f.fgraph.apply_nodes if isinstance(n.op, Composite)]
    assert len(composites) >= 2
    assert all(len(n.inputs) + len(n.outputs) <= MAX_OPERANDS for n in composites)


def test_no_cycle_through_a_non_elementwise_op():
    # exp(x) feeds both the sum (non-elementwise) and the product with that sum's result:
    # fusing exp with the product would need the sum inside the composite.
    x = T.dmatrix("x")
    e = T.exp(x)
    out = T.log(e * e.sum(axis=1, keepdims=True))
    f = check_against_reference([x], out, [np.ones((2, 3))])
    assert sorted(ops(f)) == ["Composite", "DimShuffle", "Elemwise", "Reduce"]
    (comp,) = [n for n in f.fgraph.apply_nodes if isinstance(n.op, Composite)]
    assert str(comp.op) == "Composite{log(i0 * i1)}"


def test_fusion_can_be_excluded():
    x = T.dvector("x")
    f = exprc.function([x], T.exp(x) + 1.0, mode=get_mode("FAST_RUN").excluding("fusion"))
    assert all(isinstance(n.op, Elemwise) for n in f.fgraph.apply_nodes)


def test_dtypes_follow_each_step():
    i, x = T.ivector("i"), T.fvector("x")
    out = (i * 3) / x + T.cast(i > 1, "float32")
    f = check_against_reference([i, x], out, [np.arange(4, dtype="int32"),
                                              np.ones(4, "float32")])
    assert ops(f) == ["Composite"] and f.fgraph.outputs[0].dtype == out.dtype


def test_composite_gradient_matches_elemwise_gradient():
    x, y = T.dvector("x"), T.dvector("y")
    op = compose([x, y], [T.tanh(x * y), T.sqr(x) * y])
    a, b = op(x, y)
    fused = exprc.grad((a + 2 * b).sum(), [x, y])
    plain = exprc.grad((T.tanh(x * y) + 2 * (T.sqr(x) * y)).sum(), [x, y])
    values = [np.linspace(-1, 1, 4), np.arange(4.0)]
    got = exprc.function([x, y], fused, mode="REFERENCE")(*values)
    want = exprc.function([x, y], plain, mode="REFERENCE")(*values)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


@pytest.mark.parametrize("bad", [
    lambda: Composite(0, [], [0]),
    lambda: Composite(1, [(T.Elemwise, (("i", 0),))], [0]),
    lambda: Composite(1, [(SCALAR_OPS["exp"], (("i", 1),))], [0]),
    lambda: Composite(1, [(SCALAR_OPS["exp"], (("i", 0),))], [1]),
])
def test_invalid_programs_are_rejected(bad):
    with pytest.raises(exprc.errors.ExprcTypeError):
        bad()


def test_composite_inputs_must_share_a_rank():
    x, y = T.dvector("x"), T.dvector("y")
    op = compose([x, y], [x + y])
    with pytest.raises(exprc.errors.ExprcShapeError, match="one rank"):
        op(T.dvector(), T.dmatrix())
