"""Layers that only rearrange their input: reshape, flatten, dimshuffle, pad, slice."""

from __future__ import annotations

from typing import Any

import numpy as np

import exprc.tensor as T
from exprc.nn.extensions import pad as pad_tensor
from exprc.nn.extensions import pad_widths
from exprc.nn.layers.base import Layer

__all__ = [
    "DimshuffleLayer",
    "FlattenLayer",
    "PadLayer",
    "ReshapeLayer",
    "SliceLayer",
    "dimshuffle",
    "flatten",
    "pad",
    "reshape",
]


def _check_shape_spec(shape: tuple) -> None:
    for s in shape:
        if isinstance(s, (int, np.integer)):
            if s == 0 or s < -1:
                raise ValueError("`shape` integers must be positive or -1")
        elif isinstance(s, list):
            if len(s) != 1 or not isinstance(s[0], int) or s[0] < 0:
                raise ValueError("`shape` input references must be single-element lists of "
                                 "int >= 0")
        elif isinstance(s, T.TensorVariable):
            if s.ndim != 0:
                raise ValueError(f"A symbolic variable in a shape specification must be a "
                                 f"scalar, but had {s.ndim} dimensions")
        else:
            raise ValueError("`shape` must be a tuple of int and/or [int]")
    if sum(1 for s in shape if isinstance(s, (int, np.integer)) and s == -1) > 1:
        raise ValueError("`shape` cannot contain multiple -1")


class ReshapeLayer(Layer):
    """Reshapes its input to a specification that may refer to the input's sizes.

    Parameters
    ----------
    incoming : Layer or tuple
    shape : tuple
        Each entry is a positive int, ``[i]`` (the size of input axis ``i``), a symbolic
        scalar, or ``-1`` (at most once: inferred from the total size).

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, ReshapeLayer
    >>> ReshapeLayer(InputLayer((None, 100, 20)), ([0], 2, 50, -1)).output_shape
    (None, 2, 50, 20)
    """

    def __init__(self, incoming: Any, shape: Any, **kwargs):
        super().__init__(incoming, **kwargs)
        shape = tuple(shape)
        _check_shape_spec(shape)
        self.shape = shape
        self.get_output_shape_for(self.input_shape)   # fail now on a size mismatch

    def get_output_shape_for(self, input_shape, **kwargs):
        output_shape = list(self.shape)
        # Sizes copied one-to-one from an input axis can be left out of the -1 inference
        # even when unknown: mask them (as 1) on both sides.
        masked_input = list(input_shape)
        masked_output = list(output_shape)
        for dim, o in enumerate(output_shape):
            if isinstance(o, list):
                if o[0] >= len(input_shape):
                    raise ValueError(f"specification contains [{o[0]}], but input shape has "
                                     f"{len(input_shape)} dimensions only")
                output_shape[dim] = masked_output[dim] = input_shape[o[0]]
                if input_shape[o[0]] is None and masked_input[o[0]] is None:
                    masked_input[o[0]] = 1
                    masked_output[dim] = 1
            elif isinstance(o, T.TensorVariable):
                output_shape[dim] = masked_output[dim] = None
        input_size = None if None in masked_input else int(np.prod(masked_input))
        output_size = None if None in masked_output else int(np.prod(masked_output))
        if -1 in output_shape:
            dim = output_shape.index(-1)
            if input_size is None or output_size is None:
                output_shape[dim] = None
                output_size = None
            else:
                output_shape[dim] = input_size // -output_size
                output_size = -output_size * output_shape[dim]
        if input_size is not None and output_size is not None and input_size != output_size:
            raise ValueError(f"{input_shape} cannot be reshaped to specification "
                             f"{self.shape}. The total size mismatches.")
        return tuple(output_shape)

    def get_output_for(self, input, **kwargs):
        output_shape = [input.shape[o[0]] if isinstance(o, list) else o for o in self.shape]
        return input.reshape(tuple(output_shape))


reshape = ReshapeLayer


class FlattenLayer(Layer):
    """Keeps the first ``outdim - 1`` axes and flattens the others into one."""

    def __init__(self, incoming: Any, outdim: int = 2, **kwargs):
        super().__init__(incoming, **kwargs)
        self.outdim = outdim
        if outdim < 1:
            raise ValueError(f"Dim must be >0, was {outdim}")

    def get_output_shape_for(self, input_shape):
        to_flatten = input_shape[self.outdim - 1:]
        flattened = None if None in to_flatten else int(np.prod(to_flatten))
        return tuple(input_shape[:self.outdim - 1]) + (flattened,)

    def get_output_for(self, input, **kwargs):
        return input.flatten(self.outdim)


flatten = FlattenLayer


class DimshuffleLayer(Layer):
    """Reorders axes and inserts axes of size 1 (``'x'``), as ``dimshuffle`` does.

    Input axes missing from ``pattern`` are dropped; they must have size 1 (or unknown size,
    checked at run time).

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, DimshuffleLayer
    >>> DimshuffleLayer(InputLayer((2, 3, 1)), (1, 'x', 0)).output_shape
    (3, 1, 2)
    """

    def __init__(self, incoming: Any, pattern: Any, **kwargs):
        super().__init__(incoming, **kwargs)
        used = set()
        for p in pattern:
            if isinstance(p, (int, np.integer)):
                if p in used:
                    raise ValueError(f"pattern contains dimension {p} more than once")
                used.add(p)
            elif p != "x":
                raise ValueError(f"pattern should only contain dimension indices or 'x', "
                                 f"not {p!r}")
        self.pattern = tuple(pattern)
        self.get_output_shape_for(self.input_shape)   # fail now on a bad pattern

    def get_output_shape_for(self, input_shape):
        output_shape = []
        used = [False] * len(input_shape)
        for p in self.pattern:
            if p == "x":
                output_shape.append(1)
                continue
            if p < 0 or p >= len(input_shape):
                raise ValueError(f"pattern contains {p}, but input shape has "
                                 f"{len(input_shape)} dimensions only")
            output_shape.append(input_shape[p])
            used[p] = True
        for axis, (size, is_used) in enumerate(zip(input_shape, used)):
            if not is_used and size not in (1, None):
                raise ValueError(f"pattern attempted to collapse dimension {axis} of size "
                                 f"{size}; dimensions with size != 1/None are not "
                                 f"broadcastable and cannot be collapsed")
        return tuple(output_shape)

    def get_output_for(self, input, **kwargs):
        return input.dimshuffle(self.pattern)


dimshuffle = DimshuffleLayer


class PadLayer(Layer):
    """Pads the axes after the first ``batch_ndim`` with ``val``.

    Parameters
    ----------
    incoming : Layer or tuple
    width : int, or sequence of int or (int, int)
        An int pads every padded axis by it on both sides; a sequence gives each padded axis
        (in order, the last ones may be left out) an int for both sides or a pair
        ``(before, after)``.
    val : float
        The padding value.
    batch_ndim : int
        The leading axes not padded (2 keeps the batch and channel axes of feature maps).

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, PadLayer
    >>> PadLayer(InputLayer((None, 3, 10, 10)), [(1, 2), 0]).output_shape
    (None, 3, 13, 10)
    """

    def __init__(self, incoming: Any, width: Any, val: Any = 0, batch_ndim: int = 2,
                 **kwargs):
        super().__init__(incoming, **kwargs)
        if not 0 <= batch_ndim <= len(self.input_shape):
            raise ValueError(f"batch_ndim={batch_ndim} is out of range for input shape "
                             f"{self.input_shape}")
        widths = pad_widths(width, len(self.input_shape) - batch_ndim)
        if not all(isinstance(w, (int, np.integer)) for pair in widths for w in pair):
            raise ValueError(f"PadLayer widths must be ints, got {width!r}")
        self.width = width
        self.val = val
        self.batch_ndim = batch_ndim
        self._widths = widths

    def get_output_shape_for(self, input_shape):
        output_shape = list(input_shape)
        for k, (before, after) in enumerate(self._widths):
            axis = k + self.batch_ndim
            if output_shape[axis] is not None:
                output_shape[axis] += before + after
        return tuple(output_shape)

    def get_output_for(self, input, **kwargs):
        return pad_tensor(input, self._widths, self.val, self.batch_ndim)


pad = PadLayer


class SliceLayer(Layer):
    """Indexes or slices its input along one axis.

    Parameters
    ----------
    incoming : Layer or tuple
    indices : int or slice
        An int picks one entry and drops the axis; a slice keeps the axis.
    axis : int
        Negative values count from the end.

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, SliceLayer
    >>> l_in = InputLayer((None, 10, 8))
    >>> SliceLayer(l_in, slice(2, None, 3), axis=1).output_shape, SliceLayer(l_in, -1).output_shape
    ((None, 3, 8), (None, 10))
    """

    def __init__(self, incoming: Any, indices: Any, axis: int = -1, **kwargs):
        super().__init__(incoming, **kwargs)
        ndim = len(self.input_shape)
        if not -ndim <= axis < ndim:
            raise ValueError(f"axis {axis} is out of range for input shape {self.input_shape}")
        if isinstance(indices, (int, np.integer)) and not isinstance(indices, bool):
            indices = int(indices)
        elif not isinstance(indices, slice) or not all(
                v is None or isinstance(v, (int, np.integer))
                for v in (indices.start, indices.stop, indices.step)):
            raise ValueError(f"indices must be an int or a slice of ints, got {indices!r}")
        self.slice = indices
        self.axis = axis
        self.get_output_shape_for(self.input_shape)   # fail now on an empty selection

    def get_output_shape_for(self, input_shape):
        output_shape = list(input_shape)
        size = input_shape[self.axis]
        if isinstance(self.slice, int):
            if size is not None and not -size <= self.slice < size:
                raise ValueError(f"index {self.slice} is out of range for axis {self.axis} of "
                                 f"size {size}")
            del output_shape[self.axis]
        elif size is not None:
            output_shape[self.axis] = len(range(*self.slice.indices(size)))
            if output_shape[self.axis] == 0:
                raise ValueError(f"{self.slice} selects nothing of axis {self.axis} of size "
                                 f"{size}")
        return tuple(output_shape)

    def get_output_for(self, input, **kwargs):
        axis = self.axis % input.ndim
        return input[(slice(None),) * axis + (self.slice,)]
