"""Scalar ops as C expressions, for C and CUDA alike.

One table, :data:`SCALAR_C`, gives every scalar op of :mod:`exprc.tensor.scalar` as a C
expression template; a :class:`Dialect` supplies the few things that differ between C and CUDA
(function qualifiers, thread indexing, the names of the math functions). The templates compute
exactly what the NumPy reference computes (:mod:`exprc.link.reference.elemwise`):

- inputs are converted to the op's working dtype first, as the reference casts them;
- integer ``+ - * neg abs`` wrap around like NumPy (they are computed in unsigned arithmetic,
  because signed overflow is undefined in C);
- ``//`` and ``%`` round toward minus infinity, give 0 for an integer division by zero and
  never trap (``INT_MIN // -1`` wraps), and follow NumPy's ``divmod`` for floats;
- comparisons promote as NumPy does, and a signed integer compares exactly with a ``uint64``;
- ``maximum``, ``minimum`` and ``clip`` propagate NaN; float to integer casts truncate toward
  zero through int32 or int64 and wrap as NumPy's do, and follow one fixed rule for NaN,
  infinities and values out of range (see ``_FLOAT_TO_INT``).

A template is a :meth:`str.format` pattern over named fields: ``{a}``, ``{b}``, ``{c}`` are
the operands (already of the working dtype), ``{T}`` is the C type of the result, ``{W}`` the
unsigned type integer arithmetic wraps in, ``{m_NAME}`` the dialect's math function ``NAME``
for the working dtype (``{d_NAME}`` for double), and ``{h_NAME}`` a helper function of
:data:`HELPERS`, which the generated source then defines once per dtype.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from exprc.errors import ExprcTypeError
from exprc.link.sources import source_dir
from exprc.tensor.scalar import ScalarOp

#: C type of each supported dtype (``bool`` from ``<stdbool.h>`` in C, native in CUDA).
C_TYPES = {
    "bool": "bool", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
    "int64": "int64_t", "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t",
    "uint64": "uint64_t", "float32": "float", "float64": "double",
}


def typed_name(stem: str, dtype: str) -> str:
    """The name of the ``dtype`` version of the C function ``stem``: ``<stem>_<dtype>``.

    The one suffix scheme of typed C functions, for the runtime library's entry points
    (``exprc_gemm_float32``, see ``csrc/README.md``) and generated helpers alike.

    >>> typed_name("exprc_argsort", "uint8")
    'exprc_argsort_uint8'
    """
    if dtype not in C_TYPES:
        raise ExprcTypeError(f"no C type for dtype {dtype!r}")
    return f"{stem}_{dtype}"


# --------------------------------------------------------------------------- text
# Text from outside (an op's description, a message) enters a source only through the two
# functions below, which write it byte by byte from its UTF-8 encoding. A compiler joins a
# line ending in a backslash to the next and reads ??/ as a backslash (a trigraph) before it
# looks for the end of a literal or a comment, so neither may hold a raw backslash, question
# mark or newline; a literal may not hold a raw quote, and a comment no slash (no */ or /*).
_PRINTABLE = frozenset(range(0x20, 0x7F))
_LITERAL_AS_IS = _PRINTABLE - set(b'"\\?')
_COMMENT_AS_IS = _PRINTABLE - set(b"\\?/%")


def _utf8(text: str) -> bytes:
    # A lone surrogate has no UTF-8 form: it is shown as its escape (\udc80).
    return str.__str__(text).encode("utf-8", "backslashreplace")


def c_literal(text: str) -> str:
    """``text`` as a C (and CUDA) string literal holding exactly its UTF-8 bytes.

    Printable ASCII stands for itself, except ``"``, ``\\`` and ``?``; every other byte is a
    three-digit octal escape (which never runs into a following digit). Nothing in ``text``
    can therefore end the literal, continue a line or form a trigraph.

    >>> print(c_literal('a"b\\\\c??/\\n%é'))
    "a\\042b\\134c\\077\\077/\\012%\\303\\251"
    """
    return '"' + "".join(chr(b) if b in _LITERAL_AS_IS else f"\\{b:03o}"
                         for b in _utf8(text)) + '"'


def c_comment(text: str) -> str:
    """A C comment showing ``text``: printable ASCII but ``\\ ? / %`` as itself, every other
    byte of its UTF-8 encoding as ``%XX`` (hexadecimal, as in a URL).

    Nothing in ``text`` can end the comment, open another or continue its line.

    >>> c_comment("node 3: Op{a*/b}\\\\\\n")
    '/* node 3: Op{a*%2Fb}%5C%0A */'
    """
    return "/* " + "".join(chr(b) if b in _COMMENT_AS_IS else f"%{b:02X}"
                           for b in _utf8(text)) + " */"


#: The C math library's names: function -> (float32 name, float64 name).
LIBM_NAMES = {
    name: (name + "f", name) for name in (
        "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "sin", "cos", "tan",
        "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
        "erf", "erfc", "floor", "ceil", "trunc", "rint", "round", "pow", "fmod", "fabs",
        "copysign")
}

_MATH_HEADER = source_dir("csrc") / "exprc_math.h"

#: The vectorizable versions of ``csrc/exprc_math.h`` (``exprc_expf``, ``exprc_exp``, ...),
#: used by the C dialect when the header is there; rounding, ``fabs`` and the like stay libm's
#: (they compile to single instructions).
VECTOR_MATH_NAMES = {
    **LIBM_NAMES,
    **{name: (f"exprc_{name}f", f"exprc_{name}") for name in [
        "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "sinh",
        "cosh", "tanh", "asin", "acos", "atan", "atan2", "asinh", "acosh", "atanh", "erf",
        "erfc", "pow"]},
}


@dataclass(frozen=True)
class Dialect:
    """What differs between the C-like languages exprc generates.

    Attributes
    ----------
    name : str
        ``"c"`` or ``"cuda"``.
    includes : tuple of str
        Header lines that open every source.
    helper_qualifier : str
        How helper functions are declared (private to the source, inlinable).
    entry_qualifier : str
        What precedes an exported entry point (a C function or a CUDA kernel).
    thread_index, thread_count : str
        The first element a thread handles and the number of threads of the launch (the
        grid-stride loop); empty in C, where OpenMP splits the loop instead.
    math_names : mapping
        Math function -> (float32 name, float64 name). Changing this table alone switches
        every generated kernel to another math library.
    """

    name: str
    includes: tuple[str, ...]
    helper_qualifier: str
    entry_qualifier: str
    thread_index: str = ""
    thread_count: str = ""
    math_names: Mapping[str, tuple[str, str]] = field(default_factory=lambda: LIBM_NAMES)

    def ctype(self, dtype: str) -> str:
        """The C type holding one element of ``dtype``."""
        return C_TYPES[dtype]

    def math_name(self, function: str, dtype: str) -> str:
        """The name of math ``function`` (``"exp"``) for a float ``dtype``."""
        single, double = self.math_names[function]
        return single if dtype == "float32" else double


C = Dialect(
    name="c",
    includes=("#include <math.h>", "#include <stdbool.h>", "#include <stdint.h>",
              "#include <string.h>", '#include "exprc_common.h"', '#include "exprc_special.h"')
    + (('#include "exprc_math.h"',) if _MATH_HEADER.is_file() else ()),
    helper_qualifier="EXPRC_MATH_INLINE" if _MATH_HEADER.is_file() else "static inline",
    entry_qualifier="EXPRC_EXPORT int",
    math_names=VECTOR_MATH_NAMES if _MATH_HEADER.is_file() else LIBM_NAMES,
)

CUDA = Dialect(
    name="cuda",
    includes=("#include <stdint.h>", '#include "exprc_common.h"', '#include "exprc_special.h"'),
    helper_qualifier="static __device__ __forceinline__",
    entry_qualifier='extern "C" __global__ void',
    thread_index="(exprc_int)blockIdx.x * blockDim.x + threadIdx.x",
    thread_count="(exprc_int)gridDim.x * blockDim.x",
)


# --------------------------------------------------------------------------- templates
def _kinds(f: str | None = None, i: str | None = None, u: str | None = None,
           b: str | None = None, ints: str | None = None) -> dict[str, str]:
    """A template per dtype kind (float, signed, unsigned, bool); ``ints`` sets i and u."""
    table = {"f": f, "i": i or ints, "u": u or ints, "b": b}
    return {kind: text for kind, text in table.items() if text is not None}


def _wrapping(symbol: str) -> str:
    # Unsigned arithmetic wraps by definition; converting back to T gives NumPy's result.
    return f"({{T}})(({{W}}){{a}} {symbol} ({{W}}){{b}})"


def _libm(function: str, nargs: int = 1) -> dict[str, str]:
    operands = ", ".join("{" + "abc"[k] + "}" for k in range(nargs))
    return _kinds(f=f"{{m_{function}}}({operands})")


_PI = "3.141592653589793238462643383279502884"

#: C expression template per scalar op name (per dtype kind where they differ).
SCALAR_C: dict[str, dict[str, str]] = {
    "add": _kinds(f="{a} + {b}", ints=_wrapping("+"), b="{a} | {b}"),
    "sub": _kinds(f="{a} - {b}", ints=_wrapping("-")),
    "mul": _kinds(f="{a} * {b}", ints=_wrapping("*"), b="{a} & {b}"),
    "true_div": _kinds(f="{a} / {b}"),
    "int_div": _kinds(f="{h_floordiv}({a}, {b})", i="{h_floordiv}({a}, {b})",
                      u="({b} == 0 ? ({T})0 : ({T})({a} / {b}))"),
    "mod": _kinds(f="{h_mod}({a}, {b})", i="{h_mod}({a}, {b})",
                  u="({b} == 0 ? ({T})0 : ({T})({a} % {b}))"),
    "pow": _kinds(f="{m_pow}({a}, {b})", ints="{h_ipow}({a}, {b})"),
    "neg": _kinds(f="-{a}", ints="({T})(({W})0 - ({W}){a})"),
    # Floats through helpers: a chain of NaN-propagating selects written as one expression
    # keeps gcc from vectorizing the loop, the same selects as statements do not.
    "maximum": _kinds(f="{h_maximum}({a}, {b})", ints="({a} > {b} ? {a} : {b})",
                      b="{a} | {b}"),
    "minimum": _kinds(f="{h_minimum}({a}, {b})", ints="({a} < {b} ? {a} : {b})",
                      b="{a} & {b}"),
    "abs": _kinds(f="{m_fabs}({a})", i="({a} < 0 ? ({T})(({W})0 - ({W}){a}) : {a})",
                  u="{a}", b="{a}"),
    "sqr": _kinds(f="{a} * {a}", ints="({T})(({W}){a} * ({W}){a})", b="{a}"),
    "identity": _kinds(f="{a}", ints="{a}", b="{a}"),
    "sgn": _kinds(f="({a} > 0 ? ({T})1 : {a} < 0 ? ({T})-1 : {a} == 0 ? ({T})0 : {a})",
                  i="({T})(({a} > 0) - ({a} < 0))", u="({T})({a} > 0)"),
    "reciprocal": _kinds(f="({T})1 / {a}"),
    "exp": _libm("exp"), "exp2": _libm("exp2"), "expm1": _libm("expm1"),
    "log": _libm("log"), "log2": _libm("log2"), "log10": _libm("log10"),
    "log1p": _libm("log1p"), "sqrt": _libm("sqrt"), "sin": _libm("sin"), "cos": _libm("cos"),
    "tan": _libm("tan"), "arcsin": _libm("asin"), "arccos": _libm("acos"),
    "arctan": _libm("atan"), "arctan2": _libm("atan2", 2), "sinh": _libm("sinh"),
    "cosh": _libm("cosh"), "tanh": _libm("tanh"), "arcsinh": _libm("asinh"),
    "arccosh": _libm("acosh"), "arctanh": _libm("atanh"),
    "sigmoid": _kinds(f="{h_sigmoid}({a})"),
    "softplus": _kinds(f="{h_softplus}({a})"),
    # The reference evaluates erf in double precision whatever the dtype, then rounds.
    "erf": _kinds(f="({T}){d_erf}((double){a})"),
    "erfc": _kinds(f="({T}){d_erfc}((double){a})"),
    # The special functions of csrc/exprc_special.h work in double whatever the dtype.
    **{name: _kinds(f=f"({{T}})exprc_{name}((double){{a}})")
       for name in ("gamma", "gammaln", "psi", "tri_gamma", "erfinv", "erfcinv")},
    # NumPy multiplies by the constant rounded to the dtype: pi/180 computed in T.
    "deg2rad": _kinds(f=f"{{a}} * (({{T}}){_PI} / ({{T}})180)"),
    "rad2deg": _kinds(f=f"{{a}} * (({{T}})180 / ({{T}}){_PI})"),
    "floor": _libm("floor"), "ceil": _libm("ceil"), "trunc": _libm("trunc"),
    # rint rounds half to even in the default rounding mode; round() rounds half away.
    "round_half_to_even": _libm("rint"), "round_half_away_from_zero": _libm("round"),
    **{name: _kinds(f=f"{{a}} {op} {{b}}", ints=f"{{a}} {op} {{b}}", b=f"{{a}} {op} {{b}}")
       for name, op in [("eq", "=="), ("neq", "!="), ("lt", "<"), ("gt", ">"), ("le", "<="),
                        ("ge", ">=")]},
    "isnan": _kinds(f="isnan({a})", ints="0", b="0"),
    "isinf": _kinds(f="isinf({a})", ints="0", b="0"),
    "and_": _kinds(ints="({T})({a} & {b})", b="{a} & {b}"),
    "or_": _kinds(ints="({T})({a} | {b})", b="{a} | {b}"),
    "xor": _kinds(ints="({T})({a} ^ {b})", b="{a} ^ {b}"),
    "invert": _kinds(ints="({T})~{a}", b="!{a}"),
    # The condition keeps its own dtype: any non-zero value (NaN included) selects b.
    "switch": _kinds(f="({a} ? {b} : {c})", ints="({a} ? {b} : {c})", b="({a} ? {b} : {c})"),
    "clip": _kinds(f="{h_clip}({a}, {b}, {c})",
                   ints="({a} > {b} ? ({a} < {c} ? {a} : {c}) : ({b} < {c} ? {b} : {c}))",
                   b="(({a} | {b}) & {c})"),
    "second": _kinds(f="{b}", ints="{b}", b="{b}"),
    "cast": _kinds(f="({T}){a}", ints="({T}){a}", b="({T}){a}"),
}

# Float to integer conversion is undefined in C for NaN and for values whose truncation does
# not fit, and NumPy's result there depends on the machine (for uint32, even on the array's
# length). One rule, NumPy's on x86-64 wherever that does not vary: truncate toward zero into
# int32 (targets int8, int16, uint8, uint16, int32) or int64 (uint32, int64), a NaN or a value
# outside that wide type giving its minimum, then wrap modulo 2**bits; uint64 takes values in
# [2**63, 2**64) exactly and larger ones (+inf too) as 0. The reference applies the same rule
# (exprc.link.reference.elemwise.float_to_int). In range, a helper is one compare pair and
# the plain conversion.
_FLOAT_TO_INT = {
    "int8": "(({T}){h_float_to_int32}({a}))", "int16": "(({T}){h_float_to_int32}({a}))",
    "int32": "{h_float_to_int32}({a})", "int64": "{h_float_to_int64}({a})",
    "uint8": "(({T}){h_float_to_int32}({a}))", "uint16": "(({T}){h_float_to_int32}({a}))",
    "uint32": "(({T}){h_float_to_int64}({a}))", "uint64": "{h_float_to_uint64}({a})",
    "bool": "({a} != 0)",
}
_CAST_HELPERS = {
    "float_to_int32": _kinds(f="""{q} int32_t {name}({T} x)
{{
    /* NaN fails both comparisons; at or below -2**31 the result is INT32_MIN either way. */
    return x > -({T})0x1p31 && x < ({T})0x1p31 ? (int32_t)x : INT32_MIN;
}}"""),
    "float_to_int64": _kinds(f="""{q} int64_t {name}({T} x)
{{
    /* NaN fails both comparisons; at or below -2**63 the result is INT64_MIN either way. */
    return x > -({T})0x1p63 && x < ({T})0x1p63 ? (int64_t)x : INT64_MIN;
}}"""),
    "float_to_uint64": _kinds(f="""{q} uint64_t {name}({T} x)
{{
    if (x >= ({T})0x1p63) return x < ({T})0x1p64 ? (uint64_t)x : 0;
    return (uint64_t){h_float_to_int64}(x);
}}"""),
}

_COMPARISONS = {"eq": "==", "neq": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
# What a comparison gives when its signed operand is negative and the other is a uint64,
# with the signed operand on the left (True) or on the right (False).
_NEGATIVE_SIDE = {"eq": (0, 0), "neq": (1, 1), "lt": (1, 0), "gt": (0, 1), "le": (1, 0),
                  "ge": (0, 1)}

# --------------------------------------------------------------------------- helpers
#: Helper functions, defined once per dtype in a source that uses them. ``{q}`` is the
#: dialect's helper qualifier and ``{name}`` the helper's name for this dtype.
HELPERS: dict[str, dict[str, str]] = {
    **_CAST_HELPERS,
    "floordiv": _kinds(
        f="""{q} {T} {name}({T} a, {T} b)
{{
    /* NumPy's npy_floor_divide: a division by zero gives inf or nan. */
    if (b == 0) return a / b;
    {T} mod = {m_fmod}(a, b);
    {T} div = (a - mod) / b;
    if (mod != 0) {{
        if ((b < 0) != (mod < 0)) div -= 1;
    }}
    if (div != 0) {{
        {T} floordiv = {m_floor}(div);
        return div - floordiv > ({T})0.5 ? floordiv + 1 : floordiv;
    }}
    return {m_copysign}(({T})0, a / b);
}}""",
        i="""{q} {T} {name}({T} a, {T} b)
{{
    /* Rounds toward minus infinity; x // 0 is 0 and MIN // -1 wraps, as in NumPy. */
    if (b == 0) return 0;
    if (b == -1) return ({T})(({W})0 - ({W})a);
    {T} q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}}"""),
    "mod": _kinds(
        f="""{q} {T} {name}({T} a, {T} b)
{{
    /* NumPy's npy_remainder: the result has the sign of b. */
    {T} mod = {m_fmod}(a, b);
    if (b == 0) return mod;
    if (mod != 0) {{
        if ((b < 0) != (mod < 0)) mod += b;
        return mod;
    }}
    return {m_copysign}(({T})0, b);
}}""",
        i="""{q} {T} {name}({T} a, {T} b)
{{
    /* The result has the sign of b; x % 0 is 0 and MIN % -1 is 0, as in NumPy. */
    if (b == 0 || b == -1) return 0;
    {T} r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}}"""),
    "ipow": _kinds(ints="""{q} {T} {name}({T} a, {T} b)
{{
    /* Exponentiation by squaring, wrapping like NumPy. NumPy refuses negative exponents;
     * here they give the integer part of 1 / a**-b. */
    if (b < 0) {{
        if (a == 1) return 1;
        if (a == -1) return (b & 1) ? a : 1;
        return 0;
    }}
    {W} result = 1, base = ({W})a;
    for (uint64_t e = (uint64_t)b; e != 0; e >>= 1) {{
        if (e & 1) result *= base;
        base *= base;
    }}
    return ({T})result;
}}"""),
    "sigmoid": _kinds(f="""{q} {T} {name}({T} x)
{{
    /* exp of a non-positive argument never overflows; pick the form accordingly. */
    {T} e = {m_exp}(-{m_fabs}(x));
    return x >= 0 ? ({T})1 / (({T})1 + e) : e / (({T})1 + e);
}}"""),
    "softplus": _kinds(f="""{q} {T} {name}({T} x)
{{
    /* NumPy's logaddexp(0, x) = max(x, 0) + log1p(e^-|x|): exp of a non-positive argument
     * never overflows, and without branches the loop vectorizes. NaN stays NaN. */
    {T} m = x > 0 ? x : ({T})0;
    return m + {m_log1p}({m_exp}(-{m_fabs}(x)));
}}"""),
    "maximum": _kinds(f="""{q} {T} {name}({T} a, {T} b)
{{
    /* NaN in either operand wins, as in NumPy's maximum. */
    {T} m = a > b ? a : b;
    return isnan(a) ? a : m;
}}"""),
    "minimum": _kinds(f="""{q} {T} {name}({T} a, {T} b)
{{
    {T} m = a < b ? a : b;
    return isnan(a) ? a : m;
}}"""),
    "clip": _kinds(f="""{q} {T} {name}({T} x, {T} lo, {T} hi)
{{
    /* minimum(maximum(x, lo), hi), each propagating NaN as NumPy's clip does. */
    {T} v = x > lo ? x : lo;
    v = isnan(x) ? x : v;
    {T} r = v < hi ? v : hi;
    return isnan(v) ? v : r;
}}"""),
}


class _Fields(dict):
    """The fields of one template: operands and types given, math and helper names resolved
    on first use (which is also how a helper gets requested)."""

    def __init__(self, renderer: Renderer, dtype: str, values: dict):
        super().__init__(values)
        self.renderer = renderer
        self.dtype = dtype

    def __missing__(self, key: str) -> str:
        prefix, _, function = key.partition("_")
        if prefix == "m":
            return self.renderer.dialect.math_name(function, self.dtype)
        if prefix == "d":
            return self.renderer.dialect.math_name(function, "float64")
        if prefix == "h":
            return self.renderer.helper(function, self.dtype)
        raise KeyError(key)


def wide_unsigned(dtype: str) -> str:
    """The unsigned C type in which integer arithmetic of ``dtype`` wraps safely."""
    return "uint64_t" if dtype in ("int64", "uint64") else "uint32_t"


class Renderer:
    """Renders scalar ops for one source, collecting the helper functions they use.

    Parameters
    ----------
    dialect : Dialect
        :data:`C` or :data:`CUDA`.

    Examples
    --------
    >>> from exprc.tensor.scalar import SCALAR_OPS
    >>> r = Renderer(CUDA)
    >>> r.expression(SCALAR_OPS["exp"], ["x"], ["float32"], "float32")
    'expf(x)'
    >>> r.expression(SCALAR_OPS["add"], ["i", "x"], ["int32", "float64"], "float64")
    '((double)i) + x'
    """

    def __init__(self, dialect: Dialect):
        self.dialect = dialect
        self._helpers: dict[str, str] = {}

    def expression(self, sop: ScalarOp, args: Sequence[str], arg_dtypes: Sequence[str],
                   out_dtype: str) -> str:
        """The C expression of ``sop`` applied to the C expressions ``args``.

        Parameters
        ----------
        sop : ScalarOp
        args : sequence of str
            Operands: identifiers or literals (each may appear several times).
        arg_dtypes : sequence of str
            Their dtypes.
        out_dtype : str
            The dtype of the result (``sop.output_dtype(arg_dtypes)``).

        Returns
        -------
        str

        Raises
        ------
        ExprcTypeError
            When ``sop`` has no C rendering for these dtypes (e.g. a bitwise op on floats).
        """
        if sop.name in _COMPARISONS:
            mixed = _mixed_sign_comparison(sop.name, args, arg_dtypes)
            if mixed is not None:
                return mixed
        working = operand_dtypes(sop, arg_dtypes, out_dtype)
        operands = [self.convert(a, d, w) for a, d, w in zip(args, arg_dtypes, working)]
        value_dtype = working[1] if sop.rule == "switch" else working[0]
        if sop.rule == "cast" and np.dtype(arg_dtypes[0]).kind == "f":
            template = _FLOAT_TO_INT.get(out_dtype, SCALAR_C["cast"]["f"])
        else:
            template = SCALAR_C[sop.name].get(np.dtype(value_dtype).kind)
        if template is None:
            raise ExprcTypeError(f"{sop} has no C rendering for inputs of dtypes "
                                 f"{list(arg_dtypes)}")
        values = dict(zip("abc", operands), T=self.dialect.ctype(out_dtype),
                      W=wide_unsigned(out_dtype))
        return template.format_map(_Fields(self, value_dtype, values))

    def convert(self, expr: str, dtype: str, to: str) -> str:
        """``expr`` of ``dtype`` converted to ``to`` (as NumPy's ``astype``)."""
        return expr if dtype == to else f"(({self.dialect.ctype(to)}){expr})"

    def helper(self, name: str, dtype: str) -> str:
        """The name of helper ``name`` for ``dtype``; its definition joins the source."""
        function = typed_name(f"exprc_{name}", dtype)
        if function not in self._helpers:
            template = HELPERS[name].get(np.dtype(dtype).kind)
            if template is None:
                raise ExprcTypeError(f"no C helper {name} for dtype {dtype}")
            values = {"q": self.dialect.helper_qualifier, "T": self.dialect.ctype(dtype),
                      "W": wide_unsigned(dtype), "name": function}
            self._helpers[function] = template.format_map(_Fields(self, dtype, values))
        return function

    def helper_definitions(self) -> str:
        """The definitions of every helper used so far, in order of first use."""
        return "\n\n".join(self._helpers.values())

    def literal(self, value: np.ndarray) -> str:
        """A C literal of the 0-d array ``value``, exact in its dtype."""
        dtype = value.dtype.name
        ctype = self.dialect.ctype(dtype)
        item = value.item()
        if dtype == "bool":
            return f"(({ctype}){int(item)})"
        if np.dtype(dtype).kind == "f":
            if math.isnan(item):
                return f"(({ctype})NAN)"
            if math.isinf(item):
                return f"(({ctype}){'-' if item < 0 else ''}INFINITY)"
            return f"(({ctype}){float(item).hex()})"
        if dtype == "int64" and item == np.iinfo("int64").min:
            return "((int64_t)(-9223372036854775807LL - 1))"
        suffix = "ULL" if dtype.startswith("u") else "LL"
        return f"(({ctype}){int(item)}{suffix})"


def operand_dtypes(sop: ScalarOp, arg_dtypes: Sequence[str], out_dtype: str) -> list[str]:
    """The dtype each operand is converted to before ``sop`` is computed (as the reference
    casts its inputs)."""
    if sop.rule in ("same", "float", "div", "bitwise", "cast"):
        return [out_dtype] * len(arg_dtypes) if sop.rule != "cast" else [arg_dtypes[0]]
    if sop.rule == "switch":
        return [arg_dtypes[0], out_dtype, out_dtype]
    if sop.name in _COMPARISONS:
        return [np.result_type(*arg_dtypes).name] * 2
    return list(arg_dtypes)


def _mixed_sign_comparison(name: str, args: Sequence[str],
                           arg_dtypes: Sequence[str]) -> str | None:
    """A signed integer compared exactly with a uint64 (NumPy does not go through float64
    there), or None for any other pair of dtypes."""
    kinds = [np.dtype(d).kind for d in arg_dtypes]
    if sorted(kinds) != ["i", "u"] or np.result_type(*arg_dtypes).kind != "f":
        return None
    signed_left = kinds[0] == "i"
    signed = args[0] if signed_left else args[1]
    a = f"(uint64_t){args[0]}" if signed_left else args[0]
    b = args[1] if signed_left else f"(uint64_t){args[1]}"
    negative = _NEGATIVE_SIDE[name][0 if signed_left else 1]
    return f"({signed} < 0 ? {negative} : {a} {_COMPARISONS[name]} {b})"
