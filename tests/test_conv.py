"""conv2d and its gradients: API behaviour, errors, conv2d_transpose, the C kernels on the
LeNet shapes against the reference executor, and the C kernels' output sizes against
:func:`conv_output_size` over a grid. Forward values and first gradients of every border mode,
stride, dilation, group count and flip are in tests/registry/cases_conv.py."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError, ExprcTypeError
from exprc.gradient import verify_grad
from exprc.tensor.nnet.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights
from tests.registry.cases_conv import np_conv2d, np_conv2d_grad_inputs, np_conv2d_grad_weights

RNG = np.random.default_rng(0)


def _rand(*shape, dtype="float64"):
    return RNG.standard_normal(shape).astype(dtype)


def test_true_convolution_flips_the_filter_and_correlation_does_not():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0  # an impulse: the output is the filter, flipped or not
    w = np.arange(9.0).reshape(1, 1, 3, 3)
    conv = T.nnet.conv2d(x, w, border_mode="half").eval()[0, 0]
    corr = T.nnet.conv2d(x, w, border_mode="half", filter_flip=False).eval()[0, 0]
    np.testing.assert_array_equal(conv, w[0, 0])
    np.testing.assert_array_equal(corr, w[0, 0, ::-1, ::-1])


@pytest.mark.parametrize("border_mode, expected", [
    ("valid", (2, 4, 4, 4)), ("full", (2, 4, 8, 6)), ("half", (2, 4, 6, 6)),
    (1, (2, 4, 6, 6)), ((2, 0), (2, 4, 8, 4))])
def test_static_output_shape_follows_each_border_mode(border_mode, expected):
    x = T.tensor("float64", shape=(2, 3, 6, 5))
    w = T.tensor("float64", shape=(4, 3, 3, 2))
    y = T.nnet.conv2d(x, w, border_mode=border_mode)
    assert y.type.shape == expected
    f = exprc.function([x, w], y)
    assert f(_rand(2, 3, 6, 5), _rand(4, 3, 3, 2)).shape == expected


def test_shape_hints_give_the_static_shape_and_are_checked():
    x, w = T.tensor4("x"), T.tensor4("w")
    y = T.nnet.conv2d(x, w, input_shape=(None, 3, 7, 7), filter_shape=(5, 3, 3, 3),
                      subsample=(2, 2))
    assert y.type.shape == (None, 5, 3, 3)
    f = exprc.function([x, w], y)
    with pytest.raises(ValueError):  # the hint is checked at run time too
        f(_rand(1, 3, 8, 7), _rand(5, 3, 3, 3))
    fixed = T.tensor("float64", shape=(2, 3, 6, 6))
    with pytest.raises(ExprcShapeError, match="input_shape"):
        T.nnet.conv2d(fixed, w, input_shape=(2, 4, 6, 6))
    with pytest.raises(ExprcShapeError, match="filter_shape"):
        T.nnet.conv2d(x, w, filter_shape=(5, 3, 3))


def test_wrong_rank_and_dtype_are_build_errors_naming_the_op():
    with pytest.raises(ExprcShapeError, match="Conv2d.*input.*4-d"):
        T.nnet.conv2d(T.matrix("x"), T.tensor4("w"))
    with pytest.raises(ExprcShapeError, match="Conv2d.*filters.*4-d"):
        T.nnet.conv2d(T.tensor4("x"), T.tensor3("w"))
    with pytest.raises(ExprcTypeError, match="border_mode"):
        T.nnet.conv2d(T.tensor4("x"), T.tensor4("w"), border_mode="same")
    with pytest.raises(ExprcShapeError, match=r"conv2d: subsample must lie in \[1, "):
        T.nnet.conv2d(T.tensor4("x"), T.tensor4("w"), subsample=(0, 1))


@pytest.mark.parametrize("kwargs", [
    {"subsample": (2 ** 70, 1)},  # once a wrapped C constant: a division by zero at run time
    {"filter_dilation": (1, 2 ** 40)},
    {"border_mode": (2 ** 62, 0)},
])
def test_geometry_beyond_32_bits_is_refused_when_the_graph_is_built(kwargs):
    with pytest.raises(ExprcShapeError, match=r"conv2d: .* must lie in \[., 2\*\*31 - 1\]"):
        T.nnet.conv2d(T.tensor4("x"), T.tensor4("w"), **kwargs)
    with pytest.raises(ExprcTypeError, match="num_groups"):
        T.nnet.conv2d(T.tensor4("x"), T.tensor4("w"), num_groups=2 ** 40)


def test_dilated_span_beyond_64_bits_is_an_error_in_c():
    # An empty filter array may claim any size: (2**34 - 1) * 2**30 overflows int64.
    x, w = T.tensor4("x"), T.tensor4("w")
    f = exprc.function([x, w], T.nnet.conv2d(x, w, filter_dilation=(2 ** 30, 1),
                                             border_mode="full"), mode="FAST_RUN")
    with pytest.raises(ValueError, match=r"Conv2d.*span more than 2\*\*31 - 1"):
        f(np.zeros((1, 1, 3, 3), x.dtype), np.empty((0, 1, 2 ** 34, 1), w.dtype))


def test_channel_mismatch_names_the_op_and_the_shapes():
    x = T.tensor("float64", shape=(2, 3, 6, 6))
    w = T.tensor("float64", shape=(4, 2, 3, 3))
    with pytest.raises(ExprcShapeError, match=r"Conv2d: .*3 channels.*\(4, 2, 3, 3\)"):
        T.nnet.conv2d(x, w)
    with pytest.raises(ExprcShapeError, match="do not split into 2 groups"):
        T.nnet.conv2d(x, T.tensor("float64", shape=(4, 1, 3, 3)), num_groups=2)


@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
def test_channel_mismatch_at_run_time_names_the_op(mode):
    x, w = T.tensor4("x"), T.tensor4("w")
    f = exprc.function([x, w], T.nnet.conv2d(x, w), mode=mode)
    with pytest.raises(ValueError, match=r"Conv2d.*3 channels.*\(4, 2, 3, 3\)"):
        f(_rand(2, 3, 6, 6), _rand(4, 2, 3, 3))


def test_filter_larger_than_padded_input_is_a_build_error_when_sizes_are_known():
    x = T.tensor("float64", shape=(1, 1, 4, 4))
    w = T.tensor("float64", shape=(1, 1, 5, 3))
    with pytest.raises(ExprcShapeError, match="larger than the padded input"):
        T.nnet.conv2d(x, w)
    assert T.nnet.conv2d(x, w, border_mode=1).type.shape == (1, 1, 2, 4)


@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
def test_filter_larger_than_padded_input_at_run_time(mode):
    x, w = T.tensor4("x"), T.tensor4("w")
    f = exprc.function([x, w], T.nnet.conv2d(x, w, filter_dilation=(2, 1)), mode=mode)
    with pytest.raises(ValueError, match="Conv2d.*larger than the input of 4 x 4"):
        f(_rand(1, 1, 4, 4), _rand(1, 1, 3, 3))  # dilated, the filter spans 5 rows



@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
def test_negative_sizes_given_to_the_gradient_ops_are_errors(mode):
    w, gy, x, size = T.tensor4("w"), T.tensor4("gy"), T.tensor4("x"), T.lvector("size")
    gi = exprc.function([w, gy, size], Conv2dGradInputs()(w, gy, size), mode=mode)
    gw = exprc.function([x, gy, size], Conv2dGradWeights()(x, gy, size), mode=mode)
    with pytest.raises(ValueError, match="Conv2dGradInputs: negative input size"):
        gi(_rand(1, 1, 2, 2), _rand(1, 1, 2, 2), np.array([-1, 3]))
    with pytest.raises(ValueError, match="Conv2dGradWeights: .*(negative filter size|empty "
                                         "filters of shape)"):
        gw(_rand(1, 1, 3, 3), _rand(1, 1, 2, 2), np.array([-1, 3]))

@pytest.mark.parametrize("params", [
    {}, {"border_mode": "half", "subsample": (2, 2)},
    {"border_mode": (1, 2), "filter_dilation": (2, 1), "filter_flip": False},
    {"border_mode": "full", "num_groups": 2, "subsample": (1, 2)}])
def test_conv2d_transpose_is_the_input_gradient_of_conv2d(params):
    x_val, w_val = _rand(2, 4, 7, 6), _rand(6, 4 // params.get("num_groups", 1), 3, 2)
    x, w, gy = T.tensor4("x"), T.tensor4("w"), T.tensor4("gy")
    y = T.nnet.conv2d(x, w, **params)
    gy_val = _rand(*exprc.function([x, w], y)(x_val, w_val).shape)
    expected = exprc.function([x, w, gy], exprc.grad((y * gy).sum(), x),
                              on_unused_input="ignore")(x_val, w_val, gy_val)
    transposed = T.nnet.conv2d_transpose(
        gy, w, (None, 4, 7, 6), border_mode=params.get("border_mode", "valid"),
        input_dilation=params.get("subsample", (1, 1)),
        **{k: v for k, v in params.items() if k not in ("border_mode", "subsample")})
    assert transposed.type.shape == (None, 4, 7, 6)
    got = exprc.function([w, gy], transposed)(w_val, gy_val)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_second_derivatives_through_the_gradient_ops():
    x_val, w_val = _rand(2, 2, 5, 4), _rand(3, 2, 2, 3)

    def filter_gradient_of_square(x, w):
        y = T.nnet.conv2d(x, w, border_mode="half", subsample=(2, 1))
        return exprc.grad((y ** 2).sum(), w)

    verify_grad(filter_gradient_of_square, [x_val, w_val], rng=np.random.default_rng(3))


def test_gradient_nodes_are_the_two_gradient_ops():
    x, w = T.tensor4("x"), T.tensor4("w")
    gx, gw = exprc.grad(T.nnet.conv2d(x, w, num_groups=1).sum(), [x, w])
    assert isinstance(gx.owner.op, Conv2dGradInputs)
    assert isinstance(gw.owner.op, Conv2dGradWeights)


def test_non_contiguous_operands_in_c():
    x, w = T.tensor4("x"), T.tensor4("w")
    y = T.nnet.conv2d(x[:, :, ::-1, ::2], w.dimshuffle(0, 1, 3, 2), border_mode="half")
    x_val, w_val = _rand(2, 3, 6, 9), _rand(4, 3, 2, 3)
    got = exprc.function([x, w], y)(x_val, w_val)
    expected = np_conv2d(x_val[:, :, ::-1, ::2], w_val.transpose(0, 1, 3, 2),
                         border_mode="half")
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_empty_batch_gives_empty_output_and_zero_filter_gradient():
    x, w = T.tensor4("x"), T.tensor4("w")
    y = T.nnet.conv2d(x, w)
    f = exprc.function([x, w], [y, exprc.grad(y.sum(), w)])
    out, gw = f(np.zeros((0, 2, 5, 5)), _rand(3, 2, 3, 3))
    assert out.shape == (0, 3, 3, 3)
    np.testing.assert_array_equal(gw, np.zeros((3, 2, 3, 3)))


@pytest.mark.parametrize("x_shape, w_shape", [((128, 1, 28, 28), (20, 1, 5, 5)),
                                              ((128, 20, 12, 12), (50, 20, 5, 5))])
def test_lenet_shapes_in_c_match_the_reference(x_shape, w_shape):
    """The LeNet convolutions (batch 128, float32): forward and both gradients, C against the
    reference executor (chunks of images, a last partial chunk, one product per chunk)."""
    x = T.tensor("float32", shape=(None,) * 4)
    w = T.tensor("float32", shape=(None,) * 4)
    gy = T.tensor("float32", shape=(None,) * 4)
    y = T.nnet.conv2d(x, w)
    gx, gw = exprc.grad((y * gy).sum(), [x, w])
    values = [_rand(*x_shape, dtype="float32"), _rand(*w_shape, dtype="float32")]
    n, o = x_shape[0], w_shape[0]
    side = x_shape[2] - w_shape[2] + 1
    values.append(_rand(n, o, side, side, dtype="float32"))
    c_results = exprc.function([x, w, gy], [y, gx, gw])(*values)
    ref_results = exprc.function([x, w, gy], [y, gx, gw], mode="REFERENCE")(*values)
    for got, expected in zip(c_results, ref_results):
        assert got.dtype == np.float32 and got.shape == expected.shape
        scale = np.abs(expected).max()
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * scale)


def test_ops_compare_by_their_parameters():
    assert Conv2d("half", 2) == Conv2d("half", (2, 2))
    assert Conv2d((0, 0)) == Conv2d("valid")
    assert Conv2d(filter_flip=False) != Conv2d()
    assert str(Conv2d("half", (2, 1))) == "Conv2d{border_mode='half', subsample=(2, 1)}"


#: (subsample, filter_dilation) pairs of the grid below, for each border mode.
STRIDES_AND_DILATIONS = [((1, 1), (1, 1)), ((2, 3), (1, 1)), ((1, 1), (2, 3)), ((3, 2), (2, 1))]
#: (rows, cols, filter rows, filter cols): filters smaller than, as large as and (without
#: padding) larger than the input.
CONV_SIZES = [(1, 1, 1, 1), (2, 5, 3, 2), (5, 4, 2, 3), (7, 6, 3, 3), (4, 3, 1, 4)]


@pytest.mark.parametrize("border_mode", ["valid", "full", "half", 1, (2, 0)])
def test_c_output_sizes_follow_conv_output_size_over_a_grid(border_mode):
    """Each geometry compiled in the default (C) mode: the output's shape is the Python rule's,
    the values and both gradients those of the direct loops, and a filter that the rule says
    does not fit is a run-time error."""
    x, w, gy = T.tensor4("x"), T.tensor4("w"), T.tensor4("gy")
    for subsample, dilation in STRIDES_AND_DILATIONS:
        params = {"border_mode": border_mode, "subsample": subsample,
                  "filter_dilation": dilation}
        y = T.nnet.conv2d(x, w, **params)
        f = exprc.function([x, w, gy], [y, *exprc.grad((y * gy).sum(), [x, w])])
        assert {backend for _, backend in f.placement()} == {"c"}
        for rows, cols, kh, kw in CONV_SIZES:
            where = f"{params}, input {rows}x{cols}, filter {kh}x{kw}"
            x_val, w_val = _rand(1, 2, rows, cols), _rand(3, 2, kh, kw)
            sizes = Conv2d(**params).output_sizes((rows, cols), (kh, kw))
            if min(sizes) < 1:
                with pytest.raises(ValueError, match="larger than the input"):
                    f(x_val, w_val, np.zeros((1, 3, 1, 1)))
                continue
            gy_val = _rand(1, 3, *sizes)
            out, gx, gw = f(x_val, w_val, gy_val)
            assert out.shape == (1, 3, *sizes), where
            np.testing.assert_allclose(out, np_conv2d(x_val, w_val, **params), rtol=1e-10,
                                       atol=1e-12, err_msg=where)
            np.testing.assert_allclose(gx, np_conv2d_grad_inputs(w_val, gy_val, (rows, cols), 2,
                                                                 **params),
                                       rtol=1e-10, atol=1e-12, err_msg=where)
            np.testing.assert_allclose(gw, np_conv2d_grad_weights(x_val, gy_val, (kh, kw),
                                                                  **params),
                                       rtol=1e-10, atol=1e-12, err_msg=where)


# ---------------------------------------------------------------------- filters without taps
EMPTY_TAPS = [(2, 3, 0, 3), (2, 3, 3, 0), (2, 3, 0, 0)]


@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
@pytest.mark.parametrize("border_mode", ["valid", "full", "half", (1, 2)])
@pytest.mark.parametrize("w_shape", EMPTY_TAPS)
def test_filters_without_taps_are_an_error_on_every_executor_and_op(mode, border_mode, w_shape):
    """C refused them and REFERENCE returned zeros (or failed inside NumPy for 'full'): a
    filter of 0 rows or columns has a dilated span < 1, which no border mode gives a meaning
    to. The forward op and both gradient ops refuse it, naming the op and the filters."""
    x, w, gy, size = T.tensor4("x"), T.tensor4("w"), T.tensor4("gy"), T.lvector("size")
    params = dict(border_mode=border_mode)
    forward = exprc.function([x, w], T.nnet.conv2d(x, w, **params), mode=mode)
    grad_inputs = exprc.function([w, gy, size], Conv2dGradInputs(**params)(w, gy, size),
                                 mode=mode)
    grad_weights = exprc.function([x, gy, size], Conv2dGradWeights(**params)(x, gy, size),
                                  mode=mode)
    shape = str(w_shape).replace("(", r"\(").replace(")", r"\)")
    calls = [("Conv2d", forward, (_rand(1, 3, 5, 5), np.zeros(w_shape))),
             ("Conv2dGradInputs", grad_inputs, (np.zeros(w_shape), _rand(1, 2, 5, 5),
                                                np.array([5, 5]))),
             ("Conv2dGradWeights", grad_weights, (_rand(1, 3, 5, 5), _rand(1, 2, 5, 5),
                                                  np.array(w_shape[2:])))]
    for name, f, args in calls:
        with pytest.raises(ValueError, match=rf"{name}.*: empty filters of shape {shape}"):
            f(*args)


def test_filters_without_taps_are_a_build_error_when_sizes_are_known():
    x = T.tensor("float64", shape=(1, 3, 5, 5))
    for w_shape, name in (((2, 3, 0, 3), "0 rows"), ((2, 3, 3, 0), "0 cols")):
        with pytest.raises(ExprcShapeError, match=f"Conv2d: empty filters of {name}"):
            T.nnet.conv2d(x, T.tensor("float64", shape=w_shape))
    with pytest.raises(ExprcShapeError, match="Conv2dGradWeights: empty filters of 0 cols"):
        Conv2dGradWeights()(T.tensor4("x"), T.tensor4("gy"), np.array([3, 0]))


@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
def test_filters_without_channels_still_give_an_empty_output_or_zeros(mode):
    x, w = T.tensor4("x"), T.tensor4("w")
    y = T.nnet.conv2d(x, w, border_mode="full")
    f = exprc.function([x, w], [y, exprc.grad(y.sum(), x)], mode=mode)
    out, gx = f(_rand(1, 3, 5, 5), np.zeros((0, 3, 3, 3)))
    assert out.shape == (1, 0, 7, 7)
    np.testing.assert_array_equal(gx, np.zeros((1, 3, 5, 5)))
    np.testing.assert_array_equal(f(np.zeros((1, 0, 5, 5)), np.zeros((2, 0, 3, 3)))[0],
                                  np.zeros((1, 2, 7, 7)))
