"""Spatial transformer layers (Jaderberg et al., 2015): :class:`TransformerLayer` (an affine
transformation) and :class:`TPSTransformerLayer` (a thin plate spline).

Both sample their 4D input ``(batch, channels, rows, columns)`` on a grid warped by the output
of a localization network, with bilinear interpolation. Coordinates are normalized to
``[-1, 1]`` on both axes (``-1`` the first row or column, ``1`` the last). Output pixel ``(i,
j)`` sits at ``(x_t, y_t) = (-1 + 2 j / (W_out - 1), -1 + 2 i / (H_out - 1))`` (``-1`` along
an axis of size 1) and takes the input's value at the transformed point ``(x_s, y_s)``, in
pixels ``u = (x_s + 1) (W - 1) / 2``, ``v = (y_s + 1) (H - 1) / 2``:

.. math::

    \\sum_{a \\in \\{u_0, u_0 + 1\\}} \\sum_{b \\in \\{v_0, v_0 + 1\\}}
    (1 - |u - a|)(1 - |v - b|) \\, I[m(b), m(a)]

with ``u_0 = floor(u)``, ``v_0 = floor(v)``, and ``m`` mapping a row or column outside the
image back into it by ``border_mode``: 'nearest' clips it to the border, 'mirror' reflects it
about the first and last entries (period ``2 (n - 1)``) and 'wrap' takes it modulo ``n``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import exprc.tensor as T
from exprc.nn.layers.base import MergeLayer
from exprc.nn.utils import as_tuple

__all__ = ["TPSTransformerLayer", "TransformerLayer"]

_BORDER_MODES = ("nearest", "mirror", "wrap")


def _linspace(num: Any, dtype: str):
    """``num`` points evenly spaced from -1 to 1 (just -1 when ``num`` is 1), as NumPy's."""
    step = 2.0 / T.cast(T.maximum(num - 1, 1), dtype)
    return T.arange(num, dtype=dtype) * step - 1


def _grid(height: Any, width: Any, dtype: str):
    """The normalized (x, y) of every output pixel, row by row: a ``(2, height * width)``
    matrix."""
    ones_h = T.ones((height,), dtype=dtype)
    ones_w = T.ones((width,), dtype=dtype)
    xs = T.outer(ones_h, _linspace(width, dtype)).flatten()
    ys = T.outer(_linspace(height, dtype), ones_w).flatten()
    return T.stack([xs, ys])


def _numpy_grid(height: int, width: int) -> np.ndarray:
    x, y = np.meshgrid(np.linspace(-1, 1, width), np.linspace(-1, 1, height))
    return np.stack([x.ravel(), y.ravel()])


def _border_index(index, size, border_mode: str):
    """Integer ``index`` (any value) mapped into ``[0, size)``."""
    if border_mode == "nearest":
        return T.clip(index, 0, size - 1)
    if border_mode == "wrap":
        return T.mod(index, size)
    period = T.maximum(2 * (size - 1), 1)
    folded = T.mod(index, period)
    return T.minimum(folded, period - folded)


def _sample(input, x, y, out_height, out_width, border_mode: str):
    """Bilinear samples of ``input`` (batch, channels, rows, cols) at the normalized points
    ``x, y`` (each ``(batch, out_height * out_width)``): ``(batch, channels, out_height,
    out_width)``."""
    batch, channels, height, width = (input.shape[a] for a in range(4))
    dtype = input.dtype
    u = (x + 1) * (T.cast(width, dtype) - 1) / 2
    v = (y + 1) * (T.cast(height, dtype) - 1) / 2
    u0, v0 = T.floor(u), T.floor(v)
    du, dv = u - u0, v - v0
    cols = [_border_index(T.cast(u0, "int64") + k, width, border_mode) for k in (0, 1)]
    rows = [_border_index(T.cast(v0, "int64") + k, height, border_mode) for k in (0, 1)]
    # Look the pixels up in the (batch * rows * cols, channels) matrix of the input.
    pixels = input.dimshuffle(0, 2, 3, 1).reshape((-1, channels))
    base = T.shape_padright(T.arange(batch, dtype="int64") * (height * width), 1)
    weights = {(0, 0): (1 - du) * (1 - dv), (1, 0): du * (1 - dv),
               (0, 1): (1 - du) * dv, (1, 1): du * dv}
    total = None
    for (a, b), weight in weights.items():
        index = (base + rows[b] * width + cols[a]).flatten()
        term = pixels[index] * T.shape_padright(weight.flatten(), 1)
        total = term if total is None else total + term
    out = total.reshape((batch, out_height, out_width, channels))
    return out.dimshuffle(0, 3, 1, 2)


def _output_sizes(layer: MergeLayer, input) -> tuple:
    """The output's rows and columns: known ints, or expressions of the input's sizes."""
    sizes = []
    for a, (known, factor) in enumerate(zip(layer.output_shape[2:], layer.downsample_factor)):
        if known is not None:
            sizes.append(known)
        else:
            size = T.cast(input.shape[2 + a], "float64")
            sizes.append(T.cast(T.floor(size / factor), "int64"))
    return tuple(sizes)


class _SpatialTransformer(MergeLayer):
    """What both transformers share: the inputs, the checks and the output shape."""

    def __init__(self, incoming: Any, localization_network: Any, downsample_factor: Any,
                 border_mode: str, parameters: int, what: str, **kwargs):
        super().__init__([incoming, localization_network], **kwargs)
        self.downsample_factor = as_tuple(downsample_factor, 2)
        if any(not f > 0 for f in self.downsample_factor):
            raise ValueError(f"downsample_factor must be positive, got {downsample_factor!r}")
        if border_mode not in _BORDER_MODES:
            raise ValueError(f"border_mode must be one of {_BORDER_MODES}, got "
                             f"{border_mode!r}")
        self.border_mode = border_mode
        input_shape, loc_shape = self.input_shapes
        if len(loc_shape) != 2 or loc_shape[-1] != parameters:
            raise ValueError(f"The localization network must have output shape: (batch_size, "
                             f"{what}), got {loc_shape}")
        if len(input_shape) != 4:
            raise ValueError("The input network must have a 4-dimensional output shape: "
                             "(batch_size, num_input_channels, input_rows, input_columns), "
                             f"got {input_shape}")
        if any(s is not None and s // f < 1 for s, f in zip(input_shape[2:],
                                                             self.downsample_factor)):
            raise ValueError(f"downsample_factor {self.downsample_factor} leaves no output "
                             f"pixels of an input of {input_shape}")

    def get_output_shape_for(self, input_shapes):
        shape = input_shapes[0]
        return tuple(shape[:2]) + tuple(None if s is None else int(s // f)
                                        for s, f in zip(shape[2:], self.downsample_factor))


class TransformerLayer(_SpatialTransformer):
    """Samples the input on a grid moved by an affine transformation.

    The localization network gives ``theta`` of shape ``(batch, 6)``, read as the 2x3 matrix
    that maps an output pixel's normalized ``(x_t, y_t, 1)`` to the input point ``(x_s,
    y_s)``; ``[1, 0, 0, 0, 1, 0]`` is the identity. See :mod:`exprc.nn.layers.transformer`
    for the sampling.

    Parameters
    ----------
    incoming : Layer or tuple
        The images, ``(batch, channels, rows, columns)``.
    localization_network : Layer
        Gives ``(batch, 6)``; use a linear output.
    downsample_factor : float or (float, float)
        The output has ``rows // factor`` rows and ``columns // factor`` columns.
    border_mode : {'nearest', 'mirror', 'wrap'}
        Where points outside the input take their values.

    Examples
    --------
    >>> import numpy as np
    >>> from exprc.nn import init
    >>> from exprc.nn.layers import InputLayer, DenseLayer, TransformerLayer
    >>> l_in = InputLayer((None, 3, 28, 28))
    >>> identity = np.array([1, 0, 0, 0, 1, 0], dtype='float64')
    >>> l_loc = DenseLayer(l_in, 6, W=init.Constant(0.0), b=identity, nonlinearity=None)
    >>> TransformerLayer(l_in, l_loc, downsample_factor=2).output_shape
    (None, 3, 14, 14)
    """

    def __init__(self, incoming: Any, localization_network: Any, downsample_factor: Any = 1,
                 border_mode: str = "nearest", **kwargs):
        super().__init__(incoming, localization_network, downsample_factor, border_mode, 6,
                         "6", **kwargs)

    def get_output_for(self, inputs, **kwargs):
        input, theta = inputs
        out_height, out_width = _output_sizes(self, input)
        grid = _grid(out_height, out_width, input.dtype)   # (2, points)
        theta = T.cast(theta, input.dtype).reshape((-1, 2, 3))
        points = T.dot(theta[:, :, :2], grid) + T.shape_padright(theta[:, :, 2], 1)
        return _sample(input, points[:, 0], points[:, 1], out_height, out_width,
                       self.border_mode)


def _tps_kernel(r2):
    """The thin plate spline's radial function of a squared distance: ``r2 * log(r2)``, 0 at
    0 (Bookstein's ``r^2 log r`` up to a factor 2 that the solved weights absorb)."""
    return T.switch(T.gt(r2, 0), r2 * T.log(T.maximum(r2, 1e-30)), 0)


def _numpy_tps_kernel(r2: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r2 > 0, r2 * np.log(np.where(r2 > 0, r2, 1)), 0.0)


class TPSTransformerLayer(_SpatialTransformer):
    """Samples the input on a grid warped by a thin plate spline (Bookstein, 1989).

    ``control_points`` source points lie on a regular grid over ``[-1, 1]^2`` (row by row);
    the localization network gives their displacements, ``(batch, 2 * control_points)`` (all
    x offsets, then all y offsets). The spline ``f`` with ``f(source_i) = source_i +
    offset_i`` that minimizes the bending energy maps each output pixel's normalized
    coordinates to the input point it samples (see :mod:`exprc.nn.layers.transformer`); zero
    offsets give the identity.

    Parameters
    ----------
    incoming : Layer or tuple
        The images, ``(batch, channels, rows, columns)``.
    localization_network : Layer
        Gives ``(batch, 2 * control_points)``.
    downsample_factor : float or (float, float)
        As for :class:`TransformerLayer`.
    control_points : int
        A perfect square (default 16).
    precompute_grid : 'auto' or bool
        Compute the spline's basis at the output pixels once, when the layer is built (needs
        the input's rows and columns; 'auto' does it when they are known), rather than in the
        graph. Both give the same values.
    border_mode : {'nearest', 'mirror', 'wrap'}
    """

    def __init__(self, incoming: Any, localization_network: Any, downsample_factor: Any = 1,
                 control_points: int = 16, precompute_grid: Any = "auto",
                 border_mode: str = "nearest", **kwargs):
        side = int(round(np.sqrt(control_points))) if control_points > 0 else 0
        if side < 1 or side * side != control_points:
            raise ValueError("The number of control points must be a perfect square.")
        super().__init__(incoming, localization_network, downsample_factor, border_mode,
                         2 * control_points, "2*control_points", **kwargs)
        self.control_points = control_points
        known = all(s is not None for s in self.output_shape[2:])
        if precompute_grid == "auto":
            precompute_grid = known
        elif precompute_grid and not known:
            raise ValueError("Grid can only be precomputed if the input height and width are "
                             "pre-specified.")
        self.precompute_grid = bool(precompute_grid)
        x, y = np.meshgrid(np.linspace(-1, 1, side), np.linspace(-1, 1, side))
        self.source_points = np.stack([x.ravel(), y.ravel()])   # (2, control_points)
        self._coefficients = self._solve_matrix()
        self._basis = self._numpy_basis(*self.output_shape[2:]) if self.precompute_grid else None

    def _solve_matrix(self) -> np.ndarray:
        """The matrix taking destination coordinates (control_points,) to the spline's
        coefficients ``[a_1, a_x, a_y, w_1, ..., w_n]``: columns 3: of ``L^-1``, with ``L =
        [[0, P^T], [P, K]]``, ``P`` rows ``(1, x_i, y_i)`` and ``K_ij = U(|c_i - c_j|)``."""
        n = self.control_points
        src = self.source_points
        r2 = ((src[:, :, None] - src[:, None, :]) ** 2).sum(axis=0)
        system = np.zeros((n + 3, n + 3))
        affine = np.concatenate([np.ones((1, n)), src])   # (3, n)
        system[:3, 3:] = affine
        system[3:, :3] = affine.T
        system[3:, 3:] = _numpy_tps_kernel(r2)
        return np.linalg.inv(system)[:, 3:]

    def _numpy_basis(self, height: int, width: int) -> np.ndarray:
        """``[1, x, y, U(|p - c_1|), ..., U(|p - c_n|)]`` at every output pixel ``p``."""
        grid = _numpy_grid(height, width)
        r2 = ((grid[:, None, :] - self.source_points[:, :, None]) ** 2).sum(axis=0)
        return np.concatenate([np.ones((1, grid.shape[1])), grid, _numpy_tps_kernel(r2)])

    def _basis_expression(self, height, width, dtype: str):
        grid = _grid(height, width, dtype)
        source = T.constant(self.source_points.astype(dtype))
        r2 = T.sqr(grid.dimshuffle(0, "x", 1) - source.dimshuffle(0, 1, "x")).sum(axis=0)
        ones = T.ones_like(grid[:1])
        return T.concatenate([ones, grid, _tps_kernel(r2)], axis=0)

    def get_output_for(self, inputs, **kwargs):
        input, offsets = inputs
        dtype = input.dtype
        out_height, out_width = _output_sizes(self, input)
        n = self.control_points
        source = T.constant(self.source_points.astype(dtype))
        destination = T.shape_padleft(source, 1) + T.cast(offsets, dtype).reshape((-1, 2, n))
        coefficients = T.dot(destination, T.constant(self._coefficients.T.astype(dtype)))
        if self.precompute_grid:
            basis = T.constant(self._basis.astype(dtype))
        else:
            basis = self._basis_expression(out_height, out_width, dtype)
        points = T.dot(coefficients, basis)   # (batch, 2, pixels)
        return _sample(input, points[:, 0], points[:, 1], out_height, out_width,
                       self.border_mode)
