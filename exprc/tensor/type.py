"""``TensorType``: dtype plus rank plus what is statically known of the shape.

A dimension's static size is an ``int`` when known and ``None`` otherwise. Unlike Theano, a
dimension whose size is unknown still broadcasts at run time when it turns out to be 1, as in
NumPy; a static 1 only lets the graph builder know it in advance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from exprc.configuration import config
from exprc.errors import ExprcShapeError, ExprcTypeError
from exprc.graph.ir import Type

#: The dtypes a tensor may have. float16 and complex dtypes are not supported.
SUPPORTED_DTYPES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64",
)
INTEGER_DTYPES = tuple(d for d in SUPPORTED_DTYPES if d.startswith(("int", "uint")))
FLOAT_DTYPES = ("float32", "float64")
DISCRETE_DTYPES = ("bool",) + INTEGER_DTYPES


def canonical_dtype(dtype: Any) -> str:
    """Normalise ``dtype`` ('floatX', np.float32, 'f4', ...) to a supported dtype name."""
    if dtype is None or dtype == "floatX":
        return config.floatX
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise ExprcTypeError(f"{dtype!r} is not a dtype") from None
    if name not in SUPPORTED_DTYPES:
        raise ExprcTypeError(
            f"dtype {name} is not supported by exprc; supported: {', '.join(SUPPORTED_DTYPES)}")
    return name


class TensorType(Type):
    """The type of an n-dimensional array variable.

    Parameters
    ----------
    dtype : str or numpy dtype
        Element type; ``'floatX'`` or None means ``exprc.config.floatX``.
    broadcastable : sequence of bool, optional
        Theano's spelling of the static shape: True means the dimension has size 1.
    shape : sequence of int or None, optional
        Static size of each dimension, None where unknown. Give this or ``broadcastable``.

    Examples
    --------
    >>> TensorType('float32', shape=(None, 10))
    TensorType(float32, (?, 10))
    >>> TensorType('int64', (False, True)).shape
    (None, 1)
    """

    def __init__(self, dtype: Any, broadcastable: Sequence[bool] | None = None,
                 shape: Sequence[int | None] | None = None):
        self.dtype = canonical_dtype(dtype)
        if broadcastable is not None and shape is not None:
            raise ExprcTypeError("give TensorType either broadcastable or shape, not both")
        if broadcastable is not None:
            shape = tuple(1 if b else None for b in broadcastable)
        if shape is None:
            raise ExprcTypeError("TensorType needs broadcastable or shape to know its rank")
        self.shape = tuple(_static_dim(s) for s in shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return tuple(s == 1 for s in self.shape)

    def clone(self, dtype: Any = None, shape: Sequence[int | None] | None = None) -> TensorType:
        return TensorType(dtype or self.dtype, shape=self.shape if shape is None else shape)

    def filter(self, value: Any, strict: bool = False, allow_downcast: bool | None = None,
               what: str = "value") -> np.ndarray:
        """Check ``value`` against this type and return it as an ndarray of this dtype.

        Parameters
        ----------
        strict : bool
            Require an ndarray of exactly this dtype.
        allow_downcast : bool or None
            True: cast to this dtype even when precision is lost. None: lossy casts are allowed
            only for Python floats into ``floatX``. False: only lossless casts.
        what : str
            How to name the value in error messages (e.g. ``"input 'x' (argument 0)"``).
        """
        if strict and not (isinstance(value, np.ndarray) and value.dtype.name == self.dtype):
            raise ExprcTypeError(f"{what} must be an ndarray of dtype {self.dtype} "
                                 f"(strict), got {_describe(value)}")
        array = _as_array(value, what)
        if array.dtype.name != self.dtype:
            array = self._cast(value, array, allow_downcast, what)
        if array.ndim != self.ndim:
            raise ExprcTypeError(
                f"{what} must have {self.ndim} dimension(s) for {self}, got an array of "
                f"shape {array.shape} ({array.ndim} dimension(s))")
        for axis, (want, got) in enumerate(zip(self.shape, array.shape)):
            if want is not None and want != got:
                raise ExprcShapeError(
                    f"{what} must have size {want} on axis {axis} for {self}, got an array of "
                    f"shape {array.shape}")
        return array

    def _cast(self, value: Any, array: np.ndarray, allow_downcast: bool | None,
              what: str) -> np.ndarray:
        target = np.dtype(self.dtype)
        from_python = not isinstance(value, (np.ndarray, np.generic))
        python_float = from_python and array.dtype.kind == "f"
        lossless = np.can_cast(array.dtype, target, "safe") or (
            # Python ints (and lists of them) fit any integer dtype that holds their values.
            from_python and array.dtype.kind in "iub" and target.kind in "iu"
            and np.array_equal(array.astype(target), array))
        if lossless or allow_downcast or (
                allow_downcast is None and python_float and self.dtype == config.floatX):
            if array.dtype.kind == "f" and target.kind in "iub" and not allow_downcast:
                raise ExprcTypeError(f"{what} has float dtype {array.dtype}; {self} needs "
                                     f"{self.dtype}")
            return array.astype(target)
        raise ExprcTypeError(
            f"{what} has dtype {array.dtype.name} but {self} needs {self.dtype}; converting "
            f"would lose precision. Cast it first (x.astype('{self.dtype}')) or compile with "
            f"allow_input_downcast=True")

    def value_signature(self, data: np.ndarray) -> tuple:
        """A hashable digest of ``data`` for comparing constants."""
        if data.size <= 16:
            return (data.shape, data.tobytes())
        return (data.shape, hashlib.sha1(np.ascontiguousarray(data).tobytes()).hexdigest())

    def value_str(self, data: np.ndarray) -> str:
        if data.ndim == 0:
            return repr(data.item())
        if data.size <= 8:
            return np.array2string(data, separator=", ").replace("\n", "")
        return f"<{self.dtype} constant of shape {data.shape}>"

    def make_variable(self, name: str | None = None):
        from exprc.tensor.variable import TensorVariable

        return TensorVariable(self, name=name)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TensorType) and self.dtype == other.dtype
                and self.shape == other.shape)

    def __hash__(self) -> int:
        return hash((TensorType, self.dtype, self.shape))

    def __repr__(self) -> str:
        dims = ", ".join("?" if s is None else str(s) for s in self.shape)
        if self.ndim == 1:
            dims += ","
        return f"TensorType({self.dtype}, ({dims}))"

    __str__ = __repr__


def _static_dim(size: Any) -> int | None:
    if size is None:
        return None
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) or size < 0:
        raise ExprcTypeError(f"a static dimension must be a non-negative int or None, got {size!r}")
    return int(size)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an ndarray of dtype {value.dtype.name} and shape {value.shape}"
    return f"a {type(value).__name__}"


#: Kinds of dtype that hold no numbers (object, strings, void, dates): never cast, not even
#: with ``allow_input_downcast``, which would parse '1.5' or call ``float`` on objects.
_NOT_NUMERIC = "OUSVMm"


def _as_array(value: Any, what: str) -> np.ndarray:
    if isinstance(value, np.ndarray):
        if value.dtype.kind in _NOT_NUMERIC:
            raise ExprcTypeError(f"{what} must be numeric, got {_describe(value)}")
        return value
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ExprcTypeError(f"{what} cannot be converted to an array: {exc}") from None
    # Complex Python numbers are refused here too (a complex ndarray goes to the cast rules).
    if array.dtype.kind in _NOT_NUMERIC + "c":
        raise ExprcTypeError(f"{what} must be numeric, got {_describe(value)} "
                             f"(dtype {array.dtype.name})")
    if isinstance(value, int) and not isinstance(value, bool) and array.dtype.kind == "i":
        array = array.astype("int64")
    return array


# --------------------------------------------------------------------------- constructors
def _constructor(ndim: int, dtype: str | None, name: str, doc_kind: str):
    def make(name: str | None = None, dtype: Any = dtype, shape=None):
        static = (None,) * ndim if shape is None else tuple(shape)
        if len(static) != ndim:
            raise ExprcTypeError(f"{make.__name__} is {ndim}-d; shape {shape} has {len(static)}")
        return TensorType(dtype, shape=static)(name)

    make.__name__ = make.__qualname__ = name
    make.__doc__ = (f"A new symbolic {doc_kind} ({ndim}-d) input of dtype "
                    f"{dtype or 'floatX (exprc.config.floatX)'}.")
    return make


def _row_col(name: str, shape: tuple, dtype: str | None):
    def make(name: str | None = None, dtype: Any = dtype):
        return TensorType(dtype, shape=shape)(name)

    make.__name__ = make.__qualname__ = name
    make.__doc__ = f"A new symbolic {name} (2-d with static shape {shape})."
    return make


def _dtype_family(prefix: str, dtype: str | None) -> tuple:
    """The constructors of one dtype: scalar, vector, matrix, tensor3-5, row and col."""
    ranked = [_constructor(rank, dtype, prefix + kind, kind)
              for kind, rank in (("scalar", 0), ("vector", 1), ("matrix", 2), ("tensor3", 3),
                                 ("tensor4", 4), ("tensor5", 5))]
    return (*ranked, _row_col(prefix + "row", (1, None), dtype),
            _row_col(prefix + "col", (None, 1), dtype))


# Plain assignments (not a loop over globals()) so that readers and static tools see every
# name: T.matrix, T.fvector, T.irow, ...; the first letter is the dtype (b int8, w int16,
# i int32, l int64, f float32, d float64; none: floatX).
scalar, vector, matrix, tensor3, tensor4, tensor5, row, col = _dtype_family("", None)
bscalar, bvector, bmatrix, btensor3, btensor4, btensor5, brow, bcol = _dtype_family("b", "int8")
wscalar, wvector, wmatrix, wtensor3, wtensor4, wtensor5, wrow, wcol = _dtype_family("w", "int16")
iscalar, ivector, imatrix, itensor3, itensor4, itensor5, irow, icol = _dtype_family("i", "int32")
lscalar, lvector, lmatrix, ltensor3, ltensor4, ltensor5, lrow, lcol = _dtype_family("l", "int64")
fscalar, fvector, fmatrix, ftensor3, ftensor4, ftensor5, frow, fcol = _dtype_family(
    "f", "float32")
dscalar, dvector, dmatrix, dtensor3, dtensor4, dtensor5, drow, dcol = _dtype_family(
    "d", "float64")

#: Every constructor by name.
CONSTRUCTORS: dict[str, Any] = {
    make.__name__: make
    for prefix in ("", "b", "w", "i", "l", "f", "d")
    for make in (globals()[prefix + kind] for kind in (
        "scalar", "vector", "matrix", "tensor3", "tensor4", "tensor5", "row", "col"))
}


def tensor(dtype: Any = None, broadcastable: Sequence[bool] | None = None,
           name: str | None = None, shape: Sequence[int | None] | None = None):
    """A new symbolic input of any rank: ``tensor('float32', shape=(None, 3), name='x')``."""
    return TensorType(dtype, broadcastable=broadcastable, shape=shape)(name)
