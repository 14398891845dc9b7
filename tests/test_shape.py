"""Behaviour and errors of the shape API: reshape, flatten, the DimShuffle helpers and
specify_shape (values against NumPy are in the registry, tests/registry/cases_shape.py)."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError, ExprcTypeError
from exprc.tensor.shape import Reshape, SpecifyShape


def _run(inputs, output, *values):
    return exprc.function(inputs, output, mode="REFERENCE")(*values)


# --------------------------------------------------------------------------- reshape
def test_reshape_infers_static_shape_from_constants_and_minus_one():
    x = T.tensor(shape=(2, 6))
    assert T.reshape(x, (3, -1)).type.shape == (3, 4)
    assert T.reshape(T.matrix(), (5, -1)).type.shape == (5, None)
    assert T.reshape(T.matrix(), ()).type.shape == ()


def test_reshape_to_another_tensors_shape_keeps_its_static_sizes():
    y = T.tensor(shape=(3, 4))
    assert T.reshape(T.vector(), y.shape).type.shape == (3, 4)


def test_reshape_accepts_symbolic_entries_and_vectors():
    x, n = T.matrix("x"), T.iscalar("n")
    out = _run([x, n], T.reshape(x, (n, -1)), np.arange(12.0).reshape(3, 4), 2)
    assert out.shape == (2, 6)
    s = T.lvector("s")
    out = _run([x, s], T.reshape(x, s, ndim=3), np.zeros((2, 6)), [3, 2, 2])
    assert out.shape == (3, 2, 2)


@pytest.mark.parametrize("newshape", [(-1, -1), (2, -3)])
def test_reshape_rejects_invalid_target_shapes(newshape):
    with pytest.raises(ExprcShapeError, match="at most one -1"):
        T.reshape(T.matrix(), newshape)


def test_reshape_static_size_mismatch_names_both_shapes():
    with pytest.raises(ExprcShapeError, match=r"\(2, 3\).*\(4, 2\)"):
        T.reshape(T.tensor(shape=(2, 3)), (4, 2))


def test_reshape_runtime_size_mismatch_names_both_shapes():
    x = T.matrix("x")
    f = exprc.function([x], T.reshape(x, (4, -1)))
    with pytest.raises(ExprcShapeError, match=r"shape \(2, 3\).*shape \(4, -1\)"):
        f(np.zeros((2, 3)))


def test_reshape_runtime_length_of_symbolic_shape_is_checked():
    x, s = T.matrix("x"), T.lvector("s")
    f = exprc.function([x, s], T.reshape(x, s, ndim=2))
    with pytest.raises(ExprcShapeError, match="3 entries, expected 2"):
        f(np.zeros((2, 3)), [1, 2, 3])


@pytest.mark.parametrize("newshape, error, match", [
    ((2.0, 3), ExprcTypeError, r"newshape\[0\]"),
    (True, ExprcTypeError, "newshape"),
    (T.lvector(), ExprcShapeError, "unknown length"),
    (T.dvector(), ExprcTypeError, "integer"),
])
def test_reshape_rejects_bad_shape_arguments(newshape, error, match):
    with pytest.raises(error, match=match):
        T.reshape(T.matrix(), newshape)


def test_reshape_ndim_must_agree_with_the_shape():
    with pytest.raises(ExprcShapeError, match="ndim=3"):
        T.reshape(T.matrix(), (2, 3), ndim=3)


def test_reshape_gradient_has_the_input_type():
    x = T.tensor(shape=(2, 6), name="x")
    g = exprc.grad(T.reshape(x, (3, 4)).sum(), x)
    assert g.type == x.type
    np.testing.assert_array_equal(g.eval({x: np.zeros((2, 6))}), np.ones((2, 6)))


def test_reshape_op_validates_its_inputs():
    with pytest.raises(ExprcShapeError, match="3 entries"):
        Reshape(2)(T.matrix(), [1, 2, 3])


# --------------------------------------------------------------------------- flatten
def test_flatten_keeps_leading_axes():
    x = T.tensor(shape=(2, 3, 4))
    assert T.flatten(x, 2).type.shape == (2, 12)
    assert T.flatten(T.tensor3(), 2).type.shape == (None, None)
    out = _run([x], x.flatten(2), np.zeros((2, 3, 4)))
    assert out.shape == (2, 12)


@pytest.mark.parametrize("ndim", [0, 3, 1.0])
def test_flatten_rejects_bad_ndim(ndim):
    with pytest.raises(ExprcShapeError, match="ndim must be between 1 and 2"):
        T.flatten(T.matrix("x"), ndim)


# --------------------------------------------------------------------------- DimShuffles
def test_transpose_and_swapaxes_errors():
    x = T.matrix("x")
    with pytest.raises(ExprcShapeError, match="repeated axis"):
        T.transpose(x, (0, 0))
    with pytest.raises(ExprcShapeError, match="not a permutation"):
        T.transpose(x, (0,))
    with pytest.raises(ExprcShapeError, match="axis 2 is out of range"):
        T.swapaxes(x, 0, 2)
    with pytest.raises(ExprcTypeError, match="axis must be an int"):
        T.swapaxes(x, 0, 1.0)


def test_dimshuffle_pattern_errors():
    x = T.matrix("x")
    with pytest.raises(ExprcTypeError, match="pattern"):
        T.dimshuffle(x, "x01")
    with pytest.raises(ExprcShapeError, match="invalid pattern"):
        T.dimshuffle(x, (0, 2))
    assert x.dimshuffle("x", 0, 1).type.shape == (1, None, None)


def test_squeeze_defaults_to_statically_known_ones():
    assert T.squeeze(T.tensor(shape=(1, None, 1))).type.shape == (None,)
    assert T.squeeze(T.matrix()).type.shape == (None, None)


def test_squeeze_axis_of_known_other_size_fails_when_built():
    with pytest.raises(ExprcShapeError, match="cannot drop axis 0"):
        T.squeeze(T.tensor(shape=(2, 3)), 0)


def test_squeeze_axis_of_unknown_size_is_checked_at_run_time():
    x = T.matrix("x")
    f = exprc.function([x], T.squeeze(x, -2))
    assert f(np.zeros((1, 3))).shape == (3,)
    with pytest.raises(ExprcShapeError, match="not 1"):
        f(np.zeros((2, 3)))
    with pytest.raises(ExprcShapeError, match="out of range"):
        T.squeeze(x, 2)


def test_padding_helpers():
    x = T.matrix("x")
    assert T.shape_padleft(x, 2).type.shape == (1, 1, None, None)
    assert T.shape_padright(x).type.shape == (None, None, 1)
    assert T.shape_padaxis(x, -2).type.shape == (None, 1, None)
    with pytest.raises(ExprcShapeError, match="new axis of a 2-d tensor"):
        T.shape_padaxis(x, 3)
    with pytest.raises(ExprcTypeError, match="n_ones"):
        T.shape_padleft(x, -1)


# --------------------------------------------------------------------------- SpecifyShape
def test_specify_shape_type_is_exactly_the_given_shape():
    x = T.tensor(shape=(3, None))
    assert T.specify_shape(x, (None, 4)).type == T.TensorType("float64", shape=(None, 4))
    assert T.specify_shape(x, (3, None)) is x


def test_specify_shape_errors():
    with pytest.raises(ExprcShapeError, match="rank"):
        T.specify_shape(T.matrix(), (3,))
    with pytest.raises(ExprcShapeError, match="static size 2 on axis 0"):
        T.specify_shape(T.tensor(shape=(2, 3)), (3, 3))
    with pytest.raises(ExprcTypeError, match="non-negative ints or None"):
        T.specify_shape(T.matrix(), (3.0, None))


def test_specify_shape_checks_known_sizes_at_run_time():
    x = T.matrix("x")
    f = exprc.function([x], T.specify_shape(x, (3, None)))
    assert f(np.zeros((3, 5))).shape == (3, 5)
    with pytest.raises(ExprcShapeError, match=r"shape \(2, 3\).*\(3, \?\)"):
        f(np.zeros((2, 3)))


def test_broadcastable_pattern_helpers():
    x = T.matrix("x")
    assert T.addbroadcast(x, 0).broadcastable == (True, False)
    assert T.unbroadcast(T.row(), 0).broadcastable == (False, False)
    assert T.patternbroadcast(T.row(), (False, True)).type.shape == (None, 1)
    with pytest.raises(ExprcShapeError, match="pattern"):
        T.patternbroadcast(x, (True,))
    f = exprc.function([x], T.addbroadcast(x, 0))
    with pytest.raises(ExprcShapeError, match=r"\(1, \?\)"):
        f(np.zeros((2, 3)))


def test_unbroadcast_gradient_keeps_the_input_type():
    r = T.row("r")
    g = exprc.grad(T.unbroadcast(r, 0).sum(), r)
    assert g.type == r.type
    assert isinstance(T.unbroadcast(r, 0).owner.op, SpecifyShape)


def test_update_with_a_more_specific_type_is_fitted_to_the_shared_variable():
    w = exprc.shared(np.zeros((2, 3)), name="w")
    x = T.tensor(shape=(2, 3), name="x")
    f = exprc.function([x], [], updates=[(w, x)])
    f(np.ones((2, 3)))
    np.testing.assert_array_equal(w.get_value(), np.ones((2, 3)))
