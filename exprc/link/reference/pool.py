"""Reference implementations of pooling: one NumPy operation over the leading axes per
window, so each rule is a short loop over the windows of one image.

Images are viewed as ``(L, H, W)`` with ``L`` the product of the leading axes. A window
covers the input elements ``[lo, hi)`` of each pooled axis (padding excluded) and has the
padded extent ``full`` that ``average_inc_pad`` divides by.
"""

from __future__ import annotations

from math import prod

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.reference.table import REFERENCE
from exprc.tensor.signal.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool


def _axis_windows(op, axis: int, n: int) -> list[tuple[int, int, int]]:
    """``(lo, hi, full)`` of each window along pooled axis ``axis`` (0: rows) of size ``n``."""
    w, s, p = op.ws[axis], op.stride[axis], op.pad[axis]
    count = op.output_sizes(n, n)[axis]
    windows = []
    for i in range(count):
        start = i * s - p
        lo = min(max(start, 0), n)
        windows.append((lo, max(lo, min(start + w, n)), min(start + w, n + p) - start))
    return windows


def _windows(op, shape: tuple):
    """Every window of an image of ``shape``: ``(i, j, rows, cols, full_size)``."""
    rows_of, cols_of = _axis_windows(op, 0, shape[-2]), _axis_windows(op, 1, shape[-1])
    for i, (r0, r1, rf) in enumerate(rows_of):
        for j, (c0, c1, cf) in enumerate(cols_of):
            yield i, j, slice(r0, r1), slice(c0, c1), rf * cf


def _planes(a: np.ndarray) -> np.ndarray:
    """``a`` as ``(L, H, W)``."""
    return a.reshape((prod(a.shape[:-2]),) + a.shape[-2:])


def _pooled_shape(op, shape: tuple) -> tuple:
    return shape[:-2] + op.output_sizes(*shape[-2:])


def _check_pooled(node, x: np.ndarray, gz: np.ndarray) -> None:
    expected = _pooled_shape(node.op, x.shape)
    if gz.shape != expected:
        raise ExprcShapeError(f"{node.op}: the output gradient has shape {gz.shape}, but "
                              f"pooling the input of shape {x.shape} gives {expected}")


def _first_max(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column (within ``block`` of shape (L, h, w)) of each plane's first maximum in
    row-major order; a NaN counts as the maximum, as in ``np.max``."""
    flat = np.argmax(block.reshape(block.shape[0], -1), axis=1)
    return flat // block.shape[2], flat % block.shape[2]


@REFERENCE.register(Pool)
def pool(node, x):
    op = node.op
    xs = _planes(x)
    out = np.zeros((xs.shape[0],) + op.output_sizes(*x.shape[-2:]), dtype=x.dtype)
    for i, j, rows, cols, full in _windows(op, x.shape):
        block = xs[:, rows, cols]
        if block.shape[1] == 0 or block.shape[2] == 0:
            continue  # a window entirely in padding gives 0 (the padding's value)
        if op.mode == "max":
            out[:, i, j] = block.max(axis=(1, 2))
            continue
        total = block.sum(axis=(1, 2))
        if op.mode == "average_inc_pad":
            total = total / full
        elif op.mode == "average_exc_pad":
            total = total / (block.shape[1] * block.shape[2])
        out[:, i, j] = total
    return [out.reshape(_pooled_shape(op, x.shape))]


@REFERENCE.register(MaxPoolGrad)
def max_pool_grad(node, x, gz):
    _check_pooled(node, x, gz)
    xs, gzs = _planes(x), _planes(gz)
    gx = np.zeros(xs.shape, dtype=x.dtype)
    planes = np.arange(xs.shape[0])
    for i, j, rows, cols, _ in _windows(node.op, x.shape):
        block = xs[:, rows, cols]
        if block.size == 0:
            continue
        r, c = _first_max(block)
        # One element per plane, so no index repeats within this assignment.
        gx[planes, rows.start + r, cols.start + c] += gzs[:, i, j]
    return [gx.reshape(x.shape)]


@REFERENCE.register(MaxPoolGradGrad)
def max_pool_grad_grad(node, x, g):
    if g.shape != x.shape:
        raise ExprcShapeError(f"{node.op}: values of shape {g.shape} for an input of shape "
                              f"{x.shape}")
    xs, gs = _planes(x), _planes(g)
    out = np.zeros((xs.shape[0],) + node.op.output_sizes(*x.shape[-2:]), dtype=x.dtype)
    planes = np.arange(xs.shape[0])
    for i, j, rows, cols, _ in _windows(node.op, x.shape):
        block = xs[:, rows, cols]
        if block.size == 0:
            continue
        r, c = _first_max(block)
        out[:, i, j] = gs[planes, rows.start + r, cols.start + c]
    return [out.reshape(_pooled_shape(node.op, x.shape))]


@REFERENCE.register(AveragePoolGrad)
def average_pool_grad(node, x, gz):
    _check_pooled(node, x, gz)
    op = node.op
    gzs = _planes(gz)
    gx = np.zeros(_planes(x).shape, dtype=x.dtype)
    for i, j, rows, cols, full in _windows(op, x.shape):
        count = (rows.stop - rows.start) * (cols.stop - cols.start)
        if count <= 0:
            continue
        share = gzs[:, i, j]
        if op.mode == "average_inc_pad":
            share = share / full
        elif op.mode == "average_exc_pad":
            share = share / count
        gx[:, rows, cols] += share[:, None, None].astype(x.dtype)
    return [gx.reshape(x.shape)]
