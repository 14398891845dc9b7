"""Registry cases of Elemwise (every scalar op), InplaceElemwise, DimShuffle and SumToShape."""

import math
from fractions import Fraction

import numpy as np

import exprc.tensor as T
from exprc.gradient.table import INPLACE_REASON
from exprc.tensor.elemwise import InplaceElemwise, sum_to
from exprc.tensor.scalar import SCALAR_OPS
from tests.registry import BINARY_SHAPES, UNARY_SHAPES, Arg, Case, add


def _away_from_zero(shape, low=0.2, high=2.0):
    def gen(rng):
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(low, high, shape)
    return gen


# name -> (exprc function, NumPy reference, (low, high) domain or a generator factory)
UNARY = {
    "neg": (T.neg, np.negative, None),
    "abs": (T.abs, np.abs, _away_from_zero),
    "sqr": (T.sqr, np.square, None),
    "sgn": (T.sgn, np.sign, _away_from_zero),
    "reciprocal": (T.reciprocal, np.reciprocal, _away_from_zero),
    "exp": (T.exp, np.exp, None), "exp2": (T.exp2, np.exp2, None),
    "expm1": (T.expm1, np.expm1, None), "log": (T.log, np.log, (0.1, 3.0)),
    "log2": (T.log2, np.log2, (0.1, 3.0)), "log10": (T.log10, np.log10, (0.1, 3.0)),
    "log1p": (T.log1p, np.log1p, (-0.5, 3.0)), "sqrt": (T.sqrt, np.sqrt, (0.1, 3.0)),
    "sin": (T.sin, np.sin, None), "cos": (T.cos, np.cos, None),
    "tan": (T.tan, np.tan, (-1.2, 1.2)), "arcsin": (T.arcsin, np.arcsin, (-0.9, 0.9)),
    "arccos": (T.arccos, np.arccos, (-0.9, 0.9)), "arctan": (T.arctan, np.arctan, None),
    "sinh": (T.sinh, np.sinh, None), "cosh": (T.cosh, np.cosh, None),
    "tanh": (T.tanh, np.tanh, None), "arcsinh": (T.arcsinh, np.arcsinh, None),
    "arccosh": (T.arccosh, np.arccosh, (1.1, 3.0)),
    "arctanh": (T.arctanh, np.arctanh, (-0.9, 0.9)),
    "sigmoid": (T.sigmoid, lambda x: 1 / (1 + np.exp(-x)), (-6.0, 6.0)),
    "softplus": (T.softplus, lambda x: np.log1p(np.exp(x)), (-6.0, 6.0)),
    "erf": (T.erf, lambda x: np.vectorize(math.erf, otypes=[x.dtype])(x), None),
    "erfc": (T.erfc, lambda x: np.vectorize(math.erfc, otypes=[x.dtype])(x), None),
    "deg2rad": (T.deg2rad, np.deg2rad, None), "rad2deg": (T.rad2deg, np.rad2deg, None),
    "floor": (T.floor, np.floor, None), "ceil": (T.ceil, np.ceil, None),
    "trunc": (T.trunc, np.trunc, None),
    "round_half_to_even": (T.round, np.round, None),
    "round_half_away_from_zero": (lambda x: T.round(x, "half_away_from_zero"),
                                  lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5), None),
    "tensor_copy": (T.tensor_copy, np.copy, None),
}

BINARY = {
    "add": (T.add, np.add, None, None), "sub": (T.sub, np.subtract, None, None),
    "mul": (T.mul, np.multiply, None, None),
    "true_div": (T.true_div, np.true_divide, None, _away_from_zero),
    "int_div": (T.int_div, np.floor_divide, (0.2, 0.8), (1.1, 2.0)),
    "mod": (T.mod, np.mod, (0.2, 0.8), (1.1, 2.0)),
    "pow": (T.pow, np.power, (0.5, 2.0), None),
    "maximum": (T.maximum, np.maximum, None, None),
    "minimum": (T.minimum, np.minimum, None, None),
    "arctan2": (T.arctan2, np.arctan2, None, _away_from_zero),
}

COMPARISONS = {"eq": np.equal, "neq": np.not_equal, "lt": np.less, "gt": np.greater,
               "le": np.less_equal, "ge": np.greater_equal}
BITWISE = {"and_": np.bitwise_and, "or_": np.bitwise_or, "xor": np.bitwise_xor}


def _arg(shape, domain, dtype="float64"):
    if callable(domain):
        return Arg(shape, dtype, gen=domain(shape))
    low, high = domain or (-2.0, 2.0)
    return Arg(shape, dtype, low, high)


for name, (fn, ref, domain) in UNARY.items():
    for variant, (shape,) in UNARY_SHAPES.items():
        add(Case(f"{name}/{variant}", fn, ref, [_arg(shape, domain)]))
    add(Case(f"{name}/float32", fn, ref, [_arg((5,), domain, "float32")], rtol=1e-5,
             atol=1e-6, grad="float32 forward check"))

for name, (fn, ref, dom_a, dom_b) in BINARY.items():
    for variant, (sa, sb) in BINARY_SHAPES.items():
        add(Case(f"{name}/{variant}", fn, ref, [_arg(sa, dom_a), _arg(sb, dom_b)]))

for name, ref in COMPARISONS.items():
    fn = getattr(T, name)
    for variant in ("same", "bcast_row", "0d", "empty"):
        sa, sb = BINARY_SHAPES[variant]
        add(Case(f"{name}/{variant}", fn, ref,
                 [Arg(sa, "int64", -2, 3, differentiable=False), Arg(sb, "int64", -2, 3)],
                 grad="integer inputs"))
    add(Case(f"{name}/float", fn, ref, [Arg((4, 3)), Arg((3,))]))

for name, ref in BITWISE.items():
    fn = getattr(T, name)
    add(Case(f"{name}/int", fn, ref, [Arg((3, 4), "int32", -50, 50), Arg((4,), "int32", -9, 9)],
             grad="integer op"))
    add(Case(f"{name}/bool", fn, ref, [Arg((3, 4), "bool"), Arg((3, 4), "bool")],
             grad="boolean op"))
add(Case("invert/int", T.invert, np.invert, [Arg((3, 4), "int16", -50, 50)], grad="integer op"),
    Case("invert/bool", T.invert, np.logical_not, [Arg((5,), "bool")], grad="boolean op"))


def _with_specials(rng):
    x = rng.uniform(-2, 2, (3, 4))
    x[0, 0], x[1, 1], x[2, 2] = np.nan, np.inf, -np.inf
    return x


add(Case("isnan", T.isnan, np.isnan, [Arg((3, 4), gen=_with_specials)], grad="NaN inputs"),
    Case("isinf", T.isinf, np.isinf, [Arg((3, 4), gen=_with_specials)], grad="NaN inputs"))

for variant, (sa, sb) in BINARY_SHAPES.items():
    add(Case(f"switch/{variant}", T.switch, np.where,
             [Arg(sa, "bool", differentiable=False), Arg(sb), Arg(sa)]))
add(Case("switch/float_condition", T.switch, lambda c, a, b: np.where(c != 0, a, b),
         [Arg((3, 4), "int8", 0, 2), Arg((3, 4)), Arg(())]),
    Case("clip/scalars", lambda x, lo, hi: T.clip(x, lo, hi), np.clip,
         [Arg((3, 4)), Arg((), low=-1.0, high=-0.5), Arg((), low=0.5, high=1.0)]),
    Case("clip/broadcast", T.clip, np.clip,
         [Arg((3, 4)), Arg((4,), low=-1.0, high=-0.5), Arg((3, 1), low=0.5, high=1.0)]),
    Case("clip/python_bounds", lambda x: T.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
         [Arg((6,))]),
    Case("fill", T.fill, lambda a, b: np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)),
         [Arg((3, 4)), Arg((4,))]))

# Casts (float -> int truncates toward zero) and dtype promotion.
add(Case("cast/float_to_int32", lambda x: T.cast(x, "int32"), lambda x: x.astype("int32"),
         [Arg((3, 4), low=-5, high=5)]),
    Case("cast/to_float32", lambda x: T.cast(x, "float32"), lambda x: x.astype("float32"),
         [Arg((3, 4))], rtol=1e-6, grad="float32 rounding defeats float64 differences"),
    Case("cast/int_to_bool", lambda x: T.cast(x, "bool"), lambda x: x.astype(bool),
         [Arg((7,), "int64", -2, 3)], grad="integer input"),
    Case("promote/int8_exp_is_float32", T.exp, lambda x: np.exp(x.astype("float32")),
         [Arg((4,), "int8", -3, 3)], rtol=1e-6, grad="integer input"),
    Case("promote/int32_plus_float32", T.add, lambda a, b: a + b,
         [Arg((4,), "int32", -9, 9), Arg((4,), "float32")], grad="integer input"),
    Case("promote/weak_python_float", lambda x: x * 2.5, lambda x: x * np.float32(2.5),
         [Arg((4,), "float32")], rtol=1e-6, grad="float32 forward check"),
    Case("promote/int_true_div", lambda a, b: a / b, np.true_divide,
         [Arg((4,), "int32", 1, 9), Arg((4,), "int32", 1, 9)], grad="integer input"))

# DimShuffle: transpose, new axes, dropped size-1 axes (static and checked at run time).
add(Case("dimshuffle/transpose", lambda x: x.dimshuffle(1, 0), np.transpose, [Arg((3, 4))]),
    Case("dimshuffle/new_axes", lambda x: x.dimshuffle("x", 1, "x", 0),
         lambda x: x.T[None, :, None, :], [Arg((3, 4))]),
    Case("dimshuffle/drop_static", lambda x: x.dimshuffle(1), lambda x: x[0],
         [Arg((1, 4), static=(1, None))]),
    Case("dimshuffle/drop_runtime", lambda x: x.dimshuffle(0), lambda x: x[:, 0],
         [Arg((3, 1))]),
    Case("dimshuffle/0d", lambda x: x.dimshuffle("x", "x"), lambda x: x.reshape(1, 1),
         [Arg(())]),
    Case("dimshuffle/empty", lambda x: x.dimshuffle(2, 0, 1),
         lambda x: x.transpose(2, 0, 1), [Arg((0, 2, 3))]))

add(Case("sum_to_shape/runtime", sum_to, lambda g, like: g.sum(axis=0, keepdims=True),
         [Arg((3, 4)), Arg((1, 4), differentiable=False)]),
    Case("sum_to_shape/static", sum_to, lambda g, like: g.sum(axis=1, keepdims=True),
         [Arg((3, 4)), Arg((3, 1), static=(None, 1), differentiable=False)]))


# The in-place variant, built on graph inputs: the executor copies an input before an op may
# overwrite it, so these cases check values, not memory reuse (tests/test_inplace.py does that).
NO_INPLACE_GRAD = INPLACE_REASON


def _inplace_elemwise(name, destroyed, shapes, reference, dtype="float64"):
    op = InplaceElemwise(SCALAR_OPS[name], destroyed)
    return Case(f"inplace_elemwise/{name}/{destroyed}", op, reference,
                [Arg(s, dtype) for s in shapes], grad=NO_INPLACE_GRAD)


add(
    _inplace_elemwise("add", 0, [(3, 4), (4,)], np.add),
    _inplace_elemwise("mul", 1, [(3, 1), (3, 4)], np.multiply),
    _inplace_elemwise("tanh", 0, [(2, 3)], np.tanh),
    _inplace_elemwise("sub", 0, [(3, 4), (3, 4)], np.subtract, dtype="float32"),
    # The destroyed input is smaller than the output: a fresh array is computed.
    _inplace_elemwise("add", 1, [(1, 4), (2, 1)], np.add),
)


# ------------------------------------------------------------------------- special functions
# The references below are computed independently of exprc's methods: gamma and gammaln from
# Python's math module, psi and tri_gamma from their series with exact Bernoulli numbers after
# shifting the argument up to 40 (math.fsum adds the terms), erfinv and erfcinv by bisection
# on math.erf and math.erfc.
_BERNOULLI = (Fraction(1, 6), Fraction(-1, 30), Fraction(1, 42), Fraction(-1, 30),
              Fraction(5, 66), Fraction(-691, 2730), Fraction(7, 6), Fraction(-3617, 510),
              Fraction(43867, 798), Fraction(-174611, 330))


def _digamma(x: float) -> float:
    if x <= 0:  # tan has period pi: x - round(x) keeps its argument small and exact
        return _digamma(1.0 - x) - math.pi / math.tan(math.pi * (x - round(x)))
    n = max(0, math.ceil(40.0 - x))
    w = x + n
    terms = [-1.0 / (x + k) for k in range(n)] + [math.log(w), -0.5 / w]
    terms += [-float(b) / (2 * k) * (1.0 / w) ** (2 * k) for k, b in enumerate(_BERNOULLI, 1)]
    return math.fsum(terms)


def _trigamma(x: float) -> float:
    if x <= 0:
        return (math.pi / math.sin(math.pi * (x - round(x)))) ** 2 - _trigamma(1.0 - x)
    n = max(0, math.ceil(40.0 - x))
    w = x + n
    terms = [1.0 / (x + k) ** 2 for k in range(n)] + [1.0 / w, 0.5 / w ** 2]
    terms += [float(b) * (1.0 / w) ** (2 * k + 1) for k, b in enumerate(_BERNOULLI, 1)]
    return math.fsum(terms)


def _bisect(fn, target: float, low: float, high: float, increasing: bool) -> float:
    for _ in range(200):
        mid = 0.5 * (low + high)
        if mid in (low, high):
            break
        if (fn(mid) < target) == increasing:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def _erfinv(x: float) -> float:
    return _bisect(math.erf, x, -7.0, 7.0, True)


def _erfcinv(y: float) -> float:
    return _bisect(math.erfc, y, -7.0, 30.0, False)


def _vectorized(fn):
    return lambda x: np.vectorize(fn, otypes=["float64"])(x).astype(x.dtype)


def _non_integers(low, high):
    """Uniform values in [low, high) at least 0.1 away from every integer (the poles)."""
    def factory(shape):
        def gen(rng):
            return np.floor(rng.uniform(low, high, shape)) + rng.uniform(0.1, 0.9, shape)
        return gen
    return factory


# name -> (exprc function, reference, domain, tolerance)
SPECIAL = {
    "gamma": (T.gamma, _vectorized(math.gamma), (0.1, 6.0), 1e-13),
    "gamma/negative": (T.gamma, _vectorized(math.gamma), _non_integers(-4, 0), 1e-13),
    "gammaln": (T.gammaln, _vectorized(math.lgamma), (0.1, 8.0), 1e-12),
    "psi": (T.psi, _vectorized(_digamma), (0.05, 6.0), 1e-13),
    "psi/negative": (T.psi, _vectorized(_digamma), _non_integers(-5, 0), 1e-12),
    "tri_gamma": (T.tri_gamma, _vectorized(_trigamma), (0.05, 6.0), 1e-13),
    "tri_gamma/negative": (T.tri_gamma, _vectorized(_trigamma), _non_integers(-5, 0), 1e-12),
    "erfinv": (T.erfinv, _vectorized(_erfinv), (-0.95, 0.95), 1e-13),
    "erfcinv": (T.erfcinv, _vectorized(_erfcinv), (0.05, 1.95), 1e-13),
}
_NO_TETRAGAMMA = "the derivative of tri_gamma (tetragamma) is not implemented"

for name, (fn, ref, domain, tol) in SPECIAL.items():
    grad = _NO_TETRAGAMMA if name.startswith("tri_gamma") else True
    variants = UNARY_SHAPES if "/" not in name else {"matrix": [(3, 4)]}
    for variant, (shape,) in variants.items():
        add(Case(f"{name}/{variant}", fn, ref, [_arg(shape, domain)], grad=grad, rtol=tol,
                 atol=1e-14))
    if "/" not in name:
        add(Case(f"{name}/float32", fn, ref, [_arg((5,), domain, "float32")], rtol=1e-6,
                 atol=1e-7, grad="float32 forward check"))


def _edges(values):
    return lambda rng: np.array(values, dtype="float64")


# Poles, domain ends, tails and NaN: IEEE values as the C library's tgamma and lgamma give them.
_INF, _NAN = math.inf, math.nan
SPECIAL_EDGES = {
    "gamma": (T.gamma, [0.0, -0.0, -1.0, -3.0, _INF, -_INF, _NAN, 200.0, 1e-300],
              [_INF, -_INF, _NAN, _NAN, _INF, _NAN, _NAN, _INF, 1e300]),
    "gammaln": (T.gammaln, [0.0, -2.0, _INF, -_INF, _NAN, 1.0, 2.0, 1e300],
                [_INF, _INF, _INF, _INF, _NAN, 0.0, 0.0, 1e300 * (math.log(1e300) - 1)]),
    "psi": (T.psi, [0.0, -0.0, -1.0, -_INF, _INF, _NAN, 1.0, 0.5, 1e-300],
            [-_INF, _INF, _NAN, _NAN, _INF, _NAN, -0.5772156649015329,
             -0.5772156649015329 - 2 * math.log(2.0), -1e300]),
    "tri_gamma": (T.tri_gamma, [0.0, -2.0, -_INF, _INF, _NAN, 1.0, 0.5],
                  [_INF, _INF, _NAN, 0.0, _NAN, math.pi ** 2 / 6, math.pi ** 2 / 2]),
    "erfinv": (T.erfinv, [1.0, -1.0, 1.5, -1.0000001, _NAN, 0.0, -0.0, 1e-300, 1 - 2 ** -53],
               [_INF, -_INF, _NAN, _NAN, _NAN, 0.0, -0.0, 1e-300 * math.sqrt(math.pi) / 2,
                _erfcinv(2 ** -53)]),
    "erfcinv": (T.erfcinv, [0.0, 2.0, 1.0, -0.5, 2.5, _NAN, 1e-300, 1e-100, 2 - 2 ** -52],
                [_INF, -_INF, 0.0, _NAN, _NAN, _NAN, 26.209469960516124, _erfcinv(1e-100),
                 -_erfcinv(2 ** -52)]),
}
for name, (fn, inputs, expected) in SPECIAL_EDGES.items():
    add(Case(f"{name}/edges", fn, lambda x, e=expected: np.array(e),
             [Arg((len(inputs),), gen=_edges(inputs))], grad="poles and domain ends",
             rtol=1e-12, atol=0.0))
