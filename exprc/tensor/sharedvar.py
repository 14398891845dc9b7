"""Shared variables: symbolic variables with a value that persists between function calls."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from exprc.errors import ExprcTypeError
from exprc.tensor.type import TensorType
from exprc.tensor.variable import TensorVariable


class Container:
    """The storage cell of a shared variable (or of a function's stored input); clones of the
    variable share it.

    Assigning :attr:`value` checks the array against the cell's type (an ndarray of exactly its
    dtype and rank, and its static sizes), because compiled functions read the stored buffer
    as that type without looking again. :attr:`lock` serialises the functions that update the
    cell (see :class:`exprc.compile.function.Function`).

    Parameters
    ----------
    value : ndarray
        The first value, already of ``type``.
    type : TensorType
    what : str
        How errors name the cell (``"value of shared variable 'W'"``).
    """

    __slots__ = ("_value", "type", "what", "lock")

    def __init__(self, value: np.ndarray, type: TensorType, what: str = "stored value"):
        self.type = type
        self.what = what
        self.lock = threading.RLock()
        self.value = value

    @property
    def value(self) -> np.ndarray:
        return self._value

    @value.setter
    def value(self, array: np.ndarray) -> None:
        expected = self.type
        if not isinstance(array, np.ndarray) or array.dtype != expected.dtype \
                or array.ndim != expected.ndim:
            described = (f"an ndarray of dtype {array.dtype} and rank {array.ndim}"
                         if isinstance(array, np.ndarray) else type(array).__name__)
            raise ExprcTypeError(f"{self.what} must be an ndarray of dtype {expected.dtype} and "
                                 f"rank {expected.ndim}, got {described}; use set_value() to "
                                 "convert")
        if any(s is not None and s != n for s, n in zip(expected.shape, array.shape)):
            raise ExprcTypeError(f"{self.what} must have shape {expected.shape}, got "
                                 f"{array.shape}")
        self._value = array

    def store(self, array: np.ndarray) -> None:
        """Set a value computed by a function compiled for this type (already checked)."""
        self._value = array


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
        self.container = Container(self._filter(value, borrow), type,
                                   f"value of shared variable {self.name or self.auto_name!r}")

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

    def clone(self) -> SharedVariable:
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
