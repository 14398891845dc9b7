"""Shared variables: symbolic variables with a value that persists between function calls."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from exprc.errors import ExprcTypeError
from exprc.tensor.type import TensorType
from exprc.tensor.variable import TensorVariable


class Container:
    """The storage cell of a shared variable; clones of the variable share it."""

    __slots__ = ("value",)

    def __init__(self, value: np.ndarray):
        self.value = value


class SharedVariable(TensorVariable):
    """A tensor variable whose value lives outside any function and is shared by all of them.

    Functions read its current value when called and, if given an update for it, write the
    new value after the call. ``default_update``, when set, is the update used by every
    function that does not give one explicitly (random streams rely on it).
    """

    def __init__(self, type: TensorType, value: Any, name: str | None = None,
                 allow_downcast: bool | None = None, borrow: bool = False):
        super().__init__(type, name=name)
        self.allow_downcast = allow_downcast
        self.default_update = None
        self.container = Container(self._filter(value, borrow))

    def _filter(self, value: Any, borrow: bool) -> np.ndarray:
        what = f"value of shared variable {self.name or self.auto_name!r}"
        array = self.type.filter(value, allow_downcast=self.allow_downcast, what=what)
        if array is value and not borrow:
            array = array.copy()
        return array

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> np.ndarray:
        """The current value: a copy, or with ``borrow=True`` the stored array itself."""
        value = self.container.value
        return value if borrow else value.copy()

    def set_value(self, value: Any, borrow: bool = False) -> None:
        """Replace the value after checking dtype and rank; copied unless ``borrow=True``."""
        self.container.value = self._filter(value, borrow)

    def clone(self) -> "SharedVariable":
        cp = super().clone()
        cp.container = self.container
        return cp


def shared(value: Any, name: str | None = None, strict: bool = False,
           allow_downcast: bool | None = None, borrow: bool = False,
           shape: Sequence[int | None] | None = None,
           broadcastable: Sequence[bool] | None = None) -> SharedVariable:
    """Create a shared variable holding ``value``.

    Parameters
    ----------
    value : array-like
        The initial value; its dtype and rank fix the variable's type.
    name : str, optional
    strict : bool
        Require ``value`` to be an ndarray already (no conversion).
    allow_downcast : bool, optional
        Let ``set_value`` cast values that lose precision.
    borrow : bool
        Store ``value`` itself rather than a copy (later in-place changes are then visible).
    shape, broadcastable : optional
        Static shape; by default every dimension is of unknown size so that ``set_value`` may
        change it.

    Examples
    --------
    >>> import numpy as np, exprc
    >>> W = exprc.shared(np.zeros((2, 3)), name='W')
    >>> W.type
    TensorType(float64, (?, ?))
    """
    if strict and not isinstance(value, np.ndarray):
        raise ExprcTypeError(f"shared(strict=True) needs an ndarray, got {type(value).__name__}")
    array = np.asarray(value)
    if shape is None and broadcastable is None:
        shape = (None,) * array.ndim
    var_type = TensorType(array.dtype, broadcastable=broadcastable,
                          shape=shape if broadcastable is None else None)
    return SharedVariable(var_type, value, name=name, allow_downcast=allow_downcast,
                          borrow=borrow)
