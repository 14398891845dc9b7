"""Elementwise math on tensors: arithmetic, comparisons, logic and unary functions.

Each public function applies one scalar op of :mod:`exprc.tensor.scalar` through ``Elemwise``
with NumPy broadcasting and NumPy 2 type promotion (Python scalars are weak).
"""

from __future__ import annotations

from typing import Any

from exprc.errors import ExprcTypeError
from exprc.tensor.elemwise import Elemwise
from exprc.tensor.scalar import SCALAR_OPS, cast_op
from exprc.tensor.type import canonical_dtype
from exprc.tensor.variable import as_tensor_variable

__all__ = [
    "abs", "abs_", "add", "and_", "arccos", "arccosh", "arcsin", "arcsinh", "arctan",
    "arctan2", "arctanh", "cast", "ceil", "clip", "cos", "cosh", "deg2rad", "elemwise_op",
    "eq", "erf", "erfc", "erfcinv", "erfinv", "exp", "exp2", "expm1", "fill", "floor",
    "gamma", "gammaln", "ge", "gt", "int_div", "invert", "isinf", "isnan", "le", "log", "log10",
    "log1p", "log2", "lt", "maximum", "minimum", "mod", "mul", "neg", "neq", "or_", "pow",
    "psi", "rad2deg", "reciprocal", "round", "sgn", "sigmoid", "sin", "sinh", "softplus", "sqr",
    "sqrt", "sub", "switch", "tan", "tanh", "tensor_copy", "tri_gamma", "true_div", "trunc",
    "where", "xor",
]

_ELEMWISE: dict[str, Elemwise] = {name: Elemwise(op) for name, op in SCALAR_OPS.items()}


def elemwise_op(name: str) -> Elemwise:
    """The (shared, immutable) Elemwise op for scalar op ``name``."""
    return _ELEMWISE[name]


_DOCS = {
    "add": "a + b", "sub": "a - b", "mul": "a * b",
    "true_div": "a / b (true division; integer inputs give floats)",
    "int_div": "a // b (floor division, as NumPy)", "mod": "a % b (sign of b, as NumPy)",
    "pow": "a ** b", "neg": "-a", "maximum": "the larger of a and b (NaN wins)",
    "minimum": "the smaller of a and b (NaN wins)", "abs": "absolute value of a", "sqr": "a * a",
    "sgn": "the sign of a: -1, 0 or 1", "reciprocal": "1 / a", "exp": "e ** a",
    "exp2": "2 ** a", "expm1": "exp(a) - 1, accurate near 0", "log": "natural logarithm",
    "log2": "base-2 logarithm", "log10": "base-10 logarithm",
    "log1p": "log(1 + a), accurate near 0", "sqrt": "square root", "sin": "sine",
    "cos": "cosine", "tan": "tangent", "arcsin": "inverse sine", "arccos": "inverse cosine",
    "arctan": "inverse tangent", "arctan2": "arctan(a / b) in the right quadrant",
    "sinh": "hyperbolic sine", "cosh": "hyperbolic cosine", "tanh": "hyperbolic tangent",
    "arcsinh": "inverse hyperbolic sine", "arccosh": "inverse hyperbolic cosine",
    "arctanh": "inverse hyperbolic tangent", "sigmoid": "1 / (1 + exp(-a)), computed stably",
    "softplus": "log(1 + exp(a)), computed stably", "erf": "the error function",
    "erfc": "1 - erf(a), accurate for large a", "deg2rad": "degrees to radians",
    "rad2deg": "radians to degrees", "floor": "largest integer <= a (as a float)",
    "ceil": "smallest integer >= a (as a float)", "trunc": "a rounded toward zero",
    "eq": "a == b elementwise", "neq": "a != b elementwise", "lt": "a < b", "gt": "a > b",
    "le": "a <= b", "ge": "a >= b", "isnan": "a is NaN", "isinf": "a is +inf or -inf",
    "and_": "bitwise (or logical, for bool) a & b", "or_": "bitwise (or logical) a | b",
    "xor": "bitwise (or logical) a ^ b", "invert": "bitwise (or logical, for bool) not",
    "identity": "a copy of a",
    "gamma": "the gamma function (inf at +0, NaN at the negative integers)",
    "gammaln": "log(abs(gamma(a))), the log-gamma function (inf at the poles)",
    "psi": "the digamma function psi(a) = d/da gammaln(a)",
    "tri_gamma": "the trigamma function, the derivative of psi (inf at the poles)",
    "erfinv": "the inverse error function on [-1, 1] (NaN outside, +-inf at +-1)",
    "erfcinv": "the inverse complementary error function on [0, 2] (NaN outside)",
}


def _make(name: str):
    op = _ELEMWISE[name]
    params = ["a", "b", "c"][: op.scalar_op.nin]

    def apply(*args: Any):
        if len(args) != len(params):
            raise ExprcTypeError(f"{name}() takes {len(params)} argument(s), got {len(args)}")
        return op(*args)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = (f"Elementwise {_DOCS[name]}.\n\nParameters\n----------\n"
                     + "".join(f"{p} : tensor-like\n" for p in params)
                     + "\nReturns\n-------\nTensorVariable\n    Broadcast result.\n")
    return apply


add = _make("add")
sub = _make("sub")
mul = _make("mul")
true_div = _make("true_div")
int_div = _make("int_div")
mod = _make("mod")
pow = _make("pow")
neg = _make("neg")
maximum = _make("maximum")
minimum = _make("minimum")
abs = _make("abs")
abs_ = abs  # Theano's spelling
sqr = _make("sqr")
sgn = _make("sgn")
reciprocal = _make("reciprocal")
exp = _make("exp")
exp2 = _make("exp2")
expm1 = _make("expm1")
log = _make("log")
log2 = _make("log2")
log10 = _make("log10")
log1p = _make("log1p")
sqrt = _make("sqrt")
sin = _make("sin")
cos = _make("cos")
tan = _make("tan")
arcsin = _make("arcsin")
arccos = _make("arccos")
arctan = _make("arctan")
arctan2 = _make("arctan2")
sinh = _make("sinh")
cosh = _make("cosh")
tanh = _make("tanh")
arcsinh = _make("arcsinh")
arccosh = _make("arccosh")
arctanh = _make("arctanh")
sigmoid = _make("sigmoid")
softplus = _make("softplus")
erf = _make("erf")
erfc = _make("erfc")
erfinv = _make("erfinv")
erfcinv = _make("erfcinv")
gamma = _make("gamma")
gammaln = _make("gammaln")
psi = _make("psi")
tri_gamma = _make("tri_gamma")
deg2rad = _make("deg2rad")
rad2deg = _make("rad2deg")
floor = _make("floor")
ceil = _make("ceil")
trunc = _make("trunc")
eq = _make("eq")
neq = _make("neq")
lt = _make("lt")
gt = _make("gt")
le = _make("le")
ge = _make("ge")
isnan = _make("isnan")
isinf = _make("isinf")
and_ = _make("and_")
or_ = _make("or_")
xor = _make("xor")
invert = _make("invert")
tensor_copy = _make("identity")


def round(a: Any, mode: str = "half_to_even"):
    """Round to the nearest integer, returned as a float.

    Parameters
    ----------
    a : tensor-like
    mode : {'half_to_even', 'half_away_from_zero'}
        How ties are broken: NumPy's banker's rounding (default) or C's ``round``.
    """
    if mode not in ("half_to_even", "half_away_from_zero"):
        raise ExprcTypeError(f"round mode must be 'half_to_even' or 'half_away_from_zero', "
                             f"got {mode!r}")
    return _ELEMWISE[f"round_{mode}"](a)


def switch(condition: Any, then: Any, otherwise: Any):
    """Elementwise ``then`` where ``condition`` is true (non-zero), else ``otherwise``.

    All three broadcast against each other; the result dtype promotes ``then`` and
    ``otherwise``.
    """
    return _ELEMWISE["switch"](condition, then, otherwise)


where = switch  # Theano and NumPy's name for the same operation


def clip(a: Any, a_min: Any, a_max: Any):
    """Limit ``a`` to ``[a_min, a_max]`` elementwise (bounds broadcast against ``a``)."""
    return _ELEMWISE["clip"](a, a_min, a_max)


def fill(model: Any, value: Any):
    """An array with the broadcast shape of ``model`` and ``value``, filled from ``value``."""
    return _ELEMWISE["second"](model, value)


def cast(x: Any, dtype: Any):
    """Convert ``x`` to ``dtype``; floats convert to integers by truncation toward zero.

    Returns ``x`` itself when it already has that dtype.
    """
    x = as_tensor_variable(x)
    dtype = canonical_dtype(dtype)
    if x.dtype == dtype:
        return x
    return Elemwise(cast_op(dtype))(x)
