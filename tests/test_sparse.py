"""Sparse matrices (``exprc.sparse``): types and values, function inputs and outputs, shared
variables, the ops against SciPy on real sparsity patterns, structured and regular gradients,
errors, execution on the reference executor, and Theano's ``theano.sparse`` names.

The registry (``tests/registry/cases_sparse*.py``) checks every op against NumPy and every
gradient by finite differences on inputs without zeros; the tests here use patterns with
explicit zeros, unsorted indices and duplicates, and compute expectations with SciPy.
"""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc import sparse as S
from exprc.errors import ExprcError, ExprcShapeError, ExprcTypeError, ExprcValueError
from exprc.gradient import verify_grad
from exprc.link.c.program import C_CODE
from exprc.link.reference import ReferenceProgram
from exprc.tensor import sparse as sparse_ops
from exprc.tensor import sparse_math

sp = pytest.importorskip("scipy.sparse")

RNG = np.random.default_rng(0)


def random_sparse(shape, format="csr", density=0.4, dtype="float64", seed=0):
    """A scipy matrix whose stored entries are nonzero (in [0.5, 2) with random signs)."""
    rng = np.random.default_rng(seed)
    dense = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    dense *= rng.random(shape) < density
    return sp.csr_matrix(dense.astype(dtype)).asformat(format)


def messy_csr():
    """A csr matrix with unsorted indices, a duplicate entry and an explicit zero."""
    data = np.array([1.0, 2.0, 0.0, 3.0, 4.0])
    indices = np.array([2, 0, 1, 1, 1], dtype=np.int32)  # row 1 holds column 1 twice
    indptr = np.array([0, 3, 5, 5], dtype=np.int32)
    return sp.csr_matrix((data, indices, indptr), shape=(3, 3))


def arrays_of(m):
    return [m.data.copy(), m.indices.copy(), m.indptr.copy()]


# ----------------------------------------------------------------------------- types, variables
def test_sparse_type_equality_repr_and_bad_arguments():
    assert S.SparseType("csr", "float32") == S.SparseType("csr", np.float32)
    assert S.SparseType("csr", "float32") != S.SparseType("csc", "float32")
    assert hash(S.SparseType("csc", "int64")) == hash(S.SparseType("csc", "int64"))
    assert repr(S.SparseType("csc", "int8")) == "SparseType(csc, int8)"
    with pytest.raises(ExprcTypeError, match="format must be one of"):
        S.SparseType("coo", "float64")
    with pytest.raises(ExprcTypeError, match="cannot have dtype bool"):
        S.SparseType("csr", "bool")
    with exprc.config.change_flags(floatX="float32"):
        assert S.csr_matrix("x").dtype == "float32"


def test_variable_properties_dispatch_to_the_sparse_ops():
    x = S.csc_matrix("x", dtype="float64")
    assert (x.format, x.dtype, x.ndim) == ("csc", "float64", 2)
    assert x.T.type == S.SparseType("csr", "float64")
    assert isinstance(x.T.owner.op, sparse_ops.Transpose)
    assert isinstance(x.toarray().owner.op, sparse_ops.DenseFromSparse)
    assert x.astype("float32").type == S.SparseType("csc", "float32")
    assert isinstance((x + x).owner.op, sparse_math.AddSS)
    assert isinstance((x * 2).owner.op, sparse_math.MulSD)
    assert (x * 2).dtype == "float64" and (S.csr_matrix(dtype="float32") * 2.5).dtype == "float32"
    assert isinstance((-x).owner.op, sparse_ops.Neg)
    W = T.dmatrix("W")
    assert isinstance((W - x).owner.op, sparse_math.AddSD)  # the dense operand on the left
    assert isinstance((W * x).owner.op, sparse_math.MulSD)
    value = random_sparse((3, 4), "csc")
    shape, size = exprc.function([x], [x.shape, x.size])(value)
    assert shape.dtype == np.int64 and list(shape) == [3, 4]
    assert int(size) == value.nnz
    with pytest.raises(ExprcTypeError, match="len"):
        len(x)


def test_as_sparse_variable_and_constants():
    with pytest.raises(ExprcTypeError, match="not a sparse variable"):
        S.as_sparse_variable(T.dmatrix("d"))
    with pytest.raises(ExprcTypeError, match="cannot convert"):
        S.as_sparse_variable(np.eye(2))
    assert isinstance(S.as_sparse_or_tensor_variable(np.eye(2)), T.TensorVariable)
    coo = sp.coo_matrix(np.array([[0.0, 2.0], [3.0, 0.0]]))
    c = S.as_sparse_variable(coo)
    assert isinstance(c, S.SparseConstant) and c.type == S.SparseType("csr", "float64")
    assert not c.data.data.flags.writeable  # constants are immutable
    np.testing.assert_array_equal(c.toarray().eval(), coo.toarray())
    doubled = (c * 2).eval()
    assert isinstance(doubled, sp.csr_matrix)
    np.testing.assert_array_equal(doubled.toarray(), 2 * coo.toarray())
    # Equal constants merge.
    x = S.csr_matrix("x")
    f = exprc.function([x], [x + S.constant(coo), x * S.constant(coo.tocsr())])
    consts = {id(v) for n in f.fgraph.toposort() for v in n.inputs
              if isinstance(v, S.SparseConstant)}
    assert len(consts) == 1


def test_import_exprc_does_not_import_scipy():
    code = ("import sys, exprc, exprc.sparse; x = exprc.sparse.csr_matrix('x'); "
            "print(any(m.startswith('scipy') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- inputs, outputs
def test_function_inputs_and_outputs_are_scipy_matrices():
    x = S.csr_matrix("x", dtype="float64")
    f = exprc.function([x], [x * 2, S.dense_from_sparse(x)])
    value = random_sparse((4, 5))
    doubled, dense = f(value)
    assert isinstance(doubled, sp.csr_matrix) and doubled.dtype == np.float64
    np.testing.assert_array_equal(doubled.toarray(), 2 * value.toarray())
    assert isinstance(dense, np.ndarray) and dense.shape == (4, 5)
    # csr arrays and lossless casts are accepted; the result is a csr matrix.
    np.testing.assert_array_equal(f(sp.csr_array(value.astype("float32")))[1],
                                  value.astype("float32").toarray())


@pytest.mark.parametrize("value, message", [
    (np.eye(3), r"input 'x' \(argument 0\) must be a scipy.sparse csr matrix.*dense ndarray"),
    (sp.csc_matrix(np.eye(3)), r"input 'x' .* csc_matrix.*value.tocsr\(\)"),
    (sp.coo_matrix(np.eye(3)), r"coo_matrix.*value.tocsr\(\)"),
    (sp.csr_matrix(np.eye(3)), r"input 'x' .*has dtype float64 but SparseType\(csr, float32\)"),
    ([[1.0]], r"must be a scipy.sparse csr matrix"),
])
def test_bad_inputs_are_refused_naming_the_input(value, message):
    x = S.csr_matrix("x", dtype="float32")
    f = exprc.function([x], S.sp_sum(x))
    with pytest.raises(ExprcTypeError, match=message):
        f(value)


def test_allow_input_downcast_casts_sparse_values():
    x = S.csr_matrix("x", dtype="float32")
    f = exprc.function([x], S.sp_sum(x), allow_input_downcast=True)
    assert f(sp.csr_matrix(np.eye(3))).dtype == np.float32
    g = exprc.function([x], S.sp_sum(x), trust_input=True)
    assert float(g(sp.csr_matrix(np.eye(3, dtype="int16")))) == 3.0


def test_inputs_are_never_changed_and_results_never_alias_them():
    x = S.csr_matrix("x", dtype="float64")
    value = messy_csr()
    before = arrays_of(value)
    outs = [x, S.remove0(x), S.clean(x), S.structured_exp(x), x * value.toarray(),
            S.transpose(x), S.sp_sum(x, 0), S.dot(x, np.ones((3, 2)))]
    for mode in ("REFERENCE", "FAST_RUN"):
        results = exprc.function([x], outs, mode=mode)(value)
        for got, want in zip(arrays_of(value), before):
            np.testing.assert_array_equal(got, want)
        identity = results[0]
        assert identity is not value and not np.shares_memory(identity.data, value.data)
        identity.data[:] = 7.0
        np.testing.assert_array_equal(value.data, before[0])
        expected = value.toarray()
        np.testing.assert_array_equal(results[1].toarray(), expected)
        assert 0.0 not in results[1].data and results[2].has_sorted_indices
        # exp of every stored entry: the explicit zero gives 1, each duplicate its own exp.
        stored_exp = value.copy()
        stored_exp.data = np.exp(stored_exp.data)
        np.testing.assert_allclose(results[3].toarray(), stored_exp.toarray())


# ----------------------------------------------------------------------------- shared variables
def test_shared_of_a_scipy_matrix_is_a_sparse_shared_variable():
    value = random_sparse((3, 4), "csc", dtype="float32")
    W = exprc.shared(value, name="W")
    assert isinstance(W, S.SparseSharedVariable) and isinstance(W, exprc.SharedVariable)
    assert not isinstance(W, T.TensorVariable) and W.type == S.SparseType("csc", "float32")
    got = W.get_value()
    assert isinstance(got, sp.csc_matrix) and got is not value
    got.data[:] = 0
    np.testing.assert_array_equal(W.get_value().toarray(), value.toarray())
    assert W.get_value(borrow=True) is W.get_value(borrow=True)
    value.data[:] = 5  # the shared variable holds a copy
    assert not np.all(W.get_value().data == 5)
    W.set_value(sp.csc_matrix(np.eye(3, 4, dtype="int8")))  # lossless cast
    assert W.get_value().dtype == np.float32
    with pytest.raises(ExprcTypeError, match="shared variable 'W'.*value.tocsc"):
        W.set_value(sp.csr_matrix(np.eye(3, 4, dtype="float32")))
    with pytest.raises(ExprcTypeError, match="would lose precision"):
        W.set_value(sp.csc_matrix(np.eye(3, 4)))
    with pytest.raises(ExprcTypeError, match="no shape"):
        exprc.shared(value, shape=(3, 4))
    assert S.shared(sp.coo_matrix(np.eye(2))).format == "csr"


def test_sparse_updates_givens_and_pickling():
    W = exprc.shared(sp.csr_matrix(np.eye(3)), name="W")
    x = T.dmatrix("x")
    f = exprc.function([x], S.dot(W, x), updates=[(W, W * 2)])
    np.testing.assert_array_equal(f(np.ones((3, 1))), np.ones((3, 1)))
    np.testing.assert_array_equal(f(np.ones((3, 1))), 2 * np.ones((3, 1)))
    np.testing.assert_array_equal(W.get_value().toarray(), 4 * np.eye(3))
    with pytest.raises(ExprcTypeError, match="update for W .* has type SparseType\\(csc"):
        exprc.function([], [], updates=[(W, W.T)])
    with pytest.raises(ExprcTypeError, match="update for W .*not a sparse variable"):
        exprc.function([], [], updates=[(W, T.dmatrix())])
    y = S.csr_matrix("y")
    g = exprc.function([y], S.sp_sum(W + y), givens={W: y * 3})
    assert float(g(sp.csr_matrix(np.eye(2)))) == 8.0
    loaded = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(loaded(np.ones((3, 1))), 4 * np.ones((3, 1)))
    state = exprc.function([exprc.In(y, value=sp.csr_matrix(np.eye(2)))], S.sp_sum(y))
    assert float(state()) == 2.0


# ----------------------------------------------------------------------------- ops against SciPy
def _run(inputs, outputs, values, mode="FAST_RUN"):
    return exprc.function(inputs, outputs, mode=mode)(*values)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_arithmetic_and_products_against_scipy(fmt):
    a, b = random_sparse((4, 5), fmt, seed=1), random_sparse((4, 5), "csr", seed=2)
    d, w = RNG.normal(size=(4, 5)), RNG.normal(size=(5, 3))
    x, y = S.matrix(fmt, "x", "float64"), S.csr_matrix("y", dtype="float64")
    D, W = T.dmatrix("D"), T.dmatrix("W")
    outs = [x + y, x - y, x + D, D - x, x * y, x * D, x * 0.5, S.dot(x, W), S.dot(D.T, x),
            S.structured_dot(x, W), S.structured_dot(x, y.T), S.true_dot(x, W), S.dot(x, y.T),
            S.sp_sum(x), S.sp_sum(x, 0), S.sp_sum(x, 1), S.row_scale(x, D[:, 0]),
            S.col_scale(x, D[0]), S.hstack([x, y]), S.vstack([x, y], format="csr")]
    got = _run([x, y, D, W], outs, [a, b, d, w])
    A, B = a.toarray(), b.toarray()
    expected = [A + B, A - B, A + d, d - A, A * B, A * d, A * 0.5, A @ w, d.T @ A, A @ w,
                A @ B.T, A @ w, A @ B.T, A.sum(), A.sum(0), A.sum(1), A * d[:, :1],
                A * d[:1], np.hstack([A, B]), np.vstack([A, B])]
    sparse_results = {0, 1, 4, 5, 6, 10, 11, 16, 17, 18, 19}
    for k, (g, e) in enumerate(zip(got, expected)):
        assert sp.issparse(g) == (k in sparse_results), k
        np.testing.assert_allclose(g.toarray() if sp.issparse(g) else g, e, err_msg=str(k))
    assert got[0].format == fmt and got[18].format == "csc" and got[19].format == "csr"


def test_structured_functions_keep_the_pattern():
    value = random_sparse((4, 6), "csc", seed=3)
    x = S.csc_matrix("x", dtype="float64")
    dense = value.toarray()
    stored = dense != 0
    # The NumPy expectations are computed everywhere and compared on the pattern only.
    with np.errstate(divide="ignore"):
        log_abs = np.log(np.abs(dense))
    cases = [
        (S.structured_sigmoid(x), 1 / (1 + np.exp(-dense))),
        (S.structured_log(S.abs_(x)), log_abs),
        (S.structured_pow(x, 2), dense ** 2),
        (S.structured_minimum(x, 0.7), np.minimum(dense, 0.7)),
        (S.structured_maximum(x, -0.7), np.maximum(dense, -0.7)),
        (S.structured_add(x, 1.5), dense + 1.5),
        (S.sqr(x), dense ** 2), (S.sqrt(S.abs_(x)), np.sqrt(np.abs(dense))),
        (S.sgn(x), np.sign(dense)), (S.rint(x), np.rint(dense)), (S.ceil(x), np.ceil(dense)),
        (S.floor(x), np.floor(dense)), (S.trunc(x), np.trunc(dense)),
        (S.expm1(x), np.expm1(dense)), (S.log1p(S.abs_(x)), np.log1p(np.abs(dense))),
        (S.sin(x), np.sin(dense)), (S.tan(x), np.tan(dense)),
        (S.arctan(x), np.arctan(dense)), (S.arcsinh(x), np.arcsinh(dense)),
        (S.sinh(x), np.sinh(dense)), (S.tanh(x), np.tanh(dense)),
        (S.arcsin(x * 0.4), np.arcsin(dense * 0.4)),
        (S.arctanh(x * 0.4), np.arctanh(dense * 0.4)),
        (S.deg2rad(x), np.deg2rad(dense)), (S.rad2deg(x), np.rad2deg(dense)),
        (S.sp_ones_like(x), np.ones_like(dense)), (S.sp_zeros_like(x), np.zeros_like(dense)),
    ]
    got = _run([x], [c for c, _ in cases], [value])
    for (var, want), g in zip(cases, got):
        assert isinstance(g, sp.csc_matrix) and var.format == "csc"
        np.testing.assert_allclose(g.toarray(), np.where(stored, want, 0.0), rtol=1e-12,
                                   err_msg=str(var))
    assert got[-1].nnz == 0


def test_theano_tutorial_examples():
    # "To and Fro", "Properties and Construction" and "Structured Operation" of Theano's page.
    x = S.csc_matrix(name="x", dtype="float32")
    z = S.csc_from_dense(S.dense_from_sparse(x))
    assert z.type == S.SparseType("csc", "float32")
    x = S.csc_matrix(name="x", dtype="int64")
    data, indices, indptr, shape = S.csm_properties(x)
    f = exprc.function([x], S.CSR(data, indices, indptr, shape))
    a = sp.csc_matrix(np.asarray([[0, 1, 1], [0, 0, 0], [1, 0, 0]]))
    np.testing.assert_array_equal(f(a).toarray(), [[0, 0, 1], [1, 0, 0], [1, 0, 0]])
    x = S.csc_matrix(name="x", dtype="float32")
    f = exprc.function([x], S.structured_add(x, 2))
    a = sp.csc_matrix(np.asarray([[0, 0, -1], [0, -2, 1], [3, 0, 0]], dtype="float32"))
    got = f(a)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.toarray(), [[0, 0, 1], [0, 0, 3], [5, 0, 0]])


def test_csm_properties_of_a_messy_matrix():
    value = messy_csr()
    x = S.csr_matrix("x", dtype="float64")
    data, indices, indptr, shape = _run([x], S.csm_properties(x), [value])
    np.testing.assert_array_equal(data, value.data)
    np.testing.assert_array_equal(indices, value.indices)
    assert indices.dtype == indptr.dtype == shape.dtype == np.int32
    np.testing.assert_array_equal(shape, [3, 3])


# ----------------------------------------------------------------------------- errors
def test_shape_mismatches_and_bad_arrays_are_clear_errors():
    x, y = S.csr_matrix("x", dtype="float64"), S.csr_matrix("y", dtype="float64")
    W = T.dmatrix("W")
    a, b = random_sparse((3, 4)), random_sparse((4, 3))
    with pytest.raises(ExprcShapeError, match=r"Dot: shapes \(3, 4\) and \(5, 2\) are not "
                                              r"aligned"):
        exprc.function([x, W], S.dot(x, W))(a, np.ones((5, 2)))
    with pytest.raises(ExprcShapeError, match="StructuredDot: shapes"):
        exprc.function([x, W], S.structured_dot(x, W))(a, np.ones((3, 2)))
    with pytest.raises(ExprcShapeError, match="do not broadcast"):
        exprc.function([x, y], x + y)(a, b)
    with pytest.raises(ExprcShapeError, match="do not broadcast"):
        exprc.function([x, W], x * W)(a, np.ones((3, 1)))
    with pytest.raises(ExprcShapeError, match="block 1 of shape \\(4, 3\\) has 4 rows"):
        exprc.function([x, y], S.hstack([x, y]))(a, b)
    with pytest.raises(ExprcShapeError, match="s has 2 entries"):
        exprc.function([x, W], S.row_scale(x, W[0]))(a, np.ones((1, 2)))
    d, i, p = T.dvector("d"), T.ivector("i"), T.ivector("p")
    build = exprc.function([d, i, p], S.dense_from_sparse(S.CSR(d, i, p, (2, 3))))
    ok = build(np.ones(2), np.array([0, 2], "int32"), np.array([0, 1, 2], "int32"))
    np.testing.assert_array_equal(ok, [[1, 0, 0], [0, 0, 1]])
    with pytest.raises(ExprcShapeError, match="indptr has 2 entries.*needs 3"):
        build(np.ones(2), np.array([0, 2], "int32"), np.array([0, 2], "int32"))
    with pytest.raises(ExprcValueError, match="indices must be column positions in \\[0, 3\\)"):
        build(np.ones(2), np.array([0, 3], "int32"), np.array([0, 1, 2], "int32"))
    with pytest.raises(ExprcValueError, match="never decrease"):
        build(np.ones(2), np.array([0, 2], "int32"), np.array([0, 2, 1], "int32"))
    with pytest.raises(ExprcShapeError, match="data has 1 entries but indices has 2"):
        build(np.ones(1), np.array([0, 2], "int32"), np.array([0, 1, 2], "int32"))


def test_build_errors_name_the_op_and_the_culprit():
    x, W = S.csr_matrix("x"), T.dmatrix("W")
    with pytest.raises(ExprcTypeError, match="dot: needs at least one sparse operand"):
        S.dot(W, W)
    with pytest.raises(ExprcTypeError, match="SparseFromDense.*x must be 2-d"):
        S.csr_from_dense(T.dvector())
    with pytest.raises(ExprcTypeError, match="cast it first"):
        S.csr_from_dense(T.matrix(dtype="bool"))
    with pytest.raises(ExprcTypeError, match="DenseFromSparse.*not a sparse variable"):
        S.dense_from_sparse(W)
    with pytest.raises(ExprcTypeError, match="MulSD.*y must be 0 or 2-d"):
        x * T.dvector()
    with pytest.raises(ExprcTypeError, match="structured_pow.*y must be a scalar"):
        S.structured_pow(x, T.dvector())
    with pytest.raises(ExprcTypeError, match="axis must be None, 0 or 1"):
        S.sp_sum(x, 2)
    with pytest.raises(ExprcTypeError, match="indices must be an integer vector"):
        S.CSR(T.dvector(), T.dvector(), T.ivector(), (2, 2))
    with pytest.raises(ExprcTypeError, match="ifelse|not a tensor variable"):
        T.exp(x)


# ----------------------------------------------------------------------------- gradients
def test_structured_gradients_only_reach_stored_entries():
    value = random_sparse((4, 5), seed=4)
    pattern = value.toarray() != 0
    w, d = RNG.normal(size=(5, 3)), RNG.normal(size=(4, 5))
    x, W, D = S.csr_matrix("x", dtype="float64"), T.dmatrix("W"), T.dmatrix("D")
    costs = {
        "structured_dot": (S.structured_dot(x, W) ** 2).sum(),
        "dense_from_sparse": (S.dense_from_sparse(x) * D).sum(),
        "add_sparse_dense": ((x + D) ** 2).sum(),
        "sp_sum_sparse_grad": (S.sp_sum(x, 0, sparse_grad=True) * D[0]).sum(),
    }
    A = value.toarray()
    full = {
        "structured_dot": 2 * (A @ w) @ w.T,
        "dense_from_sparse": d,
        "add_sparse_dense": 2 * (A + d),
        "sp_sum_sparse_grad": np.broadcast_to(d[0], (4, 5)),
    }
    for name, cost in costs.items():
        g = exprc.grad(cost, x)
        assert g.type == S.SparseType("csr", "float64"), name
        got = exprc.function([x, W, D], g, on_unused_input="ignore")(value, w, d)
        assert isinstance(got, sp.csr_matrix)
        np.testing.assert_allclose(got.toarray(), np.where(pattern, full[name], 0.0),
                                   err_msg=name)


def test_regular_gradients_reach_every_entry():
    value = random_sparse((4, 5), "csc", seed=5)
    w = RNG.normal(size=(5, 3))
    x, W = S.csc_matrix("x", dtype="float64"), T.dmatrix("W")
    A = value.toarray()
    g_dot = exprc.grad((S.dot(x, W) ** 2).sum(), x)
    assert isinstance(g_dot, T.TensorVariable)  # dense, as in Theano
    np.testing.assert_allclose(exprc.function([x, W], g_dot)(value, w), 2 * (A @ w) @ w.T)
    g_sum = exprc.grad(S.sp_sum(x * 3.0, sparse_grad=False), x)
    got = exprc.function([x], g_sum)(value)
    assert isinstance(got, sp.csc_matrix)
    np.testing.assert_allclose(got.toarray(), np.full((4, 5), 3.0))
    g_full = exprc.grad(S.DenseFromSparse(structured=False)(x).sum(), x)
    np.testing.assert_allclose(exprc.function([x], g_full)(value).toarray(), np.ones((4, 5)))
    # Sparse and dense contributions sum to a dense gradient; no path gives empty zeros.
    g_mixed = exprc.grad(S.dot(x, W).sum() + S.sp_sum(x), x)
    assert isinstance(g_mixed, T.TensorVariable)
    other = S.csc_matrix("other")
    g_none = exprc.grad(S.sp_sum(x), other, disconnected_inputs="ignore")
    assert exprc.function([other], g_none)(value).nnz == 0


def test_sparse_gradients_of_dense_variables_and_updates():
    # true_dot(..., grad_preserves_dense=False) gives a sparse gradient for a dense W; the
    # usual update expression W - lr * g still works.
    value = random_sparse((3, 4), seed=6)
    x, W = S.csr_matrix("x", dtype="float64"), T.dmatrix("W")
    g = exprc.grad(S.sp_sum(S.true_dot(x.T, W, grad_preserves_dense=False)), W)
    assert isinstance(g, S.SparseVariable)
    step = exprc.function([x, W], W - 0.1 * g)(value, np.zeros((3, 2)))
    expected = -0.1 * value.toarray() @ np.ones((4, 2))
    np.testing.assert_allclose(step, expected)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_verify_grad_sparse_on_structured_and_regular_ops(fmt):
    a, b = random_sparse((3, 4), fmt, seed=7), random_sparse((3, 4), fmt, seed=8)
    w, d = RNG.normal(size=(4, 2)), RNG.normal(size=(3, 4))
    rng = np.random.default_rng(9)
    S.verify_grad_sparse(lambda x, W: S.structured_dot(x, W), [a, w], structured=True,
                         rng=rng)
    S.verify_grad_sparse(lambda x, W: S.dot(x, W), [a, w], rng=rng)
    S.verify_grad_sparse(lambda x, y: x * y, [a, b], rng=rng)
    S.verify_grad_sparse(lambda x, y: S.add(x, y), [a, b], rng=rng)
    S.verify_grad_sparse(lambda x, D: x * D, [a, d], rng=rng)
    S.verify_grad_sparse(lambda x: S.sp_sum(x, 1), [a], rng=rng)
    S.verify_grad_sparse(lambda x: S.sp_sum(x, 0, sparse_grad=True), [a], structured=True,
                         rng=rng)
    S.verify_grad_sparse(S.structured_exp, [a], structured=True, rng=rng)
    S.verify_grad_sparse(lambda x: S.true_dot(x, w), [a], rng=rng)
    S.verify_grad_sparse(lambda x: S.row_scale(x, np.arange(1.0, 4.0)), [a], structured=True,
                         rng=rng)
    S.verify_grad_sparse(lambda x, y: S.hstack([x, y]), [a, b], rng=rng)
    S.verify_grad_sparse(lambda x: S.transpose(S.remove0(-x)), [a], rng=rng)
    S.verify_grad_sparse(lambda x: S.csm_data(x), [a], structured=True, rng=rng)
    with pytest.raises(AssertionError, match="gradient mismatch"):
        # A structured gradient is not the full one (zeros off the pattern).
        S.verify_grad_sparse(lambda x, W: S.structured_dot(x, W), [a, w], rng=rng)


def test_cast_gradient_in_float32():
    x = RNG.uniform(0.5, 2.0, (3, 4)).astype("float32")
    verify_grad(lambda v: S.dense_from_sparse(S.fcast(S.csr_from_dense(v))) * 3, [x],
                rng=np.random.default_rng(1))
    d = T.dmatrix("d")
    g = exprc.grad(S.sp_sum(S.fcast(S.csr_from_dense(d))), d)
    assert g.dtype == "float64"


def test_second_derivatives_through_structured_dot():
    value = random_sparse((3, 4), seed=10)
    x, W = S.csr_matrix("x", dtype="float64"), T.dmatrix("W")
    cost = (S.structured_dot(x, W) ** 2).sum()
    gW = exprc.grad(cost, W)
    hess_diag = exprc.grad(gW.sum(), W)  # d/dW of sum(2 x^T x W) = 2 x^T x 1
    w = RNG.normal(size=(4, 2))
    A = value.toarray()
    np.testing.assert_allclose(exprc.function([x, W], hess_diag)(value, w),
                               2 * A.T @ A @ np.ones((4, 2)))


# ----------------------------------------------------------------------------- execution
def test_sparse_functions_run_on_the_reference_executor_after_the_rewrites():
    x, W, b = S.csr_matrix("x", dtype="float64"), T.dmatrix("W"), T.dvector("b")
    h = T.tanh(S.structured_dot(x, W) + b)
    cost = T.log(T.exp(h)).sum() + (W * 1).sum()
    outputs = [cost, *exprc.grad(cost, [W, b, x])]
    f = exprc.function([x, W, b], outputs, mode="FAST_RUN")
    reference = exprc.function([x, W, b], outputs, mode="REFERENCE")
    assert isinstance(f.program, ReferenceProgram)
    assert {where for _, where in f.placement()} == {"python (reference)"}
    assert f.rewrite_log.fired  # the pipeline ran on the sparse graph
    value, w, bias = random_sparse((5, 4)), RNG.normal(size=(4, 3)), RNG.normal(size=3)
    for got, want in zip(f(value, w, bias), reference(value, w, bias)):
        if sp.issparse(got):
            got, want = got.toarray(), want.toarray()
        np.testing.assert_allclose(got, want, rtol=1e-10)
    # A function without sparse values still compiles to C.
    assert not isinstance(exprc.function([W], W * 2).program, ReferenceProgram)


def test_every_sparse_op_is_exempt_from_c_with_the_reason():
    op_classes = [cls for module in (sparse_ops, sparse_math) for cls in vars(module).values()
                  if isinstance(cls, type) and issubclass(cls, exprc.Op)
                  and cls.__module__ == module.__name__ and cls in exprc.Op.ALL_OPS]
    assert len(op_classes) >= 20
    for cls in op_classes:
        assert C_CODE.registered(cls) is None
        assert "reference executor" in C_CODE.reason(cls), cls


def test_shape_pass_reads_sizes_of_sparse_graphs():
    x, W = S.csr_matrix("x", dtype="float64"), T.dmatrix("W")
    y = S.structured_dot(x, W)
    f = exprc.function([x, W], [y.shape, S.dense_from_sparse(x.T).shape])
    shape, t_shape = f(random_sparse((5, 3)), np.ones((3, 2)))
    assert list(shape) == [5, 2] and list(t_shape) == [3, 5]


def test_reference_executor_checks_sparse_results():
    from exprc.link.reference import run_node

    node = sparse_ops.transpose.make_node(S.csr_matrix("x", dtype="float64"))
    with pytest.raises(ExprcError, match="internal error: .* promised SparseType\\(csc"):
        run_node(node, lambda node, x: [x], [random_sparse((2, 2))])


# ----------------------------------------------------------------------------- Theano names
@pytest.fixture
def theano():
    from exprc.compat import install_theano, uninstall_theano

    module = install_theano()
    yield module
    uninstall_theano()


def test_theano_sparse_programs_run(theano):
    import theano.sparse as sparse
    import theano.tensor as TT
    from theano.sparse import basic

    assert sparse.basic is basic and theano.sparse is sparse
    x = sparse.csc_matrix(name="x", dtype="float32")
    W = TT.fmatrix("W")
    y = sparse.dot(x, W)
    f = theano.function([x, W], [y, basic.sp_sum(x, axis=0, sparse_grad=True)])
    a = sp.csc_matrix(np.array([[0, 2], [3, 0]], dtype="float32"))
    out, total = f(a, np.ones((2, 2), dtype="float32"))
    np.testing.assert_array_equal(out, [[2, 2], [3, 3]])
    np.testing.assert_array_equal(total, [3, 2])
    for name in ("add_s_s", "add_s_d", "mul_s_s", "mul_s_d", "as_sparse", "verify_grad_sparse",
                 "structured_dot", "true_dot", "csm_properties", "CSM", "CSR", "CSC",
                 "sp_ones_like", "sp_zeros_like", "all_dtypes", "float_dtypes", "SparseType",
                 "SparseVariable", "row_scale", "col_scale", "remove0", "hstack", "vstack"):
        assert hasattr(sparse, name), name
    assert sparse.type.SparseType is S.SparseType
    assert sparse.sharedvar.SparseTensorSharedVariable is S.SparseSharedVariable
    shared = theano.shared(sp.csr_matrix(np.eye(2)), name="Ws")
    assert isinstance(shared, sparse.sharedvar.SparseTensorSharedVariable)
    W = theano.shared(np.zeros((2, 2)), name="W")
    xs = sparse.csr_matrix("xs", dtype="float64")
    g = theano.grad(TT.sum(sparse.structured_dot(xs, W)), W)
    step = theano.function([xs], [], updates=[(W, W - 0.5 * g)])
    step(sp.csr_matrix(np.eye(2)))
    np.testing.assert_array_equal(W.get_value(), -0.5 * np.ones((2, 2)))
    idx = TT.ivector("idx")
    assert sparse.sparse_grad(W[idx]).owner.inputs[0] is W
