"""exprc.nn.layers: every layer's output and output shape against NumPy, parameters and tags,
get_output with dicts of inputs, saving and loading, and a small MLP that learns."""

import warnings

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc import nn
from exprc.nn import layers as L
from exprc.nn import nonlinearities as NL


def _run(outputs, inputs, *values):
    return exprc.function(inputs, outputs)(*values)


def _relu(x):
    return np.maximum(x, 0)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ----------------------------------------------------------------------------- base layers

def test_input_layer_shape_and_variable():
    l_in = L.InputLayer((None, 1, 5), name="images")
    assert l_in.output_shape == (None, 1, 5)
    assert l_in.input_var.ndim == 3 and l_in.input_var.dtype == exprc.config.floatX
    assert l_in.input_var.name == "images.input"
    # Only sizes of 1 are static, so a declared batch size does not bind (as in Lasagne).
    assert l_in.input_var.type.shape == (None, 1, None)
    with pytest.raises(ValueError, match="dimensions"):
        L.InputLayer((None, 3), input_var=T.tensor3())
    with pytest.raises(ValueError, match="non-positive"):
        L.InputLayer((0, 3))


def test_dense_layer_output_and_shape(rng):
    l_in = L.InputLayer((None, 3, 2))
    l_d = L.DenseLayer(l_in, num_units=4, name="fc")
    assert l_d.output_shape == (None, 4)
    assert l_d.W.get_value().shape == (6, 4) and l_d.W.name == "fc.W"
    l_d.b.set_value(rng.standard_normal(4))
    x = rng.standard_normal((5, 3, 2))
    expected = _relu(x.reshape(5, 6) @ l_d.W.get_value() + l_d.b.get_value())
    got = _run(L.get_output(l_d), [l_in.input_var], x)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert L.get_output_shape(l_d, (7, 3, 2)) == (7, 4)


def test_dense_layer_leading_axes_and_no_bias(rng):
    l_in = L.InputLayer((None, 5, 3))
    l_d = L.DenseLayer(l_in, 2, b=None, nonlinearity=None, num_leading_axes=-1)
    assert l_d.output_shape == (None, 5, 2) and l_d.b is None
    x = rng.standard_normal((4, 5, 3))
    got = _run(L.get_output(l_d), [l_in.input_var], x)
    np.testing.assert_allclose(got, x @ l_d.W.get_value(), rtol=1e-12)
    with pytest.raises(ValueError, match="num_leading_axes"):
        L.DenseLayer(l_in, 2, num_leading_axes=3)
    with pytest.raises(ValueError, match="fixed input shape"):
        L.DenseLayer(L.InputLayer((3, None)), 2)


def test_params_and_tags():
    l_in = L.InputLayer((None, 4))
    l1 = L.DenseLayer(l_in, 3)
    l2 = L.DenseLayer(l1, 2)
    assert l1.get_params() == [l1.W, l1.b]
    assert l1.params[l1.W] == {"trainable", "regularizable"}
    assert l1.params[l1.b] == {"trainable"}
    assert L.get_all_params(l2) == [l1.W, l1.b, l2.W, l2.b]
    assert L.get_all_params(l2, regularizable=True) == [l1.W, l2.W]
    assert L.get_all_params(l2, regularizable=False) == [l1.b, l2.b]
    assert L.get_all_params(l2, trainable=True, regularizable=False) == [l1.b, l2.b]
    assert L.count_params(l2) == 4 * 3 + 3 + 3 * 2 + 2
    assert L.count_params(l2, regularizable=True) == 4 * 3 + 3 * 2


def test_add_param_specs_and_custom_tags():
    layer = L.Layer((None, 3), name="lay")
    p = layer.add_param(np.ones((2, 3)), (2, 3), name="P", special=True, trainable=False)
    assert p.name == "lay.P" and layer.params[p] == {"special", "regularizable"}
    assert layer.get_params(special=True) == [p] and layer.get_params(trainable=True) == []
    # A symbolic expression of shared variables is kept; unwrapping gives its shared inputs.
    base = exprc.shared(np.ones(3), name="base")
    expr = layer.add_param(base * 2, (3,), name="E")
    assert layer.get_params(unwrap_shared=False) == [p, expr]
    assert layer.get_params() == [p, base]
    with pytest.raises(ValueError, match="shape"):
        layer.add_param(np.ones((2, 2)), (2, 3))
    with pytest.raises(ValueError, match="dimensions"):
        layer.add_param(exprc.shared(np.ones(3)), (3, 1))
    with pytest.raises(ValueError, match="positive"):
        layer.add_param(nn.init.Constant(0), (None, 3))


# ------------------------------------------------------------------------------ shapes

def test_reshape_layer_spec(rng):
    l_in = L.InputLayer((None, 4, 6))
    l_r = L.ReshapeLayer(l_in, ([0], 2, -1, 3))
    assert l_r.output_shape == (None, 2, 4, 3)
    x = rng.standard_normal((5, 4, 6))
    got = _run(L.get_output(l_r), [l_in.input_var], x)
    np.testing.assert_array_equal(got, x.reshape(5, 2, 4, 3))
    # [1] copies a known size; -1 absorbs an unknown one.
    assert L.ReshapeLayer(L.InputLayer((None, 4, 6)), (-1, [1])).output_shape == (None, 4)
    assert L.ReshapeLayer(L.InputLayer((2, 4, 6)), (-1, [1])).output_shape == (12, 4)
    with pytest.raises(ValueError, match="total size"):
        L.ReshapeLayer(L.InputLayer((2, 4, 6)), (5, -1, 7))
    with pytest.raises(ValueError, match="multiple -1"):
        L.ReshapeLayer(l_in, (-1, -1))
    with pytest.raises(ValueError, match="specification contains"):
        L.ReshapeLayer(l_in, ([3], -1))
    # A symbolic size is unknown to the shape inference but used at run time.
    n = T.lscalar("n")
    l_sym = L.ReshapeLayer(l_in, ([0], n, -1))
    assert l_sym.output_shape == (None, None, None)
    got = _run(L.get_output(l_sym), [l_in.input_var, n], x, 8)
    np.testing.assert_array_equal(got, x.reshape(5, 8, 3))


def test_flatten_layer(rng):
    l_in = L.InputLayer((None, 2, 3, 4))
    x = rng.standard_normal((5, 2, 3, 4))
    for outdim, shape in [(1, (None,)), (2, (None, 24)), (3, (None, 2, 12))]:
        l_f = L.FlattenLayer(l_in, outdim=outdim)
        assert l_f.output_shape == shape
        got = _run(L.get_output(l_f), [l_in.input_var], x)
        np.testing.assert_array_equal(got, x.reshape(x.shape[:outdim - 1] + (-1,)))
    with pytest.raises(ValueError):
        L.FlattenLayer(l_in, outdim=0)


def test_dimshuffle_layer(rng):
    l_in = L.InputLayer((None, 3, 1))
    l_ds = L.DimshuffleLayer(l_in, (1, "x", 0))
    assert l_ds.output_shape == (3, 1, None)
    x = rng.standard_normal((4, 3, 1))
    got = _run(L.get_output(l_ds), [l_in.input_var], x)
    np.testing.assert_array_equal(got, x[:, :, 0].T[:, None, :])
    with pytest.raises(ValueError, match="collapse"):
        L.DimshuffleLayer(l_in, (0, 2))
    with pytest.raises(ValueError, match="more than once"):
        L.DimshuffleLayer(l_in, (0, 0, 1))


# ------------------------------------------------------------------------------ merges

def test_concat_layer(rng):
    a, b = L.InputLayer((None, 2, 3)), L.InputLayer((None, 4, 3))
    l_c = L.ConcatLayer([a, b], axis=1)
    assert l_c.output_shape == (None, 6, 3)
    assert L.ConcatLayer([a, L.InputLayer((None, None, 3))]).output_shape == (None, None, 3)
    xa, xb = rng.standard_normal((5, 2, 3)), rng.standard_normal((5, 4, 3))
    got = _run(L.get_output(l_c), [a.input_var, b.input_var], xa, xb)
    np.testing.assert_array_equal(got, np.concatenate([xa, xb], axis=1))
    with pytest.raises(ValueError, match="Mismatch"):
        _ = L.ConcatLayer([a, L.InputLayer((None, 2, 4))], axis=1).output_shape


def test_concat_layer_cropping(rng):
    a, b = L.InputLayer((2, 3, 5)), L.InputLayer((2, 4, 3))
    l_c = L.ConcatLayer([a, b], axis=1, cropping=[None, None, "center"])
    assert l_c.output_shape == (2, 7, 3)
    xa, xb = rng.standard_normal((2, 3, 5)), rng.standard_normal((2, 4, 3))
    got = _run(L.get_output(l_c), [a.input_var, b.input_var], xa, xb)
    np.testing.assert_array_equal(got, np.concatenate([xa[:, :, 1:4], xb], axis=1))


def test_elemwise_sum_layer_with_coeffs(rng):
    ins = [L.InputLayer((None, 3)) for _ in range(3)]
    l_s = L.ElemwiseSumLayer(ins, coeffs=[1, -2, 0.5])
    assert l_s.output_shape == (None, 3)
    xs = [rng.standard_normal((4, 3)) for _ in range(3)]
    got = _run(L.get_output(l_s), [i.input_var for i in ins], *xs)
    np.testing.assert_allclose(got, xs[0] - 2 * xs[1] + 0.5 * xs[2], rtol=1e-12)
    with pytest.raises(ValueError, match="coeffs"):
        L.ElemwiseSumLayer(ins, coeffs=[1, 2])
    with pytest.raises(ValueError, match="Mismatch"):
        _ = L.ElemwiseSumLayer([ins[0], L.InputLayer((None, 4))]).output_shape
    l_max = L.ElemwiseMergeLayer(ins[:2], T.maximum)
    got = _run(L.get_output(l_max), [i.input_var for i in ins[:2]], *xs[:2])
    np.testing.assert_array_equal(got, np.maximum(xs[0], xs[1]))


# ------------------------------------------------------------------------------ others

def test_embedding_layer(rng):
    l_in = L.InputLayer((None, 3), input_var=T.imatrix("idx"))
    l_e = L.EmbeddingLayer(l_in, input_size=5, output_size=2)
    assert l_e.output_shape == (None, 3, 2) and l_e.W.get_value().shape == (5, 2)
    idx = np.array([[0, 4, 4], [2, 1, 0]], dtype="int32")
    got = _run(L.get_output(l_e), [l_in.input_var], idx)
    np.testing.assert_array_equal(got, l_e.W.get_value()[idx])
    # The default initializer is Normal(std=0.01).
    big = L.EmbeddingLayer(l_in, 400, 50).W.get_value()
    assert abs(big.std() - 0.01) < 0.001


@pytest.mark.parametrize("pool_function, numpy_function",
                         [(T.mean, np.mean), (T.max, np.max)])
def test_global_pool_layer(rng, pool_function, numpy_function):
    l_in = L.InputLayer((None, 3, 4, 5))
    l_g = L.GlobalPoolLayer(l_in, pool_function)
    assert l_g.output_shape == (None, 3)
    x = rng.standard_normal((2, 3, 4, 5))
    got = _run(L.get_output(l_g), [l_in.input_var], x)
    np.testing.assert_allclose(got, numpy_function(x, axis=(2, 3)), rtol=1e-12)


@pytest.mark.parametrize("name, reference", [
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", np.tanh),
    ("rectify", _relu),
    ("leaky_rectify", lambda x: np.where(x > 0, x, 0.01 * x)),
    ("very_leaky_rectify", lambda x: np.where(x > 0, x, x / 3)),
    ("elu", lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
    ("selu", lambda x: 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * np.expm1(np.minimum(x, 0)))),
    ("softplus", lambda x: np.logaddexp(0, x)),
    ("linear", lambda x: x),
    ("identity", lambda x: x),
    ("softmax", lambda x: np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)),
])
def test_nonlinearity_layer(rng, name, reference):
    l_in = L.InputLayer((None, 5))
    layer = L.NonlinearityLayer(l_in, getattr(NL, name))
    x = 3 * rng.standard_normal((4, 5))
    got = _run(L.get_output(layer), [l_in.input_var], x)
    np.testing.assert_allclose(got, reference(x), rtol=1e-10, atol=1e-12)


def test_scaled_tanh_and_stable_gradients():
    x = T.vector("x")
    values = np.array([-800.0, -1.0, 0.5, 800.0])
    got = _run(NL.ScaledTanH(scale_in=0.5, scale_out=2.0)(x), [x], values)
    np.testing.assert_allclose(got, 2.0 * np.tanh(0.5 * values))
    # The branch not taken must not poison the gradient (exp(800) overflows).
    for f in (NL.elu, NL.selu):
        grad = _run(exprc.grad(f(x).sum(), x), [x], values)
        assert np.all(np.isfinite(grad)), f
    grad = _run(exprc.grad(NL.elu(x).sum(), x), [x], values)
    np.testing.assert_allclose(grad, [np.exp(-800.0), np.exp(-1.0), 1.0, 1.0])


def test_bias_and_scale_layers(rng):
    l_in = L.InputLayer((None, 3, 2, 2))
    l_b = L.BiasLayer(l_in, b=rng.standard_normal(3))
    l_s = L.ScaleLayer(l_b, scales=rng.standard_normal(3))
    assert l_b.params[l_b.b] == {"trainable"}
    x = rng.standard_normal((2, 3, 2, 2))
    got = _run(L.get_output(l_s), [l_in.input_var], x)
    b, s = l_b.b.get_value()[:, None, None], l_s.scales.get_value()[:, None, None]
    np.testing.assert_allclose(got, (x + b) * s, rtol=1e-12)


# -------------------------------------------------------------------------- batch norm

def test_batch_norm_layer_train_and_deterministic(rng):
    l_in = L.InputLayer((None, 3, 2, 2))
    mean0, inv_std0 = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
    l_bn = L.BatchNormLayer(l_in, alpha=0.2, mean=mean0.copy(), inv_std=inv_std0.copy())
    assert l_bn.axes == (0, 2, 3) and l_bn.output_shape == (None, 3, 2, 2)
    assert L.get_all_params(l_bn, trainable=True) == [l_bn.beta, l_bn.gamma]
    assert L.get_all_params(l_bn, regularizable=True) == [l_bn.gamma]
    beta, gamma = rng.standard_normal(3), rng.standard_normal(3)
    l_bn.beta.set_value(beta)
    l_bn.gamma.set_value(gamma)
    x = rng.standard_normal((4, 3, 2, 2)) * 2 + 1
    bshape = (1, 3, 1, 1)
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    train = exprc.function([l_in.input_var], L.get_output(l_bn))
    got = train(x)
    expected = ((x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-4)
                * gamma.reshape(bshape) + beta.reshape(bshape))
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    # One training call moved the running averages by alpha towards the batch statistics.
    np.testing.assert_allclose(l_bn.mean.get_value(), 0.8 * mean0 + 0.2 * mean, rtol=1e-10)
    np.testing.assert_allclose(l_bn.inv_std.get_value(),
                               0.8 * inv_std0 + 0.2 / np.sqrt(var + 1e-4), rtol=1e-10)
    run_mean, run_inv_std = l_bn.mean.get_value(), l_bn.inv_std.get_value()
    test = exprc.function([l_in.input_var], L.get_output(l_bn, deterministic=True))
    got = test(x)
    expected = ((x - run_mean.reshape(bshape)) * (gamma * run_inv_std).reshape(bshape)
                + beta.reshape(bshape))
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    # Evaluation leaves the averages alone.
    np.testing.assert_array_equal(l_bn.mean.get_value(), run_mean)


def test_batch_norm_helper():
    l_in = L.InputLayer((None, 4))
    l_d = L.DenseLayer(l_in, 3, name="fc")
    l_out = L.batch_norm(l_d)
    assert isinstance(l_out, L.NonlinearityLayer) and l_out.nonlinearity is NL.rectify
    l_bn = l_out.input_layer
    assert isinstance(l_bn, L.BatchNormLayer) and l_bn.name == "fc_bn"
    assert l_out.name == "fc_bn_nonlin"
    assert l_d.b is None and l_d.nonlinearity is NL.identity
    assert L.get_all_params(l_out) == [l_d.W, l_bn.beta, l_bn.gamma, l_bn.mean, l_bn.inv_std]
    with pytest.raises(ValueError, match="specified input sizes"):
        L.BatchNormLayer(L.InputLayer((None, None)))


# ---------------------------------------------------------------------- network helpers

def _two_input_network():
    a, b = L.InputLayer((None, 2), name="a"), L.InputLayer((None, 3), name="b")
    l_cat = L.ConcatLayer([a, b])
    l_out = L.DenseLayer(l_cat, 2, nonlinearity=None)
    return a, b, l_cat, l_out


def test_get_all_layers_order():
    a, b, l_cat, l_out = _two_input_network()
    assert L.get_all_layers(l_out) == [a, b, l_cat, l_out]
    assert L.get_all_layers([l_out, a]) == [a, b, l_cat, l_out]
    assert L.get_all_layers(l_out, treat_as_input=[l_cat]) == [l_cat, l_out]


def test_get_output_with_dict_of_inputs(rng):
    a, b, l_cat, l_out = _two_input_network()
    W = l_out.W.get_value()
    xa, xb = rng.standard_normal((4, 2)), rng.standard_normal((4, 3))
    va, vb = T.matrix("va"), T.matrix("vb")
    out = L.get_output(l_out, {a: va, b: vb})
    np.testing.assert_allclose(_run(out, [va, vb], xa, xb),
                               np.concatenate([xa, xb], axis=1) @ W, rtol=1e-12)
    # A dict entry for an inner layer cuts the network there; arrays become constants.
    xc = rng.standard_normal((4, 5))
    out = L.get_output(l_out, {l_cat: xc})
    np.testing.assert_allclose(_run(out, []), xc @ W, rtol=1e-12)
    # Several layers at once.
    outs = L.get_output([l_cat, l_out], {a: va, b: vb})
    got_cat, got_out = _run(outs, [va, vb], xa, xb)
    np.testing.assert_allclose(got_out, got_cat @ W, rtol=1e-12)
    with pytest.raises(ValueError, match="dictionary"):
        L.get_output(l_out, va)
    with pytest.raises(ValueError, match="free-floating"):
        L.get_output(L.DenseLayer((None, 3), 2))


def test_get_output_single_input_and_unused_kwargs(rng):
    l_in = L.InputLayer((None, 3))
    l_out = L.DenseLayer(l_in, 2)
    x = T.matrix("x")
    values = rng.standard_normal((2, 3))
    got = _run(L.get_output(l_out, x), [x], values)
    np.testing.assert_allclose(got, _relu(values @ l_out.W.get_value()), rtol=1e-12)
    with pytest.warns(UserWarning, match="perhaps you meant deterministic"):
        L.get_output(l_out, determinstic=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L.get_output(L.BatchNormLayer(l_out), batch_norm_use_averages=True)


def test_get_output_shape_with_other_input_shapes():
    a, b, l_cat, l_out = _two_input_network()
    assert L.get_output_shape(l_out) == (None, 2)
    assert L.get_output_shape(l_cat, {a: (7, 2), b: (7, 4)}) == (7, 6)
    l_in = L.InputLayer((None, 2, 3))
    l_f = L.FlattenLayer(l_in)
    assert L.get_output_shape([l_in, l_f], (5, 2, 3)) == [(5, 2, 3), (5, 6)]


def test_param_values_and_save_load_round_trip(tmp_path, rng):
    def network():
        l_in = L.InputLayer((None, 4))
        return L.DenseLayer(L.DenseLayer(l_in, 3), 2)

    source, target = network(), network()
    values = [rng.standard_normal(v.shape) for v in L.get_all_param_values(source)]
    L.set_all_param_values(source, values)
    for got, want in zip(L.get_all_param_values(source), values):
        np.testing.assert_array_equal(got, want)
    path = tmp_path / "params.npz"
    L.save_params(source, path)
    L.load_params(target, path)
    for got, want in zip(L.get_all_param_values(target), values):
        np.testing.assert_array_equal(got, want)
    # The file is Lasagne's layout: arr_0, arr_1, ... in parameter order.
    with np.load(path) as data:
        assert data.files == [f"arr_{i}" for i in range(4)]
    with pytest.raises(ValueError, match="mismatch"):
        L.set_all_param_values(target, values[:3])
    with pytest.raises(ValueError, match="shape"):
        L.set_all_param_values(target, values[:3] + [np.zeros(5)])
    with pytest.raises(ValueError, match="mismatch"):
        L.load_params(L.DenseLayer((None, 4), 3), path)


# ------------------------------------------------------- layers on ops landing separately

def _conv2d_reference(x, w, pad, stride, flip):
    """Direct NumPy convolution (true convolution when flip) of NCHW x with OIHW w."""
    if flip:
        w = w[:, :, ::-1, ::-1]
    x = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    n, _, h, wd = x.shape
    f, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride[0] + 1, (wd - kw) // stride[1] + 1
    out = np.zeros((n, f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return out


def test_conv2d_layer_shapes_and_params():
    l_in = L.InputLayer((None, 3, 9, 8))
    cases = [({"filter_size": 3}, (None, 4, 7, 6)),
             ({"filter_size": 3, "pad": "same"}, (None, 4, 9, 8)),
             ({"filter_size": 3, "pad": "full"}, (None, 4, 11, 10)),
             ({"filter_size": (3, 1), "pad": (1, 2), "stride": 2}, (None, 4, 5, 6)),
             ({"filter_size": 5, "stride": (2, 3)}, (None, 4, 3, 2))]
    for kwargs, shape in cases:
        layer = L.Conv2DLayer(l_in, 4, **kwargs)
        assert layer.output_shape == shape, kwargs
        assert layer.W.get_value().shape == (4, 3) + layer.filter_size
    untied = L.Conv2DLayer(l_in, 4, 3, untie_biases=True)
    assert untied.b.get_value().shape == (4, 7, 6)
    assert untied.params[untied.b] == {"trainable"}
    with pytest.raises(NotImplementedError, match="odd"):
        L.Conv2DLayer(l_in, 4, 2, pad="same")
    with pytest.raises(ValueError, match="4 input dimensions"):
        L.Conv2DLayer(L.InputLayer((None, 3, 9)), 4, 3)


@pytest.mark.parametrize("kwargs, pad, stride", [
    ({"filter_size": 3}, (0, 0), (1, 1)),
    ({"filter_size": 3, "pad": "same", "flip_filters": False}, (1, 1), (1, 1)),
    ({"filter_size": (3, 2), "pad": (1, 0), "stride": (2, 1)}, (1, 0), (2, 1)),
])
def test_conv2d_layer_output(rng, kwargs, pad, stride):
    if not hasattr(T.nnet, "conv2d"):
        pytest.skip("T.nnet.conv2d is not available yet")
    l_in = L.InputLayer((None, 2, 6, 5))
    layer = L.Conv2DLayer(l_in, 3, b=rng.standard_normal(3), **kwargs)
    x = rng.standard_normal((2, 2, 6, 5))
    got = _run(L.get_output(layer), [l_in.input_var], x)
    flip = kwargs.get("flip_filters", True)
    expected = _relu(_conv2d_reference(x, layer.W.get_value(), pad, stride, flip)
                     + layer.b.get_value()[None, :, None, None])
    assert got.shape == L.get_output_shape(layer, x.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_pool2d_layer_shapes():
    l_in = L.InputLayer((None, 3, 9, 8))
    assert L.MaxPool2DLayer(l_in, 2).output_shape == (None, 3, 4, 4)
    assert L.MaxPool2DLayer(l_in, 2, ignore_border=False).output_shape == (None, 3, 5, 4)
    assert L.Pool2DLayer(l_in, 3, stride=2, pad=1).output_shape == (None, 3, 5, 4)
    assert L.Pool2DLayer(l_in, (3, 2), stride=(1, 2)).output_shape == (None, 3, 7, 4)
    with pytest.raises(ValueError, match="4 input dimensions"):
        L.Pool2DLayer(L.InputLayer((None, 9, 8)), 2)


def _pool_reference(x, size, stride, mode):
    oh = (x.shape[2] - size[0]) // stride[0] + 1
    ow = (x.shape[3] - size[1]) // stride[1] + 1
    reduce = np.max if mode == "max" else np.mean
    out = np.empty(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * stride[0]:i * stride[0] + size[0],
                       j * stride[1]:j * stride[1] + size[1]]
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


@pytest.mark.parametrize("mode", ["max", "average_inc_pad"])
def test_pool2d_layer_output(rng, mode):
    from exprc.tensor.signal import pool

    if not hasattr(pool, "pool_2d"):
        pytest.skip("exprc.tensor.signal.pool.pool_2d is not available yet")
    l_in = L.InputLayer((None, 2, 5, 6))
    layer = L.Pool2DLayer(l_in, (2, 3), stride=(1, 2), mode=mode)
    x = rng.standard_normal((3, 2, 5, 6))
    got = _run(L.get_output(layer), [l_in.input_var], x)
    assert got.shape == L.get_output_shape(layer, x.shape)
    np.testing.assert_allclose(got, _pool_reference(x, (2, 3), (1, 2), mode), rtol=1e-12)


def test_dropout_layer(rng):
    pytest.importorskip("exprc.tensor.shared_randomstreams",
                        reason="RandomStreams is not available yet")
    l_in = L.InputLayer((None, 50))
    l_drop = L.DropoutLayer(l_in, p=0.25)
    x = rng.uniform(1, 2, size=(40, 50))
    np.testing.assert_array_equal(
        _run(L.get_output(l_drop, deterministic=True), [l_in.input_var], x), x)
    got = _run(L.get_output(l_drop), [l_in.input_var], x)
    kept = got != 0
    np.testing.assert_allclose(got[kept], x[kept] / 0.75, rtol=1e-12)
    assert abs(kept.mean() - 0.75) < 0.03   # 2000 draws: std of the mean ~ 0.01
    shared = L.DropoutLayer(l_in, p=0.5, rescale=False, shared_axes=(0,))
    got = _run(L.get_output(shared), [l_in.input_var], x)
    columns_kept = got[0] != 0
    np.testing.assert_array_equal(got, x * columns_kept)


def test_gaussian_noise_layer(rng):
    pytest.importorskip("exprc.tensor.shared_randomstreams",
                        reason="RandomStreams is not available yet")
    from exprc.nn import random as nn_random
    before = nn_random.get_rng()
    nn_random.set_rng(np.random.RandomState(7))  # the layer's stream is seeded from it
    try:
        l_in = L.InputLayer((None, 50))
        l_noise = L.GaussianNoiseLayer(l_in, sigma=0.5)
    finally:
        nn_random.set_rng(before)
    x = rng.standard_normal((40, 50))
    np.testing.assert_array_equal(
        _run(L.get_output(l_noise, deterministic=True), [l_in.input_var], x), x)
    noise = _run(L.get_output(l_noise), [l_in.input_var], x) - x
    # 2000 draws: the mean's standard error is 0.011, the deviation's 0.008 (bounds ~5 sigma).
    assert abs(noise.std() - 0.5) < 0.04 and abs(noise.mean()) < 0.055


# ---------------------------------------------------------------------- learning end to end

def test_mlp_learns_separable_problem():
    data_rng = np.random.default_rng(0)
    x = data_rng.standard_normal((64, 2))
    y = (x[:, 0] + 2 * x[:, 1] > 0).astype("int32")
    nn.random.set_rng(np.random.RandomState(0))
    try:
        l_in = L.InputLayer((None, 2))
        l_hid = L.DenseLayer(l_in, 8, nonlinearity=NL.tanh)
        l_out = L.DenseLayer(l_hid, 2, nonlinearity=NL.softmax)
    finally:
        nn.random.set_rng(np.random)
    xs, ys = T.matrix("x"), T.ivector("y")
    probs = L.get_output(l_out, xs)
    loss = nn.objectives.aggregate(nn.objectives.categorical_crossentropy(probs, ys))
    params = L.get_all_params(l_out, trainable=True)
    train = exprc.function([xs, ys], loss,
                           updates=nn.updates.nesterov_momentum(loss, params, 0.5))
    accuracy = exprc.function(
        [xs, ys], nn.objectives.categorical_accuracy(probs, ys).mean())
    first = train(x, y)
    for _ in range(300):
        last = train(x, y)
    assert last < first / 5
    assert accuracy(x, y) == 1.0


def test_float32_network_stays_float32():
    pytest.importorskip("exprc.tensor.shared_randomstreams",
                        reason="RandomStreams is not available yet")
    with exprc.config.change_flags(floatX="float32"):
        l_in = L.InputLayer((None, 1, 6, 6))
        l_conv = L.Conv2DLayer(l_in, 2, 3)
        l_pool = L.MaxPool2DLayer(l_conv, 2)
        l_hid = L.batch_norm(L.DenseLayer(L.DropoutLayer(l_pool), 5))
        l_out = L.DenseLayer(l_hid, 3, nonlinearity=NL.softmax)
        y = T.ivector("y")
        probs = L.get_output(l_out)
        loss = nn.objectives.categorical_crossentropy(probs, y).mean()
        params = L.get_all_params(l_out, trainable=True)
        assert all(p.dtype == "float32" for p in params)
        assert probs.dtype == "float32" and loss.dtype == "float32"
        assert L.get_output(l_out, deterministic=True).dtype == "float32"
        result = nn.updates.adam(loss, params)
        assert all(var.dtype == expr.dtype for var, expr in result.items())
        train = exprc.function([l_in.input_var, y], loss, updates=result)
        x = np.random.default_rng(3).random((4, 1, 6, 6), dtype="float32")
        value = train(x, np.array([0, 1, 2, 0], dtype="int32"))
        assert value.dtype == np.float32 and np.isfinite(value)
