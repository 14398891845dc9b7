"""Registry cases of the indexing ops: Subtensor, IncSubtensor, AdvancedSubtensor,
AdvancedIncSubtensor, and ``take`` built from them."""

import numpy as np

import exprc.tensor as T
from tests.registry import Arg, Case, add


def ints(low, high, shape=(), dtype="int64"):
    """A symbolic integer index drawn from ``[low, high)``."""
    return Arg(shape, dtype, low=low, high=high)


def fixed(value, dtype="int64"):
    """An input that always takes ``value`` (indices that must be distinct, masks...)."""
    return Arg(np.shape(value), dtype, gen=lambda rng: np.array(value))


def mask(shape):
    return Arg(shape, "bool")


def _copy_set(a, index, y):
    out = a.copy()
    out[index] = y
    return out


def _copy_add_at(a, index, y):
    out = a.copy()
    np.add.at(out, index, y)
    return out


def _copy_iadd(a, index, y):
    out = a.copy()
    out[index] += y
    return out


INTEGER_ONLY = "integer or bool data has no gradient"
EMPTY = "the output is empty"

# ----------------------------------------------------------------------------- basic reads
add(
    Case("subtensor/int", lambda x: x[1], lambda a: a[1], [Arg((3, 4))]),
    Case("subtensor/neg_ints_3d", lambda x: x[-1, :, -2], lambda a: a[-1, :, -2],
         [Arg((2, 3, 4))]),
    Case("subtensor/slices", lambda x: x[1:4, ::2], lambda a: a[1:4, ::2], [Arg((5, 4))]),
    Case("subtensor/neg_steps", lambda x: x[::-2, 3:0:-1], lambda a: a[::-2, 3:0:-1],
         [Arg((5, 4))]),
    Case("subtensor/out_of_range_slice", lambda x: x[-10:10, 5:], lambda a: a[-10:10, 5:],
         [Arg((3, 4))], grad=EMPTY),
    Case("subtensor/newaxis_ellipsis", lambda x: x[None, ..., 1, None],
         lambda a: a[None, ..., 1, None], [Arg((2, 3, 4))]),
    Case("subtensor/ellipsis_only", lambda x: x[..., ::-1], lambda a: a[..., ::-1],
         [Arg((2, 3))]),
    Case("subtensor/static_shape", lambda x: x[1:3, -1], lambda a: a[1:3, -1],
         [Arg((5, 4), static=(5, 4))]),
    Case("subtensor/0d_empty_tuple", lambda x: x[()], lambda a: a[()], [Arg(())]),
    Case("subtensor/0d_newaxis", lambda x: x[None, ...], lambda a: a[None, ...], [Arg(())]),
    Case("subtensor/empty_input", lambda x: x[:, 1], lambda a: a[:, 1], [Arg((0, 3))],
         grad=EMPTY),
    Case("subtensor/empty_slice", lambda x: x[2:2], lambda a: a[2:2], [Arg((4, 3))],
         grad=EMPTY),
    Case("subtensor/symbolic_int", lambda x, i: x[i], lambda a, i: a[i],
         [Arg((4, 3)), ints(-4, 4)]),
    Case("subtensor/symbolic_uint8_int", lambda x, i: x[:, i], lambda a, i: a[:, i],
         [Arg((2, 3)), ints(0, 3, dtype="uint8")]),
    Case("subtensor/symbolic_slice_neg_step", lambda x, i, j, k: x[i:j:k, 1:j],
         lambda a, i, j, k: a[i:j:k, 1:j],
         [Arg((6, 3)), fixed(5), fixed(0, "int32"), fixed(-2, "int8")]),
    Case("subtensor/int32_data", lambda x: x[1:, -1], lambda a: a[1:, -1],
         [Arg((3, 4), "int32", low=-50, high=50)], grad=INTEGER_ONLY),
    Case("subtensor/bool_data", lambda x: x[::2, None], lambda a: a[::2, None],
         [Arg((3, 4), "bool")], grad=INTEGER_ONLY),
    Case("subtensor/float32", lambda x: x[-3:], lambda a: a[-3:], [Arg((4,), "float32")]),
    Case("subtensor/shape_entries", lambda x: [x.shape[0], x.shape[-1]],
         lambda a: [np.int64(a.shape[0]), np.int64(a.shape[-1])], [Arg((3, 4))],
         grad="the shape of a tensor has no gradient"),
)

# ----------------------------------------------------------------------------- basic writes
add(
    Case("set_subtensor/slice_broadcast_row", lambda x, y: T.set_subtensor(x[1:3], y),
         lambda a, y: _copy_set(a, np.s_[1:3], y), [Arg((4, 3)), Arg((3,))]),
    Case("set_subtensor/0d_value", lambda x, y: T.set_subtensor(x[:, -1], y),
         lambda a, y: _copy_set(a, np.s_[:, -1], y), [Arg((4, 3)), Arg(())]),
    Case("set_subtensor/0d_tensor", lambda x, y: T.set_subtensor(x[()], y),
         lambda a, y: _copy_set(a, (), y), [Arg(()), Arg(())]),
    Case("set_subtensor/python_float", lambda x: T.set_subtensor(x[1, ::2], 2.5),
         lambda a: _copy_set(a, np.s_[1, ::2], 2.5), [Arg((2, 5), "float32")]),
    Case("set_subtensor/newaxis", lambda x, y: T.set_subtensor(x[None, 1], y),
         lambda a, y: _copy_set(a, np.s_[None, 1], y), [Arg((3, 4)), Arg((1, 4))]),
    Case("inc_subtensor/runtime_broadcast", lambda x, y: T.inc_subtensor(x[::-2], y),
         lambda a, y: _copy_iadd(a, np.s_[::-2], y), [Arg((5, 3)), Arg((3, 1))]),
    Case("inc_subtensor/symbolic_int", lambda x, y, i: T.inc_subtensor(x[i], y),
         lambda a, y, i: _copy_iadd(a, int(i), y), [Arg((5,)), Arg(()), ints(-5, 5)]),
    Case("inc_subtensor/int8_into_float32", lambda x, y: T.inc_subtensor(x[:, 1:], y),
         lambda a, y: _copy_iadd(a, np.s_[:, 1:], y),
         [Arg((3, 4), "float32"), Arg((3,), "int8", low=-5, high=5)]),
    Case("inc_subtensor/empty", lambda x, y: T.inc_subtensor(x[:, :2], y),
         lambda a, y: _copy_iadd(a, np.s_[:, :2], y), [Arg((0, 3)), Arg((2,))], grad=EMPTY),
    Case("inc_subtensor/int_data", lambda x, y: T.inc_subtensor(x[1:], y),
         lambda a, y: _copy_iadd(a, np.s_[1:], y),
         [ints(-9, 9, (4,)), ints(-9, 9)], grad=INTEGER_ONLY),
    Case("inc_subtensor/set_instead_of_inc",
         lambda x, y: T.inc_subtensor(x[1], y, set_instead_of_inc=True),
         lambda a, y: _copy_set(a, 1, y), [Arg((3, 2)), Arg((2,))]),
)

# ----------------------------------------------------------------------------- advanced reads
add(
    Case("advanced_subtensor/int_list_repeats", lambda x: x[[0, 2, 2, -1]],
         lambda a: a[[0, 2, 2, -1]], [Arg((4, 3))]),
    Case("advanced_subtensor/symbolic_vector", lambda x, i: x[i], lambda a, i: a[i],
         [Arg((4, 3)), ints(-4, 4, (5,))]),
    Case("advanced_subtensor/matrix_index_int32", lambda x, i: x[i], lambda a, i: a[i],
         [Arg((5,)), ints(-5, 5, (2, 3), "int32")]),
    Case("advanced_subtensor/arange_pattern", lambda p, y: p[T.arange(p.shape[0]), y],
         lambda p, y: p[np.arange(p.shape[0]), y], [Arg((4, 3)), ints(0, 3, (4,))]),
    Case("advanced_subtensor/slice_then_array", lambda x, i: x[1:, i], lambda a, i: a[1:, i],
         [Arg((2, 3, 4)), ints(-3, 3, (5,))]),
    Case("advanced_subtensor/array_between_slices", lambda x, i: x[:, i, ::-1],
         lambda a, i: a[:, i, ::-1], [Arg((2, 3, 4)), ints(-3, 3, (5,))]),
    Case("advanced_subtensor/separated_by_slice", lambda x, i, j: x[i, :, j],
         lambda a, i, j: a[i, :, j], [Arg((2, 3, 4)), ints(0, 2, (5,)), ints(-4, 4, (5,))]),
    Case("advanced_subtensor/int_and_array_separated", lambda x, i: x[0, :, i],
         lambda a, i: a[0, :, i], [Arg((2, 3, 4)), ints(0, 4, (2, 2))]),
    Case("advanced_subtensor/int_and_array_adjacent", lambda x, i: x[:, 0, i],
         lambda a, i: a[:, 0, i], [Arg((2, 3, 4)), ints(0, 4, (2, 2))]),
    Case("advanced_subtensor/newaxis_between", lambda x, i, j: x[i, None, j],
         lambda a, i, j: a[i, None, j], [Arg((3, 4)), ints(0, 3, (2,)), ints(0, 4, (2,))]),
    Case("advanced_subtensor/empty_ellipsis_between", lambda x, i, j: x[:, i, ..., j],
         lambda a, i, j: a[:, i, ..., j], [Arg((2, 3, 4)), ints(0, 3, (5,)), ints(0, 4, (5,))]),
    Case("advanced_subtensor/broadcast_indices", lambda x, i, j: x[i, j],
         lambda a, i, j: a[i, j], [Arg((3, 4)), ints(0, 3, (2, 1)), ints(0, 4, (3,))]),
    Case("advanced_subtensor/symbolic_scalar_then_array", lambda x, k, i: x[:, k, i],
         lambda a, k, i: a[:, k, i], [Arg((3, 4, 5)), ints(-3, 3), ints(-5, 5, (2,))]),
    Case("advanced_subtensor/symbolic_scalar_separated", lambda x, k, i: x[k, :, i],
         lambda a, k, i: a[k, :, i], [Arg((3, 4, 5)), ints(-3, 3), ints(-5, 5, (2,))]),
    Case("advanced_subtensor/mask", lambda x, m: x[m], lambda a, m: a[m],
         [Arg((3, 4)), mask((3, 4))]),
    Case("advanced_subtensor/mask_on_axis", lambda x, m: x[:, m, None], lambda a, m: a[:, m, None],
         [Arg((2, 4, 3)), mask((4,))]),
    Case("advanced_subtensor/constant_mask",
         lambda x: x[np.array([True, False, True]), 1:],
         lambda a: a[np.array([True, False, True]), 1:], [Arg((3, 4))]),
    Case("advanced_subtensor/mask_from_expression", lambda x: x[x > 0.5],
         lambda a: a[a > 0.5], [Arg((3, 4))]),
    Case("advanced_subtensor/empty_list", lambda x: x[[]], lambda a: a[np.array([], int)],
         [Arg((3, 4))], grad=EMPTY),
    Case("advanced_subtensor/empty_input", lambda x, i: x[:, i], lambda a, i: a[:, i],
         [Arg((0, 4)), ints(0, 4, (3,))], grad=EMPTY),
    Case("advanced_subtensor/int16_data_uint8_index", lambda x, i: x[i], lambda a, i: a[i],
         [ints(-99, 99, (5,), "int16"), ints(0, 5, (4,), "uint8")], grad=INTEGER_ONLY),
)

# ----------------------------------------------------------------------------- advanced writes
add(
    Case("advanced_inc_subtensor/repeats_accumulate",
         lambda x, y: T.inc_subtensor(x[[0, 2, 0, 3, 0]], y),
         lambda a, y: _copy_add_at(a, [0, 2, 0, 3, 0], y), [Arg((4, 3)), Arg((5, 3))]),
    Case("advanced_inc_subtensor/symbolic_repeats", lambda x, y, i: T.inc_subtensor(x[i], y),
         lambda a, y, i: _copy_add_at(a, i, y), [Arg((4,)), Arg((6,)), ints(-4, 4, (6,))]),
    Case("advanced_inc_subtensor/ignore_duplicates",
         lambda x, y, i: T.inc_subtensor(x[i], y, ignore_duplicates=True),
         lambda a, y, i: _copy_iadd(a, i, y), [Arg((4, 3)), Arg((3, 3)), fixed([2, 0, -1])]),
    Case("advanced_inc_subtensor/ignore_duplicates_repeats",
         lambda x, y: T.inc_subtensor(x[[1, 1, 2]], y, ignore_duplicates=True),
         lambda a, y: _copy_iadd(a, [1, 1, 2], y), [Arg((4,)), Arg((3,))],
         grad="with repeated indices only one write per entry counts"),
    Case("advanced_set_subtensor/distinct", lambda x, y, i: T.set_subtensor(x[i, 1:], y),
         lambda a, y, i: _copy_set(a, (i, np.s_[1:]), y),
         [Arg((4, 3)), Arg((2,)), fixed([3, 0, 1])]),
    Case("advanced_set_subtensor/repeats_last_wins",
         lambda x, y: T.set_subtensor(x[[1, 1, 2]], y),
         lambda a, y: _copy_set(a, [1, 1, 2], y), [Arg((4, 2)), Arg((3, 2))],
         grad="with repeated indices the last write wins, so the gradient of y is not exact"),
    Case("advanced_set_subtensor/mask_python_float", lambda x, m: T.set_subtensor(x[m], 0.0),
         lambda a, m: _copy_set(a, m, 0.0), [Arg((3, 4)), mask((3, 4))]),
    Case("advanced_inc_subtensor/mask_0d_value", lambda x, m, y: T.inc_subtensor(x[m], y),
         lambda a, m, y: _copy_iadd(a, m, y), [Arg((3, 4)), mask((3, 4)), Arg(())]),
    Case("advanced_inc_subtensor/slice_mix_broadcast",
         lambda x, y, i: T.inc_subtensor(x[1:, i], y),
         lambda a, y, i: _copy_add_at(a, (np.s_[1:], i), y),
         [Arg((3, 4, 2)), Arg((1, 2)), ints(-4, 4, (3,))]),
    Case("advanced_inc_subtensor/arange_pattern",
         lambda p, y: T.inc_subtensor(p[T.arange(p.shape[0]), y], -1.0),
         lambda p, y: _copy_add_at(p, (np.arange(p.shape[0]), y), -1.0),
         [Arg((4, 3)), ints(0, 3, (4,))]),
    Case("advanced_inc_subtensor/int_data",
         lambda x, y, i: T.inc_subtensor(x[i], y),
         lambda a, y, i: _copy_add_at(a, i, y),
         [ints(-9, 9, (5,), "int32"), ints(-9, 9, (3,), "int8"), ints(0, 5, (3,))],
         grad=INTEGER_ONLY),
)

# ----------------------------------------------------------------------------- take
add(
    Case("take/flat", lambda a, i: T.take(a, i), lambda a, i: np.take(a, i),
         [Arg((3, 4)), ints(-12, 12, (2, 3))]),
    Case("take/axis", lambda a, i: T.take(a, i, axis=1), lambda a, i: np.take(a, i, axis=1),
         [Arg((2, 3, 4)), ints(-3, 3, (5,))]),
    Case("take/negative_axis", lambda a, i: T.take(a, i, axis=-1),
         lambda a, i: np.take(a, i, axis=-1), [Arg((2, 3, 4)), ints(-4, 4, (2, 2))]),
    Case("take/wrap", lambda a, i: T.take(a, i, axis=0, mode="wrap"),
         lambda a, i: np.take(a, i, axis=0, mode="wrap"),
         [Arg((3, 2)), ints(-9, 9, (6,), "int32")]),
    Case("take/clip", lambda a, i: T.take(a, i, axis=-1, mode="clip"),
         lambda a, i: np.take(a, i, axis=-1, mode="clip"),
         [Arg((2, 3)), ints(-9, 9, (6,), "uint8")]),
    Case("take/0d_index", lambda a: T.take(a, 2, axis=1), lambda a: np.take(a, 2, axis=1),
         [Arg((3, 4))]),
    Case("take/0d_data", lambda a: T.take(a, [0, 0, -1]), lambda a: np.take(a, [0, 0, -1]),
         [Arg(())]),
    Case("take/int_data", lambda a, i: T.take(a, i, axis=0),
         lambda a, i: np.take(a, i, axis=0),
         [ints(-9, 9, (4, 2), "uint16"), ints(0, 4, (3,))], grad=INTEGER_ONLY),
)
