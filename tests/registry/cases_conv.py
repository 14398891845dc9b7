"""Registry cases of convolution (conv2d and its gradients).

The expected values come from direct loops over every output position (and, for the
gradients, every input position a tap reads), written from the definition of a (flipped,
strided, dilated, padded, grouped) convolution, independently of exprc's reference, which
works tap by tap with ``np.einsum``.
"""

import numpy as np

import exprc.tensor as T
from exprc.tensor.nnet.conv import Conv2dGradWeights
from tests.registry import Arg, Case, add


def _pads(border_mode, kernel, dilation):
    """Padding per side of rows and cols, from Theano's definition of each border mode."""
    spans = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    if border_mode == "valid":
        return (0, 0)
    if border_mode == "full":
        return tuple(s - 1 for s in spans)
    if border_mode == "half":
        return tuple(s // 2 for s in spans)
    if isinstance(border_mode, int):
        return (border_mode, border_mode)
    return tuple(border_mode)


def _taps(x_shape, w_shape, border_mode="valid", subsample=(1, 1), filter_flip=True,
          filter_dilation=(1, 1), num_groups=1):
    """Every (n, o, i, j, c, a, b) term of the convolution as index tuples into the padded
    input, the filters and the output, with the padded input's shape."""
    n_img, channels, rows, cols = x_shape
    n_out, group_ch, kh, kw = w_shape
    ph, pw = _pads(border_mode, (kh, kw), filter_dilation)
    (sh, sw), (dh, dw) = subsample, filter_dilation
    oh = (rows + 2 * ph - ((kh - 1) * dh + 1)) // sh + 1
    ow = (cols + 2 * pw - ((kw - 1) * dw + 1)) // sw + 1
    per_group = n_out // num_groups
    terms = []
    for n in range(n_img):
        for o in range(n_out):
            for i in range(oh):
                for j in range(ow):
                    for c in range(group_ch):
                        for a in range(kh):
                            for b in range(kw):
                                fa, fb = (kh - 1 - a, kw - 1 - b) if filter_flip else (a, b)
                                terms.append(((n, (o // per_group) * group_ch + c,
                                               i * sh + a * dh, j * sw + b * dw),
                                              (o, c, fa, fb), (n, o, i, j)))
    padded = (n_img, channels, rows + 2 * ph, cols + 2 * pw)
    return terms, padded, (n_img, n_out, oh, ow), (ph, pw)


def np_conv2d(x, w, **params):
    """out[n, o, i, j] = sum over c, a, b of x_padded[...] * w[...], one term at a time."""
    terms, padded, out_shape, (ph, pw) = _taps(x.shape, w.shape, **params)
    xp = np.zeros(padded, dtype=x.dtype)
    xp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
    out = np.zeros(out_shape, dtype=x.dtype)
    for xi, wi, oi in terms:
        out[oi] += xp[xi] * w[wi]
    return out


def np_conv2d_grad_inputs(w, gy, image_hw, n_channels, **params):
    """The gradient of sum(conv2d(x, w) * gy) w.r.t. x: each term sends gy * w to its x."""
    x_shape = (gy.shape[0], n_channels, *image_hw)
    terms, padded, _, (ph, pw) = _taps(x_shape, w.shape, **params)
    gxp = np.zeros(padded, dtype=gy.dtype)
    for xi, wi, oi in terms:
        gxp[xi] += gy[oi] * w[wi]
    return gxp[:, :, ph:ph + image_hw[0], pw:pw + image_hw[1]]


def np_conv2d_grad_weights(x, gy, kernel_hw, **params):
    """The gradient of sum(conv2d(x, w) * gy) w.r.t. w: each term sends gy * x to its w."""
    groups = params.get("num_groups", 1)
    w_shape = (gy.shape[1], x.shape[1] // groups, *kernel_hw)
    terms, padded, _, (ph, pw) = _taps(x.shape, w_shape, **params)
    xp = np.zeros(padded, dtype=x.dtype)
    xp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
    gw = np.zeros(w_shape, dtype=x.dtype)
    for xi, wi, oi in terms:
        gw[wi] += gy[oi] * xp[xi]
    return gw


def _out_shape(x_shape, w_shape, params):
    return _taps(x_shape, w_shape, **params)[2]


# name -> (input shape, filter shape, conv2d parameters)
CONFIGS = {
    "valid": ((2, 3, 6, 5), (4, 3, 3, 2), {}),
    "full": ((2, 3, 6, 5), (4, 3, 3, 2), {"border_mode": "full"}),
    "half": ((2, 3, 6, 5), (4, 3, 3, 2), {"border_mode": "half"}),
    "pad_int": ((2, 3, 6, 5), (4, 3, 3, 2), {"border_mode": 1}),
    "pad_pair": ((2, 3, 6, 5), (4, 3, 3, 2), {"border_mode": (2, 1)}),
    "stride": ((2, 3, 7, 6), (4, 3, 3, 2), {"subsample": (2, 3)}),
    "half_stride": ((2, 3, 7, 6), (4, 3, 3, 3), {"border_mode": "half", "subsample": (2, 2)}),
    "dilation": ((2, 3, 7, 6), (4, 3, 3, 2), {"filter_dilation": (2, 3)}),
    "full_dilation_stride": ((2, 3, 6, 5), (4, 3, 2, 2),
                             {"border_mode": "full", "filter_dilation": (2, 1),
                              "subsample": (1, 2)}),
    "groups": ((2, 4, 6, 5), (6, 2, 3, 2), {"num_groups": 2, "border_mode": "half"}),
    "depthwise_no_flip": ((2, 3, 6, 5), (3, 1, 3, 3), {"num_groups": 3, "filter_flip": False}),
    "no_flip": ((2, 3, 6, 5), (4, 3, 3, 2),
                {"filter_flip": False, "border_mode": (1, 2), "subsample": (2, 1),
                 "filter_dilation": (1, 2)}),
    "batch1": ((1, 3, 6, 5), (4, 3, 3, 2), {"border_mode": "half"}),
    "1x1": ((2, 3, 6, 5), (4, 3, 1, 1), {}),
    "1x1_stride": ((2, 3, 6, 5), (4, 3, 1, 1), {"subsample": (2, 2), "filter_flip": False}),
}
FLOAT32 = ("valid", "half_stride", "groups", "no_flip", "1x1", "full_dilation_stride")


def _forward_case(name, dtype):
    x_shape, w_shape, params = CONFIGS[name]
    suffix = "" if dtype == "float64" else "/float32"
    return Case(f"conv2d/{name}{suffix}",
                lambda x, w, p=params: T.nnet.conv2d(x, w, **p),
                lambda x, w, p=params: np_conv2d(x, w, **p),
                [Arg(x_shape, dtype), Arg(w_shape, dtype)],
                grad=True if dtype == "float64" else "not float64",
                rtol=1e-6 if dtype == "float64" else 1e-4,
                atol=1e-8 if dtype == "float64" else 1e-5)


def _grad_cases(name, dtype="float64"):
    x_shape, w_shape, params = CONFIGS[name]
    gy_shape = _out_shape(x_shape, w_shape, params)
    image_hw, kernel_hw = x_shape[2:], w_shape[2:]
    suffix = "" if dtype == "float64" else "/float32"
    grad = True if dtype == "float64" else "not float64"
    tol = {} if dtype == "float64" else {"rtol": 1e-4, "atol": 1e-5}
    return [
        Case(f"conv2d_transpose/{name}{suffix}",
             lambda w, gy, p=params: T.nnet.conv2d_transpose(
                 gy, w, (gy_shape[0], x_shape[1], *image_hw), border_mode=p.get(
                     "border_mode", "valid"), input_dilation=p.get("subsample", (1, 1)),
                 **{k: v for k, v in p.items() if k not in ("border_mode", "subsample")}),
             lambda w, gy, p=params: np_conv2d_grad_inputs(w, gy, image_hw, x_shape[1], **p),
             [Arg(w_shape, dtype), Arg(gy_shape, dtype)], grad=grad, **tol),
        Case(f"conv2d_grad_weights/{name}{suffix}",
             lambda x, gy, p=params: Conv2dGradWeights(**p)(x, gy, np.array(kernel_hw)),
             lambda x, gy, p=params: np_conv2d_grad_weights(x, gy, kernel_hw, **p),
             [Arg(x_shape, dtype), Arg(gy_shape, dtype)], grad=grad, **tol),
    ]


add(*(_forward_case(name, "float64") for name in CONFIGS))
add(*(_forward_case(name, "float32") for name in FLOAT32))
for _name in ("half_stride", "groups", "no_flip", "full_dilation_stride", "1x1"):
    add(*_grad_cases(_name))
add(*_grad_cases("valid", "float32"))
add(Case("conv2d/static_shapes", lambda x, w: T.nnet.conv2d(x, w, border_mode="half"),
         lambda x, w: np_conv2d(x, w, border_mode="half"),
         [Arg((2, 3, 5, 4), static=(2, 3, 5, 4)), Arg((2, 3, 3, 3), static=(2, 3, 3, 3))]))
