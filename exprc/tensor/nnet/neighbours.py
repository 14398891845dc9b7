"""Patches of images as rows of a matrix, and back (Theano's ``T.nnet.neighbours``).

:func:`images2neibs` gathers the patches with one indexing of the (padded) images by two
index grids, so its gradient is that indexing's (overlapping patches add up);
:func:`neibs2images` puts disjoint patches back with reshapes and a transpose. Both are exact
and differentiable, and need no op of their own.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.tensor.basic import arange, concatenate, zeros
from exprc.tensor.extra_ops import checked
from exprc.tensor.math import and_, eq, ge, int_div, mod
from exprc.tensor.shape import reshape, static_int_values
from exprc.tensor.subtensor import set_subtensor
from exprc.tensor.type import INTEGER_DTYPES
from exprc.tensor.variable import as_tensor_variable

__all__ = ["images2neibs", "neibs2images"]

_MODES = ("valid", "ignore_borders", "wrap_centered", "half", "full")


def _pair(value: Any, what: str, where: str) -> list:
    """Two positive sizes: ints stay ints, symbolic entries become int64 scalars."""
    if isinstance(value, numbers.Integral) or getattr(value, "ndim", None) == 0:
        raise build_error(ExprcTypeError, where, f"{what} must be a pair (rows, columns), got "
                          f"{value!r}")
    if not isinstance(value, (list, tuple)):
        vector = as_tensor_variable(value)
        if vector.ndim != 1 or vector.type.shape[0] != 2 or vector.dtype not in INTEGER_DTYPES:
            raise build_error(ExprcTypeError, where, f"{what} must be a pair of integers, got "
                              f"{vector} of type {vector.type}")
        value = [vector[0], vector[1]]
    if len(value) != 2:
        raise build_error(ExprcTypeError, where, f"{what} must be a pair (rows, columns), got "
                          f"{value!r}")
    pair = []
    for entry in value:
        if isinstance(entry, (numbers.Integral, np.integer)) and not isinstance(entry, bool):
            known = int(entry)
        else:
            entry = as_tensor_variable(entry)
            if entry.ndim != 0 or entry.dtype not in INTEGER_DTYPES:
                raise build_error(ExprcTypeError, where, f"{what} must hold integers, got "
                                  f"{entry} of type {entry.type}")
            known = static_int_values(entry)[0]
        if known is not None and known < 1:
            raise build_error(ExprcShapeError, where, f"{what} must be positive, got {value!r}")
        pair.append(known if known is not None else entry.astype("int64"))
    return pair


def _floordiv(a, b):
    """``a // b``, a Python int when both are (so that static sizes stay known)."""
    return a // b if isinstance(a, int) and isinstance(b, int) else int_div(a, b)


def _grid(count, size, step, shift=0, wrap=None):
    """The image positions of the patches along one axis: ``(count, size)`` int64 indices
    ``a * step + i - shift``, taken modulo ``wrap`` when given."""
    positions = arange(count).dimshuffle(0, "x") * step + arange(size).dimshuffle("x", 0)
    if shift:
        positions = positions - shift
    return positions if wrap is None else mod(positions, wrap)


def images2neibs(ten4: Any, neib_shape: Any, neib_step: Any = None, mode: str = "valid"):
    """The patches of a batch of images as the rows of a matrix (Theano's ``images2neibs``).

    Parameters
    ----------
    ten4 : 4-d tensor (batch, channels, rows, cols)
    neib_shape : pair of ints or integer scalars
        The patch size (rows, cols).
    neib_step : pair, optional
        The distance between patch corners; by default ``neib_shape`` (disjoint patches).
    mode : {'valid', 'ignore_borders', 'wrap_centered', 'half', 'full'}
        'valid': the patches must tile the image exactly (``(size - neib_shape)`` a multiple of
        ``neib_step``; a ValueError otherwise). 'ignore_borders': as many patches as fit.
        'wrap_centered': a patch centred on every ``neib_step``-th pixel, wrapping around the
        borders (odd ``neib_shape`` of ints, no larger than the image). 'half' and 'full':
        'ignore_borders' on the image padded with ``neib_shape // 2`` and ``neib_shape - 1``
        zeros on each side.

    Returns
    -------
    TensorVariable
        A matrix with one row per patch, in the order (batch, channel, patch row, patch
        column), each row the patch flattened in C order.

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> images = T.tensor4('images')
    >>> neibs = T.nnet.neighbours.images2neibs(images, (2, 2))
    >>> neibs.eval({images: np.arange(16.0).reshape(1, 1, 4, 4)})[:2]
    array([[0., 1., 4., 5.],
           [2., 3., 6., 7.]])
    """
    if mode not in _MODES:
        raise build_error(ExprcTypeError, "images2neibs", f"mode must be one of {_MODES}, got "
                          f"{mode!r}")
    ten4 = as_tensor_variable(ten4)
    if ten4.ndim != 4:
        raise build_error(ExprcShapeError, "images2neibs", f"ten4 must be a 4-d tensor (batch, "
                          f"channels, rows, cols), got {ten4} of type {ten4.type}")
    shape = _pair(neib_shape, "neib_shape", "images2neibs")
    step = shape if neib_step is None else _pair(neib_step, "neib_step", "images2neibs")
    sizes = [ten4.type.shape[d] if ten4.type.shape[d] is not None else ten4.shape[d]
             for d in (2, 3)]
    if mode == "wrap_centered":
        grids = _wrap_centered_grids(shape, step, sizes)
    else:
        if mode in ("half", "full"):
            pads = [k // 2 if mode == "half" else k - 1 for k in shape]
            ten4, sizes = _padded(ten4, pads, sizes)
        counts = [_floordiv(size - k, s) + 1 for size, k, s in zip(sizes, shape, step)]
        if mode == "valid":
            ten4 = _check_tiling(ten4, sizes, shape, step)
        grids = [_grid(c, k, s) for c, k, s in zip(counts, shape, step)]
    rows, cols = grids
    patches = ten4[:, :, rows.dimshuffle(0, "x", 1, "x"), cols.dimshuffle("x", 0, "x", 1)]
    return reshape(patches, (-1, shape[0] * shape[1]))


def _wrap_centered_grids(shape: list, step: list, sizes: list) -> list:
    if not all(isinstance(k, int) for k in shape) or any(k % 2 == 0 for k in shape):
        raise build_error(ExprcShapeError, "images2neibs", f"mode 'wrap_centered' needs a "
                          f"neib_shape of odd ints, got {shape}")
    for size, k in zip(sizes, shape):
        if isinstance(size, int) and size < k:
            raise build_error(ExprcShapeError, "images2neibs", f"mode 'wrap_centered' needs "
                              f"images at least as large as the patches {tuple(shape)}, got "
                              f"{tuple(sizes)}")
    # ceil(size / step) patches, centred on the pixels a * step.
    return [_grid(-_floordiv(-size, s), k, s, shift=k // 2, wrap=size)
            for size, k, s in zip(sizes, shape, step)]


def _padded(ten4, pads: list, sizes: list):
    """``ten4`` with ``pads`` zeros on both sides of its two image axes, and the new sizes."""
    new_sizes = [size + 2 * p for size, p in zip(sizes, pads)]
    canvas = zeros((ten4.shape[0], ten4.shape[1], *new_sizes), dtype=ten4.dtype)
    inner = canvas[:, :, pads[0]:pads[0] + sizes[0], pads[1]:pads[1] + sizes[1]]
    return set_subtensor(inner, ten4), new_sizes


def _check_tiling(ten4, sizes: list, shape: list, step: list):
    """``ten4`` once its image axes are known to be tiled exactly by the patches."""
    statics = [(size, k, s) for size, k, s in zip(sizes, shape, step)]
    if all(isinstance(v, int) for triple in statics for v in triple):
        for size, k, s in statics:
            if size < k or (size - k) % s:
                raise build_error(ExprcShapeError, "images2neibs", f"in mode 'valid', patches "
                                  f"of {tuple(shape)} every {tuple(step)} do not tile images "
                                  f"of {tuple(sizes)}; use mode='ignore_borders' to drop the "
                                  f"rest")
        return ten4
    ok = None
    for size, k, s in statics:
        fits = and_(ge(size, k), eq(mod(size - k, s), 0))
        ok = fits if ok is None else and_(ok, fits)
    return checked(ten4, ok, "neibs_not_tiled")


def neibs2images(neibs: Any, neib_shape: Any, original_shape: Any, mode: str = "valid"):
    """The images that :func:`images2neibs` with disjoint patches (the default ``neib_step``)
    cut into ``neibs`` (Theano's ``neibs2images``).

    Parameters
    ----------
    neibs : matrix
        One patch per row, as :func:`images2neibs` gives them.
    neib_shape : pair of ints or integer scalars
        The patch size.
    original_shape : sequence of 4 sizes, or a shape vector
        The images' shape (batch, channels, rows, cols).
    mode : {'valid', 'ignore_borders'}
        As given to :func:`images2neibs`: with 'ignore_borders', the borders the patches
        did not cover come back as zeros.

    Returns
    -------
    TensorVariable
        The images, of ``original_shape``.
    """
    if mode not in ("valid", "ignore_borders"):
        raise build_error(ExprcTypeError, "neibs2images", f"mode must be 'valid' or "
                          f"'ignore_borders', got {mode!r}")
    neibs = as_tensor_variable(neibs)
    if neibs.ndim != 2:
        raise build_error(ExprcShapeError, "neibs2images", f"neibs must be a matrix, got "
                          f"{neibs} of type {neibs.type}")
    rows, cols = _pair(neib_shape, "neib_shape", "neibs2images")
    if not isinstance(original_shape, (list, tuple)):
        original_shape = as_tensor_variable(original_shape)
    batch, channels, height, width = (original_shape[d] for d in range(4))
    grid = [_floordiv(height, rows), _floordiv(width, cols)]
    patches = reshape(neibs, (batch, channels, grid[0], grid[1], rows, cols))
    images = reshape(patches.dimshuffle(0, 1, 2, 4, 3, 5),
                     (batch, channels, grid[0] * rows, grid[1] * cols))
    if mode == "ignore_borders":
        for axis, (size, covered) in enumerate([(height, grid[0] * rows),
                                                (width, grid[1] * cols)], start=2):
            rest = [images.shape[d] for d in range(4)]
            rest[axis] = size - covered
            images = concatenate([images, zeros(rest, dtype=images.dtype)], axis=axis)
    return reshape(images, (batch, channels, height, width))
