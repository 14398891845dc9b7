"""Registry cases of pooling: ``pool_2d`` in every mode, with and without ``ignore_border``,
with windows side by side, overlapping and apart, with and without padding, and the gradient
ops on their own.

The expected values come from the direct loops below (every image, every window, every
element), written from Theano's documented rules rather than from exprc's code: windows start
at ``i * stride`` in the zero-padded image; with ``ignore_border`` only whole windows count,
without it a last partial window is kept (``(n - 1) // s + 1`` windows when ``s >= w``,
else ``max(0, (n - 1 - w + s) // s) + 1``); ``max`` and ``average_exc_pad`` see only the
input's elements, ``average_inc_pad`` divides by the number of window positions inside the
padded image.
"""

import numpy as np

from exprc.tensor.signal.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, pool_2d
from tests.registry import Arg, Case, add

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def _windows_along(n, w, s, p, ignore_border):
    padded = n + 2 * p
    if ignore_border:
        count = max(0, (padded - w) // s + 1)
    elif s >= w:
        count = (n - 1) // s + 1
    else:
        count = max(0, (n - 1 - w + s) // s) + 1
    return count, padded


def _window_positions(image_shape, i, j, ws, stride, padded):
    """The (row, column) positions of window (i, j) inside the padded image."""
    for r in range(i * stride[0], i * stride[0] + ws[0]):
        for c in range(j * stride[1], j * stride[1] + ws[1]):
            if r < padded[0] and c < padded[1]:
                yield r, c


class _Geometry:
    """Everything the loops need about one pooling of an array of ``shape``."""

    def __init__(self, shape, ws, ignore_border, stride, pad):
        self.ws, self.pad = ws, pad
        self.stride = ws if stride is None else stride
        self.lead, self.image = shape[:-2], shape[-2:]
        rows, prows = _windows_along(self.image[0], ws[0], self.stride[0], pad[0],
                                     ignore_border)
        cols, pcols = _windows_along(self.image[1], ws[1], self.stride[1], pad[1],
                                     ignore_border)
        self.out, self.padded = (rows, cols), (prows, pcols)

    def windows(self):
        """``(i, j, positions, real)``: the window's positions in the padded image, and those
        of them that hold an input element, as input coordinates, in row-major order."""
        for i in range(self.out[0]):
            for j in range(self.out[1]):
                positions = list(_window_positions(self.image, i, j, self.ws, self.stride,
                                                   self.padded))
                real = [(r - self.pad[0], c - self.pad[1]) for r, c in positions
                        if 0 <= r - self.pad[0] < self.image[0]
                        and 0 <= c - self.pad[1] < self.image[1]]
                yield i, j, positions, real


def np_pool_2d(x, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
    geo = _Geometry(x.shape, ws, ignore_border, stride, pad)
    out = np.zeros(geo.lead + geo.out, dtype=x.dtype)
    for lead in np.ndindex(*geo.lead):
        for i, j, positions, real in geo.windows():
            values = [x[lead + rc] for rc in real]
            if not values:
                continue  # only padding: the zeros' value
            if mode == "max":
                result = max(values)
            elif mode == "sum":
                result = sum(values)
            elif mode == "average_inc_pad":
                result = sum(values) / len(positions)
            else:
                result = sum(values) / len(values)
            out[lead + (i, j)] = result
    return out


def _first_max(x, lead, real):
    best = real[0]
    for rc in real[1:]:
        if x[lead + rc] > x[lead + best]:
            best = rc
    return best


def np_max_pool_grad(x, gz, ws, ignore_border=True, stride=None, pad=(0, 0)):
    geo = _Geometry(x.shape, ws, ignore_border, stride, pad)
    gx = np.zeros_like(x)
    for lead in np.ndindex(*geo.lead):
        for i, j, _, real in geo.windows():
            if real:
                gx[lead + _first_max(x, lead, real)] += gz[lead + (i, j)]
    return gx


def np_max_pool_grad_grad(x, g, ws, ignore_border=True, stride=None, pad=(0, 0)):
    geo = _Geometry(x.shape, ws, ignore_border, stride, pad)
    out = np.zeros(geo.lead + geo.out, dtype=x.dtype)
    for lead in np.ndindex(*geo.lead):
        for i, j, _, real in geo.windows():
            if real:
                out[lead + (i, j)] = g[lead + _first_max(x, lead, real)]
    return out


def np_average_pool_grad(x, gz, ws, ignore_border=True, stride=None, pad=(0, 0), mode="sum"):
    geo = _Geometry(x.shape, ws, ignore_border, stride, pad)
    gx = np.zeros_like(x)
    for lead in np.ndindex(*geo.lead):
        for i, j, positions, real in geo.windows():
            divisor = {"sum": 1, "average_inc_pad": len(positions),
                       "average_exc_pad": len(real)}[mode]
            for rc in real:
                gx[lead + rc] += gz[lead + (i, j)] / divisor
    return gx


def distinct(shape, dtype="float64"):
    """Values without ties (a scaled permutation), so that each window has one maximum and
    finite differences of max pooling are valid; far apart compared with verify_grad's step."""
    size = int(np.prod(shape))
    return Arg(shape, dtype, gen=lambda rng: (rng.permutation(size).reshape(shape)
                                              * (4.0 / max(size, 1)) - 2.0))


WS = (2, 3)
IMAGE = (2, 2, 5, 7)
STRIDES = {"adjacent": None, "overlap": (1, 2), "apart": (3, 4)}
PADS = {"": (0, 0), "/pad": (1, 2)}
# The cases whose gradients are checked (a few per mode; the others share their code paths).
GRADIENT_CHECKED = {("overlap", "/pad", True), ("adjacent", "", False), ("apart", "", True)}


def _pool_case(name, mode, ignore_border, stride, pad, grad):
    kwargs = {"ws": WS, "ignore_border": ignore_border, "stride": stride, "pad": pad, "mode": mode}
    return Case(name, lambda x, k=kwargs: pool_2d(x, **k),
                lambda x, k=kwargs: np_pool_2d(x, **k), [distinct(IMAGE)], grad=grad)


for _mode in MODES:
    for _sname, _stride in STRIDES.items():
        for _pname, _pad in PADS.items():
            for _ib in (True, False):
                if _pad != (0, 0) and not _ib:
                    continue  # padding requires ignore_border
                _checked = (_sname, _pname, _ib) in GRADIENT_CHECKED
                add(_pool_case(f"pool_2d/{_mode}/{_sname}{_pname}/ignore_border={_ib}", _mode,
                               _ib, _stride, _pad,
                               True if _checked else "checked on other geometries"))

for _mode in MODES:
    add(
        Case(f"pool_2d/{_mode}/rank3", lambda x, m=_mode: pool_2d(x, (2, 2), mode=m),
             lambda x, m=_mode: np_pool_2d(x, (2, 2), mode=m), [distinct((3, 5, 4))]),
        Case(f"pool_2d/{_mode}/rank5_partial",
             lambda x, m=_mode: pool_2d(x, (3, 2), ignore_border=False, stride=(2, 1), mode=m),
             lambda x, m=_mode: np_pool_2d(x, (3, 2), False, (2, 1), mode=m),
             [distinct((2, 1, 2, 5, 4))]),
        Case(f"pool_2d/{_mode}/transposed_input",
             lambda x, m=_mode: pool_2d(x.dimshuffle(1, 0, 3, 2), (2, 2), stride=(1, 1),
                                        pad=(1, 1), mode=m),
             lambda x, m=_mode: np_pool_2d(x.transpose(1, 0, 3, 2), (2, 2), stride=(1, 1),
                                           pad=(1, 1), mode=m),
             [distinct((3, 2, 4, 5))]),
        Case(f"pool_2d/{_mode}/float32",
             lambda x, m=_mode: pool_2d(x, (2, 2), stride=(1, 1), pad=(1, 0), mode=m),
             lambda x, m=_mode: np_pool_2d(x, (2, 2), stride=(1, 1), pad=(1, 0), mode=m),
             [distinct((2, 3, 5, 4), "float32")], grad="not float64", rtol=1e-5),
        # Theano's rule gives no window when ws exceeds the input and borders are ignored.
        Case(f"pool_2d/{_mode}/window_larger_than_input",
             lambda x, m=_mode: pool_2d(x, (3, 3), mode=m),
             lambda x, m=_mode: np_pool_2d(x, (3, 3), mode=m), [Arg((2, 2, 2))],
             grad="empty output"),
        # An empty axis with padding leaves windows entirely in padding: they hold 0.
        Case(f"pool_2d/{_mode}/empty_padded",
             lambda x, m=_mode: pool_2d(x, (2, 2), pad=(1, 1), mode=m),
             lambda x, m=_mode: np_pool_2d(x, (2, 2), pad=(1, 1), mode=m), [Arg((2, 0, 4))],
             grad="empty input"),
    )

# The gradient ops on their own (their registry gradients are the second derivatives).
_OVERLAP = {"ws": (2, 2), "ignore_border": True, "stride": (1, 1), "pad": (1, 1)}
_PARTIAL = {"ws": (2, 3), "ignore_border": False, "stride": (2, 2), "pad": (0, 0)}
for _gname, _geo in {"overlap_pad": _OVERLAP, "partial": _PARTIAL}.items():
    _x = distinct((2, 4, 5))
    _pooled = (2,) + _Geometry((4, 5), _geo["ws"], _geo["ignore_border"], _geo["stride"],
                               _geo["pad"]).out
    add(
        Case(f"max_pool_grad/{_gname}", lambda x, gz, g=_geo: MaxPoolGrad(**g)(x, gz),
             lambda x, gz, g=_geo: np_max_pool_grad(x, gz, **g), [_x, Arg(_pooled)]),
        Case(f"max_pool_grad_grad/{_gname}", lambda x, v, g=_geo: MaxPoolGradGrad(**g)(x, v),
             lambda x, v, g=_geo: np_max_pool_grad_grad(x, v, **g), [_x, Arg((2, 4, 5))]),
    )
    for _mode in MODES[1:]:
        add(Case(f"average_pool_grad/{_mode}/{_gname}",
                 lambda x, gz, g=_geo, m=_mode: AveragePoolGrad(**g, mode=m)(x, gz),
                 lambda x, gz, g=_geo, m=_mode: np_average_pool_grad(x, gz, **g, mode=m),
                 [Arg((2, 4, 5)), Arg(_pooled)]))
