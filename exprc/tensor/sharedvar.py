"""Shared variables: symbolic variables with a value that persists between function calls."""

from __future__ import annotations

import abc
import sys
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
    cell (see :class:`exprc.compile.function.Function`). A function running on a GPU keeps a
    copy of the value in device memory here (:meth:`device_value`) and stores its new values
    there (:meth:`store`); reading :attr:`value` brings such a value back.

    Parameters
    ----------
    value : ndarray
        The first value, already of ``type``.
    type : TensorType
    what : str
        How errors name the cell (``"value of shared variable 'W'"``).
    """

    __slots__ = ("_value", "_device", "type", "what", "lock")

    def __init__(self, value: np.ndarray, type: TensorType, what: str = "stored value"):
        self.type = type
        self.what = what
        self.lock = threading.RLock()
        self._device = None
        self.value = value

    @property
    def value(self) -> np.ndarray:
        value = self._value
        if value is None:
            # The current value lives only in device memory (a GPU function updated it):
            # bring it back, and keep both copies until either changes.
            value = self._value = self._device.to_host()
        return value

    @value.setter
    def value(self, array: np.ndarray) -> None:
        expected = self.type
        if not isinstance(expected, TensorType):
            # A value of another type (a scipy.sparse matrix) is checked by its type, exactly.
            self._value = expected.filter(array, strict=True, what=self.what)
            self._device = None
            return
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
        self._device = None

    @property
    def shape(self) -> tuple[int, ...]:
        """The current value's shape, without copying it from the device."""
        return self._device.shape if self._value is None else np.shape(self._value)

    def store(self, array) -> None:
        """Set a value computed by a function compiled for this type (already checked): a
        NumPy array, or an array in device memory (anything with ``to_host()``, such as a
        :class:`~exprc.link.cuda.device.DeviceArray`), which stays there until read."""
        if isinstance(array, np.ndarray) or not hasattr(array, "to_host"):
            self._value, self._device = array, None
        else:
            self._value, self._device = None, array

    def device_value(self, device, upload):
        """The value as an array on ``device``: the one a GPU function stored, or
        ``upload(host_value)``, kept for the next call (GPU functions read shared variables
        without copying them each call)."""
        mirror = self._device
        if mirror is None or mirror.device is not device:
            mirror = self._device = upload(self.value)
        return mirror

    def __getstate__(self) -> tuple:
        # A lock belongs to the threads of one process: a loaded cell gets a fresh one. A value
        # in device memory is saved as a NumPy array, so that it loads on any machine.
        return (self.value, self.type, self.what)

    def __setstate__(self, state: tuple) -> None:
        self._value, self.type, self.what = state
        self._device = None
        self.lock = threading.RLock()


class SharedValue:
    """What every shared variable has, whatever its type: a value in a :class:`Container`
    (checked against the type whenever it is set), ``default_update``, ``get_value`` and
    ``set_value``. Mixed into :class:`SharedVariable` (tensors) and
    :class:`~exprc.tensor.sparse_type.SparseSharedVariable`."""

    def __init__(self, type: Any, value: Any, name: str | None = None,
                 allow_downcast: bool | None = None, borrow: bool = False):
        super().__init__(type, name=name)
        self.allow_downcast = allow_downcast
        self.default_update = None
        self.container = Container(self._filter(value, borrow), type,
                                   f"value of shared variable {self.name or self.auto_name!r}")

    def _filter(self, value: Any, borrow: bool) -> Any:
        what = f"value of shared variable {self.name or self.auto_name!r}"
        checked = self.type.filter(value, allow_downcast=self.allow_downcast, what=what)
        if checked is value and not borrow:
            checked = checked.copy()
        return checked

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        """The current value: a copy, or with ``borrow=True`` the stored value itself.

        A value that a GPU function left in device memory comes back as a NumPy array;
        ``borrow=True, return_internal_type=True`` gives the device array itself.
        """
        device_value = getattr(self.container, "_device", None)
        if borrow and return_internal_type and device_value is not None:
            return device_value
        value = self.container.value
        return value if borrow else value.copy()

    def set_value(self, value: Any, borrow: bool = False) -> None:
        """Replace the value after checking it against the type; copied unless
        ``borrow=True``."""
        self.container.value = self._filter(value, borrow)

    def clone(self) -> Any:
        cp = super().clone()
        cp.container = self.container
        return cp


class SharedVariable(SharedValue, TensorVariable, metaclass=abc.ABCMeta):
    """A tensor variable whose value lives outside any function and is shared by all of them.

    Functions read its current value when called and, if given an update for it, write the
    new value after the call. ``default_update``, when set, is the update used by every
    function that does not give one explicitly (random streams rely on it).

    Shared variables of other types (sparse matrices,
    :class:`~exprc.tensor.sparse_type.SparseSharedVariable`) are registered as virtual
    subclasses: they have the same ``container``, ``default_update``, ``get_value`` and
    ``set_value`` (from :class:`SharedValue`) without being tensor variables.
    """


def is_sparse_value(value: Any) -> bool:
    """Whether ``value`` is a ``scipy.sparse`` matrix (without importing SciPy: a value cannot
    be one unless SciPy is imported already)."""
    module = sys.modules.get("scipy.sparse")
    return module is not None and module.issparse(value)


def shared(value: Any, name: str | None = None, strict: bool = False,
           allow_downcast: bool | None = None, borrow: bool = False,
           shape: Sequence[int | None] | None = None,
           broadcastable: Sequence[bool] | None = None) -> SharedVariable:
    """Create a shared variable holding ``value``.

    Parameters
    ----------
    value : array-like or scipy.sparse matrix
        The initial value; its dtype and rank fix the variable's type. A ``scipy.sparse``
        matrix gives a sparse shared variable (of its format, csr or csc).
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
    if is_sparse_value(value):  # a scipy.sparse matrix: a sparse shared variable
        if shape is not None or broadcastable is not None:
            raise ExprcTypeError("shared(): a sparse matrix takes no shape or broadcastable")
        from exprc.tensor.sparse_type import sparse_shared  # built on this module

        return sparse_shared(value, name=name, strict=strict, allow_downcast=allow_downcast,
                             borrow=borrow)
    if strict and not isinstance(value, np.ndarray):
        raise ExprcTypeError(f"shared(strict=True) needs an ndarray, got {type(value).__name__}")
    array = np.asarray(value)
    if shape is None and broadcastable is None:
        shape = (None,) * array.ndim
    var_type = TensorType(array.dtype, broadcastable=broadcastable,
                          shape=shape if broadcastable is None else None)
    return SharedVariable(var_type, value, name=name, allow_downcast=allow_downcast,
                          borrow=borrow)
