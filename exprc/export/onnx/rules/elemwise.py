"""ONNX rules of the elemwise family: ``Elemwise`` (and its in-place variant), ``DimShuffle``
and ``SumToShape``, with the scalar ops as ONNX operators.

Each scalar op is computed as :func:`exprc.link.reference.elemwise.apply_scalar_op` does:
inputs converted to the working dtype first, then NumPy's function. Where an ONNX operator
differs from NumPy, the rule composes the exact result:

- ``//`` and ``%`` follow Python's signs (NumPy's ``divmod`` algorithm for floats), and an
  integer division by 0 gives 0 (by -1, the wrapped negation) instead of trapping;
- ``maximum``/``minimum`` (and ``clip``) propagate NaN; ``sign(NaN)`` is NaN;
- integer ``**`` is repeated squaring, wrapping around as NumPy's does;
- ``expm1`` and ``log1p`` use Kahan's accurate forms, ``trunc`` is ``ceil`` or ``floor``;
- casts follow exprc's float-to-integer rule (:func:`~exprc.link.reference.elemwise.
  float_to_int`), and anything to bool is ``!= 0`` (NaN is True);
- comparisons of a signed integer with a uint64 are exact, as NumPy 2's;
- a dtype ONNX Runtime has no kernel for is computed in a wider one, converted back exactly.

Scalar ops no ONNX operator computes exactly (``arctan2``, ``erfc``, the gamma family,
``erfinv``, ``erfcinv``) are refused with an error naming the node. Bitwise operations on
integers need opset 18.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from exprc.export.onnx.rules import ONNX
from exprc.tensor.elemwise import DimShuffle, Elemwise, InplaceElemwise, SumToShape

FLOATS = ("float32", "float64")

#: Scalar ops without a rule, and why.
REFUSED = {
    "arctan2": "ONNX has no two-argument arctangent, and atan(y / x) with quadrant fixes "
               "differs at infinities and signed zeros",
    "erfc": "ONNX has no erfc, and 1 - erf(x) loses all precision for large x",
    **{name: f"ONNX has no {name} function" for name in
       ("gamma", "gammaln", "psi", "tri_gamma", "erfinv", "erfcinv")},
}

#: The signed type a float goes through on its way to each integer dtype (exprc's rule).
_WIDE = {"int8": "int32", "int16": "int32", "int32": "int32", "uint8": "int32",
         "uint16": "int32", "uint32": "int64", "int64": "int64", "uint64": "int64"}


# --------------------------------------------------------------------------- conversions
def numpy_cast(b, x: str, dtype: str) -> str:
    """``x`` converted to ``dtype`` as exprc converts: NumPy's ``astype``, with
    :func:`~exprc.link.reference.elemwise.float_to_int` for floats to integers."""
    dtype = np.dtype(dtype).name
    source = b.dtype(x)
    if source == dtype:
        return x
    if dtype == "bool":
        return b.unary("Not", b.binary("Equal", x, b.const(0, dtype=source), "bool"))
    if source in FLOATS and dtype not in FLOATS:
        return _float_to_int(b, x, dtype)
    return b.cast(x, dtype)


def _float_to_int(b, x: str, dtype: str) -> str:
    source, wide = b.dtype(x), _WIDE[dtype]
    limit = 2.0 ** (np.iinfo(wide).bits - 1)
    inside = b.binary("And", b.binary("Greater", x, b.const(-limit, dtype=source), "bool"),
                      b.binary("Less", x, b.const(limit, dtype=source), "bool"))
    zero = b.const(0, dtype=source)
    truncated = b.cast(b.where(inside, x, zero), wide)
    result = b.cast(b.where(inside, truncated, b.const(np.iinfo(wide).min, dtype=wide)), dtype)
    if dtype != "uint64":
        return result
    # [2**63, 2**64) converts exactly; above (and +inf) gives 0.
    high = b.binary("GreaterOrEqual", x, b.const(2.0 ** 63, dtype=source), "bool")
    fits = b.binary("And", high, b.binary("Less", x, b.const(2.0 ** 64, dtype=source), "bool"))
    exact = b.cast(b.where(fits, x, zero), "uint64")
    return b.where(fits, exact, b.where(high, b.const(0, dtype="uint64"), result))


# --------------------------------------------------------------------------- one scalar op
def apply_scalar(b, sop, out_dtype: str, args: list[str]) -> str:
    """The scalar op ``sop`` applied to the values ``args`` with broadcasting, giving a
    result of ``out_dtype`` of their broadcast shape (as ``apply_scalar_op``)."""
    rule = sop.rule
    if rule in ("same", "float", "div", "bitwise"):
        args = [numpy_cast(b, a, out_dtype) for a in args]
    elif rule == "switch":
        args = [args[0]] + [numpy_cast(b, a, out_dtype) for a in args[1:]]
    elif rule == "cast":
        return numpy_cast(b, args[0], out_dtype)
    if sop.name in REFUSED:
        raise b.fail(f"its scalar operation {sop.name} cannot be exported: "
                     f"{REFUSED[sop.name]}")
    result = SCALAR_ONNX[sop.name](b, args, out_dtype)
    shape = np.broadcast_shapes(*(b.shape(a) for a in args))
    result = b.expand(result, shape)
    if b.dtype(result) != out_dtype:
        raise b.fail(f"internal error: {sop.name} gave {b.dtype(result)}, not {out_dtype}")
    return result


def _direct(op_type: str) -> Callable:
    def rule(b, args, out):
        if len(args) == 2:
            return b.binary(op_type, *args, out)
        return b.op(op_type, args, out, np.broadcast_shapes(*(b.shape(a) for a in args)))
    return rule


def _arithmetic(op_type: str, logical: str) -> Callable:
    """``op_type``, or ``logical`` on bools (NumPy's ``+`` and ``*`` of bools)."""
    def rule(b, args, out):
        return _direct(logical if out == "bool" else op_type)(b, args, out)
    return rule


def _is_signed(dtype: str) -> bool:
    return dtype.startswith("int")


def _zero_of(b, x: str) -> str:
    return b.const(0, dtype=b.dtype(x))


def _neg(b, x: str) -> str:
    if b.dtype(x).startswith("uint"):
        return b.binary("Sub", _zero_of(b, x), x)  # wraps around, as NumPy's
    return b.unary("Neg", x)


def _neg_rule(b, args, out):
    return _neg(b, args[0])


# ---------------------------------------------------------------- division and remainder
def _float_divmod(b, x: str, y: str) -> tuple[str, str]:
    """NumPy's ``npy_divmod`` of floats: (floor quotient, remainder)."""
    dtype = b.dtype(x)
    zero, one = b.const(0, dtype=dtype), b.const(1, dtype=dtype)
    fmod = b.binary("Mod", x, y, fmod=1)
    by_zero = b.binary("Equal", y, zero, "bool")
    div = b.binary("Div", b.binary("Sub", x, fmod), y)
    nonzero = b.unary("Not", b.binary("Equal", fmod, zero, "bool"))
    signs_differ = b.binary("Xor", b.binary("Less", y, zero, "bool"),
                            b.binary("Less", fmod, zero, "bool"), "bool")
    adjust = b.binary("And", nonzero, signs_differ, "bool")
    div = b.where(adjust, b.binary("Sub", div, one), div)
    remainder = b.where(adjust, b.binary("Add", fmod, y), fmod)
    signed_zero = b.where(b.binary("Less", y, zero, "bool"), b.const(-0.0, dtype=dtype), zero)
    remainder = b.where(nonzero, remainder, signed_zero)
    floor = b.unary("Floor", div)
    floor = b.where(b.binary("Greater", b.binary("Sub", div, floor), b.const(0.5, dtype=dtype),
                             "bool"), b.binary("Add", floor, one), floor)
    quotient = b.binary("Div", x, y)
    floor = b.where(b.binary("Equal", div, zero, "bool"), b.binary("Mul", quotient, zero),
                    floor)
    return b.where(by_zero, quotient, floor), b.where(by_zero, fmod, remainder)


def _int_guard(b, y: str) -> tuple[str, str, str | None]:
    """``y`` with 0 and -1 replaced by 1 (C traps on both), and the masks of 0 and -1."""
    dtype = b.dtype(y)
    one = b.const(1, dtype=dtype)
    by_zero = b.binary("Equal", y, b.const(0, dtype=dtype), "bool")
    bad, by_minus_one = by_zero, None
    if _is_signed(dtype):
        by_minus_one = b.binary("Equal", y, b.const(-1, dtype=dtype), "bool")
        bad = b.binary("Or", by_zero, by_minus_one, "bool")
    return b.where(bad, one, y), by_zero, by_minus_one


def _int_div(b, args, out):
    x, y = args
    if out in FLOATS:
        return _float_divmod(b, x, y)[0]
    safe, by_zero, by_minus_one = _int_guard(b, y)
    quotient = b.binary("Div", x, safe)  # truncates toward zero
    if _is_signed(out):
        rest = b.binary("Sub", x, b.binary("Mul", quotient, safe))
        zero = _zero_of(b, x)
        adjust = b.binary("And", b.unary("Not", b.binary("Equal", rest, zero, "bool")),
                          b.binary("Xor", b.binary("Less", rest, zero, "bool"),
                                   b.binary("Less", safe, zero, "bool"), "bool"), "bool")
        quotient = b.binary("Sub", quotient, b.cast(adjust, out))
        quotient = b.where(by_minus_one, b.expand(_neg(b, x), b.shape(quotient)), quotient)
    return b.where(by_zero, b.const(0, dtype=out), quotient)


def _mod(b, args, out):
    x, y = args
    if out in FLOATS:
        return _float_divmod(b, x, y)[1]
    safe = _int_guard(b, y)[0]  # x % 1 == 0, as NumPy's x % 0 and x % -1
    return b.binary("Mod", x, safe, fmod=0)


# ---------------------------------------------------------------- powers and extremes
def _pow(b, args, out):
    x, y = args
    if out in FLOATS:
        return b.binary("Pow", x, y)
    # Repeated squaring in uint64, which wraps around modulo 2**64 and so modulo the result's
    # 2**bits too (NumPy's integer power wraps the same way). Negative exponents, which NumPy
    # refuses, are not checked.
    shape = np.broadcast_shapes(b.shape(x), b.shape(y))
    known = b.known(y)
    bits = np.iinfo(out).bits if known is None else max(1, int(np.max(known, initial=0))
                                                        .bit_length())
    exponent = b.cast(y, "uint64") if out == "uint64" else b.cast(y, "int64")
    base = b.cast(x, "uint64")
    result = b.expand(b.const(1, dtype="uint64"), shape)
    two = b.const(2, dtype=b.dtype(exponent))
    one = b.const(1, dtype=b.dtype(exponent))
    for step in range(bits):
        odd = b.binary("Equal", b.binary("Mod", exponent, two, fmod=0), one, "bool")
        result = b.where(odd, b.binary("Mul", result, base), result)
        if step + 1 < bits:
            exponent = b.binary("Div", exponent, two)
            base = b.binary("Mul", base, base)
    return b.cast(result, out)


def _extreme(op_type: str, logical: str) -> Callable:
    """``maximum``/``minimum``: NaN wins, as in NumPy."""
    def rule(b, args, out):
        x, y = args
        if out == "bool":
            return b.binary(logical, x, y)
        if out in FLOATS:
            found = b.binary(op_type, x, y)
            # ONNX leaves NaN unspecified; a constant without NaN needs no test.
            maybe_nan = [v for v in (x, y) if b.known(v) is None or np.isnan(b.known(v)).any()]
            if not maybe_nan:
                return found
            if len(maybe_nan) == 1:
                (v,) = maybe_nan
                return b.where(b.unary("IsNaN", v, "bool"), v, found)
            nan = b.binary("Or", b.unary("IsNaN", x, "bool"), b.unary("IsNaN", y, "bool"))
            return b.where(nan, b.binary("Add", x, y), found)
        wide = {"int16": "int32", "uint16": "int32"}.get(out, out)
        return b.cast(b.binary(op_type, b.cast(x, wide), b.cast(y, wide)), out)
    return rule


_maximum = _extreme("Max", "Or")
_minimum = _extreme("Min", "And")


def _clip(b, args, out):
    x, low, high = args
    return _minimum(b, [_maximum(b, [x, low], out), high], out)


# ---------------------------------------------------------------- unary functions
def _float_only(op_type: str) -> Callable:
    def rule(b, args, out):
        return b.unary(op_type, args[0])
    return rule


def _abs(b, args, out):
    return args[0] if out == "bool" else b.unary("Abs", args[0])


def _sqr(b, args, out):
    return args[0] if out == "bool" else b.binary("Mul", args[0], args[0])


def _sign(b, args, out):
    x = args[0]
    if out not in FLOATS:
        return b.unary("Sign", x)
    return b.where(b.unary("IsNaN", x, "bool"), x, b.unary("Sign", x))


def _scaled_log(constant: float) -> Callable:
    def rule(b, args, out):
        return b.binary("Div", b.unary("Log", args[0]), b.const(constant, dtype=out))
    return rule


def _times(constant: float) -> Callable:
    def rule(b, args, out):
        return b.binary("Mul", args[0], b.const(constant, dtype=out))
    return rule


def _exp2(b, args, out):
    return b.binary("Pow", b.const(2, dtype=out), args[0])


def _expm1(b, args, out):
    # Kahan: (u - 1) * x / log(u) with u = exp(x) is accurate where exp(x) - 1 cancels.
    x = args[0]
    u = b.unary("Exp", x)
    one = b.const(1, dtype=out)
    less = b.binary("Sub", u, one)
    value = b.binary("Div", b.binary("Mul", less, x), b.unary("Log", u))
    value = b.where(b.binary("Equal", less, b.const(-1, dtype=out), "bool"),
                    b.expand(b.const(-1, dtype=out), b.shape(x)), value)
    value = b.where(b.unary("IsInf", u, "bool"), u, value)
    return b.where(b.binary("Equal", u, one, "bool"), x, value)


def _log1p(b, args, out):
    # Goldberg: log(u) * x / (u - 1) with u = 1 + x is accurate where log(1 + x) is not.
    x = args[0]
    one = b.const(1, dtype=out)
    u = b.binary("Add", one, x)
    log_u = b.unary("Log", u)
    value = b.binary("Mul", log_u, b.binary("Div", x, b.binary("Sub", u, one)))
    value = b.where(b.unary("IsInf", u, "bool"), log_u, value)
    return b.where(b.binary("Equal", u, one, "bool"), x, value)


def _trunc(b, x: str) -> str:
    negative = b.binary("Less", x, _zero_of(b, x), "bool")
    return b.where(negative, b.unary("Ceil", x), b.unary("Floor", x))


def _trunc_rule(b, args, out):
    return _trunc(b, args[0])


def _round_away(b, args, out):
    x = args[0]
    whole = _trunc(b, x)
    half = b.binary("GreaterOrEqual", b.unary("Abs", b.binary("Sub", x, whole)),
                    b.const(0.5, dtype=out), "bool")
    return b.binary("Add", whole, b.where(half, b.unary("Sign", x), _zero_of(b, x)))


def _classify(op_type: str) -> Callable:
    """``isnan``/``isinf``: False for integers and bools, as NumPy."""
    def rule(b, args, out):
        x = args[0]
        if b.dtype(x) in FLOATS:
            return b.unary(op_type, x, "bool")
        return b.expand(b.const(False), b.shape(x))
    return rule


# ---------------------------------------------------------------- comparisons
_MIRROR = {"Less": "Greater", "Greater": "Less", "LessOrEqual": "GreaterOrEqual",
           "GreaterOrEqual": "LessOrEqual", "Equal": "Equal"}


def _compare(op_type: str, negate: bool = False) -> Callable:
    def rule(b, args, out):
        x, y = args
        dx, dy = b.dtype(x), b.dtype(y)
        if {dx, dy} & {"uint64"} and (_is_signed(dx) or _is_signed(dy)):
            result = _mixed_compare(b, op_type, x, y)
        else:
            common = np.result_type(dx, dy).name
            if common == "bool" and op_type != "Equal":
                common = "int8"
            result = b.binary(op_type, b.cast(x, common), b.cast(y, common), "bool")
        return b.unary("Not", result) if negate else result
    return rule


def _mixed_compare(b, op_type: str, x: str, y: str) -> str:
    """A signed integer against a uint64, exactly (NumPy 2's ``qQ`` loops)."""
    if b.dtype(x) == "uint64":
        x, y, op_type = y, x, _MIRROR[op_type]
    negative = b.binary("Less", x, _zero_of(b, x), "bool")
    found = b.binary(op_type, b.cast(x, "uint64"), y, "bool")
    if op_type in ("Less", "LessOrEqual"):
        return b.binary("Or", negative, found)
    return b.binary("And", b.unary("Not", negative), found)


# ---------------------------------------------------------------- logic
def _bitwise(logical: str, bitwise: str) -> Callable:
    def rule(b, args, out):
        if out == "bool":
            return _direct(logical)(b, args, out)
        b.require_opset(18, f"the bitwise {bitwise} of integers")
        return _direct(bitwise)(b, args, out)
    return rule


def _invert(b, args, out):
    if out == "bool":
        return b.unary("Not", args[0])
    b.require_opset(18, "the bitwise NOT of integers")
    return b.unary("BitwiseNot", args[0])


def _switch(b, args, out):
    condition, x, y = args
    return b.where(numpy_cast(b, condition, "bool"), x, y)


def _second(b, args, out):
    x, y = args
    return b.expand(y, np.broadcast_shapes(b.shape(x), b.shape(y)))


def _identity(b, args, out):
    return b.identity(args[0])


#: How each scalar op is written: ``rule(b, args, out_dtype) -> name``; the arguments are
#: already in the op's working dtype (see :func:`apply_scalar`).
SCALAR_ONNX: dict[str, Callable] = {
    "add": _arithmetic("Add", "Or"), "sub": _direct("Sub"), "mul": _arithmetic("Mul", "And"),
    "true_div": _direct("Div"), "int_div": _int_div, "mod": _mod, "pow": _pow,
    "neg": _neg_rule, "maximum": _maximum, "minimum": _minimum, "abs": _abs, "sqr": _sqr,
    "identity": _identity, "sgn": _sign, "reciprocal": _float_only("Reciprocal"),
    "exp": _float_only("Exp"), "exp2": _exp2, "expm1": _expm1, "log": _float_only("Log"),
    "log2": _scaled_log(math.log(2)), "log10": _scaled_log(math.log(10)), "log1p": _log1p,
    "sqrt": _float_only("Sqrt"), "sin": _float_only("Sin"), "cos": _float_only("Cos"),
    "tan": _float_only("Tan"), "arcsin": _float_only("Asin"), "arccos": _float_only("Acos"),
    "arctan": _float_only("Atan"), "sinh": _float_only("Sinh"), "cosh": _float_only("Cosh"),
    "tanh": _float_only("Tanh"), "arcsinh": _float_only("Asinh"),
    "arccosh": _float_only("Acosh"), "arctanh": _float_only("Atanh"),
    "sigmoid": _float_only("Sigmoid"), "softplus": _float_only("Softplus"),
    "erf": _float_only("Erf"), "deg2rad": _times(math.pi / 180),
    "rad2deg": _times(180 / math.pi), "floor": _float_only("Floor"),
    "ceil": _float_only("Ceil"), "trunc": _trunc_rule,
    "round_half_to_even": _float_only("Round"), "round_half_away_from_zero": _round_away,
    "eq": _compare("Equal"), "neq": _compare("Equal", negate=True), "lt": _compare("Less"),
    "gt": _compare("Greater"), "le": _compare("LessOrEqual"),
    "ge": _compare("GreaterOrEqual"), "isnan": _classify("IsNaN"), "isinf": _classify("IsInf"),
    "and_": _bitwise("And", "BitwiseAnd"), "or_": _bitwise("Or", "BitwiseOr"),
    "xor": _bitwise("Xor", "BitwiseXor"), "invert": _invert, "switch": _switch,
    "clip": _clip, "second": _second,
}


# --------------------------------------------------------------------------- the op rules
@ONNX.register(Elemwise, InplaceElemwise)
def elemwise(b, node, inputs):
    out = node.outputs[0]
    result = apply_scalar(b, node.op.scalar_op, out.type.dtype, inputs)
    return [b.expand(result, b.graph.shapes[out])]


@ONNX.register(DimShuffle)
def dimshuffle(b, node, inputs):
    (x,) = inputs
    dropped = node.op.dropped(len(b.shape(x)))
    kept = [axis for axis in node.op.new_order if axis != "x"]
    moved = b.transpose(x, kept + dropped)  # dropped axes (size 1) last, then reshaped away
    return [b.reshape(moved, b.graph.shapes[node.outputs[0]])]


@ONNX.register(SumToShape)
def sum_to_shape(b, node, inputs):
    g = inputs[0]
    target = b.graph.shapes[node.outputs[0]]
    axes = [a for a, (gs, ts) in enumerate(zip(b.shape(g), target)) if ts == 1 and gs != 1]
    if not axes:
        return [g]
    return [b.reduce("sum", g, axes, keepdims=True)]
