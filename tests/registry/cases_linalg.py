"""Registry cases of the products (``Dot``, ``BatchedDot``) and what is built from them."""

import numpy as np

import exprc.tensor as T
from tests.registry import Arg, Case, add


def _batched_reference(a, b):
    """Theano's batched_dot: ``np.dot(a[i], b[i])`` per batch entry; a vector scales."""
    if a.ndim == 1:
        return a.reshape((-1,) + (1,) * (b.ndim - 1)) * b
    if b.ndim == 1:
        return a * b.reshape((-1,) + (1,) * (a.ndim - 1))
    if a.shape[0] == 0:
        entry = np.dot(np.zeros(a.shape[1:]), np.zeros(b.shape[1:]))
        return np.zeros((0,) + entry.shape)
    return np.stack([np.dot(a[i], b[i]) for i in range(a.shape[0])])


# (label, shape of a, shape of b) for np.dot: every rank combination NumPy accepts.
DOT_SHAPES = [
    ("vec_vec", (3,), (3,)), ("mat_vec", (2, 3), (3,)), ("vec_mat", (3,), (3, 4)),
    ("mat_mat", (2, 3), (3, 4)), ("0d_mat", (), (2, 3)), ("vec_0d", (3,), ()),
    ("t3_vec", (2, 3, 4), (4,)), ("t3_mat", (2, 3, 4), (4, 5)), ("mat_t3", (2, 3), (2, 3, 4)),
    ("vec_t3", (3,), (2, 3, 4)), ("t3_t3", (2, 3, 4), (2, 4, 2)), ("t4_vec", (2, 1, 2, 3), (3,)),
]
for _label, _sa, _sb in DOT_SHAPES:
    add(Case(f"dot/{_label}", T.dot, np.dot, [Arg(_sa), Arg(_sb)]))

add(
    Case("dot/static", T.dot, np.dot, [Arg((2, 3), static=(2, 3)), Arg((3, 4), static=(3, 4))]),
    Case("dot/empty_inner", T.dot, np.dot, [Arg((2, 0)), Arg((0, 3))], grad="empty input"),
    Case("dot/empty_outer", T.dot, np.dot, [Arg((0, 3)), Arg((3, 2))], grad="empty input"),
    Case("dot/vec_vec/empty", T.dot, np.dot, [Arg((0,)), Arg((0,))], grad="empty input"),
    Case("dot/runtime_size1", T.dot, np.dot, [Arg((1, 1)), Arg((1, 3))]),
    Case("dot/float32", T.dot, np.dot, [Arg((3, 4), "float32"), Arg((4, 2), "float32")],
         grad="float32 forward case", rtol=1e-5, atol=1e-6),
    Case("dot/float32_float64", T.dot, np.dot, [Arg((3, 4), "float32"), Arg((4,))],
         grad="float32 forward case"),
    Case("dot/int32_int64", T.dot, np.dot,
         [Arg((3, 4), "int32", -5, 5), Arg((4, 2), "int64", -5, 5)], grad="integer inputs"),
    Case("dot/int8", T.dot, np.dot, [Arg((2, 3), "int8", -3, 3), Arg((3,), "int8", -3, 3)],
         grad="integer inputs"),
    Case("dot/uint8_float32", T.dot, np.dot,
         [Arg((2, 3), "uint8", 0, 5), Arg((3, 2), "float32")], grad="mixed integer input",
         rtol=1e-5),
    Case("dot/bool", T.dot, np.dot, [Arg((2, 3), "bool"), Arg((3, 2), "bool")],
         grad="bool inputs"),
    Case("dot/method", lambda a, b: a.dot(b), lambda a, b: a.dot(b), [Arg((2, 3)), Arg((3,))]),
)

# (label, shape of a, shape of b, axes)
TENSORDOT = [
    ("axes=0", (2, 3), (4,), 0), ("axes=1", (2, 3), (3, 4), 1),
    ("axes=2", (2, 3, 4), (3, 4, 2), 2), ("default_axes", (2, 3, 4), (3, 4), 2),
    ("pair", (2, 3, 4), (4, 3, 5), [[1, 2], [1, 0]]),
    ("pair_negative", (3, 2, 4), (4, 5, 3), [[-1, 0], [0, -1]]),
    ("pair_of_ints", (2, 3), (4, 3), [1, 1]), ("all_axes", (2, 3), (2, 3), [[0, 1], [0, 1]]),
    ("empty_free", (0, 3), (3, 2), 1), ("empty_summed", (2, 0), (0, 3), 1),
]
for _label, _sa, _sb, _axes in TENSORDOT:
    _empty = 0 in _sa + _sb
    add(Case(f"tensordot/{_label}", lambda a, b, ax=_axes: T.tensordot(a, b, ax),
             lambda a, b, ax=_axes: np.tensordot(a, b, ax), [Arg(_sa), Arg(_sb)],
             grad="empty input" if _empty else True))
add(Case("tensordot/static", lambda a, b: T.tensordot(a, b, [[0, 2], [2, 0]]),
         lambda a, b: np.tensordot(a, b, [[0, 2], [2, 0]]),
         [Arg((2, 3, 4), static=(2, 3, 4)), Arg((4, 5, 2), static=(4, 5, 2))]))

add(
    Case("outer/vec_vec", T.outer, np.outer, [Arg((3,)), Arg((4,))]),
    Case("outer/flatten", T.outer, np.outer, [Arg((2, 2)), Arg(())]),
    Case("outer/empty", T.outer, np.outer, [Arg((0,)), Arg((3,))], grad="empty input"),
    Case("outer/int32", T.outer, np.outer, [Arg((3,), "int32", -4, 4), Arg((2,), "int32")],
         grad="integer inputs"),
)

# (label, shape of a, shape of b): ranks 1 to 4 on both sides, batch of 2.
BATCHED = [
    ("vec_mat", (2,), (2, 3)), ("mat_vec", (2, 3), (2,)), ("mat_mat", (2, 3), (2, 3)),
    ("t3_mat", (2, 3, 4), (2, 4)), ("mat_t3", (2, 3), (2, 3, 4)),
    ("t3_t3", (2, 3, 4), (2, 4, 5)), ("t4_t3", (2, 2, 3, 4), (2, 4, 3)),
    ("mat_t4", (2, 3), (2, 2, 3, 4)), ("t4_mat", (2, 1, 3, 4), (2, 4)),
    ("t4_t4", (2, 2, 1, 3), (2, 2, 3, 2)), ("empty_batch", (0, 3, 4), (0, 4, 2)),
]
for _label, _sa, _sb in BATCHED:
    add(Case(f"batched_dot/{_label}", T.batched_dot, _batched_reference, [Arg(_sa), Arg(_sb)],
             grad="empty input" if _sa[0] == 0 else True))
add(
    Case("batched_dot/static", T.batched_dot, _batched_reference,
         [Arg((2, 3, 4), static=(2, 3, 4)), Arg((2, 4, 2), static=(None, 4, 2))]),
    Case("batched_dot/float32_int32", T.batched_dot, _batched_reference,
         [Arg((2, 3, 4), "float32"), Arg((2, 4, 2), "int32", -3, 3)],
         grad="float32 forward case", rtol=1e-5),
)

# The @ operator: np.matmul for ranks 1 to 3; the batch sizes of two 3-d stacks broadcast
# (the size-1 cases without static shapes broadcast at run time).
for _label, _sa, _sb in [("vec_vec", (3,), (3,)), ("mat_vec", (2, 3), (3,)),
                         ("vec_mat", (3,), (3, 2)), ("mat_mat", (2, 3), (3, 4)),
                         ("t3_t3", (2, 3, 4), (2, 4, 2)), ("t3_mat", (2, 3, 4), (4, 5)),
                         ("mat_t3", (3, 4), (2, 4, 5)), ("t3_vec", (2, 3, 4), (4,)),
                         ("vec_t3", (3,), (2, 3, 4)), ("t3_t3/bcast_b", (2, 3, 4), (1, 4, 5)),
                         ("t3_t3/bcast_a", (1, 3, 4), (3, 4, 2)),
                         ("t3_t3/batch1", (1, 2, 3), (1, 3, 2))]:
    add(Case(f"matmul/{_label}", lambda a, b: a @ b, np.matmul, [Arg(_sa), Arg(_sb)]))
add(
    Case("matmul/t3_t3/static_bcast", T.matmul, np.matmul,
         [Arg((2, 3, 4), static=(2, 3, 4)), Arg((1, 4, 5), static=(1, 4, 5))]),
    Case("matmul/t3_t3/static_one_side", T.matmul, np.matmul,
         [Arg((1, 3, 4), static=(1, None, None)), Arg((2, 4, 5))]),
    Case("matmul/t3_t3/static_other_side", T.matmul, np.matmul,
         [Arg((1, 3, 4)), Arg((3, 4, 2), static=(3, 4, 2))]),
    Case("matmul/t3_t3/empty_batch", T.matmul, np.matmul, [Arg((0, 3, 4)), Arg((1, 4, 2))],
         grad="empty input"),
    Case("matmul/function", T.matmul, np.matmul, [Arg((2, 3)), Arg((3, 2))]),
    Case("matmul/rmatmul", lambda a: [[1.0, 2.0, 3.0]] @ a,
         lambda a: np.array([[1.0, 2.0, 3.0]]) @ a, [Arg((3, 2))]),
    Case("matmul/int64", T.matmul, np.matmul,
         [Arg((2, 2, 3), "int64", -3, 3), Arg((2, 3, 2), "int64", -3, 3)],
         grad="integer inputs"),
)
