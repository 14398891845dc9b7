"""Registry cases of the reductions (``Reduce``, ``Argmax``) and what is built from them."""

import numpy as np

import exprc.tensor as T
from tests.registry import Arg, Case, add

NOT_DIFF = "integer or bool output"


def _with_zeros(shape, positions):
    """Values away from zero, with exact zeros at ``positions`` (for the prod gradient)."""
    def gen(rng):
        x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)
        for p in positions:
            x[p] = 0.0
        return x
    return gen


def _with_nan(shape, positions):
    def gen(rng):
        x = rng.uniform(-2, 2, shape)
        for p in positions:
            x[p] = np.nan
        return x
    return gen


def _axis_case(name, fn, ref, label, arg, axis, keepdims, **kw):
    """A case of ``fn(x, axis, keepdims)`` against NumPy's ``ref``."""
    # NumPy takes several axes as a tuple only; exprc also takes a list.
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    add(Case(f"{name}/{label}", lambda x: fn(x, axis=axis, keepdims=keepdims),
             lambda x: ref(x, axis=np_axis, keepdims=keepdims), [arg], **kw))


# (label, shape, axis, keepdims) for the float64 forward and gradient cases.
AXES = [
    ("all", (3, 4), None, False),
    ("axis0", (3, 4), 0, False),
    ("axis-1/keepdims", (3, 4), -1, True),
    ("axes(0,2)", (2, 3, 4), (0, 2), False),
    ("axes[-1,0]/keepdims", (2, 3, 4), [-1, 0], True),
    ("0d", (), None, False),
    ("axis()", (2, 3), (), False),
]

FOLDS = {
    "sum": (T.sum, np.sum), "prod": (T.prod, np.prod), "mean": (T.mean, np.mean),
    "max": (T.max, np.max), "min": (T.min, np.min),
}

for _name, (_fn, _ref) in FOLDS.items():
    for _label, _shape, _axis, _keep in AXES:
        _axis_case(_name, _fn, _ref, _label, Arg(_shape), _axis, _keep)

for _name, _fn, _ref in [("var", T.var, np.var), ("std", T.std, np.std)]:
    for _label, _shape, _axis, _keep in AXES[:5]:
        _axis_case(_name, _fn, _ref, _label, Arg(_shape), _axis, _keep)
    add(Case(f"{_name}/ddof=1", lambda x, f=_fn: f(x, axis=1, ddof=1),
             lambda x, f=_ref: f(x, axis=1, ddof=1), [Arg((3, 4))]))
    add(Case(f"{_name}/corrected/ddof=1", lambda x, f=_fn: f(x, axis=0, ddof=1, corrected=True),
             lambda x, f=_ref: f(x, axis=0, ddof=1), [Arg((3, 4))]))

add(
    # Static shapes make the element count of mean a constant.
    Case("mean/static", lambda x: T.mean(x, axis=(0, 1)), lambda x: np.mean(x, axis=(0, 1)),
         [Arg((2, 3, 4), static=(2, 3, 4))]),
    Case("var/static/axis1", lambda x: T.var(x, axis=1), lambda x: np.var(x, axis=1),
         [Arg((2, 3), static=(2, 3))]),
    Case("prod/one_zero", lambda x: T.prod(x, axis=1), lambda x: np.prod(x, axis=1),
         [Arg((3, 4), gen=_with_zeros((3, 4), [(0, 1)]))]),
    Case("prod/zeros_in_rows", lambda x: T.prod(x, axis=-1), lambda x: np.prod(x, axis=-1),
         [Arg((3, 4), gen=_with_zeros((3, 4), [(0, 1), (1, 0), (1, 3), (2, 0), (2, 1), (2, 2)]))]),
    Case("prod/all/two_zeros", lambda x: T.prod(x), lambda x: np.prod(x),
         [Arg((2, 3), gen=_with_zeros((2, 3), [(0, 0), (1, 2)]))]),
    Case("prod/all/one_zero", lambda x: T.prod(x), lambda x: np.prod(x),
         [Arg((2, 3), gen=_with_zeros((2, 3), [(1, 1)]))]),
    Case("max/runtime_size1", lambda x: T.max(x, axis=0), lambda x: np.max(x, axis=0),
         [Arg((1, 4))]),
)

# Identities of empty reductions, and reductions that keep an empty axis.
add(
    Case("sum/empty_axis", lambda x: T.sum(x, axis=0), lambda x: np.sum(x, axis=0),
         [Arg((0, 3))], grad="empty input"),
    Case("prod/empty_all", lambda x: T.prod(x), lambda x: np.prod(x), [Arg((2, 0))],
         grad="empty input"),
    Case("any/empty", lambda x: T.any(x), lambda x: np.any(x), [Arg((0,), dtype="bool")],
         grad=NOT_DIFF),
    Case("all/empty_axis", lambda x: T.all(x, axis=1), lambda x: np.all(x, axis=1),
         [Arg((2, 0), dtype="int32")], grad=NOT_DIFF),
    Case("max/empty_kept_axis", lambda x: T.max(x, axis=1), lambda x: np.max(x, axis=1),
         [Arg((0, 3))], grad="empty input"),
    Case("argmax/empty_kept_axis", lambda x: T.argmax(x, axis=0),
         lambda x: np.argmax(x, axis=0), [Arg((3, 0))], grad=NOT_DIFF),
    Case("mean/empty_kept_axis", lambda x: T.mean(x, axis=1), lambda x: np.mean(x, axis=1),
         [Arg((0, 3))], grad="empty input"),
)

# Dtypes: NumPy's output dtypes for sum, prod and mean of each kind of input.
for _dtype, _low, _high in [("bool", 0, 2), ("int8", -5, 5), ("uint8", 0, 9),
                            ("int32", -50, 50), ("uint32", 0, 50), ("int64", -50, 50)]:
    for _name, (_fn, _ref) in FOLDS.items():
        add(Case(f"{_name}/{_dtype}", lambda x, f=_fn: f(x, axis=1),
                 lambda x, f=_ref: f(x, axis=1), [Arg((3, 4), _dtype, _low, _high)],
                 grad=NOT_DIFF))
for _name, (_fn, _ref) in FOLDS.items():
    add(Case(f"{_name}/float32", lambda x, f=_fn: f(x, axis=(0, 1)),
             lambda x, f=_ref: f(x, axis=(0, 1)), [Arg((3, 4, 2), "float32")],
             grad="float32 forward case", rtol=1e-5, atol=1e-6))
add(
    Case("var/int16", lambda x: T.var(x, axis=0), lambda x: np.var(x, axis=0),
         [Arg((4, 3), "int16", -9, 9)], grad=NOT_DIFF),
    Case("std/float32", lambda x: T.std(x, axis=-1), lambda x: np.std(x, axis=-1),
         [Arg((3, 5), "float32")], grad="float32 forward case", rtol=1e-5, atol=1e-6),
    Case("sum/dtype=float32", lambda x: T.sum(x, dtype="float32"),
         lambda x: np.sum(x, dtype="float32"), [Arg((3, 4), "int32", -9, 9)], grad=NOT_DIFF),
    Case("sum/dtype=int8/acc_dtype=int64", lambda x: T.sum(x, axis=0, dtype="int8",
                                                          acc_dtype="int64"),
         lambda x: np.sum(x, axis=0, dtype="int64").astype("int8"),
         [Arg((50, 2), "int8", 0, 10)], grad=NOT_DIFF),
    Case("prod/dtype=float64", lambda x: T.prod(x, axis=1, dtype="float64"),
         lambda x: np.prod(x, axis=1, dtype="float64"), [Arg((2, 3), "float32")],
         grad="float32 forward case"),
    Case("mean/int32/dtype=float32", lambda x: T.mean(x, dtype="float32"),
         lambda x: np.mean(x, dtype="float32"), [Arg((3, 4), "int32", -9, 9)],
         grad=NOT_DIFF, rtol=1e-6),
    Case("mean/acc_dtype=float64", lambda x: T.mean(x, axis=0, acc_dtype="float64"),
         lambda x: np.mean(x.astype("float64"), axis=0).astype("float32"),
         [Arg((4, 3), "float32")], grad="float32 forward case", rtol=1e-6),
)

# NaN propagates through max and min; argmax and argmin point at the first NaN.
add(
    Case("max/nan", lambda x: T.max(x, axis=1), lambda x: np.max(x, axis=1),
         [Arg((3, 4), gen=_with_nan((3, 4), [(1, 2)]))], grad="NaN input"),
    Case("min/nan", lambda x: T.min(x), lambda x: np.min(x),
         [Arg((3, 4), gen=_with_nan((3, 4), [(2, 0)]))], grad="NaN input"),
    Case("argmax/nan", lambda x: T.argmax(x, axis=-1), lambda x: np.argmax(x, axis=-1),
         [Arg((3, 4), gen=_with_nan((3, 4), [(0, 3), (0, 1)]))], grad=NOT_DIFF),
    Case("argmin/nan", lambda x: T.argmin(x), lambda x: np.argmin(x),
         [Arg((3, 4), gen=_with_nan((3, 4), [(2, 2)]))], grad=NOT_DIFF),
)

for _name, _fn, _ref in [("argmax", T.argmax, np.argmax), ("argmin", T.argmin, np.argmin)]:
    for _label, _shape, _axis, _keep, _dtype in [
            ("all", (3, 4), None, False, "float64"), ("axis0", (3, 4), 0, False, "float64"),
            ("axis-1/keepdims", (2, 3, 4), -1, True, "float64"),
            ("all/keepdims", (2, 3), None, True, "float32"), ("0d", (), None, False, "float64"),
            ("int8/ties", (4, 5), 1, False, "int8"), ("bool", (3, 4), 0, False, "bool")]:
        _axis_case(_name, _fn, _ref, _label, Arg(_shape, _dtype, -3, 3), _axis, _keep,
                   grad=NOT_DIFF)


def _flat_argmax(x):
    """Theano's argmax over several axes: those axes flattened together, in order."""
    moved = np.moveaxis(x, [0, 2], [-2, -1])
    return np.argmax(moved.reshape(moved.shape[:-2] + (-1,)), axis=-1)


add(
    Case("argmax/axes(0,2)", lambda x: T.argmax(x, axis=(0, 2)), _flat_argmax,
         [Arg((2, 3, 4))], grad=NOT_DIFF),
    # The cost depends on x only through the index: the gradient is zero.
    Case("argmax/grad_zero", lambda x: T.argmax(x, axis=0) * 1.0 + T.sum(x, axis=0),
         lambda x: np.argmax(x, axis=0) + np.sum(x, axis=0), [Arg((3, 4))]),
    Case("max_and_argmax/axis1", lambda x: T.max_and_argmax(x, axis=1),
         lambda x: [np.max(x, axis=1), np.argmax(x, axis=1)], [Arg((3, 4))],
         grad="two outputs, one integer"),
    Case("max_and_argmax/keepdims", lambda x: T.max_and_argmax(x, keepdims=True),
         lambda x: [np.max(x, keepdims=True), np.argmax(x, keepdims=True)], [Arg((2, 3))],
         grad="two outputs, one integer"),
)

for _name, _fn, _ref in [("any", T.any, np.any), ("all", T.all, np.all)]:
    for _label, _shape, _axis, _keep, _dtype in [
            ("bool", (3, 4), 1, False, "bool"), ("bool/all/keepdims", (3, 4), None, True, "bool"),
            ("int32", (3, 4), 0, False, "int32"), ("float64/axes", (2, 3, 2), (0, -1), False,
                                                   "float64"),
            ("0d", (), None, False, "bool")]:
        _axis_case(_name, _fn, _ref, _label, Arg(_shape, _dtype, -1, 2), _axis, _keep,
                   grad=NOT_DIFF)
add(Case("any/nan_is_true", lambda x: T.any(x, axis=1), lambda x: np.any(x, axis=1),
         [Arg((2, 3), gen=lambda rng: np.array([[0.0, np.nan, 0.0], [0.0, 0.0, 0.0]]))],
         grad=NOT_DIFF))

# The TensorVariable methods dispatch here.
add(
    Case("method/sum_mean_max", lambda x: [x.sum(axis=0), x.mean(axis=1), x.max(axis=-1),
                                           x.min(keepdims=True), x.prod(axis=1)],
         lambda x: [x.sum(axis=0), x.mean(axis=1), x.max(axis=-1), x.min(keepdims=True),
                    x.prod(axis=1)], [Arg((3, 4))], grad="several outputs"),
    Case("method/var_std_arg", lambda x: [x.var(axis=0), x.std(), x.argmax(axis=1),
                                          x.argmin(), x.any(axis=0), x.all()],
         lambda x: [x.var(axis=0), x.std(), x.argmax(axis=1), x.argmin(), x.any(axis=0),
                    x.all()], [Arg((3, 4))], grad="several outputs"),
    Case("method/norm", lambda x: [x.norm(1, axis=0), x.norm(2), x.norm(3, axis=1)],
         lambda x: [np.abs(x).sum(axis=0), np.sqrt((x ** 2).sum()),
                    (np.abs(x) ** 3).sum(axis=1) ** (1 / 3)], [Arg((3, 4))],
         grad="several outputs"),
)
