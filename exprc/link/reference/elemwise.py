"""Reference implementations of ``Elemwise`` (one NumPy function per scalar op), its in-place
variant, ``DimShuffle`` and ``SumToShape``.

An in-place op (``destroy_map``) writes its result into the destroyed input's memory when that
array can hold it (same shape and dtype, writable) and returns that array; otherwise it returns
a fresh one. The executor has already copied any input it must not overwrite (see
:class:`exprc.link.reference.ReferenceProgram`).
"""

from __future__ import annotations

import math

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.reference import special
from exprc.link.reference.table import REFERENCE
from exprc.tensor.elemwise import DimShuffle, Elemwise, InplaceElemwise, SumToShape


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of a non-positive argument never overflows; pick the form accordingly.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _round_half_away_from_zero(x: np.ndarray) -> np.ndarray:
    # x - trunc(x) is exact, so ties are detected exactly (floor(x + 0.5) is not).
    whole = np.trunc(x)
    return whole + np.where(np.abs(x - whole) >= 0.5, np.sign(x), 0)


#: The wide signed type a float goes through on its way to each integer dtype.
_WIDE = {"int8": "int32", "int16": "int32", "int32": "int32", "uint8": "int32",
         "uint16": "int32", "uint32": "int64", "int64": "int64", "uint64": "int64"}


def _truncated(x: np.ndarray, wide: str) -> np.ndarray:
    """``x`` truncated toward zero into ``wide``; NaN and values out of range give its minimum
    (below it they do in exact arithmetic too)."""
    limit = x.dtype.type(2.0 ** (np.iinfo(wide).bits - 1))
    with np.errstate(invalid="ignore"):
        inside = (x > -limit) & (x < limit)
    if inside.all():
        return x.astype(wide)
    return np.where(inside, np.where(inside, x, 0).astype(wide), np.iinfo(wide).min)


def float_to_int(x: np.ndarray, dtype: str) -> np.ndarray:
    """The float array ``x`` converted to the integer ``dtype`` by exprc's rule, which every
    backend follows (C: ``_FLOAT_TO_INT`` in :mod:`exprc.link.codegen.render`).

    The rule is NumPy's on x86-64 wherever NumPy's result does not depend on the machine or the
    array's length, and fixes the rest: truncate toward zero into int32 (for int8, int16,
    uint8, uint16 and int32) or int64 (for uint32 and int64), NaN and values out of that range
    giving its minimum, then wrap modulo ``2**bits``; for uint64, values in ``[2**63, 2**64)``
    convert exactly and larger ones (+inf too) give 0.

    Examples
    --------
    >>> float_to_int(np.array([np.nan, np.inf, -1.5, 300.7, 2.0 ** 64]), "uint8").tolist()
    [0, 0, 255, 44, 0]
    """
    out = _truncated(x, _WIDE[dtype]).astype(dtype)
    if dtype == "uint64":
        with np.errstate(invalid="ignore"):
            high = x >= 2.0 ** 63
        if high.any():
            big = x[high]
            out[high] = np.where(big < 2.0 ** 64, big, 0).astype(np.uint64)
    return out


def _from_double(fn):
    vectorized = np.frompyfunc(fn, 1, 1)
    return lambda x: np.asarray(vectorized(x.astype("float64")), dtype="float64")


def _rounded_from_double(fn):
    """``fn`` evaluated in double precision and rounded once to the input's dtype (float32
    results past its range become infinite, as the C backend's do, without a warning)."""
    in_double = _from_double(fn)

    def apply(x):
        with np.errstate(over="ignore"):
            return in_double(x).astype(x.dtype)
    return apply


#: NumPy function per scalar op name. Inputs arrive already cast to the op's working dtype.
SCALAR_NUMPY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "true_div": np.true_divide,
    "int_div": np.floor_divide, "mod": np.mod, "pow": np.power, "neg": np.negative,
    "maximum": np.maximum, "minimum": np.minimum, "abs": np.abs, "sqr": np.multiply,
    "sgn": np.sign, "identity": np.copy, "reciprocal": np.reciprocal, "exp": np.exp,
    "exp2": np.exp2, "expm1": np.expm1, "log": np.log, "log2": np.log2, "log10": np.log10,
    "log1p": np.log1p, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan, "arctan2": np.arctan2,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "arcsinh": np.arcsinh,
    "arccosh": np.arccosh, "arctanh": np.arctanh, "sigmoid": _sigmoid,
    "softplus": lambda x: np.logaddexp(np.zeros((), x.dtype), x),
    "erf": _from_double(math.erf), "erfc": _from_double(math.erfc),
    **{name: _rounded_from_double(getattr(special, name))
       for name in ("gamma", "gammaln", "psi", "tri_gamma", "erfinv", "erfcinv")},
    "deg2rad": np.deg2rad,
    "rad2deg": np.rad2deg, "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc,
    "round_half_to_even": np.round, "round_half_away_from_zero": _round_half_away_from_zero,
    "eq": np.equal, "neq": np.not_equal, "lt": np.less, "gt": np.greater, "le": np.less_equal,
    "ge": np.greater_equal, "isnan": np.isnan, "isinf": np.isinf, "and_": np.bitwise_and,
    "or_": np.bitwise_or, "xor": np.bitwise_xor, "invert": np.invert,
    "switch": lambda c, a, b: np.where(c.astype(bool), a, b), "clip": np.clip,
    "second": lambda a, b: np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)),
    "cast": lambda x: x,
}

# Ops whose inputs are cast to the output dtype before the NumPy call, so that NumPy computes
# in the dtype exprc promises (e.g. exp(int8) in float32, where NumPy would pick float16).
_CAST_INPUTS_TO_OUTPUT = {"same", "float", "div", "bitwise"}


@REFERENCE.register(Elemwise)
def elemwise(node, *inputs):
    return [apply_scalar_op(node.op.scalar_op, node.outputs[0].dtype, inputs)]


def apply_scalar_op(sop, out_dtype: str, inputs) -> np.ndarray:
    """``sop`` applied to ``inputs`` with broadcasting, computed as exprc promises for a
    result of ``out_dtype``; a fresh array (shared with ``Composite``'s reference)."""
    if sop.rule in _CAST_INPUTS_TO_OUTPUT:
        inputs = [x.astype(out_dtype, copy=False) for x in inputs]
    elif sop.rule == "switch":
        inputs = [inputs[0]] + [x.astype(out_dtype, copy=False) for x in inputs[1:]]
    elif sop.rule == "cast":
        x = inputs[0]
        inputs = [float_to_int(x, out_dtype) if x.dtype.kind == "f" and out_dtype in _WIDE
                  else x.astype(out_dtype)]
    fn = SCALAR_NUMPY[sop.name]
    with np.errstate(all="ignore"):
        result = fn(*inputs) if sop.name != "sqr" else fn(inputs[0], inputs[0])
    shape = np.broadcast_shapes(*(x.shape for x in inputs))
    # A fresh, writable array of the full broadcast shape, never a view of an input.
    out = np.empty(shape, dtype=out_dtype)
    out[...] = result
    return out


@REFERENCE.register(DimShuffle)
def dimshuffle(node, x):
    order = node.op.new_order
    dropped = node.op.dropped(x.ndim)
    for axis in dropped:
        if x.shape[axis] != 1:
            raise ExprcShapeError(f"{node.op}: cannot drop axis {axis} of an input of shape "
                                  f"{x.shape}: its size is not 1")
    kept_view = x[tuple(0 if a in dropped else slice(None) for a in range(x.ndim))]
    kept_axes = [a for a in range(x.ndim) if a not in dropped]
    perm = [kept_axes.index(a) for a in order if a != "x"]
    out = kept_view.transpose(perm)
    new_axes = tuple(i for i, a in enumerate(order) if a == "x")
    return [np.expand_dims(out, new_axes)]


@REFERENCE.register(SumToShape)
def sum_to_shape(node, g, target):
    target = tuple(int(t) for t in target)
    axes = tuple(i for i, (gs, ts) in enumerate(zip(g.shape, target)) if ts == 1 and gs != 1)
    out = g.sum(axis=axes, keepdims=True, dtype=g.dtype) if axes else g
    if out.shape != target:
        raise ExprcShapeError(f"{node.op}: cannot sum an array of shape {g.shape} down to "
                              f"shape {target}")
    return [out]


@REFERENCE.register(InplaceElemwise)
def inplace_elemwise(node, *inputs):
    (result,) = elemwise(node, *inputs)
    target = inputs[node.op.destroyed]
    if can_overwrite(target, result.shape, result.dtype.name):
        np.copyto(target, result)
        return [target]
    return [result]


def can_overwrite(target: np.ndarray, shape: tuple, dtype: str) -> bool:
    """Whether ``target`` can receive a result of ``shape`` and ``dtype`` in place."""
    return target.shape == shape and target.dtype.name == dtype and target.flags.writeable
