"""``In`` and ``Out``: per-input and per-output options of ``function``."""

from __future__ import annotations

from typing import Any

from exprc.errors import ExprcTypeError
from exprc.graph.ir import Constant, Variable


class In:
    """An input of a compiled function, with options.

    Parameters
    ----------
    variable : Variable
        The symbolic input.
    name : str, optional
        Keyword under which the input may be passed (defaults to ``variable.name``).
    value : array-like, optional
        Default used when the caller does not pass this input.
    update : Variable, optional
        With ``value``: after each call, the stored default becomes this expression's value
        (an internal state of the function, read and written as ``f[name]``).
    mutable : bool
        The function may overwrite the array passed for this input.
    borrow : bool
        Use the default ``value`` itself rather than a copy.
    allow_downcast : bool, optional
        Cast a passed value to the input's dtype even if precision is lost.

    Attributes
    ----------
    implicit, shared : bool
        False for an input of ``function``; true for the descriptions of a function's shared
        variables in ``f.maker.inputs``, which the caller never passes.
    """

    implicit = False
    shared = False

    def __init__(self, variable: Variable, name: str | None = None, value: Any = None,
                 update: Variable | None = None, mutable: bool = False, borrow: bool = False,
                 allow_downcast: bool | None = None):
        if not isinstance(variable, Variable):
            raise ExprcTypeError(f"In() needs a symbolic variable, got {type(variable).__name__}")
        if isinstance(variable, Constant):
            raise ExprcTypeError(f"function inputs must be variables, but {variable} is a "
                                 "constant")
        # An input computed by the graph cuts it there (see function()).
        if update is not None and value is None:
            raise ExprcTypeError(f"In({variable}, update=...) needs an initial value=")
        self.variable = variable
        self.name = name if name is not None else variable.name
        self.value = value
        self.update = update
        self.mutable = mutable
        self.borrow = borrow
        self.allow_downcast = allow_downcast


class Out:
    """An output of a compiled function.

    Parameters
    ----------
    variable : Variable
        The symbolic output.
    borrow : bool
        Allow the result to be internal storage of the function (an input or shared value it
        equals, say), which a later call may overwrite.
    return_internal_type : bool
        Accepted for Theano's signature. Theano then returned a value in the type's internal
        representation (a GPU array on a GPU); exprc's internal representation of a tensor
        is the NumPy array it returns anyway, so results are the same either way.
    """

    def __init__(self, variable: Variable, borrow: bool = False,
                 return_internal_type: bool = False):
        self.variable = variable
        self.borrow = borrow
        self.return_internal_type = bool(return_internal_type)
