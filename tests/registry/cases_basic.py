"""Registry cases of the construction ops (``Alloc``, ``ARange``, ``Eye``, ``Join``,
``Split``) and of the functions built on them."""

import numpy as np

import exprc.tensor as T
from tests.registry import Arg, Case, add

NOT_DIFF = "integer or bool input"
VALUE_FREE = "the output does not depend on the input's values"


def _fixed(value, dtype="int64"):
    return Arg(shape=np.shape(value), dtype=dtype, gen=lambda rng: np.array(value))


# --------------------------------------------------------------------------- Alloc
add(
    Case("alloc/scalar", lambda v: T.alloc(v, 2, 3), lambda v: np.full((2, 3), v),
         [Arg(())]),
    Case("alloc/vector_leading", lambda v: T.alloc(v, 2, 3),
         lambda v: np.broadcast_to(v, (2, 3)), [Arg((3,))]),
    Case("alloc/inner_bcast", lambda v: T.alloc(v, 4, 2, 3),
         lambda v: np.broadcast_to(v, (4, 2, 3)), [Arg((2, 1))]),
    Case("alloc/symbolic_size", lambda v, n: T.alloc(v, n, 3),
         lambda v, n: np.broadcast_to(v, (int(n), 3)), [Arg((1, 3)), _fixed(4, "int32")]),
    Case("alloc/shape_tuple", lambda v: T.alloc(v, (3, 2)), lambda v: np.full((3, 2), v),
         [Arg(())]),
    Case("alloc/0d", lambda v: T.alloc(v), lambda v: v.copy(), [Arg(())]),
    Case("alloc/empty", lambda v: T.alloc(v, 0, 3), lambda v: np.zeros((0, 3)),
         [Arg((3,))]),
    Case("alloc/int8", lambda v: T.alloc(v, 2, 2), lambda v: np.full((2, 2), v, "int8"),
         [Arg((), dtype="int8", high=9)], grad=NOT_DIFF),
    Case("zeros", lambda: T.zeros((2, 3)), lambda: np.zeros((2, 3)), [], grad="no inputs"),
    Case("zeros/int_shape_dtype", lambda: T.zeros(4, dtype="int32"),
         lambda: np.zeros(4, "int32"), [], grad="no inputs"),
    Case("zeros/of_shape", lambda x: T.zeros(x.shape, dtype="bool"),
         lambda x: np.zeros(x.shape, bool), [Arg((2, 0, 3))], grad=VALUE_FREE),
    Case("ones", lambda n: T.ones((n, 2), dtype="float32"),
         lambda n: np.ones((int(n), 2), "float32"), [_fixed(3)], grad=NOT_DIFF),
    Case("ones/0d", lambda: T.ones(()), lambda: np.ones(()), [], grad="no inputs"),
    Case("zeros_like", T.zeros_like, np.zeros_like, [Arg((3, 2))], grad=VALUE_FREE),
    Case("zeros_like/dtype", lambda x: T.zeros_like(x, "int16"),
         lambda x: np.zeros_like(x, "int16"), [Arg(())], grad=VALUE_FREE),
    Case("ones_like", T.ones_like, np.ones_like, [Arg((2, 3), dtype="uint8", high=9)],
         grad=NOT_DIFF),
    Case("ones_like/empty", lambda x: T.ones_like(x, "float32"),
         lambda x: np.ones_like(x, "float32"), [Arg((0, 4))], grad=VALUE_FREE),
)

# --------------------------------------------------------------------------- ARange
add(
    Case("arange/stop", lambda: T.arange(5), lambda: np.arange(5), [], grad="no inputs"),
    Case("arange/symbolic_stop", T.arange, lambda n: np.arange(n), [_fixed(4)],
         grad=NOT_DIFF),
    Case("arange/of_shape", lambda x: T.arange(x.shape[0]), lambda x: np.arange(len(x)),
         [Arg((4, 2))], grad=VALUE_FREE),
    Case("arange/start_stop_step", lambda a, b, c: T.arange(a, b, c),
         lambda a, b, c: np.arange(a, b, c), [_fixed(-3), _fixed(9), _fixed(4)],
         grad=NOT_DIFF),
    Case("arange/negative_step", lambda: T.arange(5, -4, -3),
         lambda: np.arange(5, -4, -3), [], grad="no inputs"),
    Case("arange/empty", lambda: T.arange(5, 1), lambda: np.arange(5, 1), [],
         grad="no inputs"),
    Case("arange/int32", lambda a, b: T.arange(a, b),
         lambda a, b: np.arange(a, b),
         [_fixed(2, "int32"), _fixed(7, "int32")], grad=NOT_DIFF),
    Case("arange/float", lambda a, b, c: T.arange(a, b, c),
         lambda a, b, c: np.arange(a, b, c),
         [_fixed(0.3, "float64"), _fixed(5.1, "float64"), _fixed(0.7, "float64")]),
    Case("arange/float_negative_step", lambda a, c: T.arange(a, -1.0, c),
         lambda a, c: np.arange(a, -1.0, c), [_fixed(2.2, "float64"), _fixed(-0.45, "float64")]),
    Case("arange/float32", lambda: T.arange(0, 1, 0.25, dtype="float32"),
         lambda: np.arange(0, 1, 0.25, dtype="float32"), [], grad="no inputs"),
)

# --------------------------------------------------------------------------- Eye
add(
    Case("eye/square", lambda: T.eye(3), lambda: np.eye(3), [], grad="no inputs"),
    Case("eye/k", lambda: T.eye(3, 4, 1, dtype="int8"), lambda: np.eye(3, 4, 1, dtype="int8"),
         [], grad="no inputs"),
    Case("eye/symbolic", lambda n, k: T.eye(n, 2, k), lambda n, k: np.eye(n, 2, k),
         [_fixed(3), _fixed(-1, "int32")], grad=NOT_DIFF),
    Case("eye/empty", lambda: T.eye(0, 3), lambda: np.eye(0, 3), [], grad="no inputs"),
    Case("identity_like", T.identity_like, lambda x: np.eye(*x.shape, dtype=x.dtype),
         [Arg((3, 2), dtype="float32")], grad=VALUE_FREE),
)

# --------------------------------------------------------------------------- Join
add(
    Case("concatenate/axis0", lambda a, b: T.concatenate([a, b]),
         lambda a, b: np.concatenate([a, b]), [Arg((2, 3)), Arg((4, 3))]),
    Case("concatenate/axis-1/three", lambda a, b, c: T.concatenate([a, b, c], axis=-1),
         lambda a, b, c: np.concatenate([a, b, c], axis=-1),
         [Arg((2, 1)), Arg((2, 3)), Arg((2, 2))]),
    Case("concatenate/empty_piece", lambda a, b: T.concatenate((a, b), axis=1),
         lambda a, b: np.concatenate((a, b), axis=1), [Arg((2, 0)), Arg((2, 3))]),
    Case("concatenate/static", lambda a, b: T.concatenate([a, b]),
         lambda a, b: np.concatenate([a, b]),
         [Arg((2, 3), static=(2, None)), Arg((1, 3), static=(None, 3))]),
    Case("concatenate/axis_none", lambda a, b: T.concatenate([a, b], axis=None),
         lambda a, b: np.concatenate([a, b], axis=None), [Arg((2, 2)), Arg(())]),
    Case("concatenate/mixed_dtypes", lambda a, b: T.concatenate([a, b]),
         lambda a, b: np.concatenate([a, b]),
         [Arg((2,), dtype="int32", low=-9, high=9), Arg((3,))]),
    Case("concatenate/int_uint", lambda a, b: T.concatenate([a, b]),
         lambda a, b: np.concatenate([a, b]),
         [Arg((2,), dtype="int8", high=9), Arg((1,), dtype="uint8", high=9)], grad=NOT_DIFF),
    Case("join", lambda a, b: T.join(1, a, b), lambda a, b: np.concatenate([a, b], 1),
         [Arg((2, 3, 1)), Arg((2, 2, 1))]),
    Case("join/bool", lambda a, b: T.join(0, a, b), lambda a, b: np.concatenate([a, b]),
         [Arg((2,), dtype="bool"), Arg((3,), dtype="bool")], grad=NOT_DIFF),
    Case("stack/scalars", lambda a, b, c: T.stack([a, b, c]),
         lambda a, b, c: np.stack([a, b, c]), [Arg(()), Arg(()), Arg(())]),
    Case("stack/axis1", lambda a, b: T.stack([a, b], axis=1),
         lambda a, b: np.stack([a, b], axis=1), [Arg((2, 3)), Arg((2, 3))]),
    Case("stack/axis-1", lambda a, b: T.stack((a, b), axis=-1),
         lambda a, b: np.stack((a, b), axis=-1), [Arg((3,)), Arg((3,))]),
    Case("stack/one", lambda a: T.stack([a]), lambda a: np.stack([a]), [Arg((2, 2))]),
    Case("stack/empty", lambda a, b: T.stack([a, b]), lambda a, b: np.stack([a, b]),
         [Arg((0, 2)), Arg((0, 2))]),
    Case("stack/python_and_symbolic", lambda a: T.stack([a, 2.5]),
         lambda a: np.stack([a, 2.5]), [Arg(())]),
    Case("as_tensor_variable/list_of_scalars", lambda a, b: T.as_tensor_variable([a, b, 1.0]),
         lambda a, b: np.array([a, b, 1.0]), [Arg(()), Arg(())]),
)

# --------------------------------------------------------------------------- Split
add(
    Case("split/axis0", lambda x: T.split(x, [2, 3], 2), lambda x: np.split(x, [2]),
         [Arg((5, 3))], grad="several outputs: see split/grad cases"),
    Case("split/axis-1/zero_piece", lambda x: T.split(x, (1, 0, 2), 3, axis=-1),
         lambda x: np.split(x, [1, 1], axis=-1), [Arg((2, 3))],
         grad="several outputs: see split/grad cases"),
    Case("split/symbolic_sizes", lambda x, s: T.split(x, s, 2, axis=1),
         lambda x, s: np.split(x, [s[0]], axis=1), [Arg((2, 4)), _fixed([3, 1])],
         grad="several outputs: see split/grad cases"),
    Case("split/one_piece", lambda x: T.split(x, [3], 1)[0], lambda x: x.copy(),
         [Arg((3,))]),
    Case("split/int", lambda x: T.split(x, [1, 1], 2)[1], lambda x: x[1:],
         [Arg((2, 2), dtype="int64", high=9)], grad=NOT_DIFF),
    Case("split/grad/middle_piece", lambda x: T.split(x, [1, 2, 1], 3)[1],
         lambda x: x[1:3], [Arg((4, 2))]),
    Case("split/grad/pieces_combined",
         lambda x: T.split(x, [2, 1], 2, axis=1)[0] * T.split(x, [2, 1], 2, axis=1)[1],
         lambda x: x[:, :2] * x[:, 2:], [Arg((3, 3))]),
)

# --------------------------------------------------------------------------- tile
add(
    Case("tile/matrix", lambda x: T.tile(x, (2, 3)), lambda x: np.tile(x, (2, 3)),
         [Arg((2, 3))]),
    Case("tile/more_reps", lambda x: T.tile(x, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)),
         [Arg((2,))]),
    Case("tile/fewer_reps", lambda x: T.tile(x, [2]), lambda x: np.tile(x, 2),
         [Arg((2, 3))]),
    Case("tile/0d", lambda x: T.tile(x, (3,)), lambda x: np.tile(x, 3), [Arg(())]),
    Case("tile/static", lambda x: T.tile(x, (1, 2)), lambda x: np.tile(x, (1, 2)),
         [Arg((2, 3), static=(2, 3))]),
    Case("tile/symbolic_rep", lambda x, r: T.tile(x, (r, 2)),
         lambda x, r: np.tile(x, (int(r), 2)), [Arg((2, 2)), _fixed(3, "int32")]),
    Case("tile/symbolic_vector_ndim", lambda x, r: T.tile(x, r, ndim=3),
         lambda x, r: np.tile(x, r), [Arg((2, 1)), _fixed([2, 1, 3])]),
    Case("tile/zero_reps", lambda x: T.tile(x, (0, 2)), lambda x: np.tile(x, (0, 2)),
         [Arg((2, 3))]),
    Case("tile/int", lambda x: T.tile(x, (2,)), lambda x: np.tile(x, 2),
         [Arg((3,), dtype="int16", high=9)], grad=NOT_DIFF),
)
