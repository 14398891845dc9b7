"""exprc.nn recurrent layers (RecurrentLayer, CustomRecurrentLayer, LSTMLayer, GRULayer):
outputs against NumPy loops written here, for masks, backwards runs, final states only,
precomputed inputs, peepholes, initial states given as layers, on both loops (exprc.scan and
the unrolled one); gradients by finite differences; shapes, parameter tags, errors; and the
example examples/mnist_sequence.py on a small fake data file."""

import importlib
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.datasets import MNIST_ENV
from exprc.gradient import verify_grad
from exprc.nn import init
from exprc.nn import layers as L
from exprc.nn import nonlinearities as NL
from exprc.nn.utils import unroll_scan

BATCH, STEPS, FEATURES, UNITS = 3, 4, 5, 6
LENGTHS = (4, 2, 1)  # one sequence per row of the mask, the longest filling it

#: The two loops: unroll_scan=True, and exprc.scan.
LOOPS = [pytest.param(True, id="unrolled"), pytest.param(False, id="scan")]


@pytest.fixture
def rng():
    return np.random.default_rng(4321)


def _floatX(x):
    return np.asarray(x, dtype=exprc.config.floatX)


def _mask(lengths=LENGTHS, steps=STEPS):
    return _floatX(np.arange(steps)[None, :] < np.asarray(lengths)[:, None])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _value(param):
    return param.get_value()


def _evaluate(layer, values: dict):
    """The output of ``layer`` for ``{input layer: array}``."""
    inputs = list(values)
    f = exprc.function([lay.input_var for lay in inputs], L.get_output(layer))
    return f(*[values[lay] for lay in inputs])


def _input_layers(unroll, masked=False, hid_layer=False):
    """The input layer (sequence length unknown for the scan loop), the mask layer and a
    layer giving the initial state, as asked."""
    steps = STEPS if unroll else None
    l_in = L.InputLayer((None, steps, FEATURES))
    l_mask = L.InputLayer((None, steps)) if masked else None
    l_hid = L.InputLayer((None, UNITS)) if hid_layer else None
    return l_in, l_mask, l_hid


# ----------------------------------------------------------------------------- NumPy loops

def _loop(step, x, states, mask=None, backwards=False):
    """Run ``step(x_t, *states) -> states`` over the time axis of ``x`` (batch first).

    Returns the states of every step in input time order, (batch, time, units) each, and
    the states after the last step run."""
    steps = x.shape[1]
    order = range(steps - 1, -1, -1) if backwards else range(steps)
    history = [np.zeros((x.shape[0], steps) + s.shape[1:]) for s in states]
    for t in order:
        new = step(x[:, t], *states)
        if mask is not None:
            keep = mask[:, t].reshape((-1,) + (1,) * (new[0].ndim - 1)) > 0
            new = [np.where(keep, n, s) for n, s in zip(new, states)]
        states = new
        for h, s in zip(history, states):
            h[:, t] = s
    return history, states


def _rnn_step(W_in, W_hid, b, nonlinearity):
    return lambda x_t, h: [nonlinearity(x_t @ W_in + b + h @ W_hid)]


def _lstm_step(layer, peepholes):
    p = {name: _value(getattr(layer, name)) for name in dir(layer)
         if name.startswith(("W_", "b_"))}

    def gate(name, x_t, h):
        return x_t @ p[f"W_in_to_{name}"] + h @ p[f"W_hid_to_{name}"] + p[f"b_{name}"]

    def step(x_t, c, h):
        i, f = gate("ingate", x_t, h), gate("forgetgate", x_t, h)
        if peepholes:
            i, f = i + c * p["W_cell_to_ingate"], f + c * p["W_cell_to_forgetgate"]
        c_new = _sigmoid(f) * c + _sigmoid(i) * np.tanh(gate("cell", x_t, h))
        o = gate("outgate", x_t, h)
        if peepholes:
            o = o + c_new * p["W_cell_to_outgate"]
        return [c_new, _sigmoid(o) * np.tanh(c_new)]

    return step


def _gru_step(layer):
    p = {name: _value(getattr(layer, name)) for name in dir(layer)
         if name.startswith(("W_", "b_"))}

    def step(x_t, h):
        def part(name, h_in):
            return x_t @ p[f"W_in_to_{name}"] + p[f"b_{name}"], h_in @ p[f"W_hid_to_{name}"]

        r = _sigmoid(sum(part("resetgate", h)))
        u = _sigmoid(sum(part("updategate", h)))
        x_c, h_c = part("hidden_update", h)
        c = np.tanh(x_c + r * h_c)
        return [(1 - u) * h + u * c]

    return step


def _expected(layer, step, x, states, mask, only_return_final):
    history, final = _loop(step, x, states, mask, layer.backwards)
    return final[-1] if only_return_final else history[-1]


def _randomize(layer, rng, scale=0.5):
    """Draw every parameter of ``layer`` again, so that biases and peepholes count too."""
    for param in layer.get_params():
        shape = param.get_value().shape
        param.set_value(_floatX(rng.uniform(-scale, scale, shape)))


# ----------------------------------------------------------------------------- forward

SETTINGS = [  # backwards, only_return_final, precompute_input, masked
    pytest.param(False, False, True, False, id="plain"),
    pytest.param(True, False, False, True, id="backwards-masked-no-precompute"),
    pytest.param(False, True, True, True, id="final-masked"),
    pytest.param(True, True, False, False, id="backwards-final-no-precompute"),
]


@pytest.mark.parametrize("unroll", LOOPS)
@pytest.mark.parametrize("backwards, only_return_final, precompute_input, masked", SETTINGS)
def test_recurrent_layer_forward(rng, unroll, backwards, only_return_final,
                                 precompute_input, masked):
    l_in, l_mask, _ = _input_layers(unroll, masked)
    layer = L.RecurrentLayer(l_in, UNITS, nonlinearity=NL.tanh, backwards=backwards,
                             only_return_final=only_return_final, mask_input=l_mask,
                             precompute_input=precompute_input, unroll_scan=unroll,
                             learn_init=True)
    _randomize(layer, rng)
    x, mask = _floatX(rng.standard_normal((BATCH, STEPS, FEATURES))), _mask()
    values = {l_in: x, l_mask: mask} if masked else {l_in: x}
    got = _evaluate(layer, values)
    h0 = np.repeat(_value(layer.hid_init), BATCH, axis=0)
    step = _rnn_step(_value(layer.W_in_to_hid), _value(layer.W_hid_to_hid),
                     _value(layer.b), np.tanh)
    expected = _expected(layer, step, x, [h0], mask if masked else None, only_return_final)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("unroll", LOOPS)
@pytest.mark.parametrize("backwards, only_return_final, precompute_input, masked", SETTINGS)
@pytest.mark.parametrize("peepholes", [True, False])
def test_lstm_layer_forward(rng, unroll, backwards, only_return_final, precompute_input,
                            masked, peepholes):
    l_in, l_mask, _ = _input_layers(unroll, masked)
    layer = L.LSTMLayer(l_in, UNITS, peepholes=peepholes, backwards=backwards,
                        only_return_final=only_return_final, mask_input=l_mask,
                        precompute_input=precompute_input, unroll_scan=unroll,
                        learn_init=True)
    _randomize(layer, rng)
    x, mask = _floatX(rng.standard_normal((BATCH, STEPS, FEATURES))), _mask()
    values = {l_in: x, l_mask: mask} if masked else {l_in: x}
    got = _evaluate(layer, values)
    states = [np.repeat(_value(layer.cell_init), BATCH, axis=0),
              np.repeat(_value(layer.hid_init), BATCH, axis=0)]
    expected = _expected(layer, _lstm_step(layer, peepholes), x, states,
                         mask if masked else None, only_return_final)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("unroll", LOOPS)
@pytest.mark.parametrize("backwards, only_return_final, precompute_input, masked", SETTINGS)
def test_gru_layer_forward(rng, unroll, backwards, only_return_final, precompute_input,
                           masked):
    l_in, l_mask, _ = _input_layers(unroll, masked)
    layer = L.GRULayer(l_in, UNITS, backwards=backwards, only_return_final=only_return_final,
                       mask_input=l_mask, precompute_input=precompute_input,
                       unroll_scan=unroll, learn_init=True)
    _randomize(layer, rng)
    x, mask = _floatX(rng.standard_normal((BATCH, STEPS, FEATURES))), _mask()
    values = {l_in: x, l_mask: mask} if masked else {l_in: x}
    got = _evaluate(layer, values)
    h0 = np.repeat(_value(layer.hid_init), BATCH, axis=0)
    expected = _expected(layer, _gru_step(layer), x, [h0], mask if masked else None,
                         only_return_final)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("unroll", LOOPS)
def test_initial_states_given_as_layers(rng, unroll):
    l_in, l_mask, l_hid = _input_layers(unroll, masked=True, hid_layer=True)
    l_cell = L.InputLayer((None, UNITS))
    x, mask = _floatX(rng.standard_normal((BATCH, STEPS, FEATURES))), _mask()
    h0, c0 = (_floatX(rng.standard_normal((BATCH, UNITS))) for _ in range(2))

    rnn = L.RecurrentLayer(l_in, UNITS, hid_init=l_hid, mask_input=l_mask,
                           nonlinearity=None, unroll_scan=unroll)
    assert rnn.hid_init is l_hid and rnn.input_layers == [l_in, l_mask, l_hid]
    assert (rnn.mask_incoming_index, rnn.hid_init_incoming_index) == (1, 2)
    assert all("hid_init" not in (p.name or "") for p in rnn.get_params())
    got = _evaluate(rnn, {l_in: x, l_mask: mask, l_hid: h0})
    step = _rnn_step(_value(rnn.W_in_to_hid), _value(rnn.W_hid_to_hid), _value(rnn.b),
                     lambda v: v)
    np.testing.assert_allclose(got, _loop(step, x, [h0], mask)[0][0], rtol=1e-6, atol=1e-12)

    lstm = L.LSTMLayer(l_in, UNITS, hid_init=l_hid, cell_init=l_cell, mask_input=l_mask,
                       unroll_scan=unroll)
    assert lstm.input_layers == [l_in, l_mask, l_hid, l_cell]
    assert (lstm.hid_init_incoming_index, lstm.cell_init_incoming_index) == (2, 3)
    got = _evaluate(lstm, {l_in: x, l_mask: mask, l_hid: h0, l_cell: c0})
    history, _ = _loop(_lstm_step(lstm, True), x, [c0, h0], mask)
    np.testing.assert_allclose(got, history[1], rtol=1e-6, atol=1e-12)

    gru = L.GRULayer(l_in, UNITS, hid_init=l_hid, unroll_scan=unroll, only_return_final=True)
    got = _evaluate(gru, {l_in: x, l_hid: h0})
    np.testing.assert_allclose(got, _loop(_gru_step(gru), x, [h0])[1][0], rtol=1e-6,
                               atol=1e-12)


@pytest.mark.parametrize("unroll", LOOPS)
@pytest.mark.parametrize("precompute_input", [True, False])
def test_custom_recurrent_layer_with_a_matrix_state(rng, unroll, precompute_input):
    """Connections of several layers giving a (batch, 2, 3) state; the mask broadcasts
    over both state axes."""
    def connection(shape):
        dense = L.DenseLayer(L.InputLayer((None,) + shape), 6, nonlinearity=None, b=None)
        return L.ReshapeLayer(dense, ([0], 2, 3))

    l_in, l_mask, _ = _input_layers(unroll, masked=True)
    i2h, h2h = connection((FEATURES,)), connection((2, 3))
    layer = L.CustomRecurrentLayer(l_in, i2h, h2h, nonlinearity=NL.tanh, mask_input=l_mask,
                                   precompute_input=precompute_input, unroll_scan=unroll,
                                   backwards=True, hid_init=init.Uniform(1.0))
    assert layer.output_shape == (None, STEPS if unroll else None, 2, 3)
    assert layer.hid_init.get_value().shape == (1, 2, 3)
    x, mask = _floatX(rng.standard_normal((BATCH, STEPS, FEATURES))), _mask()
    got = _evaluate(layer, {l_in: x, l_mask: mask})
    W_i, W_h = _value(i2h.input_layer.W), _value(h2h.input_layer.W)

    def step(x_t, h):
        return [np.tanh((x_t @ W_i + h.reshape(BATCH, 6) @ W_h).reshape(BATCH, 2, 3))]

    h0 = np.repeat(_value(layer.hid_init), BATCH, axis=0)
    expected = _loop(step, x, [h0], mask, backwards=True)[0][0]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)


def test_custom_connections_receive_get_output_keywords(rng):
    """``deterministic`` reaches a dropout layer inside a connection, without a warning."""
    l_in = L.InputLayer((BATCH, STEPS, FEATURES))
    i2h = L.DenseLayer(L.InputLayer((None, FEATURES)), UNITS, nonlinearity=None)
    h2h = L.DenseLayer(L.InputLayer((None, UNITS)), UNITS, nonlinearity=None, b=None)
    dropped = L.CustomRecurrentLayer(l_in, i2h, L.DropoutLayer(h2h, p=0.5),
                                     nonlinearity=NL.tanh, unroll_scan=True)
    plain = L.CustomRecurrentLayer(l_in, i2h, h2h, nonlinearity=NL.tanh, unroll_scan=True)
    assert "deterministic" in dropped.get_output_kwargs
    x = _floatX(rng.standard_normal((BATCH, STEPS, FEATURES)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs = [L.get_output(dropped, deterministic=True), L.get_output(plain),
                   L.get_output(dropped)]
    got, expected, noisy = exprc.function([l_in.input_var], outputs)(x)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert not np.allclose(noisy, expected)


def test_trailing_input_axes_are_flattened(rng):
    l_in = L.InputLayer((BATCH, STEPS, 2, 3))
    layer = L.GRULayer(l_in, UNITS, unroll_scan=True)
    assert layer.W_in_to_updategate.get_value().shape == (6, UNITS)
    x = _floatX(rng.standard_normal((BATCH, STEPS, 2, 3)))
    flat_in = L.InputLayer((BATCH, STEPS, 6))
    flat = L.GRULayer(flat_in, UNITS, unroll_scan=True,
                      **{g: L.Gate(W_in=getattr(layer, f"W_in_to_{g}"),
                                   W_hid=getattr(layer, f"W_hid_to_{g}"), W_cell=None,
                                   nonlinearity=NL.tanh if g == "hidden_update" else NL.sigmoid)
                         for g in ("resetgate", "updategate", "hidden_update")})
    np.testing.assert_allclose(_evaluate(layer, {l_in: x}),
                               _evaluate(flat, {flat_in: x.reshape(BATCH, STEPS, 6)}),
                               rtol=1e-10)


# ----------------------------------------------------------------------------- gradients

def _gradient_layer(kind, x, unroll, **kwargs):
    l_in = L.InputLayer((2, 3, 2) if unroll else (None, None, 2))
    if kind == "rnn":
        layer = L.RecurrentLayer(l_in, 3, nonlinearity=NL.tanh, unroll_scan=unroll, **kwargs)
    elif kind == "lstm":
        layer = L.LSTMLayer(l_in, 3, unroll_scan=unroll, **kwargs)
    else:
        layer = L.GRULayer(l_in, 3, unroll_scan=unroll, **kwargs)
    return L.get_output(layer, x)


@pytest.mark.parametrize("unroll", LOOPS)
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_gradients_by_finite_differences(kind, unroll):
    """Gradients with respect to the input, the mask-free weights and the initial state,
    in float64, with a mask and a backwards run."""
    rng = np.random.default_rng(7)
    mask = T.constant(np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]]))

    def fun(x, W_hid, hid_init):
        l_in = L.InputLayer((2, 3, 2) if unroll else (None, None, 2))
        l_mask = L.InputLayer((2, 3) if unroll else (None, None))
        common = dict(unroll_scan=unroll, mask_input=l_mask, backwards=True,
                      hid_init=hid_init)
        if kind == "rnn":
            layer = L.RecurrentLayer(l_in, 3, W_hid_to_hid=W_hid, nonlinearity=NL.tanh,
                                     **common)
        elif kind == "lstm":
            layer = L.LSTMLayer(l_in, 3, forgetgate=L.Gate(W_hid=W_hid), **common)
        else:
            layer = L.GRULayer(l_in, 3, updategate=L.Gate(W_hid=W_hid, W_cell=None),
                               **common)
        return L.get_output(layer, {l_in: x, l_mask: mask})

    with exprc.config.change_flags(floatX="float64"):
        point = [rng.standard_normal((2, 3, 2)), 0.5 * rng.standard_normal((3, 3)),
                 rng.standard_normal((1, 3))]
        verify_grad(fun, point, rng=rng)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_grad_clipping_clips_backward_only(kind):
    rng = np.random.default_rng(3)
    x = T.tensor3("x")
    plain = _gradient_layer(kind, x, True)
    clipped = _gradient_layer(kind, x, True, grad_clipping=1e-6)
    value = _floatX(rng.standard_normal((2, 3, 2)))
    f = exprc.function([x], [plain, clipped, exprc.grad(plain.sum(), x),
                             exprc.grad(clipped.sum(), x)])
    out_plain, out_clipped, g_plain, g_clipped = f(value)
    assert out_plain.shape == out_clipped.shape == (2, 3, 3)
    assert np.abs(g_plain).max() > 1e-3
    assert np.abs(g_clipped).max() < 1e-4


def test_gradient_steps_truncates_backpropagation():
    x = T.tensor3("x")
    l_in = L.InputLayer((None, None, 2))
    full = L.RecurrentLayer(l_in, 3, nonlinearity=NL.tanh, only_return_final=True)
    truncated = L.RecurrentLayer(l_in, 3, nonlinearity=NL.tanh, only_return_final=True,
                                 gradient_steps=1, W_in_to_hid=full.W_in_to_hid,
                                 W_hid_to_hid=full.W_hid_to_hid, b=full.b)
    g_full = exprc.grad(L.get_output(full, x).sum(), x)
    g_truncated = exprc.grad(L.get_output(truncated, x).sum(), x)
    value = _floatX(np.random.default_rng(0).standard_normal((2, 4, 2)))
    g_full, g_truncated = exprc.function([x], [g_full, g_truncated])(value)
    np.testing.assert_allclose(g_truncated[:, -1], g_full[:, -1], rtol=1e-10)
    assert np.all(g_truncated[:, :-1] == 0) and np.abs(g_full[:, :-1]).max() > 0


# ----------------------------------------------------------------------------- shapes, params

def test_output_shapes():
    l_in = L.InputLayer((7, 11, 4, 2))
    for layer in (L.RecurrentLayer(l_in, 5), L.LSTMLayer(l_in, 5), L.GRULayer(l_in, 5)):
        assert layer.output_shape == (7, 11, 5)
        assert L.get_output_shape(layer, (2, 3, 4, 2)) == (2, 3, 5)
    for layer in (L.RecurrentLayer(l_in, 5, only_return_final=True),
                  L.LSTMLayer(l_in, 5, only_return_final=True),
                  L.GRULayer(l_in, 5, only_return_final=True)):
        assert layer.output_shape == (7, 5)
    assert L.LSTMLayer(L.InputLayer((None, None, 3)), 2).output_shape == (None, None, 2)


def test_lstm_params_names_shapes_and_tags():
    l_in = L.InputLayer((None, None, 4))
    layer = L.LSTMLayer(l_in, 3, name="lstm")
    names = [p.name for p in layer.get_params()]
    gates = ("ingate", "forgetgate", "cell", "outgate")
    assert names == ([f"lstm.{w}_{g}" for g in gates
                      for w in ("W_in_to", "W_hid_to", "b")]
                     + [f"lstm.W_cell_to_{g}" for g in ("ingate", "forgetgate", "outgate")]
                     + ["lstm.cell_init", "lstm.hid_init"])
    assert layer.W_in_to_cell.get_value().shape == (4, 3)
    assert layer.W_hid_to_outgate.get_value().shape == (3, 3)
    assert layer.b_ingate.get_value().shape == (3,)
    assert layer.W_cell_to_forgetgate.get_value().shape == (3,)
    assert layer.hid_init.get_value().shape == layer.cell_init.get_value().shape == (1, 3)
    trainable = layer.get_params(trainable=True)
    assert layer.hid_init not in trainable and layer.cell_init not in trainable
    assert len(trainable) == 15
    assert layer.get_params(regularizable=True) == [
        layer.W_in_to_ingate, layer.W_hid_to_ingate, layer.W_in_to_forgetgate,
        layer.W_hid_to_forgetgate, layer.W_in_to_cell, layer.W_hid_to_cell,
        layer.W_in_to_outgate, layer.W_hid_to_outgate, layer.W_cell_to_ingate,
        layer.W_cell_to_forgetgate, layer.W_cell_to_outgate]
    learned = L.LSTMLayer(l_in, 3, learn_init=True, peepholes=False)
    assert learned.hid_init in learned.get_params(trainable=True)
    assert learned.cell_init in learned.get_params(trainable=True)
    assert learned.hid_init not in learned.get_params(regularizable=True)
    assert not hasattr(learned, "W_cell_to_ingate") and len(learned.get_params()) == 14
    assert L.count_params(learned) == 4 * (4 * 3 + 3 * 3 + 3) + 2 * 3


def test_gru_and_rnn_params_and_tags():
    l_in = L.InputLayer((None, None, 4))
    gru = L.GRULayer(l_in, 3)
    assert [p.name for p in gru.get_params()][:3] == [
        "W_in_to_updategate", "W_hid_to_updategate", "b_updategate"]
    assert len(gru.get_params()) == 10 and len(gru.get_params(trainable=True)) == 9
    assert gru.b_resetgate not in gru.get_params(regularizable=True)

    rnn = L.RecurrentLayer(l_in, 3, learn_init=True)
    assert rnn.get_params(trainable=True) == [rnn.hid_init, rnn.W_in_to_hid, rnn.b,
                                              rnn.W_hid_to_hid]
    assert rnn.get_params(regularizable=True) == [rnn.W_in_to_hid, rnn.W_hid_to_hid]
    final = L.RecurrentLayer(l_in, 3, only_return_final=True)
    assert L.get_all_params(L.DenseLayer(final, 2))[:4] == final.get_params()
    assert rnn.W_in_to_hid.get_value().shape == (4, 3) and rnn.b.get_value().shape == (3,)


def test_defaults_follow_lasagne():
    l_in = L.InputLayer((None, None, 4))
    lstm = L.LSTMLayer(l_in, 3)
    assert lstm.nonlinearity is NL.tanh and lstm.nonlinearity_cell is NL.tanh
    assert lstm.nonlinearity_ingate is NL.sigmoid and lstm.peepholes
    assert (lstm.backwards, lstm.learn_init, lstm.gradient_steps, lstm.grad_clipping,
            lstm.unroll_scan, lstm.precompute_input, lstm.only_return_final) == (
        False, False, -1, 0, False, True, False)
    assert np.all(lstm.b_forgetgate.get_value() == 0)
    gru = L.GRULayer(l_in, 3)
    assert gru.nonlinearity_hid is NL.tanh and gru.nonlinearity_resetgate is NL.sigmoid
    rnn = L.RecurrentLayer(l_in, 3)
    assert rnn.nonlinearity is NL.rectify
    assert L.RecurrentLayer(l_in, 3, nonlinearity=None).nonlinearity is NL.identity
    gate = L.Gate(nonlinearity=None)
    assert gate.nonlinearity is NL.identity and isinstance(gate.W_in, init.Normal)


# ----------------------------------------------------------------------------- errors

def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"LSTMLayer 'enc' needs an input of shape .*"
                                         r"input_shape=\(None, 4\)"):
        L.LSTMLayer(L.InputLayer((None, 4)), 3, name="enc")
    with pytest.raises(ValueError, match="RecurrentLayer needs an input of shape"):
        L.RecurrentLayer(L.InputLayer((None, 4)), 3)
    with pytest.raises(ValueError, match="sizes after the sequence axis known"):
        L.GRULayer(L.InputLayer((None, None, None)), 3)
    l_in = L.InputLayer((None, None, 4))
    with pytest.raises(ValueError, match="sequence length cannot be None when unroll_scan"):
        L.GRULayer(l_in, 3, unroll_scan=True)
    with pytest.raises(ValueError, match="gradient_steps must be -1 when unroll_scan"):
        L.LSTMLayer(L.InputLayer((None, 5, 4)), 3, unroll_scan=True, gradient_steps=2)
    with pytest.raises(ValueError, match=r"mask_input must give a \(batch_size, "
                                         r"sequence_length\) matrix.*\(None, 5, 1\)"):
        L.LSTMLayer(l_in, 3, mask_input=L.InputLayer((None, 5, 1)))
    with pytest.raises(ValueError, match=r"output shape is \(2, 6\) and input_shape="
                                         r"\(2, 5, 4\)"):
        L.RecurrentLayer(L.InputLayer((2, 5, 4)), 3, mask_input=L.InputLayer((2, 6)))
    with pytest.raises(ValueError, match="peepholes=True needs a W_cell for the outgate"):
        L.LSTMLayer(l_in, 3, outgate=L.Gate(W_cell=None))
    with pytest.raises(ValueError, match=r"layer given as hid_init must have output shape "
                                         r"\(None, 3\)"):
        L.GRULayer(l_in, 3, hid_init=L.InputLayer((None, 4)))


def test_errors_of_custom_connections():
    l_in = L.InputLayer((2, 5, 4))
    i2h = L.DenseLayer(L.InputLayer((None, 4)), 3)
    with pytest.raises(ValueError, match="output shapes of input_to_hidden and "
                                         "hidden_to_hidden must be equal"):
        L.CustomRecurrentLayer(l_in, i2h, L.DenseLayer(L.InputLayer((None, 3)), 2))
    with pytest.raises(ValueError, match="hidden_to_hidden must take the state it gives"):
        L.CustomRecurrentLayer(l_in, i2h, L.DenseLayer(L.InputLayer((None, 7)), 3))
    with pytest.raises(ValueError, match="batch_size \\* sequence_length = 10"):
        L.CustomRecurrentLayer(l_in, L.DenseLayer(L.InputLayer((4, 4)), 3),
                               L.DenseLayer(L.InputLayer((None, 3)), 3))


def test_input_of_wrong_rank_at_get_output():
    layer = L.LSTMLayer(L.InputLayer((None, None, 4)), 3)
    with pytest.raises(ValueError, match="LSTMLayer expects a 3-dimensional input"):
        L.get_output(layer, T.matrix("x"))
    l_mask = L.InputLayer((None, None))
    masked = L.GRULayer(L.InputLayer((None, None, 4)), 3, mask_input=l_mask)
    with pytest.raises(ValueError, match="expects a mask of shape .* 3-dimensional one"):
        L.get_output(masked, {l_mask: T.tensor3("m")})


def test_unroll_scan_helper():
    x = T.matrix("x")
    [forward] = unroll_scan(lambda x_t, acc, w: acc + w * x_t, [x], [T.zeros((2,))],
                            [T.constant(2.0)], n_steps=3)
    [backward] = unroll_scan(lambda x_t, acc, w: acc + w * x_t, x, [T.zeros((2,))],
                             [T.constant(2.0)], n_steps=3, go_backwards=True)
    value = np.arange(6.0).reshape(3, 2)
    got_f, got_b = exprc.function([x], [forward, backward])(value)
    np.testing.assert_allclose(got_f, 2 * np.cumsum(value, axis=0))
    np.testing.assert_allclose(got_b, 2 * np.cumsum(value[::-1], axis=0))
    with pytest.raises(ValueError, match="positive Python integer n_steps"):
        unroll_scan(lambda x_t, acc: acc, [x], [T.zeros((2,))], [], n_steps=None)


# ----------------------------------------------------------------------------- the example

def _sequence_example():
    examples = str(Path(__file__).resolve().parents[1] / "examples")
    if examples not in sys.path:
        sys.path.insert(0, examples)
    return importlib.import_module("mnist_sequence")


def test_sequence_example_runs_end_to_end(tmp_path, capsys):
    rng = np.random.default_rng(0)
    arrays = {}
    for split in ("train", "valid", "test"):
        arrays[f"x_{split}"] = rng.integers(0, 256, (40, 784)).astype("uint8")
        arrays[f"y_{split}"] = rng.integers(0, 10, 40).astype("uint8")
    np.savez(tmp_path / "m.npz", **arrays)
    argv = ["--data", str(tmp_path / "m.npz"), "--epochs", "2", "--units", "4",
            "--batch-size", "16", "--save", str(tmp_path / "p.npz"),
            "--plot", str(tmp_path / "c.png"), "--no-progress"]
    result = _sequence_example().main(argv)
    out = capsys.readouterr().out
    assert [line.split(":")[0] for line in out.splitlines() if line.startswith("epoch")] == [
        "epoch   1", "epoch   2"]
    assert 0 <= result["test_accuracy"] <= 1 and (tmp_path / "c.png").is_file()
    with np.load(tmp_path / "p.npz") as saved:
        shapes = [saved[f"arr_{k}"].shape for k in range(len(saved.files))]
    gate = [(28, 4), (4, 4), (4,)]
    assert shapes == 4 * gate + 3 * [(4,)] + 2 * [(1, 4)] + [(4, 10), (10,)]


def test_sequence_example_without_data_explains_where_to_get_it(monkeypatch, capsys):
    monkeypatch.delenv(MNIST_ENV, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        _sequence_example().main(["--no-progress"])
    assert exit_info.value.code == 2
    assert "mnist.pkl.gz" in capsys.readouterr().err
