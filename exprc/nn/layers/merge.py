"""Layers combining several inputs: concatenation and elementwise merges."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import exprc.tensor as T
from exprc.nn.layers.base import MergeLayer

__all__ = [
    "ConcatLayer",
    "ElemwiseMergeLayer",
    "ElemwiseSumLayer",
    "autocrop",
    "autocrop_array_shapes",
    "concat",
]

_CROP_MODES = (None, "lower", "center", "upper")


def _crop_slice(mode: str | None, size: Any, target: Any) -> slice:
    if mode == "lower":
        return slice(0, target)
    if mode == "upper":
        return slice(size - target, None)
    offset = (size - target) // 2
    return slice(offset, offset + target)


def autocrop(inputs: list, cropping: Any) -> list:
    """Crop ``inputs`` to the smallest size on each axis, axis by axis per ``cropping``.

    Parameters
    ----------
    inputs : list of tensors
        All of the same rank.
    cropping : list or None
        None: no cropping. Otherwise one entry per leading axis: None (leave the axis),
        'lower' (keep the first elements), 'upper' (the last) or 'center'.
    """
    if cropping is None:
        return inputs
    ndim = inputs[0].ndim
    if not all(x.ndim == ndim for x in inputs):
        raise ValueError("Not all inputs are of the same dimensionality. Got "
                         f"{[x.ndim for x in inputs]}")
    cropping = list(cropping) + [None] * (ndim - len(cropping))
    shapes = [x.shape for x in inputs]
    slices = [[] for _ in inputs]
    for axis, mode in enumerate(cropping):
        if mode not in _CROP_MODES:
            raise ValueError(f"Unknown crop mode {mode!r}")
        if mode is None:
            for s in slices:
                s.append(slice(None))
            continue
        target = T.min(T.stack([shape[axis] for shape in shapes]))
        for s, shape in zip(slices, shapes):
            s.append(_crop_slice(mode, shape[axis], target))
    return [x[tuple(s)] for x, s in zip(inputs, slices)]


def autocrop_array_shapes(input_shapes: list, cropping: Any) -> list:
    """The shapes :func:`autocrop` gives for inputs of ``input_shapes`` (None: unknown)."""
    if cropping is None:
        return input_shapes
    ndim = len(input_shapes[0])
    if not all(len(shape) == ndim for shape in input_shapes):
        raise ValueError("Not all inputs are of the same dimensionality. Got "
                         f"{[len(shape) for shape in input_shapes]}")
    cropping = list(cropping) + [None] * (ndim - len(cropping))
    columns = []
    for sizes, mode in zip(zip(*input_shapes), cropping):
        if mode is None:
            columns.append(sizes)
        elif mode in _CROP_MODES:
            columns.append([None if None in sizes else min(sizes)] * len(sizes))
        else:
            raise ValueError(f"Unknown crop mode {mode!r}")
    return [tuple(shape) for shape in zip(*columns)]


def _first_known(input_shapes: list) -> list:
    """Per axis, the first size that is not None among the inputs (or None)."""
    return [next((s for s in sizes if s is not None), None) for sizes in zip(*input_shapes)]


class ConcatLayer(MergeLayer):
    """Concatenates its inputs along ``axis`` (default 1, the feature/channel axis).

    ``cropping`` (see :func:`autocrop`) first crops the inputs to common sizes.
    """

    def __init__(self, incomings: list, axis: int = 1, cropping: Any = None, **kwargs):
        super().__init__(incomings, **kwargs)
        self.axis = axis
        if cropping is not None:
            cropping = list(cropping)
            cropping[axis] = None   # never crop the axis being concatenated
        self.cropping = cropping

    def get_output_shape_for(self, input_shapes):
        input_shapes = autocrop_array_shapes(input_shapes, self.cropping)
        output_shape = _first_known(input_shapes)
        axis = self.axis if self.axis >= 0 else len(output_shape) + self.axis

        def match(shape):
            return len(shape) == len(output_shape) and all(
                i == axis or s1 is None or s2 is None or s1 == s2
                for i, (s1, s2) in enumerate(zip(shape, output_shape)))

        if not all(match(shape) for shape in input_shapes):
            raise ValueError(f"Mismatch: input shapes must be the same except in the "
                             f"concatenation axis; got {input_shapes}")
        sizes = [shape[axis] for shape in input_shapes]
        output_shape[axis] = None if None in sizes else sum(sizes)
        return tuple(output_shape)

    def get_output_for(self, inputs, **kwargs):
        return T.concatenate(autocrop(inputs, self.cropping), axis=self.axis)


concat = ConcatLayer


class ElemwiseMergeLayer(MergeLayer):
    """Combines its inputs (of equal shapes) with a binary ``merge_function``, left to right.

    For example ``ElemwiseMergeLayer([a, b, c], T.maximum)`` gives
    ``maximum(maximum(a, b), c)``.
    """

    def __init__(self, incomings: list, merge_function: Callable, cropping: Any = None,
                 **kwargs):
        super().__init__(incomings, **kwargs)
        self.merge_function = merge_function
        self.cropping = cropping

    def get_output_shape_for(self, input_shapes):
        input_shapes = autocrop_array_shapes(input_shapes, self.cropping)
        output_shape = tuple(_first_known(input_shapes))

        def match(shape):
            return len(shape) == len(output_shape) and all(
                s1 is None or s2 is None or s1 == s2 for s1, s2 in zip(shape, output_shape))

        if not all(match(shape) for shape in input_shapes):
            raise ValueError(f"Mismatch: not all input shapes are the same; got "
                             f"{input_shapes}")
        return output_shape

    def get_output_for(self, inputs, **kwargs):
        inputs = autocrop(inputs, self.cropping)
        output = inputs[0]
        for input in inputs[1:]:
            output = self.merge_function(output, input)
        return output


class ElemwiseSumLayer(ElemwiseMergeLayer):
    """The sum of its inputs, each multiplied by its coefficient.

    Parameters
    ----------
    incomings : list of Layer or tuple
    coeffs : number or list
        One coefficient for all inputs, or one per input (e.g. ``[1, -1]`` for a
        difference).
    cropping : list, optional
        See :func:`autocrop`.
    """

    def __init__(self, incomings: list, coeffs: Any = 1, cropping: Any = None, **kwargs):
        super().__init__(incomings, T.add, cropping=cropping, **kwargs)
        if isinstance(coeffs, list):
            if len(coeffs) != len(incomings):
                raise ValueError(f"Mismatch: got {len(coeffs)} coeffs for {len(incomings)} "
                                 f"incomings")
        else:
            coeffs = [coeffs] * len(incomings)
        self.coeffs = coeffs

    def get_output_for(self, inputs, **kwargs):
        inputs = autocrop(inputs, self.cropping)
        output = None
        for coeff, input in zip(self.coeffs, inputs):
            # A coefficient of exactly 1 adds no multiplication to the graph.
            if not (isinstance(coeff, (int, float)) and coeff == 1):
                input = input * coeff
            output = input if output is None else output + input
        return output
