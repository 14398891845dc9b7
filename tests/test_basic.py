"""Behaviour and errors of the construction API: alloc, zeros/ones, arange, eye, join,
stack, split and tile (values against NumPy are in tests/registry/cases_basic.py)."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError, ExprcTypeError


def _run(inputs, output, *values):
    return exprc.function(inputs, output, mode="REFERENCE")(*values)


# --------------------------------------------------------------------------- alloc, zeros
def test_alloc_static_shape():
    assert T.alloc(T.vector(), 2, 3).type.shape == (2, 3)
    assert T.alloc(T.tensor(shape=(3,)), 2, T.lscalar()).type.shape == (2, 3)
    assert T.alloc(0.0, T.lscalar(), 4).type.shape == (None, 4)


def test_alloc_build_errors():
    v = T.vector("v")
    with pytest.raises(ExprcShapeError, match="more dimensions"):
        T.alloc(T.matrix("x"), 3)
    with pytest.raises(ExprcShapeError, match="cannot broadcast"):
        T.alloc(T.tensor(shape=(2,)), 3)
    with pytest.raises(ExprcShapeError, match="negative size"):
        T.alloc(v, 2, -1)
    with pytest.raises(ExprcTypeError, match=r"shape\[1\]"):
        T.alloc(v, 2, 2.5)
    with pytest.raises(ExprcTypeError, match="integer"):
        T.alloc(v, v)


def test_alloc_run_time_errors():
    v, n = T.vector("v"), T.lscalar("n")
    f = exprc.function([v, n], T.alloc(v, 2, n))
    assert f(np.ones(3), 3).shape == (2, 3)
    with pytest.raises(ExprcShapeError, match=r"shape \(1, 3\) to shape \(2, 4\)"):
        f(np.zeros(3), 4)
    with pytest.raises(ExprcShapeError, match="negative size"):
        f(np.zeros(3), -3)


def test_alloc_result_is_a_fresh_array():
    v = T.vector("v")
    out = _run([v], T.alloc(v, 1, 2), np.array([1.0, 2.0]))
    out[0, 0] = 5.0
    assert out.flags.writeable


def test_zeros_and_ones():
    assert T.zeros((2, 3)).dtype == exprc.config.floatX
    assert T.ones(4, dtype="int8").type == T.TensorType("int8", shape=(4,))
    x = T.tensor(shape=(2, None))
    assert T.zeros(x.shape).type.shape == (2, None)
    assert T.zeros_like(x).type == x.type
    assert T.ones_like(x, dtype="int32").type == T.TensorType("int32", shape=(2, None))
    with pytest.raises(ExprcTypeError, match=r"shape\[1\]"):
        T.zeros((2, "a"))
    with pytest.raises(ExprcTypeError, match="not supported"):
        T.ones((2,), dtype="complex64")


def test_alloc_gradient_sums_over_broadcast_axes():
    v = T.vector("v")
    n = T.lscalar("n")
    g = exprc.grad(T.alloc(v, n, 2, 3).sum(), v)
    assert g.type == v.type
    np.testing.assert_allclose(g.eval({v: np.zeros(3), n: 4}), np.full(3, 8.0))


# --------------------------------------------------------------------------- arange, eye
def test_arange_dtypes():
    assert T.arange(5).dtype == "int64"
    assert T.arange(2.5).dtype == exprc.config.floatX
    assert T.arange(T.iscalar()).dtype == "int64"  # the default start is an int64 0
    assert T.arange(T.iscalar(), T.iscalar(), T.iscalar()).dtype == "int32"
    assert T.arange(T.fscalar(), dtype="float32").dtype == "float32"


def test_arange_static_length():
    assert T.arange(0, 1, 0.1).type.shape == (10,)
    assert T.arange(5, 1).type.shape == (0,)
    assert T.arange(T.lscalar()).type.shape == (None,)


def test_arange_of_a_size():
    x = T.matrix("x")
    np.testing.assert_array_equal(_run([x], T.arange(x.shape[0]), np.zeros((3, 2))),
                                  np.arange(3))


def test_arange_errors():
    with pytest.raises(ExprcShapeError, match="step must not be zero"):
        T.arange(0, 5, 0)
    with pytest.raises(ExprcTypeError, match="stop must be a numeric"):
        T.arange(True)
    with pytest.raises(ExprcTypeError, match="stop must be a numeric"):
        T.arange(T.vector())
    n = T.lscalar("n")
    f = exprc.function([n], T.arange(0, 5, n))
    with pytest.raises(ExprcShapeError, match="step must not be zero"):
        f(0)


def test_arange_gradient_with_respect_to_start_and_step():
    a, c = T.dscalar("a"), T.dscalar("c")
    out = (T.arange(a, 5.0, c) ** 2).sum()
    ga, gc = exprc.grad(out, [a, c])
    values = np.arange(0.5, 5.0, 1.5)
    np.testing.assert_allclose(ga.eval({a: 0.5, c: 1.5}), 2 * values.sum())
    np.testing.assert_allclose(gc.eval({a: 0.5, c: 1.5}), (2 * values * np.arange(3)).sum())


MODES = ["REFERENCE", exprc.Mode(linker="c")]


@pytest.mark.parametrize("mode", MODES, ids=["reference", "c"])
@pytest.mark.parametrize("start, stop, step", [
    (0, 2**53 + 1, 2**52),  # NumPy's double-precision length says 2
    (2**53 + 1, 0, -2**52),
    (-2**63, 2**63 - 1, 2**62),  # 3 * 2**62 passes int64 on the way to the value 2**62
    (2**63 - 1, -2**63, -2**63),
])
def test_integer_arange_length_is_exact(mode, start, stop, step):
    a, b, s = T.lscalar("a"), T.lscalar("b"), T.lscalar("s")
    f = exprc.function([a, b, s], T.arange(a, b, s), mode=mode)
    np.testing.assert_array_equal(f(start, stop, step),
                                  np.array(list(range(start, stop, step)), dtype="int64"))


@pytest.mark.parametrize("mode", MODES, ids=["reference", "c"])
@pytest.mark.parametrize("start, stop, step", [(-2**63, 2**63 - 1, 1), (2**63 - 1, -2**63, -1),
                                               (-2**62, 2**62, 1), (0, 2**62, 1)])
def test_arange_longer_than_memory_is_refused(mode, start, stop, step):
    a, b, s = T.lscalar("a"), T.lscalar("b"), T.lscalar("s")
    f = exprc.function([a, b, s], T.arange(a, b, s), mode=mode)
    with pytest.raises((ValueError, MemoryError)):
        f(start, stop, step)


@pytest.mark.parametrize("mode", MODES, ids=["reference", "c"])
@pytest.mark.parametrize("stop, message", [(np.nan, "length"), (np.inf, "Maximum allowed size"),
                                           (1e300, "Maximum allowed size")])
def test_float_arange_with_an_impossible_length_raises_as_numpy(mode, stop, message):
    with pytest.raises(ValueError, match=message):
        np.arange(0.0, stop, 1e-300 if stop == 1e300 else 1.0)
    a, b, s = T.dscalar("a"), T.dscalar("b"), T.dscalar("s")
    f = exprc.function([a, b, s], T.arange(a, b, s), mode=mode)
    with pytest.raises(ValueError, match=message):
        f(0.0, stop, 1e-300 if stop == 1e300 else 1.0)


def test_static_integer_arange_length_is_exact():
    assert T.arange(0, 2**53 + 1, 2**52).type.shape == (3,)
    assert len(range(0, 2**53 + 1, 2**52)) == 3
    for mode in ("REFERENCE", "FAST_RUN"):
        np.testing.assert_array_equal(
            exprc.function([], T.arange(0, 2**53 + 1, 2**52), mode=mode)(),
            [0, 2**52, 2**53])


def test_eye_and_identity_like():
    assert T.eye(3).type == T.TensorType(exprc.config.floatX, shape=(3, 3))
    assert T.eye(T.lscalar(), 4).type.shape == (None, 4)
    x = T.tensor("float32", shape=(2, None))
    out = T.identity_like(x)
    assert out.dtype == "float32" and out.type.shape == (2, None)
    np.testing.assert_array_equal(_run([x], out, np.zeros((2, 3), "float32")), np.eye(2, 3))


def test_eye_errors():
    with pytest.raises(ExprcTypeError, match="n must be an integer scalar"):
        T.eye(2.0)
    with pytest.raises(ExprcShapeError, match="negative size"):
        T.eye(-1)
    with pytest.raises(ExprcTypeError, match="needs a matrix"):
        T.identity_like(T.vector())
    n = T.lscalar("n")
    with pytest.raises(ExprcShapeError, match="negative size"):
        exprc.function([n], T.eye(n))(-2)


# --------------------------------------------------------------------------- join, stack
def test_join_static_shape_and_dtype():
    a = T.tensor("int32", shape=(2, None))
    b = T.tensor("float32", shape=(3, 4))
    out = T.concatenate([a, b])
    assert out.type == T.TensorType("float64", shape=(5, 4))
    assert T.join(-1, a, T.tensor(shape=(None, 5))).type.shape == (2, None)
    m = T.matrix()
    assert T.join(0, m) is m


def test_join_errors():
    x, v = T.matrix("x"), T.vector("v")
    with pytest.raises(ExprcShapeError, match="same rank"):
        T.join(0, x, v)
    with pytest.raises(ExprcShapeError, match="axis 2 is out of range"):
        T.join(2, x, x)
    with pytest.raises(ExprcShapeError, match="0-d"):
        T.join(0, T.scalar(), T.scalar())
    with pytest.raises(ExprcShapeError, match=r"sizes \[3, 4\] on axis 1"):
        T.join(0, T.tensor(shape=(2, 3)), T.tensor(shape=(2, 4)))
    with pytest.raises(ExprcTypeError, match="list or tuple"):
        T.concatenate(x)


def test_join_run_time_mismatch_names_the_shapes():
    x, y = T.matrix("x"), T.matrix("y")
    f = exprc.function([x, y], T.concatenate([x, y]))
    with pytest.raises(ExprcShapeError, match=r"\(2, 3\), \(1, 4\)"):
        f(np.zeros((2, 3)), np.zeros((1, 4)))


def test_stack_scalars_and_lists_of_symbols():
    a, n = T.dscalar("a"), T.lscalar("n")
    assert T.stack([a, a]).type.shape == (2,)
    vec = T.as_tensor_variable([n, 3])
    assert vec.type == T.TensorType("int64", shape=(2,))
    np.testing.assert_array_equal(_run([n], vec, 7), [7, 3])


def test_stack_errors():
    x, v = T.matrix("x"), T.vector("v")
    with pytest.raises(ExprcTypeError, match="non-empty"):
        T.stack([])
    with pytest.raises(ExprcTypeError, match="non-empty list"):
        T.stack(x, v)
    with pytest.raises(ExprcShapeError, match="same rank"):
        T.stack([x, v])
    with pytest.raises(ExprcShapeError, match="new axis of a 2-d tensor"):
        T.stack([x, x], axis=3)


def test_join_gradient_with_an_integer_input():
    x, i = T.dvector("x"), T.ivector("i")
    g = exprc.grad((T.concatenate([i, x]) ** 2).sum(), x)
    np.testing.assert_allclose(g.eval({x: [1.0, 2.0], i: [3]}), [2.0, 4.0])


# --------------------------------------------------------------------------- split
def test_split_static_shapes():
    pieces = T.split(T.tensor(shape=(5, None)), [2, 3], 2)
    assert [p.type.shape for p in pieces] == [(2, None), (3, None)]
    assert T.split(T.vector(), [T.lscalar()], 1)[0].type.shape == (None,)


def test_split_errors():
    x, v = T.matrix("x"), T.vector("v")
    with pytest.raises(ExprcShapeError, match="2 entries for n_splits=3"):
        T.split(x, [1, 2], 3)
    with pytest.raises(ExprcTypeError, match="n_splits must be a positive int"):
        T.split(x, [1, 2], 0)
    with pytest.raises(ExprcShapeError, match="add up to 3"):
        T.split(T.tensor(shape=(4,)), [1, 2], 2)
    with pytest.raises(ExprcShapeError, match="negative size"):
        T.split(v, [1, -2], 2)
    with pytest.raises(ExprcShapeError, match="0-d"):
        T.split(T.scalar(), [1], 1)
    f = exprc.function([v], T.split(v, [1, 2], 2))
    with pytest.raises(ExprcShapeError, match=r"shape \(4,\).*sizes \[1, 2\]"):
        f(np.zeros(4))


def test_split_gradient_fills_unused_pieces_with_zeros():
    x = T.dvector("x")
    first, _second, third = T.split(x, [1, 2, 1], 3)
    g = exprc.grad((first * 2).sum() + (third * 3).sum(), x)
    np.testing.assert_allclose(g.eval({x: np.zeros(4)}), [2.0, 0.0, 0.0, 3.0])


# --------------------------------------------------------------------------- tile
def test_tile_static_shape():
    assert T.tile(T.tensor(shape=(2, 3)), (2, 1)).type.shape == (4, 3)
    assert T.tile(T.vector(), (2, 1, 3)).type.shape == (2, 1, None)
    x = T.matrix()
    assert T.tile(x, (1, 1)) is x


def test_tile_errors():
    x = T.matrix("x")
    with pytest.raises(ExprcShapeError, match="ndim=1 is smaller"):
        T.tile(x, (2, 3), ndim=1)
    with pytest.raises(ExprcShapeError, match="unknown length; give ndim"):
        T.tile(x, T.lvector())
    with pytest.raises(ExprcTypeError, match=r"reps\[0\]"):
        T.tile(x, (2.0,))


def test_tile_gradient():
    x = T.dmatrix("x")
    g = exprc.grad(T.tile(x, (3, 2)).sum(), x)
    np.testing.assert_allclose(g.eval({x: np.zeros((2, 2))}), np.full((2, 2), 6.0))


def test_unpacking_a_vector_of_static_length():
    import exprc.tensor as TT
    x = TT.tensor3("x")
    batch, rows, cols = x.shape  # a shape vector has the rank as its static length
    f = exprc.function([x], batch * 100 + rows * 10 + cols)
    assert int(f(np.zeros((4, 5, 6)))) == 456
    first, second = TT.as_tensor_variable(np.array([7, 8]))
    assert int(exprc.function([], first + second)()) == 15
    with pytest.raises(TypeError, match="first dimension has no static size"):
        list(TT.dvector("v"))
    with pytest.raises(TypeError, match="0-d"):
        list(TT.dscalar("s"))
    with pytest.raises(TypeError, match="len"):
        len(x.shape)


def test_numpy_refuses_to_wrap_a_symbolic_variable():
    import exprc.tensor as TT
    x = TT.dvector("x")
    for convert in (lambda: np.array([x]), lambda: np.asarray(x.shape),
                    lambda: np.stack([x, x])):
        with pytest.raises(TypeError, match="cannot convert the symbolic variable"):
            convert()
    # Arithmetic with arrays still builds graphs (NumPy defers to the variable).
    assert isinstance(np.ones(2) + x, TT.TensorVariable)
    assert isinstance(np.float64(2) * x, TT.TensorVariable)
