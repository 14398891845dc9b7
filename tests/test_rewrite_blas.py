"""The ``blas`` pass: the exact graphs it produces, what it leaves alone, and results equal to
the REFERENCE mode (bit for bit where one scale stands on each side)."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.compile.mode import Mode
from exprc.graph.traversal import equal_computations, graph_inputs
from exprc.tensor.blas import Gemm, Gemv, Ger

BLAS_ONLY = Mode().excluding("fusion", "inplace")
RNG = np.random.default_rng(0)


def _c(value, dtype="float64"):
    return T.constant(np.asarray(value, dtype=dtype))


def _compile(inputs, out, mode=BLAS_ONLY):
    return exprc.function(inputs, out, mode=mode, on_unused_input="ignore")


def _values(inputs, shapes):
    return [RNG.uniform(-1, 1, s).astype(v.dtype) for v, s in zip(inputs, shapes)]


def _same_as_reference(inputs, out, shapes, exact=True, mode="FAST_RUN"):
    values = _values(inputs, shapes)
    got = _compile(inputs, out, mode)(*values)
    want = _compile(inputs, out, "REFERENCE")(*values)
    assert got.shape == want.shape and got.dtype == want.dtype
    if exact:
        # OpenBLAS and NumPy's own BLAS may add the products in another order: allow the
        # rounding of a short dot product, nothing more.
        eps = np.finfo(got.dtype).eps
        scale = max(1.0, float(np.abs(want).max(initial=0)))
        np.testing.assert_allclose(got, want, rtol=8 * eps, atol=8 * eps * scale)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12)


x, y, z = T.matrix("x"), T.matrix("y"), T.matrix("z")
v, w, b = T.vector("v"), T.vector("w"), T.vector("b")
lr = T.scalar("lr")
MATS = [x, y, z, lr]
MAT_SHAPES = [(3, 4), (4, 5), (3, 5), ()]

# (label, expression, expected graph after the blas pass)
GEMM_FORMS = [
    ("scaled_sum", 2.0 * T.dot(x, y) + 3.0 * z, Gemm()(z, _c(2.0), x, y, _c(3.0))),
    ("sgd_step", z - lr * T.dot(x, y), Gemm()(z, T.neg(lr), x, y, _c(1.0))),
    ("plain_sum", T.dot(x, y) + z, Gemm()(z, _c(1.0), x, y, _c(1.0))),
    ("product_minus", T.dot(x, y) - z, Gemm()(z, _c(1.0), x, y, _c(-1.0))),
    ("negated", -T.dot(x, y) - z * 0.5, Gemm()(z, _c(-1.0), x, y, _c(-0.5))),
    ("scale_right", T.dot(x, y) * lr + z, Gemm()(z, lr, x, y, _c(1.0))),
]


@pytest.mark.parametrize("label,expr,expected", GEMM_FORMS, ids=[f[0] for f in GEMM_FORMS])
def test_gemm_forms(label, expr, expected):
    f = _compile(MATS, expr)
    assert equal_computations(f.fgraph.outputs, [expected]), label
    assert f.rewrite_log.fired["blas_add"] + f.rewrite_log.fired["blas_sub"] == 1
    _same_as_reference(MATS, expr, MAT_SHAPES)


def test_bias_vector_broadcasts_into_gemm():
    expr = T.dot(x, y) + b
    f = _compile([x, y, b], expr)
    expected = Gemm()(b.dimshuffle("x", 0), _c(1.0), x, y, _c(1.0))
    assert equal_computations(f.fgraph.outputs, [expected])
    _same_as_reference([x, y, b], expr, [(3, 4), (4, 5), (5,)])


def test_gemv_forms():
    mat_vec = 0.5 * T.dot(x, v) + w
    f = _compile([x, v, w], mat_vec)
    assert equal_computations(f.fgraph.outputs, [Gemv()(w, _c(0.5), x, v, _c(1.0))])
    _same_as_reference([x, v, w], mat_vec, [(3, 4), (4,), (3,)])
    vec_mat = w - T.dot(v, x)
    f = _compile([x, v, w], vec_mat)
    expected = Gemv()(w, _c(-1.0), x.T, v, _c(1.0))
    assert equal_computations(f.fgraph.outputs, [expected])
    _same_as_reference([x, v, w], vec_mat, [(4, 3), (4,), (3,)], exact=False)


def test_ger_from_outer_product():
    expr = z + lr * T.outer(v, w)
    f = _compile([z, lr, v, w], expr)
    assert equal_computations(f.fgraph.outputs, [Ger()(z, lr, v, w, _c(1.0))])
    _same_as_reference([z, lr, v, w], expr, [(3, 4), (), (3,), (4,)])


def test_float32_keeps_its_dtype():
    x32, y32, z32 = T.fmatrix("x32"), T.fmatrix("y32"), T.fmatrix("z32")
    expr = z32 - 0.1 * T.dot(x32, y32)
    f = _compile([x32, y32, z32], expr)
    (node,) = f.fgraph.toposort()
    assert isinstance(node.op, Gemm) and node.outputs[0].dtype == "float32"
    assert all(i.dtype == "float32" for i in node.inputs)
    _same_as_reference([x32, y32, z32], expr, [(3, 4), (4, 5), (3, 5)])


def test_run_time_broadcasting_of_both_sides():
    expr = T.dot(x, y) + z
    # z broadcasts along rows; then the product (one row) broadcasts against z.
    _same_as_reference([x, y, z], expr, [(3, 4), (4, 5), (1, 5)])
    _same_as_reference([x, y, z], expr, [(1, 4), (4, 5), (3, 5)])
    _same_as_reference([x, y, z], expr, [(3, 4), (4, 1), (3, 5)])


def test_static_shapes_are_kept():
    xs = T.tensor("float64", shape=(3, 4), name="xs")
    ys = T.tensor("float64", shape=(4, None), name="ys")
    zs = T.tensor("float64", shape=(None, 5), name="zs")
    expr = T.dot(xs, ys) + zs
    f = _compile([xs, ys, zs], expr)
    assert isinstance(f.fgraph.outputs[0].owner.op, Gemm)
    assert f.fgraph.outputs[0].type == expr.type


NOT_REWRITTEN = [
    # Mixed dtypes: the sum promotes, the BLAS op would not.
    ("mixed_dtypes", lambda: T.dot(T.fmatrix("a"), T.fmatrix("c")) + z),
    ("integer", lambda: T.dot(T.lmatrix("a"), T.lmatrix("c")) + T.lmatrix("d")),
    # A scale with more than one element is not a scale.
    ("matrix_scale", lambda: z * T.dot(x, y) + z),
    # The product is read elsewhere too: a BLAS op would compute it twice.
    ("shared_product", lambda: [T.dot(x, y) + z, T.dot(x, y).sum()]),
    # No product.
    ("no_product", lambda: x * y + z),
]


@pytest.mark.parametrize("label,build", NOT_REWRITTEN, ids=[n[0] for n in NOT_REWRITTEN])
def test_left_alone(label, build):
    out = build()
    outs = out if isinstance(out, list) else [out]
    inputs = sorted({i for i in graph_inputs(outs) if not isinstance(i, T.TensorConstant)},
                    key=str)
    f = _compile(inputs, outs)
    assert not any(isinstance(n.op, (Gemm, Gemv, Ger)) for n in f.fgraph.apply_nodes)


def test_mlp_layer_end_to_end():
    """A training step: forward with a bias, SGD updates; FAST_RUN equals REFERENCE."""
    w0 = RNG.uniform(-1, 1, (4, 3))
    results = []
    for mode in ("FAST_RUN", "REFERENCE"):
        weights = exprc.shared(w0.copy(), name="W")
        bias = exprc.shared(np.zeros(3), name="b")
        h = T.tanh(T.dot(x, weights) + bias)
        cost = T.sqr(h - z).sum()
        gw, gb = exprc.grad(cost, [weights, bias])
        step = exprc.function([x, z], cost, mode=mode,
                              updates=[(weights, weights - 0.1 * gw), (bias, bias - 0.1 * gb)])
        xv, zv = np.ones((5, 4)) * 0.3, np.ones((5, 3)) * 0.2
        results.append([step(xv, zv) for _ in range(3)] + [weights.get_value()])
        if mode == "FAST_RUN":
            assert any(isinstance(n.op, Gemm) for n in step.fgraph.apply_nodes)
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-12)
