"""The layers of Lasagne's list beyond the basic ones: convolutions in 1, 2 and 3 dimensions
(grouped, transposed, dilated, locally connected), pooling in 1 and 3 dimensions, upscaling,
feature and pyramid pooling, padding and slicing, local response and standardization
normalizations, parametric and randomized rectifiers, dropout shortcuts, spatial
transformers, inverse and expression layers.

Each layer's output is compared with a NumPy computation of the documented formula written
here (loops over output positions, scatters, explicit windows), its ``get_output_shape``
with the shape of what it computes, its parameters with their shapes and tags, and, where it
has parameters, its gradient with finite differences. Most functions run in the reference
executor (FAST_COMPILE); a few run in the C backend (FAST_RUN) as well.
"""

import math
import warnings

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.gradient import verify_grad
from exprc.nn import init
from exprc.nn import layers as L
from exprc.nn import nonlinearities as NL

MODE = "FAST_COMPILE"


@pytest.fixture
def rng():
    return np.random.default_rng(20240607)


def _input_layers(layer):
    return [lay for lay in L.get_all_layers(layer) if isinstance(lay, L.InputLayer)]


def _run(layer, *values, mode=MODE, **kwargs):
    """``layer``'s output for ``values`` given to its input layers in network order."""
    expr = L.get_output(layer, **kwargs)
    inputs = [lay.input_var for lay in _input_layers(layer)]
    return exprc.function(inputs, expr, mode=mode)(*values)


def _check(layer, values, expected, rtol=1e-10, atol=1e-12):
    """Output against ``expected``, and ``get_output_shape`` against the output's shape."""
    values = values if isinstance(values, list) else [values]
    got = _run(layer, *values)
    shapes = {lay: v.shape for lay, v in zip(_input_layers(layer), values)}
    assert L.get_output_shape(layer, shapes) == got.shape
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
    return got


def _relu(x):
    return np.maximum(x, 0)


# ---------------------------------------------------------------- NumPy references: convs
def np_conv(x, w, stride, pad, dilation=None, flip=True, groups=1):
    """n-d convolution by a loop over output positions: ``w`` is (filters, channels /
    groups, taps...); ``pad`` one int per axis; ``flip`` reverses every tap axis."""
    n = x.ndim - 2
    dilation = dilation or (1,) * n
    x = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    if flip:
        w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * n]
    filters, group_channels = w.shape[:2]
    spans = [(k - 1) * d + 1 for k, d in zip(w.shape[2:], dilation)]
    sizes = [(s - span) // st + 1 for s, span, st in zip(x.shape[2:], spans, stride)]
    out = np.zeros((x.shape[0], filters) + tuple(sizes))
    per_group = filters // groups
    axes = list(range(1, n + 2))
    for pos in np.ndindex(*sizes):
        region = tuple(slice(p * s, p * s + span, d)
                       for p, s, span, d in zip(pos, stride, spans, dilation))
        patch = x[(slice(None), slice(None)) + region]
        for g in range(groups):
            fs = slice(g * per_group, (g + 1) * per_group)
            cs = slice(g * group_channels, (g + 1) * group_channels)
            out[(slice(None), fs) + pos] = np.tensordot(patch[:, cs], w[fs], axes=(axes, axes))
    return out


def np_conv_transpose(y, w, stride, crop, flip_filters, output_size=None):
    """Transposed convolution by scattering: every input entry adds itself times the filters
    (``w`` is (input channels, filters, taps...)) at its strided position; with
    ``flip_filters=False`` the taps are reversed (the adjoint of a true convolution). Then
    ``crop`` entries are cut from the start of each axis and the result is ``output_size``
    long (default: the full size minus ``2 * crop``)."""
    n = y.ndim - 2
    taps = w.shape[2:]
    if not flip_filters:
        w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * n]
    full = [(d - 1) * s + k for d, s, k in zip(y.shape[2:], stride, taps)]
    sizes = output_size or [f - 2 * c for f, c in zip(full, crop)]
    big = [max(f, c + s) for f, c, s in zip(full, crop, sizes)]
    out = np.zeros((y.shape[0], w.shape[1]) + tuple(big))
    for pos in np.ndindex(*y.shape[2:]):
        region = tuple(slice(p * s, p * s + k) for p, s, k in zip(pos, stride, taps))
        out[(slice(None), slice(None)) + region] += np.tensordot(
            y[(slice(None), slice(None)) + pos], w, axes=([1], [0]))
    return out[(slice(None), slice(None)) + tuple(slice(c, c + s) for c, s in zip(crop, sizes))]


# ------------------------------------------------------------------ convolution layers
def test_every_layer_of_lasagnes_list_is_exported():
    names = """get_output get_output_shape get_all_layers get_all_params count_params
        get_all_param_values set_all_param_values Layer MergeLayer InputLayer DenseLayer
        NINLayer Conv1DLayer Conv2DLayer Conv3DLayer TransposedConv1DLayer
        TransposedConv2DLayer TransposedConv3DLayer Deconv1DLayer Deconv2DLayer Deconv3DLayer
        DilatedConv2DLayer LocallyConnected2DLayer MaxPool1DLayer MaxPool2DLayer
        MaxPool3DLayer Pool1DLayer Pool2DLayer Pool3DLayer Upscale1DLayer Upscale2DLayer
        Upscale3DLayer GlobalPoolLayer FeaturePoolLayer FeatureWTALayer
        SpatialPyramidPoolingLayer CustomRecurrentLayer RecurrentLayer LSTMLayer GRULayer Gate
        DropoutLayer dropout dropout_channels spatial_dropout dropout_locations
        GaussianNoiseLayer ReshapeLayer reshape FlattenLayer flatten DimshuffleLayer dimshuffle
        PadLayer pad SliceLayer ConcatLayer concat ElemwiseMergeLayer ElemwiseSumLayer
        LocalResponseNormalization2DLayer BatchNormLayer batch_norm StandardizationLayer
        instance_norm layer_norm EmbeddingLayer NonlinearityLayer BiasLayer ScaleLayer
        standardize ExpressionLayer InverseLayer TransformerLayer TPSTransformerLayer
        ParametricRectifierLayer prelu RandomizedRectifierLayer rrelu autocrop""".split()
    assert [name for name in names if not hasattr(L, name)] == []
    assert L.Deconv2DLayer is L.TransposedConv2DLayer and L.spatial_dropout is L.dropout_channels


def test_conv_layer_shapes_params_and_errors():
    l1 = L.InputLayer((None, 4, 9))
    assert L.Conv1DLayer(l1, 6, 3).output_shape == (None, 6, 7)
    assert L.Conv1DLayer(l1, 6, 3, stride=2, pad="full").output_shape == (None, 6, 6)
    grouped = L.Conv1DLayer(l1, 6, 3, pad="same", num_groups=2, untie_biases=True)
    assert grouped.output_shape == (None, 6, 9)
    assert grouped.W.get_value().shape == (6, 2, 3) and grouped.b.get_value().shape == (6, 9)
    assert grouped.params[grouped.W] == {"trainable", "regularizable"}
    assert grouped.params[grouped.b] == {"trainable"}
    l3 = L.InputLayer((None, 2, 5, None, 7))
    conv3 = L.Conv3DLayer(l3, 3, (3, 2, 3), stride=(1, 2, 2), pad=(1, 0, 2))
    assert conv3.output_shape == (None, 3, 5, None, 5)
    assert conv3.W.get_value().shape == (3, 2, 3, 2, 3)
    assert L.Conv2DLayer(L.InputLayer((2, 6, 5, 5)), 4, 3, num_groups=2).W.get_value().shape \
        == (4, 3, 3, 3)
    with pytest.raises(ValueError, match="5 input dimensions"):
        L.Conv3DLayer(L.InputLayer((None, 2, 5, 5)), 3, 3)
    with pytest.raises(ValueError, match="num_groups=4 must divide"):
        L.Conv1DLayer(l1, 6, 3, num_groups=4)
    with pytest.raises(NotImplementedError, match="odd"):
        L.Conv3DLayer(l3, 3, 2, pad="same")
    with pytest.raises(ValueError, match="do not fit"):
        L.Conv1DLayer(l1, 6, 10)
    with pytest.raises(ValueError, match="channels known"):
        L.Conv1DLayer(L.InputLayer((None, None, 9)), 6, 3)


@pytest.mark.parametrize("kwargs, pad", [
    ({}, 0), ({"pad": "same", "stride": 2}, 1), ({"pad": "full", "flip_filters": False}, 2),
    ({"pad": 1, "num_groups": 2}, 1)])
def test_conv1d_layer(rng, kwargs, pad):
    l_in = L.InputLayer((None, 4, 8))
    layer = L.Conv1DLayer(l_in, 6, 3, b=rng.standard_normal(6), **kwargs)
    x = rng.standard_normal((2, 4, 8))
    expected = np_conv(x, layer.W.get_value(), (kwargs.get("stride", 1),), (pad,),
                       flip=kwargs.get("flip_filters", True), groups=kwargs.get("num_groups", 1))
    _check(layer, x, _relu(expected + layer.b.get_value()[None, :, None]))


@pytest.mark.parametrize("kwargs, pad", [
    ({}, (0, 0, 0)),
    ({"pad": "same", "flip_filters": False}, (1, 1, 1)),
    ({"pad": (2, 0, 1), "stride": (2, 1, 2), "num_groups": 2}, (2, 0, 1)),
    ({"pad": "full", "untie_biases": True}, (2, 2, 2))])
def test_conv3d_layer(rng, kwargs, pad):
    l_in = L.InputLayer((None, 2, 5, 4, 6))
    layer = L.Conv3DLayer(l_in, 4, 3, nonlinearity=None, **kwargs)
    layer.b.set_value(rng.standard_normal(layer.b.get_value().shape))
    x = rng.standard_normal((2, 2, 5, 4, 6))
    expected = np_conv(x, layer.W.get_value(), kwargs.get("stride", (1, 1, 1)), pad,
                       flip=kwargs.get("flip_filters", True), groups=kwargs.get("num_groups", 1))
    b = layer.b.get_value()
    _check(layer, x, expected + (b[None] if b.ndim == 4 else b[None, :, None, None, None]))


def test_conv2d_layer_groups_untied_and_batch_size_free(rng):
    l_in = L.InputLayer((3, 4, 6, 5))   # a declared batch size does not bind
    layer = L.Conv2DLayer(l_in, 6, (3, 2), stride=(2, 1), pad=(1, 0), num_groups=2,
                          untie_biases=True, nonlinearity=NL.tanh)
    assert layer.b.get_value().shape == (6, 3, 4)
    layer.b.set_value(rng.standard_normal((6, 3, 4)))
    x = rng.standard_normal((5, 4, 6, 5))
    expected = np.tanh(np_conv(x, layer.W.get_value(), (2, 1), (1, 0), groups=2)
                       + layer.b.get_value())
    _check(layer, x, expected)


@pytest.mark.parametrize("n, kwargs, crop", [
    (1, {}, (0,)), (1, {"stride": 2, "crop": 1, "flip_filters": True}, (1,)),
    (2, {"stride": (2, 1), "crop": "same"}, (1, 1)), (2, {"crop": "full"}, (2, 2)),
    (3, {"stride": (2, 1, 2), "crop": (1, 0, 1)}, (1, 0, 1)),
    (3, {"flip_filters": True, "crop": "same"}, (1, 1, 1))])
def test_transposed_conv_layers(rng, n, kwargs, crop):
    cls = {1: L.TransposedConv1DLayer, 2: L.TransposedConv2DLayer,
           3: L.TransposedConv3DLayer}[n]
    spatial = (4, 3, 5)[:n]
    l_in = L.InputLayer((None, 3) + (None,) * n)
    layer = cls(l_in, 2, 3, nonlinearity=None, b=None, **kwargs)
    assert layer.W.get_value().shape == (3, 2) + (3,) * n   # swapped: (inputs, filters)
    assert layer.output_shape == (None, 2) + (None,) * n and layer.get_params() == [layer.W]
    y = rng.standard_normal((2, 3) + spatial)
    stride = np.broadcast_to(kwargs.get("stride", 1), (n,))
    expected = np_conv_transpose(y, layer.W.get_value(), stride, crop,
                                 kwargs.get("flip_filters", False))
    _check(layer, y, expected)
    known = cls(L.InputLayer((None, 3) + spatial), 2, 3, **kwargs)
    assert known.output_shape == (None, 2) + expected.shape[2:]


def test_transposed_conv_output_size_and_shared_weights_with_the_convolution(rng):
    l_x = L.InputLayer((None, 2, 9, 8))
    conv = L.Conv2DLayer(l_x, 3, 3, stride=2, pad=1, nonlinearity=None, b=None)
    assert conv.output_shape == (None, 3, 5, 4)
    deconv = L.TransposedConv2DLayer(conv, 2, 3, stride=2, crop=1, W=conv.W, b=None,
                                     flip_filters=not conv.flip_filters, nonlinearity=None,
                                     output_size=(9, 8))
    assert deconv.output_shape == (None, 2, 9, 8)
    # The transposed layer is the adjoint of the convolution it shares the weights with.
    x = rng.standard_normal((2, 2, 9, 8))
    y = rng.standard_normal((2, 3, 5, 4))
    conv_x = _run(conv, x)
    l_y = L.InputLayer((None, 3, 5, 4))
    tied = L.TransposedConv2DLayer(l_y, 2, 3, stride=2, crop=1, W=conv.W, b=None,
                                   nonlinearity=None, output_size=(9, 8))
    deconv_y = _check(tied, y, np_conv_transpose(y, conv.W.get_value(), (2, 2), (1, 1), False,
                                                 [9, 8]))
    np.testing.assert_allclose(np.sum(conv_x * y), np.sum(x * deconv_y), rtol=1e-10)
    # A symbolic output size gives unknown static sizes.
    size = T.lvector("size")
    symbolic = L.TransposedConv2DLayer(l_y, 2, 3, stride=2, crop=1, output_size=size,
                                       nonlinearity=None, W=conv.W, b=None)
    assert symbolic.output_shape == (None, 2, None, None)
    f = exprc.function([l_y.input_var, size], L.get_output(symbolic), mode=MODE)
    np.testing.assert_allclose(f(y, np.array([9, 8])), deconv_y, rtol=1e-10)
    with pytest.raises(ValueError, match="output_size"):
        L.TransposedConv2DLayer(l_y, 2, 3, stride=2, output_size=(13, 8))


def test_dilated_conv2d_layer(rng):
    l_in = L.InputLayer((None, 3, 9, 8))
    layer = L.DilatedConv2DLayer(l_in, 2, 3, dilation=(2, 3), nonlinearity=None)
    assert layer.W.get_value().shape == (3, 2, 3, 3) and layer.output_shape == (None, 2, 5, 2)
    assert not hasattr(layer, "stride")
    layer.b.set_value(rng.standard_normal(2))
    x = rng.standard_normal((2, 3, 9, 8))
    w = layer.W.get_value().transpose(1, 0, 2, 3)
    _check(layer, x, np_conv(x, w, (1, 1), (0, 0), (2, 3), flip=False)
           + layer.b.get_value()[None, :, None, None])
    padded = L.DilatedConv2DLayer(l_in, 2, 3, dilation=2, pad="same", flip_filters=True)
    assert padded.output_shape == (None, 2, 9, 8)
    w = padded.W.get_value().transpose(1, 0, 2, 3)
    _check(padded, x, _relu(np_conv(x, w, (1, 1), (2, 2), (2, 2), flip=True)))


def np_locally_connected(x, w, stride, pad, flip, channelwise):
    x = np.pad(x, [(0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])])
    kh, kw, rows, cols = w.shape[-4:]
    out = np.zeros((x.shape[0], w.shape[0], rows, cols))
    for i in range(rows):
        for j in range(cols):
            patch = x[:, :, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw]
            if flip:
                patch = patch[:, :, ::-1, ::-1]
            if channelwise:
                out[:, :, i, j] = np.einsum("bfhw,fhw->bf", patch, w[..., i, j])
            else:
                out[:, :, i, j] = np.einsum("bchw,fchw->bf", patch, w[..., i, j])
    return out


@pytest.mark.parametrize("kwargs, pad, stride", [
    ({}, (1, 1), (1, 1)), ({"channelwise": True, "flip_filters": False}, (1, 1), (1, 1)),
    ({"pad": (0, 1), "stride": (2, 1)}, (0, 1), (2, 1))])
def test_locally_connected_2d_layer(rng, kwargs, pad, stride):
    l_in = L.InputLayer((None, 3, 5, 4))
    layer = L.LocallyConnected2DLayer(l_in, 3, 3, nonlinearity=None, **kwargs)
    rows, cols = layer.output_shape[2:]
    taps = (3, 3, rows, cols)
    assert layer.W.get_value().shape == ((3,) + taps if kwargs.get("channelwise")
                                         else (3, 3) + taps)
    layer.b.set_value(rng.standard_normal(3))
    x = rng.standard_normal((2, 3, 5, 4))
    expected = np_locally_connected(x, layer.W.get_value(), stride, pad,
                                    kwargs.get("flip_filters", True), kwargs.get("channelwise"))
    _check(layer, x, expected + layer.b.get_value()[None, :, None, None])
    with pytest.raises(ValueError, match="should match"):
        L.LocallyConnected2DLayer(l_in, 4, 3, channelwise=True)
    with pytest.raises(ValueError, match="fixed input shape"):
        L.LocallyConnected2DLayer(L.InputLayer((None, 3, None, 4)), 3, 3)


def _grad_check(build, point, seed=0):
    """verify_grad of ``build(x, W)`` (a layer on an input layer, W given as a variable)."""
    def fun(*variables):
        return build(*variables)
    verify_grad(fun, point, rng=np.random.default_rng(seed), mode=MODE)


def test_conv_layer_gradients(rng):
    def out(layer, x):
        return layer.get_output_for(x)

    _grad_check(lambda x, w: out(L.Conv1DLayer((2, 2, 6), 3, 3, W=w, pad=1, stride=2,
                                               nonlinearity=NL.tanh), x),
                [rng.standard_normal((2, 2, 6)), rng.standard_normal((3, 2, 3))])
    _grad_check(lambda x, w: out(L.Conv3DLayer((1, 2, 4, 3, 4), 2, (2, 2, 3), W=w,
                                               stride=(2, 1, 1), pad=(1, 1, 0),
                                               nonlinearity=NL.tanh), x),
                [rng.standard_normal((1, 2, 4, 3, 4)), rng.standard_normal((2, 2, 2, 2, 3))])
    _grad_check(lambda x, w: out(L.TransposedConv3DLayer((1, 2, 2, 3, 2), 2, (2, 3, 2), W=w,
                                                         stride=(2, 1, 2), crop=(1, 1, 0),
                                                         nonlinearity=NL.tanh), x),
                [rng.standard_normal((1, 2, 2, 3, 2)), rng.standard_normal((2, 2, 2, 3, 2))])
    _grad_check(lambda x, w: out(L.DilatedConv2DLayer((1, 2, 6, 5), 2, 2, dilation=2, W=w,
                                                      nonlinearity=NL.tanh), x),
                [rng.standard_normal((1, 2, 6, 5)), rng.standard_normal((2, 2, 2, 2))])
    _grad_check(lambda x, w: out(L.LocallyConnected2DLayer((2, 2, 3, 3), 2, 3, W=w,
                                                           nonlinearity=NL.tanh), x),
                [rng.standard_normal((2, 2, 3, 3)), rng.standard_normal((2, 2, 3, 3, 3, 3))])


def test_nin_layer(rng):
    l_in = L.InputLayer((None, 3, 4, 5))
    layer = L.NINLayer(l_in, 2, untie_biases=True)
    assert layer.output_shape == (None, 2, 4, 5)
    assert layer.W.get_value().shape == (3, 2) and layer.b.get_value().shape == (2, 4, 5)
    assert layer.params[layer.b] == {"trainable"}
    layer.b.set_value(rng.standard_normal((2, 4, 5)))
    x = rng.standard_normal((2, 3, 4, 5))
    _check(layer, x, _relu(np.einsum("bchw,cu->buhw", x, layer.W.get_value())
                           + layer.b.get_value()))
    dense_like = L.NINLayer(L.InputLayer((None, 3)), 4, nonlinearity=None, b=None)
    assert dense_like.output_shape == (None, 4) and dense_like.get_params() == [dense_like.W]
    _grad_check(lambda x, w: L.NINLayer((2, 3, 2), 2, W=w, nonlinearity=NL.tanh)
                .get_output_for(x),
                [rng.standard_normal((2, 3, 2)), rng.standard_normal((3, 2))])


def test_dense_layer_with_several_leading_axes(rng):
    l_in = L.InputLayer((None, 3, 4, 5))
    layer = L.DenseLayer(l_in, 2, num_leading_axes=2, nonlinearity=None)
    assert layer.W.get_value().shape == (20, 2) and layer.output_shape == (None, 3, 2)
    x = rng.standard_normal((2, 3, 4, 5))
    _check(layer, x, x.reshape(2, 3, 20) @ layer.W.get_value())


def test_composed_tensor_functions_name_bad_arguments():
    from exprc.nn.extensions import conv1d, conv3d, conv_transpose3d, pad, pool_3d

    with pytest.raises(ValueError, match="conv1d: input must be 3-d"):
        conv1d(T.tensor4(), T.tensor3())
    with pytest.raises(ValueError, match="filters' depth must be known"):
        conv3d(T.tensor5(), T.tensor5())
    with pytest.raises(ValueError, match="subsample"):
        conv3d(T.tensor5(), T.tensor5(), filter_shape=(2, 2, 3, 3, 3), subsample=(1, 0, 1))
    with pytest.raises(ValueError, match="border_mode"):
        conv3d(T.tensor5(), T.tensor5(), filter_shape=(2, 2, 3, 3, 3), border_mode="same")
    with pytest.raises(ValueError, match="gives depth 3, but the input has depth 4"):
        conv_transpose3d(T.tensor("float64", shape=(1, 2, 4, 3, 3)), T.tensor5(),
                         (1, 2, 5, 5, 5), filter_shape=(2, 2, 3, 3, 3))
    with pytest.raises(ValueError, match=">= 0"):
        pad(T.matrix(), [(1, -1)])
    with pytest.raises(ValueError, match="3 or more axes"):
        pool_3d(T.matrix(), 2)
    with pytest.raises(ValueError, match="ws"):
        pool_3d(T.tensor3(), (2, 2))


# ------------------------------------------------------------------------------- pooling
def _pool_length(size, w, s, p, ignore_border):
    if ignore_border:
        return (size + 2 * p - w) // s + 1
    return (size - 1) // s + 1 if s >= w else max(0, (size - w + s - 1) // s) + 1


def np_pool(x, ws, stride, pad, ignore_border, mode):
    """n-d pooling of the last ``len(ws)`` axes by explicit windows: each covers the input
    entries of ``[o * s - p, o * s - p + w)``; 'average_inc_pad' divides by the window's
    extent within the padded input."""
    n = len(ws)
    lead, sizes = x.shape[:-n], x.shape[-n:]
    counts = [_pool_length(*args, ignore_border) for args in zip(sizes, ws, stride, pad)]
    out = np.zeros(lead + tuple(counts))
    for pos in np.ndindex(*counts):
        region, extent = [], 1
        for o, size, w, s, p in zip(pos, sizes, ws, stride, pad):
            start = o * s - p
            region.append(slice(max(start, 0), min(start + w, size)))
            extent *= min(start + w, size + p) - start
        block = x[(Ellipsis,) + tuple(region)].reshape(lead + (-1,))
        value = {"max": block.max(-1), "sum": block.sum(-1), "average_exc_pad": block.mean(-1),
                 "average_inc_pad": block.sum(-1) / extent}[mode]
        out[(Ellipsis,) + pos] = value
    return out


@pytest.mark.parametrize("mode", ["max", "average_inc_pad", "average_exc_pad", "sum"])
def test_pool1d_and_pool3d_layers(rng, mode):
    x1 = rng.standard_normal((2, 3, 9))
    for kwargs, args in [({}, ((3,), (3,), (0,), True)),
                         ({"stride": 2, "pad": 1}, ((3,), (2,), (1,), True)),
                         ({"stride": 2, "ignore_border": False}, ((3,), (2,), (0,), False))]:
        layer = L.Pool1DLayer(L.InputLayer((None, 3, None)), 3, mode=mode, **kwargs)
        _check(layer, x1, np_pool(x1, *args, mode))
    x3 = rng.standard_normal((2, 2, 5, 4, 7))
    for kwargs, args in [({}, ((2, 2, 2), (2, 2, 2), (0, 0, 0), True)),
                         ({"pool_size": (3, 2, 3), "stride": (2, 1, 2), "pad": (1, 0, 2)},
                          ((3, 2, 3), (2, 1, 2), (1, 0, 2), True)),
                         ({"ignore_border": False, "stride": (2, 3, 1), "pool_size": (3, 2, 2)},
                          ((3, 2, 2), (2, 3, 1), (0, 0, 0), False))]:
        kwargs.setdefault("pool_size", 2)
        layer = L.Pool3DLayer(L.InputLayer((None, 2, 5, None, 7)), mode=mode, **kwargs)
        _check(layer, x3, np_pool(x3, *args, mode))


def test_pool_layer_shapes_shortcuts_and_errors(rng):
    assert L.MaxPool1DLayer(L.InputLayer((None, 3, 9)), 2).output_shape == (None, 3, 4)
    max3 = L.MaxPool3DLayer(L.InputLayer((None, 3, 9, None, 5)), 2, ignore_border=False)
    assert max3.output_shape == (None, 3, 5, None, 3) and max3.mode == "max"
    with pytest.raises(ValueError, match="3 input dimensions"):
        L.Pool1DLayer(L.InputLayer((None, 9)), 2)
    with pytest.raises(ValueError, match="padding requires ignore_border"):
        L.Pool3DLayer(L.InputLayer((None, 3, 9, 9, 9)), 3, pad=1, ignore_border=False)
    with pytest.raises(ValueError, match="smaller than pool_size"):
        L.Pool1DLayer(L.InputLayer((None, 3, 9)), 2, pad=2)
    with pytest.raises(ValueError, match="mode"):
        L.Pool1DLayer(L.InputLayer((None, 3, 9)), 2, mode="median")
    x = rng.standard_normal((1, 2, 4, 3, 4))
    average = L.Pool3DLayer((1, 2, 4, 3, 4), (2, 2, 3), stride=1, mode="average_exc_pad",
                            pad=(1, 0, 1))
    verify_grad(average.get_output_for, [x], rng=np.random.default_rng(1), mode=MODE)
    verify_grad(L.MaxPool3DLayer((1, 2, 4, 3, 4), 2).get_output_for, [x],
                rng=np.random.default_rng(2), mode=MODE)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_upscale_layers(rng, n):
    cls = {1: L.Upscale1DLayer, 2: L.Upscale2DLayer, 3: L.Upscale3DLayer}[n]
    factors = (2, 3, 1)[:n]
    x = rng.standard_normal((2, 3) + (3, 2, 2)[:n])
    l_in = L.InputLayer((None, 3) + (None,) + x.shape[3:])
    repeated = x
    for axis, f in enumerate(factors, start=2):
        repeated = np.repeat(repeated, f, axis=axis)
    layer = cls(l_in, factors)
    assert layer.output_shape == (None, 3, None) + tuple(
        s * f for s, f in zip(x.shape[3:], factors[1:]))
    _check(layer, x, repeated)
    dilated = np.zeros(repeated.shape)
    dilated[(slice(None), slice(None)) + tuple(slice(None, None, f) for f in factors)] = x
    _check(cls(l_in, factors, mode="dilate"), x, dilated)
    with pytest.raises(ValueError, match=">= 1"):
        cls(l_in, 0)
    with pytest.raises(ValueError, match="'repeat' or 'dilate'"):
        cls(l_in, 2, mode="nearest")


def test_feature_pool_and_wta_layers(rng):
    x = rng.standard_normal((2, 6, 3))
    layer = L.FeaturePoolLayer(L.InputLayer((None, 6, 3)), 3)
    _check(layer, x, x.reshape(2, 2, 3, 3).max(axis=2))
    last = L.FeaturePoolLayer(L.InputLayer((None, 6, None)), 2, axis=1, pool_function=T.mean)
    _check(last, x, x.reshape(2, 3, 2, 3).mean(axis=2))
    on_last = L.FeaturePoolLayer(L.InputLayer((2, 6, 3)), 3, axis=-1)
    _check(on_last, x, x.max(axis=2, keepdims=True))
    with pytest.raises(ValueError, match="not a multiple"):
        L.FeaturePoolLayer(L.InputLayer((None, 7)), 3)
    wta = L.FeatureWTALayer(L.InputLayer((None, 6, 3)), 3)
    expected = np.zeros_like(x)
    for b in range(2):
        for g in range(2):
            for k in range(3):
                group = x[b, 3 * g:3 * g + 3, k]
                expected[b, 3 * g + np.argmax(group), k] = group.max()
    _check(wta, x, expected)
    ties = np.array([[1.0, 1.0, 0.5, 2.0]])
    _check(L.FeatureWTALayer(L.InputLayer((None, 4)), 2), ties, [[1.0, 0.0, 0.0, 2.0]])


@pytest.mark.parametrize("implementation", ["kaiming", "fast"])
def test_spatial_pyramid_pooling_layer(rng, implementation):
    x = rng.standard_normal((2, 3, 7, 9))
    dims = [3, 2, 1]

    def bins(size, n):
        if implementation == "kaiming":
            return [(math.floor(i * size / n), math.ceil((i + 1) * size / n)) for i in range(n)]
        window, step = -(-size // n), size // n
        return [(i * step, i * step + window) for i in range(n)]

    for mode, reduce in [("max", np.max), ("average_exc_pad", np.mean)]:
        expected = np.concatenate([
            np.stack([reduce(x[:, :, r0:r1, c0:c1], axis=(2, 3))
                      for r0, r1 in bins(7, n) for c0, c1 in bins(9, n)], axis=2)
            for n in dims], axis=2)
        for shape in [(None, 3, 7, 9), (None, 3, None, None)]:
            layer = L.SpatialPyramidPoolingLayer(L.InputLayer(shape), dims, mode=mode,
                                                 implementation=implementation)
            assert layer.output_shape == (None, 3, 14)
            _check(layer, x, expected)
    with pytest.raises(ValueError, match="4 input dimensions"):
        L.SpatialPyramidPoolingLayer(L.InputLayer((None, 3, 7)))


def test_spp_fast_matches_pooling_where_pooling_gives_n_windows(rng):
    from exprc.tensor.signal.pool import pool_2d

    x = rng.standard_normal((1, 2, 8, 6))
    layer = L.SpatialPyramidPoolingLayer(L.InputLayer((None, 2, 8, 6)), [2])
    f = exprc.function([], pool_2d(T.constant(x), ws=(4, 3), stride=(4, 3)).flatten(3),
                       mode=MODE)
    _check(layer, x, f())


# ------------------------------------------------------------------------- shape layers
def test_pad_layer(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    l_in = L.InputLayer((None, 3, None, 5))
    cases = [(1, {}, [(0, 0), (0, 0), (1, 1), (1, 1)]),
             ([(1, 2), 0], {"val": 2.5}, [(0, 0), (0, 0), (1, 2), (0, 0)]),
             ([2], {}, [(0, 0), (0, 0), (2, 2), (0, 0)]),
             ([0, (1, 0), 3], {"batch_ndim": 1}, [(0, 0), (0, 0), (1, 0), (3, 3)])]
    for width, kwargs, pads in cases:
        layer = L.PadLayer(l_in, width, **kwargs)
        expected = np.pad(x, pads, constant_values=kwargs.get("val", 0))
        assert layer.output_shape == tuple(
            None if s is None else s + a + b for s, (a, b) in zip(l_in.shape, pads))
        _check(layer, x, expected)
    assert L.pad is L.PadLayer
    with pytest.raises(ValueError, match="padding widths"):
        L.PadLayer(l_in, [1, 1, 1])
    with pytest.raises(ValueError, match=">= 0"):
        L.PadLayer(l_in, -1)


def test_slice_layer(rng):
    x = rng.standard_normal((2, 7, 3))
    l_in = L.InputLayer((None, 7, 3))
    for indices, axis, expected in [(1, 1, x[:, 1]), (-1, -1, x[..., -1]),
                                    (slice(2, None, 2), 1, x[:, 2::2]),
                                    (slice(None, -1), -1, x[..., :-1])]:
        _check(L.SliceLayer(l_in, indices, axis), x, expected)
    unknown = L.SliceLayer(L.InputLayer((None, None, 3)), slice(1, 3), axis=1)
    assert unknown.output_shape == (None, None, 3)
    with pytest.raises(ValueError, match="out of range"):
        L.SliceLayer(l_in, 7, axis=1)
    with pytest.raises(ValueError, match="selects nothing"):
        L.SliceLayer(l_in, slice(5, 2), axis=1)
    with pytest.raises(ValueError, match="axis 3"):
        L.SliceLayer(l_in, 0, axis=3)


def test_concat_and_elemwise_sum_with_cropping(rng):
    a, b = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((2, 2, 4, 3))
    l_a, l_b = L.InputLayer((None, 3, 5, 6)), L.InputLayer((None, 2, 4, None))
    concat = L.ConcatLayer([l_a, l_b], cropping=[None, None, "center", "upper"])
    assert concat.output_shape == (None, 5, 4, None)
    _check(concat, [a, b], np.concatenate([a[:, :, :4, 3:], b], axis=1))
    summed = L.ElemwiseSumLayer([l_a, l_b], coeffs=[2, -1],
                                cropping=[None, "lower", "lower", "center"])
    _check(summed, [a, b], 2 * a[:, :2, :4, 1:4] - b)


# ------------------------------------------------------------------------ normalization
def np_lrn(x, alpha, k, beta, n):
    channels = x.shape[1]
    out = np.empty_like(x)
    for c in range(channels):
        lo, hi = max(0, c - n // 2), min(channels - 1, c + n // 2)
        total = (x[:, lo:hi + 1] ** 2).sum(axis=1)
        out[:, c] = x[:, c] / (k + alpha * total) ** beta
    return out


def test_local_response_normalization_layer(rng):
    x = 3 * rng.standard_normal((2, 7, 3, 4))
    l_in = L.InputLayer((None, 7, 3, None))
    _check(L.LocalResponseNormalization2DLayer(l_in), x, np_lrn(x, 1e-4, 2, 0.75, 5))
    layer = L.LocalResponseNormalization2DLayer(l_in, alpha=0.3, k=1.5, beta=0.6, n=3)
    _check(layer, x, np_lrn(x, 0.3, 1.5, 0.6, 3))
    _check(L.LocalResponseNormalization2DLayer(l_in, alpha=0.1, n=9), x,
           np_lrn(x, 0.1, 2, 0.75, 9))
    with pytest.raises(NotImplementedError, match="odd n"):
        L.LocalResponseNormalization2DLayer(l_in, n=4)
    lrn = L.LocalResponseNormalization2DLayer((1, 4, 2, 2), alpha=0.2, n=3)
    verify_grad(lrn.get_output_for, [x[:1, :4, :2, :2]], rng=np.random.default_rng(3),
                mode=MODE)


def _standardized(x, axes, epsilon=1e-4):
    return (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(
        x.var(axis=axes, keepdims=True) + epsilon)


def test_standardization_layer(rng):
    x4 = rng.standard_normal((2, 3, 4, 5)) * 2 + 1
    x2 = rng.standard_normal((4, 6))
    l4, l2 = L.InputLayer((None, 3, 4, 5)), L.InputLayer((None, 6))
    _check(L.StandardizationLayer(l4), x4, _standardized(x4, (2, 3)))
    _check(L.StandardizationLayer(l2), x2, _standardized(x2, (1,)))
    _check(L.StandardizationLayer(l4, "features", epsilon=0.5), x4,
           _standardized(x4, (1, 2, 3), 0.5))
    _check(L.StandardizationLayer(l4, axes=-1), x4, _standardized(x4, (3,)))
    assert L.StandardizationLayer(l4, "spatial").axes == (2, 3)
    assert L.StandardizationLayer(l4).get_params() == []
    with pytest.raises(ValueError, match="axes"):
        L.StandardizationLayer(l2, axes=2)


def test_instance_and_layer_norm_helpers(rng):
    conv = L.Conv2DLayer(L.InputLayer((None, 2, 5, 5)), 3, 3, name="conv")
    top = L.instance_norm(conv)
    names = [type(lay).__name__ for lay in L.get_all_layers(top)]
    assert names == ["InputLayer", "Conv2DLayer", "StandardizationLayer", "ScaleLayer",
                     "BiasLayer", "NonlinearityLayer"]
    assert conv.b is None and conv.nonlinearity is NL.identity
    assert top.input_layer.input_layer.input_layer.name == "conv_in"
    scale, bias = top.input_layer.input_layer, top.input_layer
    scale.scales.set_value(rng.uniform(0.5, 2, 3))
    bias.b.set_value(rng.standard_normal(3))
    x = rng.standard_normal((2, 2, 5, 5))
    conved = np_conv(x, conv.W.get_value(), (1, 1), (0, 0))
    expected = _relu(_standardized(conved, (2, 3)) * scale.scales.get_value()[:, None, None]
                     + bias.b.get_value()[:, None, None])
    _check(top, x, expected)
    bare = L.instance_norm(L.Conv2DLayer((None, 2, 5, 5), 3, 3, nonlinearity=None),
                           learn_scale=False, learn_bias=False)
    # A layer built with nonlinearity=None has the identity, which moves to the top as well.
    assert isinstance(bare.input_layer, L.StandardizationLayer)
    assert bare.nonlinearity is NL.identity
    dense = L.DenseLayer(L.InputLayer((None, 4)), 5, nonlinearity=NL.tanh)
    top = L.layer_norm(dense)
    x = rng.standard_normal((3, 4))
    _check(top, x, np.tanh(_standardized(x @ dense.W.get_value(), (1,))))
    assert [type(lay).__name__ for lay in L.get_all_layers(top)][2:] == [
        "StandardizationLayer", "ScaleLayer", "BiasLayer", "NonlinearityLayer"]
    assert L.get_all_params(top, trainable=True) == [dense.W, top.input_layer.input_layer.scales,
                                                     top.input_layer.b]


# ---------------------------------------------------------------- special-purpose layers
def test_parametric_rectifier_layer_and_prelu(rng):
    l_in = L.InputLayer((None, 3, 4))
    layer = L.ParametricRectifierLayer(l_in)
    assert layer.alpha.get_value().shape == (3,) and layer.params[layer.alpha] == {"trainable"}
    np.testing.assert_array_equal(layer.alpha.get_value(), 0.25)
    layer.alpha.set_value(rng.uniform(0, 1, 3))
    x = rng.standard_normal((2, 3, 4))
    alpha = layer.alpha.get_value()[None, :, None]
    _check(layer, x, np.where(x > 0, x, alpha * x))
    single = L.ParametricRectifierLayer(l_in, alpha=init.Constant(0.1), shared_axes="all")
    assert single.alpha.get_value().shape == ()
    _check(single, x, np.where(x > 0, x, 0.1 * x))
    per_position = L.ParametricRectifierLayer(l_in, shared_axes=(0, 1))
    assert per_position.alpha.get_value().shape == (4,)
    dense = L.DenseLayer(L.InputLayer((None, 5)), 3)
    top = L.prelu(dense, name="p")
    assert dense.nonlinearity is NL.identity and isinstance(top, L.ParametricRectifierLayer)
    assert top.alpha.name == "p.alpha"
    verify_grad(lambda v, a: L.ParametricRectifierLayer((2, 3, 4), alpha=a).get_output_for(v),
                [x + 0.05 * np.sign(x), rng.uniform(0, 1, 3)], rng=np.random.default_rng(4),
                mode=MODE)


def test_randomized_rectifier_layer_and_rrelu(rng):
    l_in = L.InputLayer((None, 4, 50))
    layer = L.RandomizedRectifierLayer(l_in, lower=0.2, upper=0.6)
    x = -rng.uniform(0.5, 1.5, (3, 4, 50))
    np.testing.assert_allclose(_run(layer, x, deterministic=True), 0.4 * x, rtol=1e-12)
    slopes = _run(layer, x) / x
    assert slopes.min() >= 0.2 and slopes.max() <= 0.6
    # One slope per channel ('auto' shares over the batch and the positions).
    np.testing.assert_allclose(slopes, np.broadcast_to(slopes[:1, :, :1], slopes.shape),
                               rtol=1e-12)
    assert len(np.unique(np.round(slopes[0, :, 0], 12))) == 4
    positive = rng.uniform(0.1, 1, (3, 4, 50))
    np.testing.assert_array_equal(_run(layer, positive), positive)
    each = _run(L.RandomizedRectifierLayer(l_in, shared_axes=()), x) / x
    assert len(np.unique(np.round(each, 12))) > 500 and abs(each.mean() - 0.55) < 0.02
    fixed = L.RandomizedRectifierLayer(l_in, lower=0.5, upper=0.5)
    np.testing.assert_allclose(_run(fixed, x), 0.5 * x, rtol=1e-12)
    with pytest.raises(ValueError, match="higher than lower"):
        L.RandomizedRectifierLayer(l_in, lower=0.7, upper=0.2)
    dense = L.DenseLayer(L.InputLayer((None, 5)), 3)
    assert isinstance(L.rrelu(dense), L.RandomizedRectifierLayer)
    assert dense.nonlinearity is NL.identity


def test_dropout_shortcuts_share_their_masks(rng):
    x = rng.uniform(1, 2, (4, 6, 5, 5))
    l_in = L.InputLayer((None, 6, 5, 5))
    channels = L.dropout_channels(l_in, p=0.5)
    assert channels.shared_axes == (2, 3) and L.spatial_dropout(l_in).shared_axes == (2, 3)
    kept = _run(channels, x) != 0
    np.testing.assert_array_equal(kept, np.broadcast_to(kept[:, :, :1, :1], kept.shape))
    assert 0 < kept.mean() < 1
    locations = L.dropout_locations(l_in, 0.5, rescale=False)
    assert locations.shared_axes == (1,) and locations.p == 0.5
    got = _run(locations, x)
    kept = got != 0
    np.testing.assert_array_equal(kept, np.broadcast_to(kept[:, :1], kept.shape))
    np.testing.assert_array_equal(got[kept], x[kept])
    np.testing.assert_array_equal(_run(locations, x, deterministic=True), x)
    with pytest.raises(TypeError, match="shared_axes"):
        L.dropout_channels(l_in, shared_axes=(1,))


def test_standardize_helper(rng):
    data = rng.standard_normal((20, 3, 2)) * np.array([1.0, 2.0, 3.0])[:, None] + 5
    offset, scale = data.mean(axis=(0, 2)), data.std(axis=(0, 2))
    layer = L.standardize(L.InputLayer((None, 3, 2)), offset, scale)
    _check(layer, data, (data - offset[:, None]) / scale[:, None])
    assert L.get_all_params(layer, trainable=True) == []
    assert len(L.get_all_params(layer)) == 2


def test_expression_layer_output_shapes(rng):
    l_in = L.InputLayer((32, 100, 20))
    assert L.ExpressionLayer(l_in, lambda x: x.mean(-1), "auto").output_shape == (32, 100)
    assert L.ExpressionLayer(l_in, lambda x: x[:, ::3], "auto").output_shape == (32, 34, 20)
    # Sizes the static shape inference leaves open are evaluated.
    flat = L.ExpressionLayer(l_in, lambda x: x.reshape((x.shape[0], -1)), "auto")
    assert flat.output_shape == (32, 2000)
    free = L.InputLayer((None, 10, 20))
    assert L.ExpressionLayer(free, lambda x: x.flatten(2), "auto").output_shape == (None, 200)
    assert L.ExpressionLayer(free, lambda x: x[:, 1:], lambda s: (s[0], 9, s[2])).output_shape \
        == (None, 9, 20)
    layer = L.ExpressionLayer(free, lambda x: T.sqr(x).sum(axis=2), (None, 10))
    assert layer.output_shape == (None, 10)
    x = rng.standard_normal((2, 10, 20))
    np.testing.assert_allclose(_run(layer, x), (x ** 2).sum(axis=2), rtol=1e-12)
    with pytest.raises(ValueError, match="'auto'"):
        L.get_output_shape(L.ExpressionLayer(free, abs, "guess"))


def test_inverse_layer(rng):
    l_in = L.InputLayer((None, 4))
    dense = L.DenseLayer(l_in, 3, nonlinearity=NL.tanh)
    dense.b.set_value(rng.standard_normal(3))
    l_y = L.InputLayer((None, 3))
    inverse = L.InverseLayer(l_y, dense)
    assert inverse.output_shape == (None, 4)
    x, y = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    pre = x @ dense.W.get_value() + dense.b.get_value()
    # The input layers in network order: the incoming one, then the inverted layer's input.
    _check(inverse, [y, x], (y * (1 - np.tanh(pre) ** 2)) @ dense.W.get_value().T)
    # Unpooling: each window's gradient goes to its maximum.
    l_img = L.InputLayer((None, 1, 4, 4))
    pool = L.MaxPool2DLayer(l_img, 2)
    l_g = L.InputLayer((None, 1, 2, 2))
    unpool = L.InverseLayer(l_g, pool)
    img = rng.permutation(16).astype(float).reshape(1, 1, 4, 4)
    g = rng.standard_normal((1, 1, 2, 2))
    expected = np.zeros_like(img)
    for i in range(2):
        for j in range(2):
            window = img[0, 0, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
            r, c = np.unravel_index(np.argmax(window), (2, 2))
            expected[0, 0, 2 * i + r, 2 * j + c] = g[0, 0, i, j]
    _check(unpool, [g, img], expected)
    with pytest.raises(ValueError, match="input layer"):
        L.InverseLayer(l_y, L.InputLayer((None, 3)))


# --------------------------------------------------------------------- spatial transformers
def np_border(i, n, mode):
    if mode == "nearest":
        return min(max(i, 0), n - 1)
    if mode == "wrap":
        return i % n
    period = max(2 * (n - 1), 1)
    i %= period
    return min(i, period - i)


def np_sample(image, xs, ys, mode):
    """Bilinear samples of ``image`` (channels, H, W) at normalized points."""
    height, width = image.shape[1:]
    out = np.zeros((image.shape[0], len(xs)))
    for p, (x, y) in enumerate(zip(xs, ys)):
        u, v = (x + 1) * (width - 1) / 2, (y + 1) * (height - 1) / 2
        for a in (math.floor(u), math.floor(u) + 1):
            for b in (math.floor(v), math.floor(v) + 1):
                weight = (1 - abs(u - a)) * (1 - abs(v - b))
                out[:, p] += weight * image[:, np_border(b, height, mode),
                                            np_border(a, width, mode)]
    return out


def np_grid(height, width):
    x, y = np.meshgrid(np.linspace(-1, 1, width), np.linspace(-1, 1, height))
    return x.ravel(), y.ravel()


@pytest.mark.parametrize("border_mode", ["nearest", "mirror", "wrap"])
def test_transformer_layer(rng, border_mode):
    images = rng.standard_normal((2, 3, 5, 6))
    theta = np.array([[1.3, 0.2, 0.3, -0.1, 0.8, -0.4], [0.7, -0.5, 0.9, 0.4, 1.6, 0.2]])
    l_in, l_theta = L.InputLayer((None, 3, 5, 6)), L.InputLayer((None, 6))
    layer = L.TransformerLayer(l_in, l_theta, downsample_factor=(1, 2), border_mode=border_mode)
    assert layer.output_shape == (None, 3, 5, 3)
    xs, ys = np_grid(5, 3)
    expected = []
    for image, t in zip(images, theta):
        t = t.reshape(2, 3)
        xs_s = t[0, 0] * xs + t[0, 1] * ys + t[0, 2]
        ys_s = t[1, 0] * xs + t[1, 1] * ys + t[1, 2]
        expected.append(np_sample(image, xs_s, ys_s, border_mode).reshape(3, 5, 3))
    _check(layer, [images, theta], np.stack(expected))
    free = L.TransformerLayer(L.InputLayer((None, 3, None, None)), l_theta,
                              border_mode=border_mode)
    identity = np.tile([1.0, 0, 0, 0, 1, 0], (2, 1))
    assert free.output_shape == (None, 3, None, None)
    _check(free, [images, identity], images)


def test_transformer_layer_gradients_and_errors(rng):
    images = rng.standard_normal((1, 2, 4, 3))
    theta = np.array([[0.9, 0.1, 0.13, -0.17, 1.1, 0.061]])   # no sample on a pixel edge

    def fun(image, t):
        layer = L.TransformerLayer(L.InputLayer((1, 2, 4, 3)), L.InputLayer((1, 6)))
        return L.get_output(layer, {layer.input_layers[0]: image, layer.input_layers[1]: t})
    verify_grad(fun, [images, theta], rng=np.random.default_rng(5), mode=MODE)
    l_in = L.InputLayer((None, 3, 5, 6))
    with pytest.raises(ValueError, match=r"\(batch_size, 6\)"):
        L.TransformerLayer(l_in, L.InputLayer((None, 5)))
    with pytest.raises(ValueError, match="border_mode"):
        L.TransformerLayer(l_in, L.InputLayer((None, 6)), border_mode="reflect")
    with pytest.raises(ValueError, match="4-dimensional"):
        L.TransformerLayer(L.InputLayer((None, 5, 6)), L.InputLayer((None, 6)))


def np_tps_points(offsets, side, height, width):
    """A thin plate spline through the control points moved by ``offsets``, evaluated at the
    output grid, from Bookstein's linear system ``[[K, P], [P^T, 0]] [w; a] = [v; 0]``."""
    cx, cy = np.meshgrid(np.linspace(-1, 1, side), np.linspace(-1, 1, side))
    src = np.stack([cx.ravel(), cy.ravel()], axis=1)   # (n, 2)
    n = len(src)

    def u(r2):
        return np.where(r2 > 0, r2 * np.log(np.where(r2 > 0, r2, 1)), 0)

    system = np.zeros((n + 3, n + 3))
    system[:n, :n] = u(((src[:, None] - src[None]) ** 2).sum(-1))
    system[:n, n] = 1
    system[:n, n + 1:] = src
    system[n:, :n] = system[:n, n:].T
    dest = src + offsets.reshape(2, n).T
    solution = np.linalg.solve(system, np.vstack([dest, np.zeros((3, 2))]))
    xs, ys = np_grid(height, width)
    points = np.stack([xs, ys], axis=1)
    basis = np.hstack([u(((points[:, None] - src[None]) ** 2).sum(-1)),
                       np.ones((len(points), 1)), points])
    mapped = basis @ solution
    return mapped[:, 0], mapped[:, 1]


@pytest.mark.parametrize("precompute_grid", [True, False])
def test_tps_transformer_layer(rng, precompute_grid):
    images = rng.standard_normal((2, 2, 6, 5))
    offsets = 0.3 * rng.standard_normal((2, 8))
    shape = (None, 2, 6, 5) if precompute_grid else (None, 2, None, None)
    l_in, l_loc = L.InputLayer(shape), L.InputLayer((None, 8))
    layer = L.TPSTransformerLayer(l_in, l_loc, control_points=4, border_mode="mirror",
                                  precompute_grid="auto")
    assert layer.precompute_grid is precompute_grid
    expected = []
    for image, offset in zip(images, offsets):
        xs, ys = np_tps_points(offset, 2, 6, 5)
        expected.append(np_sample(image, xs, ys, "mirror").reshape(2, 6, 5))
    _check(layer, [images, offsets], np.stack(expected), rtol=1e-8, atol=1e-10)
    identity = L.TPSTransformerLayer(l_in, L.InputLayer((None, 32)))
    _check(identity, [images, np.zeros((2, 32))], images, rtol=1e-8, atol=1e-10)
    half = L.TPSTransformerLayer(L.InputLayer((None, 2, 6, 5)), l_loc, downsample_factor=2,
                                 control_points=4)
    assert half.output_shape == (None, 2, 3, 2)
    with pytest.raises(ValueError, match="perfect square"):
        L.TPSTransformerLayer(l_in, L.InputLayer((None, 10)), control_points=5)
    with pytest.raises(ValueError, match="pre-specified"):
        L.TPSTransformerLayer(L.InputLayer((None, 2, None, 5)), l_loc, control_points=4,
                              precompute_grid=True)


def test_tps_transformer_gradient(rng):
    images = rng.standard_normal((1, 1, 4, 4))
    offsets = 0.2 * rng.standard_normal((1, 8))

    def fun(image, offset):
        layer = L.TPSTransformerLayer(L.InputLayer((1, 1, 4, 4)), L.InputLayer((1, 8)),
                                      control_points=4)
        return L.get_output(layer, {layer.input_layers[0]: image,
                                    layer.input_layers[1]: offset})
    verify_grad(fun, [images, offsets], rng=np.random.default_rng(6), mode=MODE)


# ---------------------------------------------------------------------------- C backend
def test_layers_in_the_c_backend_match_the_reference(rng):
    """A network of the composed layers, compiled by the C backend (FAST_RUN)."""
    l_in = L.InputLayer((None, 2, 4, 6, 6))
    l_conv = L.Conv3DLayer(l_in, 3, 3, pad="same", num_groups=1)
    l_pool = L.MaxPool3DLayer(l_conv, 2)
    l_up = L.Upscale3DLayer(l_pool, 2, mode="dilate")
    l_deconv = L.TransposedConv3DLayer(l_up, 2, (1, 3, 3), crop="same")
    l_lrn = L.LocalResponseNormalization2DLayer(L.FlattenLayer(l_deconv, 4), n=3)
    l_spp = L.SpatialPyramidPoolingLayer(L.PadLayer(l_lrn, 1), [2, 1],
                                         implementation="kaiming")
    x = rng.standard_normal((2, 2, 4, 6, 6))
    expected = _run(l_spp, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _run(l_spp, x, mode="FAST_RUN")
    assert got.shape == L.get_output_shape(l_spp, x.shape) == (2, 2, 5)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    theta = np.array([[0.8, 0.1, 0.2, 0.0, 1.1, -0.3]] * 2)
    l_img, l_theta = L.InputLayer((None, 2, 5, 5)), L.InputLayer((None, 6))
    l_t = L.TransformerLayer(l_img, l_theta, border_mode="wrap")
    images = rng.standard_normal((2, 2, 5, 5))
    np.testing.assert_allclose(_run(l_t, images, theta, mode="FAST_RUN"),
                               _run(l_t, images, theta), rtol=1e-10, atol=1e-12)
