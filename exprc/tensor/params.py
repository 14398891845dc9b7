"""Op parameters as plain built-in values.

An op's parameters define it (``__props__`` give its equality, hash and printed form), and
backends write some of them into generated code as numbers. Every op class of
:mod:`exprc.tensor` passes its parameters through these functions in ``__init__``, so an op
holds only ``int``, ``float``, ``bool``, ``None``, ``str`` taken from a fixed list of names,
dtype names and tuples of those: never an object whose own ``__str__``, ``__format__``,
``__eq__`` or ``__hash__`` could change how the op prints, compares, or what a backend writes
for it.

A bool where an integer is expected is refused: Python counts ``True`` as the int 1, but as an
axis or an index it is almost always a mistake (NumPy reads a bool index as a mask).

>>> import numpy as np
>>> int_param("Sort", "axis", np.int64(-1))
-1
>>> int_param("Sort", "axis", True)
Traceback (most recent call last):
...
exprc.errors.ExprcTypeError: Sort: axis must be an int, got bool True...
"""

from __future__ import annotations

import numbers
import operator
import reprlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from exprc.errors import ExprcTypeError, build_error
from exprc.tensor.type import canonical_dtype

__all__ = ["INT64_MAX", "INT64_MIN", "choice_param", "dtype_param", "float_param",
           "int_param", "int_tuple"]

INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 60


def _describe(value: Any) -> str:
    """``type value`` for an error message, shortened (reprlib also survives a failing
    ``__repr__``)."""
    return f"{type(value).__name__} {_SHOWN.repr(value)}"


def int_param(owner: str, name: str, value: Any, *, optional: bool = False,
              clamp: bool = False) -> int | None:
    """``value`` as a plain ``int`` in the int64 range.

    Parameters
    ----------
    owner, name : str
        The op (or function) and the parameter, named by the error.
    value : int-like
        A Python or NumPy integer, or any object with ``__index__``; not a bool.
    optional : bool
        Whether None is allowed (and returned as it is).
    clamp : bool
        Bring a value outside the int64 range to its nearest end instead of refusing it (for
        slice bounds, where every bound past the ends of an axis means the same).

    Raises
    ------
    ExprcTypeError
        For a bool, a non-integer, or (without ``clamp``) an integer outside the int64 range.
    """
    if value is None and optional:
        return None
    if isinstance(value, (bool, np.bool_)):
        raise build_error(ExprcTypeError, owner, f"{name} must be an int, got {_describe(value)}")
    try:
        # operator.index gives an exact int for any integer type (an int subclass included);
        # int.__index__ makes sure of it without calling anything the value defines.
        number = int.__index__(operator.index(value))
    except TypeError:
        raise build_error(ExprcTypeError, owner,
                          f"{name} must be an int, got {_describe(value)}") from None
    if not INT64_MIN <= number <= INT64_MAX:
        if clamp:
            return min(max(number, INT64_MIN), INT64_MAX)
        raise build_error(ExprcTypeError, owner,
                          f"{name} must be an int within the int64 range, got {number}")
    return number


def int_tuple(owner: str, name: str, values: Iterable[Any], *,
              optional: bool = False) -> tuple:
    """Each of ``values`` through :func:`int_param`, as a tuple."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise build_error(ExprcTypeError, owner,
                          f"{name} must be a sequence of ints, got {_describe(values)}")
    return tuple(int_param(owner, f"{name} entry", v, optional=optional) for v in values)


def float_param(owner: str, name: str, value: Any, *, optional: bool = False) -> float | None:
    """``value`` (a real number, not a bool) as a plain ``float``."""
    if value is None and optional:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise build_error(ExprcTypeError, owner,
                          f"{name} must be a real number, got {_describe(value)}")
    # float.__float__ reads the number itself, whatever a float subclass defines.
    number = value if isinstance(value, float) else float(value)
    return float.__float__(number)


def choice_param(owner: str, name: str, value: Any, options: Sequence[str]) -> str:
    """The entry of ``options`` equal to the string ``value`` (compared as plain text)."""
    plain = str.__str__(value) if isinstance(value, str) else None
    if plain is None or plain not in options:
        raise build_error(ExprcTypeError, owner, f"{name} must be one of "
                          f"{', '.join(map(repr, options))}; got {_describe(value)}")
    return options[list(options).index(plain)]


def dtype_param(owner: str, name: str, value: Any, options: Sequence[str] | None = None) -> str:
    """``value`` as a supported dtype name (``'floatX'`` and None read the configuration),
    restricted to ``options`` when given."""
    try:
        dtype = canonical_dtype(value)
    except ExprcTypeError as exc:
        raise build_error(ExprcTypeError, owner, f"{name}: {exc}") from None
    if options is not None and dtype not in options:
        raise build_error(ExprcTypeError, owner, f"{name} must be one of "
                          f"{', '.join(options)}; got {dtype}")
    return dtype
