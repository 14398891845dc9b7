"""Indexing: static shapes, errors naming the culprit, and behaviour beyond the registry."""

import itertools

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError, ExprcTypeError
from exprc.tensor.subtensor import (
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    ExprcIndexError,
    IncSubtensor,
    SliceSpec,
    Subtensor,
    getitem,
)


def run(outputs, inputs=(), values=()):
    return exprc.function(list(inputs), outputs, mode="REFERENCE")(*values)


# ----------------------------------------------------------------------------- static shapes
@pytest.mark.parametrize("index, shape", [
    (np.s_[1:3], (2, None)),
    (np.s_[::-2, 0], (3,)),
    (np.s_[-10:10], (5, None)),
    (np.s_[None, ..., None], (1, 5, None, 1)),
    (np.s_[[0, 4, -1]], (3, None)),
    (np.s_[np.array([True, False, True, True, False])], (3, None)),
    (np.s_[1, [[0], [1]]], (2, 1)),
    (np.s_[[0, 1], :, None], (2, None, 1)),
])
def test_static_shape(index, shape):
    x = T.tensor("float32", shape=(5, None))
    assert getitem(x, index).type.shape == shape


def test_static_shape_agrees_with_numpy_on_many_mixed_indices():
    """Where NumPy puts the advanced axes, for every mix of slices, ints, arrays and None."""
    a = np.zeros((2, 3, 4))
    x = T.tensor("float64", shape=a.shape)
    pieces = [slice(None), slice(1, None), 1, None, Ellipsis, np.array([[0], [1]]),
              np.array([1, 0, 1]), np.array([True, False])]
    checked = 0
    for n in range(1, 4):
        for combo in itertools.product(pieces, repeat=n):
            try:
                expected = a[combo].shape
            except IndexError:
                continue
            assert getitem(x, combo).type.shape == expected, combo
            checked += 1
    assert checked > 200


def test_unknown_sizes_stay_unknown():
    x = T.matrix()
    i = T.lscalar()
    assert x[1:3].type.shape == (None, None)
    assert x[:i, 0].type.shape == (None,)
    assert x[x > 0].type.shape == (None,)
    assert x[x[0] > 0].type.shape == (None, None)


def test_shape_entry_is_int64_scalar():
    x = T.matrix("x")
    n = x.shape[0]
    assert (n.dtype, n.ndim) == ("int64", 0)
    assert run(x.shape[-1], [x], [np.zeros((2, 7))]) == 7


def test_index_description_is_readable_and_hashable():
    x, i = T.matrix(), T.lscalar()
    op = x[1:i, None].owner.op
    assert op.idx_list == (SliceSpec(1, "scalar", None), None)
    assert str(op) == "Subtensor{[1:$, newaxis]}"
    assert hash(op) == hash(x[1:i, None].owner.op)
    assert x[1:i, None].owner.op == op
    assert isinstance(x[[0, 1]].owner.op, AdvancedSubtensor)
    assert isinstance(x[T.constant(1)].owner.op, Subtensor)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("index, culprit", [
    (1.0, "float 1.0"),
    (True, "bool True"),
    (np.bool_(False), "False"),
    (slice(0.5, None), "float 0.5"),
    (T.dscalar("fidx"), "fidx"),
    (T.tensor("bool", shape=(), name="bidx"), "bidx"),
    (T.dvector("fvec"), "fvec"),
    ("a", "str 'a'"),
])
def test_bad_index_kinds_are_type_errors_naming_the_index(index, culprit):
    with pytest.raises(ExprcTypeError, match="index") as info:
        T.matrix()[index]
    assert culprit in str(info.value)


@pytest.mark.parametrize("index", [
    np.s_[3], np.s_[-4], np.s_[:, 0], np.s_[[0, 3]], np.s_[0, 0, 0],
    np.s_[np.array([True, False])], np.s_[..., ...],
])
def test_static_out_of_range_raises_at_build_time(index):
    x = T.tensor("float64", shape=(3, 0))
    with pytest.raises(IndexError) as info:
        x[index]
    assert isinstance(info.value, ExprcIndexError)


def test_out_of_range_raises_at_run_time():
    x, i, v = T.dvector("x"), T.lscalar("i"), T.lvector("v")
    f = exprc.function([x, i, v], [x[i], x[v]], mode="REFERENCE")
    f(np.zeros(3), -3, np.array([2, -3]))
    with pytest.raises(IndexError, match="out of bounds"):
        f(np.zeros(3), 3, np.array([0]))
    with pytest.raises(IndexError, match="out of bounds"):
        f(np.zeros(3), 0, np.array([0, -4]))


def test_zero_step():
    x = T.dvector()
    with pytest.raises(ValueError, match="step 0"):
        x[::0]
    k = T.lscalar()
    with pytest.raises(ValueError, match="step"):
        run(x[::k], [x, k], [np.zeros(3), 0])


@pytest.mark.parametrize("mode", ["REFERENCE", exprc.Mode(linker="c")], ids=["reference", "c"])
@pytest.mark.parametrize("start, stop, step", [
    (0, 6, 2**63 - 1), (3, -5, -2**63), (5, 0, -2**63 + 1), (0, 6, 2**63 - 5),
    (-2**63, 2**63 - 1, 2**63 - 1), (2**63 - 1, -2**63, -2**63), (None, None, -2**63),
    (5, None, -4), (None, None, 5),
])
def test_slices_with_steps_near_int64_limits(mode, start, stop, step):
    # A matrix, so that the sliced axis's stride is used by the later ones' and by the sum.
    x, a, b, s = T.dmatrix("x"), T.lscalar("a"), T.lscalar("b"), T.lscalar("s")
    bounds = [a if start is not None else None, b if stop is not None else None, s]
    part = x[bounds[0]:bounds[1]:bounds[2]]
    inputs = [x, s] + [v for v in bounds[:2] if v is not None]
    f = exprc.function(inputs, [part, (part * 2).sum(axis=0), part.T + 1], mode=mode)
    value = np.arange(12.0).reshape(6, 2)
    got = f(value, step, *[v for v in (start, stop) if v is not None])
    want = value[start:stop:step]
    for g, w in zip(got, [want, (want * 2).sum(axis=0), want.T + 1]):
        np.testing.assert_array_equal(g, w)


def test_index_arrays_that_do_not_broadcast():
    with pytest.raises(IndexError, match="broadcast"):
        T.matrix()[[0, 1], [0, 1, 2]]


def test_set_value_dtype_must_cast_safely():
    x = T.fmatrix("x")
    with pytest.raises(ExprcTypeError, match="float64.*float32"):
        T.set_subtensor(x[0], T.dvector("y"))
    with pytest.raises(ExprcTypeError, match="int64"):
        T.inc_subtensor(T.lvector()[0], 1.5)
    with pytest.raises(ExprcTypeError, match="bool"):
        T.set_subtensor(T.tensor("bool", shape=(None,))[0], 3)
    T.set_subtensor(x[0], T.bvector())  # int8 fits in float32
    assert T.inc_subtensor(x[0], 2).dtype == "float32"


def test_set_value_shape_must_fit_the_region():
    x = T.tensor("float64", shape=(4, 3))
    with pytest.raises(ExprcShapeError, match=r"region of shape \(2, 3\)"):
        T.set_subtensor(x[1:3], T.tensor("float64", shape=(2,)))
    with pytest.raises(ExprcShapeError, match="broadcast"):
        T.set_subtensor(x[0], T.dmatrix())
    y = T.dvector("y")
    f = exprc.function([y], T.set_subtensor(T.constant(np.zeros((2, 3)))[0], y),
                       mode="REFERENCE")
    with pytest.raises(ValueError, match="broadcast"):
        f(np.ones(2))


def test_x_sub_must_come_from_indexing():
    x = T.dmatrix("x")
    with pytest.raises(ExprcTypeError, match="result of indexing"):
        T.set_subtensor(x, 0.0)
    with pytest.raises(ExprcTypeError, match="result of indexing"):
        T.inc_subtensor(x + 1, 0.0)


def test_take_errors():
    a = T.dmatrix("a")
    with pytest.raises(ExprcTypeError, match="mode"):
        T.take(a, [0], mode="nearest")
    with pytest.raises(ExprcShapeError, match="axis 2"):
        T.take(a, [0], axis=2)
    with pytest.raises(ExprcTypeError, match="integer"):
        T.take(a, [0.5])
    with pytest.raises(ExprcTypeError, match="integer"):
        T.take(a, np.array([True]))


# ----------------------------------------------------------------------------- behaviour
def test_set_and_inc_never_modify_their_input():
    x = T.dvector("x")
    outs = [T.set_subtensor(x[1:], 5.0), T.inc_subtensor(x[[0, 0]], 1.0),
            T.inc_subtensor(x[:2], 1.0), x[::-1]]
    value = np.arange(3.0)
    results = run(outs, [x], [value])
    np.testing.assert_array_equal(value, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(results[0], [0.0, 5.0, 5.0])
    np.testing.assert_array_equal(results[1], [2.0, 1.0, 2.0])


def test_symbolic_list_of_scalars_as_index():
    x, i, j = T.dvector("x"), T.lscalar("i"), T.lscalar("j")
    out = run(x[[i, j, i]], [x, i, j], [np.arange(4.0), 3, 1])
    np.testing.assert_array_equal(out, [3.0, 1.0, 3.0])


def test_inplace_flag_is_accepted_and_result_is_new():
    x = T.dvector("x")
    value = np.zeros(2)
    out = run(T.set_subtensor(x[0], 1.0, inplace=True), [x], [value])
    np.testing.assert_array_equal(out, [1.0, 0.0])
    np.testing.assert_array_equal(value, [0.0, 0.0])


def test_write_ops_keep_the_index_of_x_sub():
    x, v = T.dmatrix(), T.lvector()
    assert isinstance(T.set_subtensor(x[1:], 0.0).owner.op, IncSubtensor)
    op = T.inc_subtensor(x[v, 1:], 0.0, ignore_duplicates=True).owner.op
    assert isinstance(op, AdvancedIncSubtensor)
    assert (op.idx_list, op.set_instead_of_inc, op.ignore_duplicates) == (
        ("array", SliceSpec(1, None, None)), False, True)


# ----------------------------------------------------------------------------- gradients
def test_gradient_of_repeated_reads_accumulates():
    x = T.dvector("x")
    g = exprc.grad(T.sum(x[[0, 0, 2, -1]] * [1.0, 2.0, 3.0, 4.0]), x)
    np.testing.assert_array_equal(run(g, [x], [np.zeros(4)]), [3.0, 0.0, 3.0, 4.0])


def test_gradient_of_masked_read():
    x = T.dmatrix("x")
    g = exprc.grad(T.sum(x[x > 0] ** 2), x)
    value = np.array([[1.0, -1.0], [-2.0, 3.0]])
    np.testing.assert_array_equal(run(g, [x], [value]), [[2.0, 0.0], [0.0, 6.0]])


def test_gradient_of_set_zeroes_overwritten_entries_and_sums_broadcast_y():
    x, y = T.dmatrix("x"), T.dvector("y")
    cost = T.sum(T.set_subtensor(x[:, 1:], y) * np.arange(6.0).reshape(2, 3))
    gx, gy = exprc.grad(cost, [x, y])
    gx_v, gy_v = run([gx, gy], [x, y], [np.zeros((2, 3)), np.zeros(2)])
    np.testing.assert_array_equal(gx_v, [[0.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
    np.testing.assert_array_equal(gy_v, [1.0 + 4.0, 2.0 + 5.0])


def test_gradient_of_run_time_broadcast_y():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    cost = T.sum(T.inc_subtensor(x[[0, 1, 0]], y) * 2.0)
    gy = exprc.grad(cost, y)
    np.testing.assert_array_equal(run(gy, [x, y], [np.zeros((2, 3)), np.zeros((1, 3))]),
                                  [[6.0, 6.0, 6.0]])


def test_indices_get_no_gradient():
    x, i = T.dvector("x"), T.lscalar("i")
    gi = exprc.grad(T.sum(x[i:]), i, disconnected_inputs="ignore")
    assert run(gi, [i], [1]) == 0
