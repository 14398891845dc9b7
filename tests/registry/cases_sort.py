"""Registry cases of the sorting ops: Sort, ArgSort and Permute."""

import numpy as np

import exprc.tensor as T
from exprc.tensor.sort import permute
from tests.registry import Arg, Case, add


def _with_nans(shape):
    def gen(rng):
        x = rng.uniform(-2, 2, shape)
        x[rng.random(shape) < 0.3] = np.nan
        return x
    return gen


def _with_ties(shape):
    def gen(rng):
        return rng.integers(-2, 3, shape).astype("float64")
    return gen


def _perm(shape, axis):
    def gen(rng):
        return np.argsort(rng.random(shape), axis=axis)
    return gen


# name -> (shape, axis, dtype, static shape or None)
SORT_INPUTS = {
    "vector": ((5,), -1, "float64", None),
    "matrix/axis=0": ((3, 4), 0, "float64", None),
    "matrix/axis=-1": ((3, 4), -1, "float64", (3, 4)),
    "tensor3/axis=1": ((2, 3, 4), 1, "float64", None),
    "tensor3/axis=-3": ((2, 3, 2), -3, "float64", None),
    "axis=None": ((3, 4), None, "float64", None),
    "0d/axis=None": ((), None, "float64", None),
    "empty": ((0, 3), 0, "float64", None),
    "empty/axis=None": ((2, 0), None, "float64", None),
    "float32": ((3, 4), 1, "float32", None),
}

for _name, (_shape, _axis, _dtype, _static) in SORT_INPUTS.items():
    _arg = Arg(_shape, _dtype, static=_static)
    add(Case(f"sort/{_name}", lambda x, a=_axis: T.sort(x, axis=a),
             lambda x, a=_axis: np.sort(x, axis=a), [_arg], grad=_dtype == "float64"),
        Case(f"argsort/{_name}", lambda x, a=_axis: T.argsort(x, axis=a),
             lambda x, a=_axis: np.argsort(x, axis=a, kind="stable"), [_arg],
             grad="integer output"))

for _dtype in ("int8", "uint16", "int64", "bool"):
    _arg = Arg((4, 5), _dtype, low=-5 if _dtype.startswith("int") else 0, high=6)
    add(Case(f"sort/{_dtype}", T.sort, np.sort, [_arg], grad="integer input"),
        Case(f"argsort/{_dtype}", T.argsort, lambda x: np.argsort(x, kind="stable"), [_arg],
             grad="integer output"))

add(
    Case("sort/nan_last", lambda x: T.sort(x, axis=0), lambda x: np.sort(x, axis=0),
         [Arg((6, 3), gen=_with_nans((6, 3)))], grad="NaN inputs"),
    Case("argsort/nan_last", T.argsort, lambda x: np.argsort(x, kind="stable"),
         [Arg((3, 6), gen=_with_nans((3, 6)))], grad="integer output"),
    Case("argsort/ties_stable", T.argsort, lambda x: np.argsort(x, kind="stable"),
         [Arg((4, 7), gen=_with_ties((4, 7)))], grad="integer output"),
    Case("sort/kind", lambda x: T.sort(x, kind="quicksort"), np.sort, [Arg((3, 4))]),
    Case("sort/expression", lambda x, y: T.sort(x * y, axis=0),
         lambda x, y: np.sort(x * y, axis=0), [Arg((4, 3)), Arg((3,))]),
    Case("permute/axis=-1", lambda x, p: permute(x, p, axis=-1),
         lambda x, p: np.take_along_axis(x, p, axis=-1),
         [Arg((3, 4)), Arg((3, 4), "int64", gen=_perm((3, 4), -1))]),
    Case("permute/axis=0", lambda x, p: permute(x, p, axis=0),
         lambda x, p: np.take_along_axis(x, p, axis=0),
         [Arg((4, 2, 3)), Arg((4, 2, 3), "int32", gen=_perm((4, 2, 3), 0))]),
    Case("permute/empty", lambda x, p: permute(x, p, axis=1),
         lambda x, p: np.take_along_axis(x, p, axis=1),
         [Arg((0, 3)), Arg((0, 3), "int64", gen=_perm((0, 3), 1))]),
)
