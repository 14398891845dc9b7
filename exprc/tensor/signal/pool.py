"""Pooling over the last two axes (Theano's ``T.signal.pool.pool_2d``) and its gradients.

:func:`pool_2d` slides a window of ``ws = (h, w)`` over the last two axes of its input, moving
``stride`` elements at a time, and reduces each window to one number: its maximum, its sum,
or its average. Any number of leading axes (batch, channels, ...) are pooled independently.

Four ops carry the computation, each with a reference, a gradient, a shape rule and a C
kernel in their tables:

- :class:`Pool`: the forward pooling;
- :class:`MaxPoolGrad`: the gradient of max pooling, which routes each output gradient to the
  first maximum of its window in row-major order, so that ties are resolved deterministically;
- :class:`AveragePoolGrad`: the gradient of the sum and average modes (linear in the output
  gradient, it needs only the input's shape);
- :class:`MaxPoolGradGrad`: the gradient of :class:`MaxPoolGrad` w.r.t. its output gradient,
  which picks, in each window, the value at that same first maximum.

Differences from Theano
-----------------------
- ``ws``, ``stride`` and ``pad`` are Python ints fixed when the graph is built (Theano also
  accepted symbolic ones); ``ignore_border`` defaults to True (Theano warned and used False).
- :class:`MaxPoolGrad` routes the gradient of a window to its first maximum only; Theano gave
  it to every element equal to the maximum, which counts ties more than once.
- Padding is zeros (Theano's documented behaviour). Since ``pad < ws`` is required, a window
  lies entirely in padding only when the input axis is empty; such a window gives 0 in every
  mode (Theano's own implementation failed there). Max pooling otherwise ignores the padding:
  the maximum of a window of negative numbers next to the border is negative, as in Theano.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor.params import choice_param, int_param
from exprc.tensor.sizes import Size, add, floordiv, maximum
from exprc.tensor.type import FLOAT_DTYPES, TensorType
from exprc.tensor.variable import as_tensor_variable

__all__ = [
    "MODES",
    "AveragePoolGrad",
    "MaxPoolGrad",
    "MaxPoolGradGrad",
    "Pool",
    "int_pair",
    "pool_2d",
    "pooled_size",
]

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")
"""The reductions :func:`pool_2d` knows: ``average_inc_pad`` divides by the whole window
(padding included), ``average_exc_pad`` by the number of input elements in the window."""


def pooled_size(size: Size, ws: int, stride: int, pad: int, ignore_border: bool) -> Size:
    """The number of windows along one axis of ``size`` elements (Theano's rule).

    With ``ignore_border`` only windows that fit in the padded axis count (possibly none):
    ``max(0, (size + 2 * pad - ws) // stride + 1)``. Without it, a last partial window is kept
    where elements remain uncovered: ``(size - 1) // stride + 1`` when ``stride >= ws``, else
    ``max(0, (size - 1 - ws + stride) // stride) + 1``.

    Parameters
    ----------
    size : int, None or int64 scalar tensor
        The axis' size: known, unknown, or an expression (see :mod:`exprc.tensor.sizes`).
    ws, stride, pad : int
        The window's extent, its step and the zeros padded on each side.
    ignore_border : bool

    Returns
    -------
    int, None or int64 scalar tensor
        In the kind of ``size``.
    """
    # Each branch is one floor division: q // s + 1 == (q + s) // s keeps expressions small.
    if ignore_border:
        shift = 2 * pad - ws + stride
        count = floordiv(add(size, shift), stride)
        # With shift >= 0 the count of a size >= 0 is >= 0 already.
        return count if shift >= 0 else maximum(count, 0)
    if stride >= ws:
        return floordiv(add(size, stride - 1), stride)
    return add(maximum(floordiv(add(size, stride - 1 - ws), stride), 0), 1)


#: Window sizes, strides, paddings and dilations are compiled into C as integer constants, and
#: the kernels multiply them with array sizes: keeping them below 2**31 keeps those products
#: within 64 bits.
MAX_GEOMETRY = 2 ** 31 - 1


def int_pair(owner: str, name: str, value: Any, minimum: int) -> tuple[int, int]:
    """``value`` as a pair of Python ints in ``[minimum, MAX_GEOMETRY]``, or an error naming
    ``owner`` and ``name`` (a type error for anything but two ints, a shape error for an int
    out of range). Shared by pooling and convolution for their window geometry."""
    try:
        pair = tuple(value)
    except TypeError:
        pair = None
    ok = pair is not None and len(pair) == 2 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in pair)
    if not ok:
        raise build_error(ExprcTypeError, owner, f"{name} must be a pair of ints (rows, "
                          f"columns), got {value!r}")
    # Clamped to int64 only to be refused below with the range in the message.
    pair = tuple(int_param(owner, name, v, clamp=True) for v in pair)
    if min(pair) < minimum or max(pair) > MAX_GEOMETRY:
        raise build_error(ExprcShapeError, owner, f"{name} must lie in [{minimum}, 2**31 - 1] "
                          f"in each dimension, got {pair}")
    return pair


class _PoolOp(Op):
    """The window geometry shared by pooling and its gradients; inputs are float tensors of
    rank >= 2 pooled over their last two axes."""

    abstract = True
    __props__ = ("ws", "ignore_border", "stride", "pad")

    def __init__(self, ws: Any, ignore_border: bool = True, stride: Any = None,
                 pad: Any = (0, 0)):
        name = type(self).__name__
        self.ws = int_pair(name, "ws", ws, 1)
        self.stride = self.ws if stride is None else int_pair(name, "stride", stride, 1)
        self.pad = int_pair(name, "pad", pad, 0)
        self.ignore_border = bool(ignore_border)
        if self.pad != (0, 0) and not self.ignore_border:
            raise build_error(ExprcShapeError, name, f"pad={self.pad} requires "
                              "ignore_border=True (as in Theano)")
        if self.pad[0] >= self.ws[0] or self.pad[1] >= self.ws[1]:
            raise build_error(ExprcShapeError, name, f"pad={self.pad} must be smaller than "
                              f"the window ws={self.ws} in each dimension")

    def output_sizes(self, rows: Size, cols: Size) -> tuple:
        """The pooled sizes of the last two axes, in the kind of the input's sizes: ints,
        None where unknown, or int64 scalar expressions (see :func:`pooled_size`)."""
        return tuple(pooled_size(n, w, s, p, self.ignore_border)
                     for n, w, s, p in zip((rows, cols), self.ws, self.stride, self.pad))

    def _image(self, x: Any, role: str = "input"):
        x = as_tensor_variable(x)
        if x.dtype not in FLOAT_DTYPES:
            raise build_error(ExprcTypeError, self, f"{role} {x} must be float32 or float64, "
                              f"got {x.type}; cast it first (x.astype('floatX'))")
        if x.ndim < 2:
            raise build_error(ExprcShapeError, self, f"{role} {x} must have at least 2 axes "
                              f"(pooling is over the last two), got {x.type}")
        return x

    def _pooled_type(self, x) -> TensorType:
        return TensorType(x.dtype, shape=x.type.shape[:-2] + self.output_sizes(
            *x.type.shape[-2:]))

    def _gradient_node(self, x: Any, gz: Any) -> Apply:
        """The node of a pooling gradient: from the forward input ``x`` and the gradient
        ``gz`` w.r.t. the pooled output, a result of ``x``'s type."""
        x = self._image(x)
        gz = self._image(gz, "output gradient")
        self._check_pooled(x, gz, "output gradient")
        return Apply(self, [x, gz], [x.type()])

    def _check_pooled(self, x, g, role: str) -> None:
        """``g`` must have ``x``'s dtype and the pooled shape of ``x`` (where both are known)."""
        if g.dtype != x.dtype or g.ndim != x.ndim:
            raise build_error(ExprcTypeError, self, f"{role} {g} of type {g.type} must have "
                              f"the dtype and rank of the input {x} of type {x.type}")
        for axis, (a, b) in enumerate(zip(self._pooled_type(x).shape, g.type.shape)):
            if a is not None and b is not None and a != b:
                raise build_error(ExprcShapeError, self, f"{role} {g} has size {b} on axis "
                                  f"{axis}, but pooling the input {x} of type {x.type} gives "
                                  f"{a}")


class _ModeOp(_PoolOp):
    """A pooling op that depends on the reduction ``mode``."""

    abstract = True
    __props__ = ("ws", "ignore_border", "stride", "pad", "mode")
    allowed_modes = MODES

    def __init__(self, ws: Any, ignore_border: bool = True, stride: Any = None,
                 pad: Any = (0, 0), mode: str = "max"):
        super().__init__(ws, ignore_border, stride, pad)
        if mode not in self.allowed_modes:
            raise build_error(ExprcTypeError, type(self).__name__, f"mode must be one of "
                              f"{', '.join(self.allowed_modes)}; got {mode!r}")
        self.mode = choice_param(type(self).__name__, "mode", mode, self.allowed_modes)


class Pool(_ModeOp):
    """Pooling of the last two axes of ``x``: ``mode`` applied to each window."""

    def make_node(self, x: Any) -> Apply:
        x = self._image(x)
        return Apply(self, [x], [self._pooled_type(x)()])


class AveragePoolGrad(_ModeOp):
    """The gradient of :class:`Pool` in the ``sum`` and average modes: each output gradient
    spread (divided as the forward divided) over its window. Inputs: the forward input ``x``
    (only its shape is read) and the gradient ``gz`` w.r.t. the pooled output."""

    allowed_modes = ("sum", "average_inc_pad", "average_exc_pad")

    def make_node(self, x: Any, gz: Any) -> Apply:
        return self._gradient_node(x, gz)


class MaxPoolGrad(_PoolOp):
    """The gradient of max pooling: each window's output gradient goes to the first maximum
    of the window (row-major), and sums where windows overlap. Inputs: the forward input
    ``x`` and the gradient ``gz`` w.r.t. the pooled output."""

    def make_node(self, x: Any, gz: Any) -> Apply:
        return self._gradient_node(x, gz)


class MaxPoolGradGrad(_PoolOp):
    """For each window of ``x``, the element of ``g`` (shaped like ``x``) at the window's first
    maximum: the gradient of :class:`MaxPoolGrad` w.r.t. its output gradient. The output has
    the pooled shape."""

    def make_node(self, x: Any, g: Any) -> Apply:
        x = self._image(x)
        g = self._image(g, "values")
        if g.type.dtype != x.dtype or g.ndim != x.ndim or any(
                a is not None and b is not None and a != b
                for a, b in zip(x.type.shape, g.type.shape)):
            raise build_error(ExprcShapeError, self, f"values {g} of type {g.type} must have "
                              f"the type of the input {x} of type {x.type}")
        return Apply(self, [x, g], [self._pooled_type(x)()])


def pool_2d(input: Any, ws: Any = None, ignore_border: bool = True, stride: Any = None,
            pad: Any = (0, 0), mode: str = "max"):
    """Pool the last two axes of ``input`` with windows of ``ws`` (Theano's ``pool_2d``).

    Parameters
    ----------
    input : tensor-like
        Float tensor of rank >= 2; leading axes (batch, channels, ...) are pooled separately.
    ws : pair of int
        Window height and width.
    ignore_border : bool
        True: only windows that fit entirely in the (padded) input. False: a last partial
        window is kept along an axis whose elements are not all covered (Theano's rule:
        ``(n - 1) // s + 1`` windows when ``s >= w``).
    stride : pair of int, optional
        Steps between windows (default ``ws``: windows side by side). Smaller than ``ws``
        makes windows overlap.
    pad : pair of int
        Zeros added before and after each pooled axis; requires ``ignore_border=True`` and
        must be smaller than ``ws``.
    mode : {'max', 'sum', 'average_inc_pad', 'average_exc_pad'}
        The reduction of each window; ``average_inc_pad`` divides by the window's size
        (padding included), ``average_exc_pad`` by the number of input elements it covers.

    Returns
    -------
    TensorVariable
        Same dtype and leading axes as ``input``; the last two axes hold the windows.

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> x = np.arange(16.0).reshape(4, 4)
    >>> T.signal.pool.pool_2d(x, ws=(2, 2)).eval()
    array([[ 5.,  7.],
           [13., 15.]])
    >>> T.signal.pool.pool_2d(x, ws=(2, 2), mode='average_inc_pad').eval()
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    if ws is None:
        raise build_error(ExprcTypeError, "pool_2d", "ws (the window size, a pair of ints) "
                          "is required")
    return Pool(ws, ignore_border, stride, pad, mode)(input)
