"""Theano programs run on exprc through ``exprc.compat.install_theano()``.

Each test is written the way Theano programs are (``import theano``, ``import theano.tensor as
T``): snippets of Theano's tutorial and of the deeplearning.net tutorials (logistic regression,
MLP, LeNet, denoising autoencoder), compared with NumPy where that makes sense.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("theano_installed")


# ------------------------------------------------------------------------------ module layout
def test_theano_modules_resolve_to_exprc_compat():
    import theano
    import theano.tensor as T
    from theano.ifelse import ifelse
    from theano.sandbox.rng_mrg import MRG_RandomStreams
    from theano.scan_module import until
    from theano.tensor.nnet import conv2d
    from theano.tensor.shared_randomstreams import RandomStreams
    from theano.tensor.signal import pool

    import exprc
    import exprc.compat.theano
    assert theano is exprc.compat.theano
    assert sys.modules["theano.tensor"] is T
    assert T.nnet.conv2d is conv2d
    assert pool.pool_2d is theano.tensor.signal.pool.pool_2d
    assert ifelse is exprc.ifelse.ifelse
    assert until is exprc.scan_module.until
    assert callable(MRG_RandomStreams) and callable(RandomStreams)
    assert theano.Param is not None and theano.compile.function is theano.function
    assert theano.gof.graph.Variable is exprc.graph.Variable
    assert theano.scan_module.scan_utils.equal_computations is not None
    for name in ("T.matrix", "T.grad", "T.jacobian", "T.hessian", "T.Rop", "T.Lop",
                 "T.nnet.sigmoid", "T.nnet.softmax", "T.nnet.relu",
                 "T.nnet.categorical_crossentropy", "T.nnet.binary_crossentropy",
                 "T.signal.downsample.max_pool_2d", "T.extra_ops.cumsum",
                 "theano.gradient.verify_grad", "theano.printing.debugprint"):
        assert eval(name) is not None, name


@pytest.mark.parametrize("name", ["theano.sandbox.cuda", "theano.gpuarray",
                                  "theano.sandbox.gpuarray"])
def test_gpu_modules_are_absent(name):
    import importlib
    with pytest.raises(ImportError):
        importlib.import_module(name)


def test_config():
    import theano

    import exprc
    assert theano.config.floatX == exprc.config.floatX
    assert theano.config.device == "cpu"
    before = exprc.config.floatX
    with theano.config.change_flags(floatX="float32"):
        assert exprc.config.floatX == "float32"
        import theano.tensor as T
        assert T.matrix().dtype == "float32"
    assert exprc.config.floatX == before
    with pytest.raises(AttributeError, match="no_such_flag"):
        _ = theano.config.no_such_flag
    with pytest.raises(AttributeError, match="no_such_flag"):
        theano.config.no_such_flag = 1
    with theano.config.change_flags(device="cuda0"):  # exprc's CUDA backend, when there is one
        assert exprc.config.device == "cuda0" and theano.config.device == "cuda0"
    assert exprc.config.device == "cpu"
    with pytest.raises(ValueError):
        theano.config.device = "opencl0"
    # Flags without effect on exprc are stored and read back, dotted as in Theano.
    with theano.config.change_flags({"blas.ldflags": "-lopenblas"}, allow_gc=False):
        assert theano.config.blas.ldflags == "-lopenblas"
        assert theano.config.allow_gc is False
    assert theano.config.blas.ldflags == ""
    with pytest.raises(ValueError, match="optimizer"):
        theano.config.optimizer = "fastest"


def _parsed_flags(text):
    from exprc.compat.theano.configparser import TheanoConfigParser, read_theano_flags
    parser = TheanoConfigParser()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_theano_flags(parser, text)
    return parser, [str(w.message) for w in caught]


def test_theano_flags_are_read_and_unknown_ones_named():
    import exprc
    before = (exprc.config.floatX, exprc.config.compute_test_value)
    try:
        parser, messages = _parsed_flags(
            "floatX=float32, device=cpu,optimizer=fast_compile,blas.ldflags=-lblas,"
            "compute_test_value=warn,exception_verbosity=high,no_such_flag=1,lib.cnmem=0.5")
        assert exprc.config.floatX == "float32"
        assert exprc.config.compute_test_value == "warn"
        assert parser.optimizer == "fast_compile"
        assert parser.blas.ldflags == "-lblas" and parser.lib.cnmem == 0.5
        assert parser.exception_verbosity == "high"
        assert len(messages) == 1 and "no_such_flag" in messages[0]
        _, messages = _parsed_flags("device=opencl0,floatX=float16,allow_gc")
        assert any("device=opencl0" in m for m in messages)
        assert any("floatX=float16" in m for m in messages)
        assert any("'allow_gc'" in m for m in messages)
        _parsed_flags("device=cuda0")
        assert exprc.config.device == "cuda0"
    finally:
        exprc.config.floatX, exprc.config.compute_test_value = before
        exprc.config.device = "cpu"


def test_linker_and_optimizer_flags_choose_the_default_mode():
    import theano
    import theano.tensor as T
    x = T.dvector("x")
    with theano.config.change_flags(linker="py", optimizer="None"):
        f = theano.function([x], x * 2 + x * 2)
        assert f.mode.linker == "reference" and f.mode.optimizer == "none"
        np.testing.assert_array_equal(f([1.0, 2.0]), [4.0, 8.0])
    f = theano.function([x], x * 2)
    assert f.mode.linker == "c"


def test_mode_flag_names_a_mode_when_set():
    # A mode name no mode has is refused where it is set (THEANO_FLAGS warns and ignores it),
    # not at every later theano.function; 'Mode', Theano's default, leaves the choice to the
    # linker and optimizer flags.
    import theano
    import theano.tensor as T

    import exprc
    x = T.dvector("x")
    with pytest.raises(ValueError, match="'ProfileMode' for theano.config.mode"):
        theano.config.mode = "ProfileMode"
    assert exprc.config.mode == "FAST_RUN"
    with theano.config.change_flags(mode="Mode", optimizer="None"):
        f = theano.function([x], x * 2)
        assert f.mode.optimizer == "none"
        np.testing.assert_array_equal(f([1.0]), [2.0])
    _, messages = _parsed_flags("mode=bogus")
    assert exprc.config.mode == "FAST_RUN"
    assert len(messages) == 1 and "mode=bogus" in messages[0]


def test_truth_value_as_theano():
    import theano
    import theano.tensor as T
    W = theano.shared(np.zeros(3), name="W")
    x = T.dvector("x")
    assert W and x and (x + 1)  # Theano: true for any variable but a comparison
    import theano.sparse
    assert theano.sparse.csr_matrix("s")
    with pytest.raises(TypeError):
        bool(x < 1)
    with pytest.raises(TypeError):
        bool(T.eq(x, 1))


def test_truth_value_is_an_error_in_exprc_itself():
    import exprc
    import exprc.tensor as ET
    with exprc.config.change_flags(variable_truth="error"):
        with pytest.raises(TypeError, match="truth value"):
            bool(ET.dvector("x"))


# --------------------------------------------------------------------------- Theano tutorial
def test_tutorial_adding_and_logistic():
    import theano
    import theano.tensor as T
    from theano import function
    x, y = T.dscalars("x", "y")
    f = function([x, y], x + y)
    assert f(2, 3) == 5.0
    x = T.dmatrix("x")
    s = 1 / (1 + T.exp(-x))
    logistic = theano.function([x], s)
    s2 = (1 + T.tanh(x / 2)) / 2
    logistic2 = theano.function([x], s2)
    value = [[0, 1], [-1, -2]]
    np.testing.assert_allclose(logistic(value), 1 / (1 + np.exp(-np.array(value, float))))
    np.testing.assert_allclose(logistic2(value), logistic(value))
    a, b = T.dmatrices("a", "b")
    diff = a - b
    f = theano.function([a, b], [diff, abs(diff), diff ** 2])
    d, ad, d2 = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    np.testing.assert_allclose(d2, [[1, 0], [1, 4]])


def test_tutorial_default_values_and_gradients():
    import theano
    import theano.tensor as T
    from theano import In, Param, function, pp
    x, y, w = T.dscalars("x", "y", "w")
    z = (x + y) * w
    f = function([x, In(y, value=1), Param(w, default=2, name="w_by_name")], z)
    assert f(33) == 68.0
    assert f(33, 0, 1) == 33.0
    assert f(33, w_by_name=1, y=0) == 33.0
    x = T.dscalar("x")
    gy = T.grad(x ** 2, x)
    assert isinstance(pp(gy), str)
    assert theano.function([x], gy)(4) == 8.0
    x = T.dmatrix("x")
    s = T.sum(1 / (1 + T.exp(-x)))
    gs = T.grad(s, x)
    dlogistic = theano.function([x], gs)
    v = np.array([[0, 1], [-1, -2]], float)
    sig = 1 / (1 + np.exp(-v))
    np.testing.assert_allclose(dlogistic(v), sig * (1 - sig))
    # Jacobian, Hessian, R-op and L-op
    x = T.dvector("x")
    J = theano.function([x], T.jacobian(x ** 2, x))
    np.testing.assert_allclose(J([4, 4]), [[8, 0], [0, 8]])
    H = theano.function([x], T.hessian(T.sum(x ** 2), x))
    np.testing.assert_allclose(H([4, 4]), [[2, 0], [0, 2]])
    W, V = T.dmatrices("W", "V")
    x = T.dvector("x")
    y = T.dot(x, W)
    f = theano.function([W, V, x], T.Rop(y, W, V))
    np.testing.assert_allclose(f(np.ones((3, 2)), np.ones((3, 2)) * 2, [0, 1, 2]), [6, 6])
    v = T.dvector("v")
    f = theano.function([v, x], T.Lop(y, W, v))
    np.testing.assert_allclose(f([2, 2], [0, 1]), [[0, 0], [2, 2]])


def test_tutorial_shared_accumulator_and_givens():
    import theano
    import theano.tensor as T
    from theano import function, shared
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    decrementor = function([inc], state, updates=[(state, state - inc)])
    assert accumulator(1) == 0 and state.get_value() == 1
    accumulator(300)
    assert state.get_value() == 301
    state.set_value(-1)
    accumulator(3)
    assert state.get_value() == 2
    decrementor(2)
    assert state.get_value() == 0
    fn_of_state = state * 2 + inc
    foo = T.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert skip_shared(1, 3) == 7 and state.get_value() == 0
    updates = theano.OrderedUpdates()
    updates[state] = state + 10
    function([], [], updates=updates)()
    assert state.get_value() == 10


def test_tutorial_random_streams():
    import theano.tensor as T  # noqa: F401
    from theano import function
    from theano.tensor.shared_randomstreams import RandomStreams
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    rv_n = srng.normal((2, 2))
    f = function([], rv_u)
    g = function([], rv_n, no_default_updates=True)
    nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)
    f_val0, f_val1 = f(), f()
    assert not np.allclose(f_val0, f_val1)
    assert ((f_val0 >= 0) & (f_val0 < 1)).all()
    np.testing.assert_allclose(g(), g())
    np.testing.assert_allclose(nearly_zeros(), 0, atol=1e-12)
    srng.seed(902340)
    a = f()
    srng.seed(902340)
    np.testing.assert_allclose(f(), a)


def test_tutorial_scan_power_and_polynomial():
    import theano
    import theano.tensor as T
    k = T.iscalar("k")
    A = T.vector("A")
    result, updates = theano.scan(fn=lambda prior_result, A: prior_result * A,
                                  outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    final_result = result[-1]
    power = theano.function(inputs=[A, k], outputs=final_result, updates=updates)
    np.testing.assert_allclose(power(range(10), 2), np.arange(10.0) ** 2)
    coefficients = T.vector("coefficients")
    x = T.scalar("x")
    max_coefficients_supported = 10000
    components, updates = theano.scan(
        fn=lambda coefficient, power, free_variable: coefficient * (free_variable ** power),
        outputs_info=None,
        sequences=[coefficients, T.arange(max_coefficients_supported)],
        non_sequences=x)  # as the tutorial writes it: Theano runs as long as the shortest
    polynomial = components.sum()
    calculate_polynomial = theano.function(inputs=[coefficients, x], outputs=polynomial)
    assert calculate_polynomial(np.asarray([1, 0, 2], dtype=theano.config.floatX), 3) == 19.0
    shorter, _ = theano.map(lambda a, b: a + b, [T.arange(5), T.arange(3)])
    np.testing.assert_array_equal(theano.function([], shorter)(), [0, 2, 4])
    # until, map, reduce
    from theano.scan_module import until
    values, _ = theano.scan(lambda prev: (prev * 2, until(prev * 2 > 40)),
                            outputs_info=T.constant(1.0), n_steps=100)
    np.testing.assert_allclose(theano.function([], values)(), [2, 4, 8, 16, 32, 64])
    v = T.dvector("v")
    squares, _ = theano.map(lambda e: e ** 2, sequences=v)
    total, _ = theano.reduce(lambda e, acc: acc + e, sequences=v, outputs_info=T.constant(0.0))
    f = theano.function([v], [squares, total])
    sq, tot = f([1, 2, 3])
    np.testing.assert_allclose(sq, [1, 4, 9])
    assert tot == 6


def test_tutorial_ifelse_and_switch():
    import theano
    import theano.tensor as T
    from theano.ifelse import ifelse
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f_switch = theano.function([a, b, x, y], z_switch)
    f_lazyifelse = theano.function([a, b, x, y], z_lazy)
    big_mat1 = np.ones((10, 10))
    big_mat2 = np.ones((10, 10)) * 2
    assert f_switch(1, 2, big_mat1, big_mat2) == 1.0
    assert f_lazyifelse(2, 1, big_mat1, big_mat2) == 2.0


def test_printing_clone_and_graph():
    import theano
    import theano.tensor as T
    from theano.gof import graph
    from theano.scan_module.scan_utils import equal_computations
    x, y = T.dvectors("x", "y")
    z = T.exp(x) + y
    text = theano.printing.debugprint(z, file="str")
    assert "Elemwise" in text or "exp" in text
    w = theano.clone(z, replace={y: 2 * x})
    f = theano.function([x], w)
    np.testing.assert_allclose(f([0.0, 1.0]), np.exp([0.0, 1.0]) + 2 * np.array([0.0, 1.0]))
    assert set(graph.inputs([z])) == {x, y}
    assert equal_computations([z], [theano.clone(z)])


# ------------------------------------------------------------------------- tensor extras
def test_plural_constructors():
    import theano.tensor as T
    a, b = T.dmatrices("a", "b")
    assert (a.name, b.name, a.dtype, a.ndim) == ("a", "b", "float64", 2)
    x, y, z = T.fscalars("x, y, z")
    assert [v.name for v in (x, y, z)] == ["x", "y", "z"] and x.dtype == "float32"
    c, d = T.ivectors("cd")  # Theano reads one string as one name per character
    assert (c.name, d.name, c.dtype) == ("c", "d", "int32")
    assert T.lscalars("k").name == "k"
    unnamed = T.lmatrices(3)
    assert len(unnamed) == 3 and all(v.dtype == "int64" and v.ndim == 2 for v in unnamed)
    for ctor, ndim in ((T.scalars, 0), (T.vectors, 1), (T.matrices, 2), (T.tensor3s, 3),
                       (T.iscalars, 0), (T.imatrices, 2), (T.dscalars, 0), (T.dvectors, 1),
                       (T.fvectors, 1), (T.fmatrices, 2), (T.lvectors, 1)):
        u, v = ctor("u", "v")
        assert u.ndim == v.ndim == ndim
    assert T.tensor5().ndim == 5 and T.tensor6("t").ndim == 6 and T.dtensor7().ndim == 7
    assert T.ftensor6().dtype == "float32"


def test_tensor_extra_functions():
    import theano
    import theano.tensor as T
    x = T.tensor3("x")
    f = theano.function([x], [T.flatten(x, outdim=2), T.flatten(x), x.flatten(2)])
    v = np.arange(24.0).reshape(2, 3, 4)
    a, b, c = f(v)
    assert a.shape == (2, 12) and b.shape == (24,) and c.shape == (2, 12)
    p, q, r, s = T.dscalars("p", "q", "r", "s")
    m = T.stacklists([[p, q], [r, s]])
    np.testing.assert_allclose(theano.function([p, q, r, s], m)(1, 2, 3, 4), [[1, 2], [3, 4]])
    A, B = T.dmatrices("A", "B")
    h = theano.function([A, B], [T.horizontal_stack(A, B), T.vertical_stack(A, B)])
    a1, a2 = np.ones((2, 2)), np.zeros((2, 2))
    hs, vs = h(a1, a2)
    np.testing.assert_allclose(hs, np.hstack([a1, a2]))
    np.testing.assert_allclose(vs, np.vstack([a1, a2]))
    assert T.get_scalar_constant_value(T.constant(3.0)) == 3.0
    assert T.get_scalar_constant_value(T.constant(2) * 3 + 1) == 7
    with pytest.raises(T.NotScalarConstantError):
        T.get_scalar_constant_value(p)
    with pytest.raises(T.NotScalarConstantError):
        T.get_scalar_constant_value(theano.shared(1.0))


# ------------------------------------------------------------ deeplearning.net tutorials
def _data(rng, n=60, n_in=8, n_out=3):
    X = rng.standard_normal((n, n_in))
    W_true = rng.standard_normal((n_in, n_out))
    y = np.argmax(X @ W_true, axis=1)
    return X, y


def test_logistic_regression_sgd():
    import theano
    import theano.tensor as T
    rng = np.random.default_rng(0)
    X, y_data = _data(rng)
    train_set_x = theano.shared(np.asarray(X, dtype=theano.config.floatX), borrow=True)
    train_set_y = T.cast(theano.shared(np.asarray(y_data, dtype=theano.config.floatX)), "int32")
    index = T.lscalar()
    x = T.matrix("x")
    y = T.ivector("y")
    W = theano.shared(value=np.zeros((8, 3), dtype=theano.config.floatX), name="W", borrow=True)
    b = theano.shared(value=np.zeros((3,), dtype=theano.config.floatX), name="b", borrow=True)
    p_y_given_x = T.nnet.softmax(T.dot(x, W) + b)
    y_pred = T.argmax(p_y_given_x, axis=1)
    cost = -T.mean(T.log(p_y_given_x)[T.arange(y.shape[0]), y])
    errors = T.mean(T.neq(y_pred, y))
    g_W, g_b = T.grad(cost=cost, wrt=W), T.grad(cost=cost, wrt=b)
    learning_rate, batch_size = 0.5, 20
    updates = [(W, W - learning_rate * g_W), (b, b - learning_rate * g_b)]
    train_model = theano.function(
        inputs=[index], outputs=cost, updates=updates,
        givens={x: train_set_x[index * batch_size: (index + 1) * batch_size],
                y: train_set_y[index * batch_size: (index + 1) * batch_size]})
    test_model = theano.function([], errors, givens={x: train_set_x, y: train_set_y})
    # the first step against NumPy
    xb, yb = X[:20], y_data[:20]
    logits = xb @ np.zeros((8, 3))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    first = train_model(0)
    np.testing.assert_allclose(first, -np.mean(np.log(probs[np.arange(20), yb])))
    onehot = np.eye(3)[yb]
    np.testing.assert_allclose(W.get_value(), -0.5 * xb.T @ (probs - onehot) / 20, rtol=1e-10)
    losses = [train_model(i % 3) for i in range(60)]
    assert losses[-1] < first / 2
    assert test_model() < 0.2


def test_mlp_step_against_numpy():
    import theano
    import theano.tensor as T
    rng = np.random.default_rng(1)
    X, y_data = _data(rng, n=20, n_in=5, n_out=4)
    n_hidden = 6
    W1v = rng.uniform(-0.5, 0.5, (5, n_hidden))
    W2v = rng.uniform(-0.5, 0.5, (n_hidden, 4))
    W1 = theano.shared(W1v.copy(), name="W1")
    b1 = theano.shared(np.zeros(n_hidden), name="b1")
    W2 = theano.shared(W2v.copy(), name="W2")
    b2 = theano.shared(np.zeros(4), name="b2")
    x, y = T.matrix("x"), T.ivector("y")
    hidden = T.tanh(T.dot(x, W1) + b1)
    p_y = T.nnet.softmax(T.dot(hidden, W2) + b2)
    nll = -T.mean(T.log(p_y)[T.arange(y.shape[0]), y])
    L1 = abs(W1).sum() + abs(W2).sum()
    L2_sqr = (W1 ** 2).sum() + (W2 ** 2).sum()
    cost = nll + 0.0 * L1 + 1e-4 * L2_sqr
    params = [W1, b1, W2, b2]
    gparams = [T.grad(cost, param) for param in params]
    updates = [(param, param - 0.1 * gparam) for param, gparam in zip(params, gparams)]
    train = theano.function([x, y], cost, updates=updates)
    c = train(X, y_data.astype("int32"))
    h = np.tanh(X @ W1v)
    logits = h @ W2v
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected = (-np.mean(np.log(p[np.arange(20), y_data])) + 1e-4 * ((W1v ** 2).sum()
                                                                    + (W2v ** 2).sum()))
    np.testing.assert_allclose(c, expected, rtol=1e-10)
    d_logits = (p - np.eye(4)[y_data]) / 20
    np.testing.assert_allclose(W2.get_value(), W2v - 0.1 * (h.T @ d_logits + 2e-4 * W2v),
                               rtol=1e-9)


def test_lenet_conv_pool_step():
    import theano
    import theano.tensor as T
    from theano.tensor.nnet import conv2d
    from theano.tensor.signal import pool
    rng = np.random.default_rng(2)
    image_shape, filter_shape, poolsize = (2, 1, 8, 8), (3, 1, 3, 3), (2, 2)
    fan_in = np.prod(filter_shape[1:])
    Wv = rng.uniform(-1 / fan_in, 1 / fan_in, filter_shape)
    W = theano.shared(np.asarray(Wv, dtype=theano.config.floatX), borrow=True)
    b = theano.shared(np.zeros((filter_shape[0],), dtype=theano.config.floatX), borrow=True)
    x = T.matrix("x")
    y = T.ivector("y")
    layer0_input = x.reshape((2, 1, 8, 8))
    conv_out = conv2d(input=layer0_input, filters=W, filter_shape=filter_shape,
                      input_shape=image_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pooled_out = pool.pool_2d(input=conv_out, ds=poolsize, ignore_border=True)
    output = T.tanh(pooled_out + b.dimshuffle("x", 0, "x", "x"))
    flat = output.flatten(2)
    W_out = theano.shared(np.zeros((3 * 3 * 3, 2)), name="W_out")
    p_y = T.nnet.softmax(T.dot(flat, W_out))
    cost = -T.mean(T.log(p_y)[T.arange(y.shape[0]), y])
    params = [W_out, W, b]
    grads = T.grad(cost, params)
    train = theano.function([x, y], [cost, output],
                            updates=[(p, p - 0.1 * g) for p, g in zip(params, grads)])
    xv = rng.standard_normal((2, 64))
    c, out = train(xv, np.array([0, 1], dtype="int32"))
    np.testing.assert_allclose(c, np.log(2))
    # NumPy: true convolution (flipped filters), 2x2 max pooling, tanh
    imgs = xv.reshape(2, 1, 8, 8)
    flipped = Wv[:, :, ::-1, ::-1]
    conv = np.zeros((2, 3, 6, 6))
    for i in range(6):
        for j in range(6):
            conv[:, :, i, j] = np.einsum("bchw,fchw->bf", imgs[:, :, i:i + 3, j:j + 3], flipped)
    pooled = conv.reshape(2, 3, 3, 2, 3, 2).max(axis=(3, 5))
    np.testing.assert_allclose(out, np.tanh(pooled), rtol=1e-10)
    assert not np.allclose(W.get_value(), Wv) or not np.allclose(W_out.get_value(), 0)


def test_pool_2d_theano_defaults_and_old_names():
    import theano
    import theano.tensor as T
    from theano.tensor.signal import downsample, pool
    x = T.matrix("x")
    v = np.arange(25.0).reshape(5, 5)
    with pytest.warns(UserWarning, match="ignore_border"):
        partial = pool.pool_2d(x, ws=(2, 2))  # Theano 1.0: ignore_border=False
    with pytest.warns(DeprecationWarning):
        old = pool.pool_2d(x, ds=(2, 2), st=(1, 1), ignore_border=True, mode="sum")
    legacy = downsample.max_pool_2d(x, (2, 2), ignore_border=True)
    f = theano.function([x], [partial, old, legacy])
    a, b, c = f(v)
    assert a.shape == (3, 3) and a[2, 2] == 24.0
    assert b.shape == (4, 4) and b[0, 0] == 0 + 1 + 5 + 6
    np.testing.assert_allclose(c, [[6, 8], [16, 18]])


def test_denoising_autoencoder_step():
    import theano
    import theano.tensor as T
    from theano.tensor.shared_randomstreams import RandomStreams
    rng = np.random.default_rng(3)
    theano_rng = RandomStreams(rng.integers(2 ** 30))
    n_visible, n_hidden = 12, 5
    W = theano.shared(np.asarray(rng.uniform(-0.3, 0.3, (n_visible, n_hidden)),
                                 dtype=theano.config.floatX), name="W")
    bhid = theano.shared(np.zeros(n_hidden), name="bhid")
    bvis = theano.shared(np.zeros(n_visible), name="bvis")
    x = T.dmatrix("x")
    corruption_level = 0.3
    tilde_x = theano_rng.binomial(size=x.shape, n=1, p=1 - corruption_level,
                                  dtype=theano.config.floatX) * x
    y = T.nnet.sigmoid(T.dot(tilde_x, W) + bhid)
    z = T.nnet.sigmoid(T.dot(y, W.T) + bvis)
    L = -T.sum(x * T.log(z) + (1 - x) * T.log(1 - z), axis=1)
    cost = T.mean(L)
    gparams = T.grad(cost, [W, bhid, bvis])
    updates = [(p, p - 0.1 * g) for p, g in zip([W, bhid, bvis], gparams)]
    train_da = theano.function([x], [cost, tilde_x], updates=updates)
    data = (rng.uniform(size=(30, n_visible)) > 0.5).astype(float)
    c0, corrupted = train_da(data)
    kept = corrupted[data == 1]
    assert set(np.unique(kept)) <= {0.0, 1.0} and 0.4 < kept.mean() < 0.95
    for _ in range(30):
        c, _ = train_da(data)
    assert c < c0


# --------------------------------------------------------------------------- MRG streams
def test_mrg_random_streams():
    import theano
    import theano.tensor as T
    from theano.sandbox.rng_mrg import MRG_RandomStreams
    srng = MRG_RandomStreams(seed=1234)
    n = T.lscalar("n")
    u = srng.uniform(size=(1000,), low=-2, high=3)
    g = srng.normal(size=(n, 4), avg=1.0, std=2.0)
    mask = srng.binomial(size=(500,), n=1, p=0.25, dtype=theano.config.floatX)
    pvals = np.array([[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]] * 200)
    one_hot = srng.multinomial(pvals=pvals, dtype="int64")
    picks = srng.choice(size=2, p=pvals, replace=False)
    f = theano.function([n], [u, g, mask, one_hot, picks])
    uv, gv, mv, ov, pv = f(3000)
    assert uv.dtype == theano.config.floatX and uv.shape == (1000,)
    assert uv.min() >= -2 and uv.max() < 3 and abs(uv.mean() - 0.5) < 0.15
    assert gv.shape == (3000, 4) and abs(gv.mean() - 1) < 0.1 and abs(gv.std() - 2) < 0.1
    assert set(np.unique(mv)) <= {0.0, 1.0} and abs(mv.mean() - 0.25) < 0.07
    assert ov.shape == pvals.shape and (ov.sum(axis=1) == 1).all()
    assert (ov[1::2] == [0, 1, 0]).all()
    np.testing.assert_allclose(ov[0::2].mean(axis=0), [0.2, 0.3, 0.5], atol=0.08)
    assert pv.shape == (400, 2) and (pv[:, 0] != pv[:, 1]).all()
    assert (pv[1::2, 0] == 1).all()
    f32 = theano.function([], srng.uniform((3,), dtype="float32"))
    assert f32().dtype == np.float32
    again = f(3)[0]
    assert not np.allclose(again, uv)  # the states advance
    with pytest.raises(ValueError):
        srng.multinomial(size=(3,), pvals=pvals)


def test_a_sample_rng_reseeds_and_restores_its_stream():
    # Theano tutorial, "Seeding Streams" and "Sharing Streams Between Functions".
    import theano
    from theano.tensor.shared_randomstreams import RandomStreams
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = theano.function([], rv_u, mode="FAST_COMPILE")

    def reseed():
        rng_val = rv_u.rng.get_value(borrow=True)
        rng_val.seed(89234)
        rv_u.rng.set_value(rng_val, borrow=True)

    reseed()
    first = f()
    reseed()
    np.testing.assert_array_equal(f(), first)
    state_after_v0 = rv_u.rng.get_value().get_state()
    f()  # advances the stream, as nearly_zeros() does in the tutorial
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2, v3 = f(), f()
    assert not np.array_equal(v2, v1)
    np.testing.assert_array_equal(v3, v1)
    with pytest.raises(ValueError, match="get_state"):
        rng.set_state(np.zeros(2))


def test_pool_3d_with_theano_arguments():
    import theano
    import theano.tensor as T
    from theano.tensor.signal.pool import pool_3d
    x = T.dtensor4("x")
    values = np.random.default_rng(3).standard_normal((2, 4, 6, 5))
    f = theano.function([x], pool_3d(x, ws=(2, 3, 2), ignore_border=True))
    expected = values[:, :4, :6, :4].reshape(2, 2, 2, 2, 3, 2, 2).max(axis=(2, 4, 6))
    np.testing.assert_allclose(f(values), expected)
    with pytest.warns(UserWarning, match="ignore_border"):
        pool_3d(x, ws=(2, 2, 2))


def test_running_a_theano_program_unchanged_from_the_command_line(tmp_path):
    import subprocess
    program = tmp_path / "program.py"
    program.write_text("import sys\nimport theano\nimport theano.tensor as T\n"
                       "x = T.dscalar('x')\n"
                       "print(theano.function([x], T.grad(x ** 3, x))(float(sys.argv[1])))\n")
    done = subprocess.run([sys.executable, "-m", "exprc.compat", str(program), "2.0"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "12.0"
    usage = subprocess.run([sys.executable, "-m", "exprc.compat"], capture_output=True,
                           text=True, timeout=60)
    assert usage.returncode == 2 and "usage" in usage.stderr
