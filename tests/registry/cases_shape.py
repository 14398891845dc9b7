"""Registry cases of the shape ops (``Shape``, ``Reshape``, ``SpecifyShape``) and of the
functions built on them and on ``DimShuffle``."""

import numpy as np

import exprc.tensor as T
from tests.registry import Arg, Case, add

NOT_DIFF = "integer or bool input"


def _fixed(value, dtype="int64"):
    return Arg(shape=np.shape(value), dtype=dtype, gen=lambda rng: np.array(value))


# --------------------------------------------------------------------------- Shape
add(
    Case("shape/matrix", T.shape, lambda x: np.array(x.shape), [Arg((3, 4))],
         grad="integer output"),
    Case("shape/0d", T.shape, lambda x: np.array(x.shape, dtype="int64"), [Arg(())],
         grad="integer output"),
    Case("shape/empty", lambda x: x.shape, lambda x: np.array(x.shape), [Arg((0, 2, 1))],
         grad="integer output"),
)

# --------------------------------------------------------------------------- reshape
RESHAPES = [
    ("matrix->matrix", (3, 4), (4, 3)),
    ("matrix->-1", (3, 4), (-1,)),
    ("tensor3->(2,-1,2)", (2, 3, 2), (2, -1, 2)),
    ("0d->(1,1)", (), (1, 1)),
    ("(1,1)->0d", (1, 1), ()),
    ("empty", (0, 3), (3, 0)),
    ("empty/-1", (0, 3), (-1, 3)),
]
for label, in_shape, target in RESHAPES:
    add(Case(f"reshape/{label}", lambda x, t=target: T.reshape(x, t),
             lambda x, t=target: x.reshape(t), [Arg(in_shape)]))

add(
    Case("reshape/method/varargs", lambda x: x.reshape(2, 6), lambda x: x.reshape(2, 6),
         [Arg((3, 4))]),
    Case("reshape/static_input", lambda x: T.reshape(x, (2, -1)),
         lambda x: x.reshape(2, -1), [Arg((3, 4), static=(3, 4))]),
    Case("reshape/int", lambda x: x.reshape(-1), lambda x: x.reshape(-1),
         [Arg((2, 3), dtype="int32", low=-5, high=5)], grad=NOT_DIFF),
    Case("reshape/bool", lambda x: T.reshape(x, (3, 2)), lambda x: x.reshape(3, 2),
         [Arg((2, 3), dtype="bool")], grad=NOT_DIFF),
    Case("reshape/symbolic_entry", lambda x, n: T.reshape(x, (n, -1)),
         lambda x, n: x.reshape(int(n), -1), [Arg((4, 3)), _fixed(6, "int32")]),
    Case("reshape/symbolic_vector", lambda x, s: T.reshape(x, s, ndim=3),
         lambda x, s: x.reshape(tuple(s)), [Arg((4, 3)), _fixed([2, 3, 2])]),
    Case("reshape/of_shape", lambda x, y: T.reshape(x, y.shape),
         lambda x, y: x.reshape(y.shape), [Arg((6, 2)), Arg((3, 4), differentiable=False)]),
)

# --------------------------------------------------------------------------- flatten
FLATTENS = [
    ("tensor3/1", (2, 3, 4), 1, lambda x: x.reshape(-1)),
    ("tensor3/2", (2, 3, 4), 2, lambda x: x.reshape(2, 12)),
    ("tensor3/3", (2, 3, 4), 3, lambda x: x.copy()),
    ("0d", (), 1, lambda x: x.reshape(1)),
    ("empty/2", (0, 3, 4), 2, lambda x: x.reshape(0, 12)),
    ("empty_tail/2", (2, 0, 4), 2, lambda x: x.reshape(2, 0)),
]
for label, in_shape, ndim, ref in FLATTENS:
    add(Case(f"flatten/{label}", lambda x, n=ndim: T.flatten(x, n), ref, [Arg(in_shape)]))
add(Case("flatten/method/static", lambda x: x.flatten(2), lambda x: x.reshape(3, -1),
         [Arg((3, 2, 2), static=(3, 2, 2))]))

# --------------------------------------------------------------------------- DimShuffles
add(
    Case("dimshuffle/permute_insert", lambda x: T.dimshuffle(x, (1, "x", 0)),
         lambda x: x.T[:, None, :], [Arg((3, 4))]),
    Case("dimshuffle/drop_runtime_1", lambda x: x.dimshuffle(0, 2),
         lambda x: x[:, 0, :], [Arg((3, 1, 2))]),
    Case("transpose/default", T.transpose, lambda x: x.T, [Arg((2, 3, 4))]),
    Case("transpose/T", lambda x: x.T, lambda x: x.T, [Arg((3, 4))]),
    Case("transpose/axes", lambda x: T.transpose(x, (1, 0, 2)),
         lambda x: np.transpose(x, (1, 0, 2)), [Arg((2, 3, 4))]),
    Case("transpose/negative_axes", lambda x: x.transpose(-1, 0, -2),
         lambda x: np.transpose(x, (-1, 0, -2)), [Arg((2, 3, 4))]),
    Case("transpose/0d", T.transpose, np.transpose, [Arg(())]),
    Case("transpose/int", T.transpose, np.transpose, [Arg((2, 3), dtype="int8", high=9)],
         grad=NOT_DIFF),
    Case("swapaxes", lambda x: T.swapaxes(x, 0, -1), lambda x: np.swapaxes(x, 0, -1),
         [Arg((2, 3, 4))]),
    Case("swapaxes/empty", lambda x: x.swapaxes(1, 0), lambda x: x.swapaxes(1, 0),
         [Arg((0, 3))]),
    Case("squeeze/static", T.squeeze, np.squeeze, [Arg((1, 3, 1), static=(1, 3, 1))]),
    Case("squeeze/static_unknown_kept", T.squeeze, lambda x: x,
         [Arg((1, 3), static=(None, 3))]),
    Case("squeeze/axis_runtime", lambda x: T.squeeze(x, 1), lambda x: np.squeeze(x, 1),
         [Arg((3, 1, 2))]),
    Case("squeeze/axes_negative", lambda x: x.squeeze((0, -1)),
         lambda x: np.squeeze(x, (0, -1)), [Arg((1, 2, 1))]),
    Case("shape_padleft", lambda x: T.shape_padleft(x, 2), lambda x: x[None, None],
         [Arg((3,))]),
    Case("shape_padright", T.shape_padright, lambda x: x[..., None], [Arg((2, 3))]),
    Case("shape_padright/0d", lambda x: T.shape_padright(x, 2), lambda x: x.reshape(1, 1),
         [Arg(())]),
    Case("shape_padaxis/1", lambda x: T.shape_padaxis(x, 1),
         lambda x: np.expand_dims(x, 1), [Arg((2, 3))]),
    Case("shape_padaxis/-1", lambda x: T.shape_padaxis(x, -1),
         lambda x: np.expand_dims(x, -1), [Arg((2, 3))]),
    Case("shape_padaxis/empty", lambda x: T.shape_padaxis(x, 0),
         lambda x: np.expand_dims(x, 0), [Arg((0,))]),
)

# --------------------------------------------------------------------------- SpecifyShape
add(
    Case("specify_shape", lambda x: T.specify_shape(x, (3, None)), lambda x: x,
         [Arg((3, 4))]),
    Case("specify_shape/forget", lambda x: T.specify_shape(x, (None, None)), lambda x: x,
         [Arg((3, 4), static=(3, 4))]),
    Case("specify_shape/padded_0d", lambda x: T.specify_shape(T.shape_padleft(x), (1,)),
         lambda x: x.reshape(1), [Arg(())]),
    Case("addbroadcast", lambda x: T.addbroadcast(x, 0) + 0, lambda x: x, [Arg((1, 3))]),
    Case("addbroadcast/bcast_use", lambda x, y: T.addbroadcast(x, 1) * y,
         lambda x, y: x * y, [Arg((3, 1)), Arg((3, 4))]),
    Case("unbroadcast", lambda x: T.unbroadcast(x, 0), lambda x: x,
         [Arg((1, 3), static=(1, 3))]),
    Case("patternbroadcast", lambda x: T.patternbroadcast(x, (False, True)), lambda x: x,
         [Arg((1, 1), static=(1, None))]),
)
