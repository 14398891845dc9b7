"""The scalar operations that elementwise tensor ops are made of.

A :class:`ScalarOp` says what an elementwise op is: its name, its arity and how its output
dtype follows from its input dtypes. What it *does* lives in the per-concern tables keyed by
the scalar op's name (NumPy in :mod:`exprc.link.reference.elemwise`, derivatives in
:mod:`exprc.gradient.rules.elemwise`, C in the C backend), so one generic ``Elemwise`` op lifts
every scalar op to tensors of any rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exprc.errors import ExprcTypeError
from exprc.tensor.type import canonical_dtype


def upcast(*dtypes: str) -> str:
    """NumPy's promotion of array dtypes (``int32, float32 -> float64``)."""
    return np.result_type(*dtypes).name


def float_of(dtype: str) -> str:
    """The float dtype a float-valued function of ``dtype`` returns (Theano's rule).

    Small integers and bool give float32 (NumPy would give float16, which exprc does not
    support), wider integers float64, floats themselves.
    """
    if dtype in ("float32", "float64"):
        return dtype
    if dtype in ("bool", "int8", "uint8", "int16", "uint16"):
        return "float32"
    return "float64"


@dataclass(frozen=True)
class ScalarOp:
    """One scalar function, lifted elementwise by ``Elemwise``.

    Attributes
    ----------
    name : str
        Key into every per-concern table.
    nin : int
        Number of inputs.
    rule : str
        Output dtype rule: ``same`` (promotion of all inputs), ``float`` (float of the
        promotion), ``div`` (the promotion if it is a float, else float64, as NumPy's ``/``),
        ``bool``, ``bitwise`` (integer or bool inputs only), ``switch`` (promotion of inputs 1
        and 2), ``second`` (dtype of input 1), ``cast`` (``out_dtype``).
    out_dtype : str or None
        Target dtype of a cast.
    on_bool : str or None
        What happens when the inputs promote to bool: None (fine), ``"error"`` (NumPy rejects
        ``-`` of bools) or ``"int8"`` (NumPy computes ``//``, ``%``, ``**`` of bools in int8).
    symbol : str or None
        Infix operator for pretty-printing.
    commutative : bool
        Whether the two operands may be swapped without changing the result (rewrite patterns
        then match them in either order).
    """

    name: str
    nin: int
    rule: str
    out_dtype: str | None = None
    on_bool: str | None = None
    symbol: str | None = None
    commutative: bool = False

    def output_dtype(self, dtypes: list[str]) -> str:
        if self.on_bool and upcast(*dtypes) == "bool":
            if self.on_bool == "error":
                raise ExprcTypeError(f"{self.name} is not defined for bool inputs (dtypes "
                                     f"{dtypes}); use invert/xor for logical operations")
            return self.on_bool
        if self.rule == "same":
            return upcast(*dtypes)
        if self.rule == "div":
            promoted = upcast(*dtypes)
            return promoted if promoted in ("float32", "float64") else "float64"
        if self.rule == "float":
            return float_of(upcast(*dtypes))
        if self.rule == "bool":
            return "bool"
        if self.rule == "bitwise":
            bad = [d for d in dtypes if d not in ("bool",) and not d.startswith(("int", "uint"))]
            if bad:
                raise ExprcTypeError(f"{self.name} needs integer or bool inputs, got {dtypes}")
            return upcast(*dtypes)
        if self.rule == "switch":
            return upcast(*dtypes[1:])
        if self.rule == "second":
            return dtypes[1]
        if self.rule == "cast":
            return self.out_dtype
        raise AssertionError(f"unknown dtype rule {self.rule}")

    def __str__(self) -> str:
        return f"cast_{self.out_dtype}" if self.rule == "cast" else self.name


def _ops(nin: int, rule: str, names: str, **kw) -> dict[str, ScalarOp]:
    return {n: ScalarOp(n, nin, rule, **kw) for n in names.split()}


SCALAR_OPS: dict[str, ScalarOp] = {
    "add": ScalarOp("add", 2, "same", symbol="+", commutative=True),
    "sub": ScalarOp("sub", 2, "same", on_bool="error", symbol="-"),
    "mul": ScalarOp("mul", 2, "same", symbol="*", commutative=True),
    "true_div": ScalarOp("true_div", 2, "div", symbol="/"),
    "int_div": ScalarOp("int_div", 2, "same", on_bool="int8", symbol="//"),
    "mod": ScalarOp("mod", 2, "same", on_bool="int8", symbol="%"),
    "pow": ScalarOp("pow", 2, "same", on_bool="int8", symbol="**"),
    "neg": ScalarOp("neg", 1, "same", on_bool="error", symbol="-"),
    **_ops(2, "same", "maximum minimum", commutative=True),
    **_ops(1, "same", "abs sqr identity"),
    "sgn": ScalarOp("sgn", 1, "same", on_bool="error"),
    **_ops(1, "float",
           "reciprocal exp exp2 expm1 log log2 log10 log1p sqrt sin cos tan arcsin arccos "
           "arctan sinh cosh tanh arcsinh arccosh arctanh sigmoid softplus erf erfc deg2rad "
           "rad2deg floor ceil trunc round_half_to_even round_half_away_from_zero"),
    **_ops(1, "float", "gamma gammaln psi tri_gamma erfinv erfcinv"),
    "arctan2": ScalarOp("arctan2", 2, "float"),
    "eq": ScalarOp("eq", 2, "bool", symbol="==", commutative=True),
    "neq": ScalarOp("neq", 2, "bool", symbol="!=", commutative=True),
    "lt": ScalarOp("lt", 2, "bool", symbol="<"),
    "gt": ScalarOp("gt", 2, "bool", symbol=">"),
    "le": ScalarOp("le", 2, "bool", symbol="<="),
    "ge": ScalarOp("ge", 2, "bool", symbol=">="),
    **_ops(1, "bool", "isnan isinf"),
    "and_": ScalarOp("and_", 2, "bitwise", symbol="&", commutative=True),
    "or_": ScalarOp("or_", 2, "bitwise", symbol="|", commutative=True),
    "xor": ScalarOp("xor", 2, "bitwise", symbol="^", commutative=True),
    "invert": ScalarOp("invert", 1, "bitwise", symbol="~"),
    "switch": ScalarOp("switch", 3, "switch"),
    "clip": ScalarOp("clip", 3, "same"),
    "second": ScalarOp("second", 2, "second"),
}


def cast_op(dtype: str) -> ScalarOp:
    """The scalar op converting to ``dtype`` (C-style: floats truncate toward zero)."""
    return ScalarOp("cast", 1, "cast", out_dtype=canonical_dtype(dtype))
