"""The code of Theano 1.0's tutorial, run on ``exprc.compat.theano``.

Each test holds the code of one section of a tutorial page, as close to the page as possible
(``import theano``, ``import theano.tensor as T``), and checks the outputs the page shows:
printed arrays are compared with the documented numbers, which come from Theano's
documentation and serve as an independent oracle. Where exprc differs on purpose (see
``docs/compat.md``, "Known differences"), the check is adapted and a comment says why.

Pages: Baby steps - Algebra; More Examples; Derivatives in Theano; Conditions; Loop (with
the examples of the library's scan page); How Shape Information is Handled; Understanding
Memory Aliasing; Printing/Drawing Theano graphs; Loading and Saving; Configuration Settings
and Compiling Modes (and Profiling); Sparse; Debugging (FAQ, test values, ``Print``,
``MonitorMode``, ``NanGuardMode``); Extending Theano (``DoubleOp``, ``__props__``,
``as_op``); Broadcasting; Graph Structures.

A few snippets are also run by ``tests/test_compat_theano.py``; here they are checked against
every output the page documents.
"""

from __future__ import annotations

import pickle
import shutil

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("theano_installed")


def _in_order(text: str, *parts: str) -> bool:
    """Whether ``parts`` occur in ``text`` in this order (a structural check of printed
    graphs, whose exact text is exprc's own)."""
    position = 0
    for part in parts:
        found = text.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


# ====================================================================== Baby steps - Algebra
def test_algebra_adding_two_scalars():
    import numpy
    import theano.tensor as T
    from theano import function
    x = T.dscalar('x')
    y = T.dscalar('y')
    z = x + y
    f = function([x, y], z)
    out = f(2, 3)
    # "The output of the function f is a numpy.ndarray with zero dimensions."
    assert isinstance(out, numpy.ndarray) and out.ndim == 0 and out == 5.0
    assert numpy.allclose(f(16.3, 12.1), 28.4)

    from theano import pp
    assert _in_order(pp(z), "x", "+", "y")  # documented: (x + y)

    # The note on eval().
    x = T.dscalar('x')
    y = T.dscalar('y')
    z = x + y
    assert numpy.allclose(z.eval({x: 16.3, y: 12.1}), 28.4)


def test_algebra_dscalar_is_a_type():
    import theano.tensor as T
    x = T.dscalar('x')
    assert isinstance(x, T.TensorVariable)
    assert isinstance(T.dscalar, T.TensorType)  # "dscalar is not a class ... It is a Type"
    assert x.type == T.dscalar


def test_algebra_adding_two_matrices():
    import numpy
    import theano.tensor as T
    from theano import function
    x = T.dmatrix('x')
    y = T.dmatrix('y')
    z = x + y
    f = function([x, y], z)
    np.testing.assert_allclose(f([[1, 2], [3, 4]], [[10, 20], [30, 40]]),
                               [[11., 22.], [33., 44.]])
    np.testing.assert_allclose(f(numpy.array([[1, 2], [3, 4]]),
                                 numpy.array([[10, 20], [30, 40]])),
                               [[11., 22.], [33., 44.]])


def test_algebra_exercise_and_solution():
    import theano
    a = theano.tensor.vector()  # declare variable
    out = a + a ** 10               # build symbolic expression
    f = theano.function([a], out)   # compile function
    np.testing.assert_allclose(f([0, 1, 2]), [0., 2., 1026.])
    # adding_solution_1.py: a ** 2 + b ** 2 + 2 * a * b
    b = theano.tensor.vector()
    out = a ** 2 + b ** 2 + 2 * a * b
    f = theano.function([a, b], out)
    np.testing.assert_allclose(f([0, 1], [2, 3]), [4., 16.])


_KINDS = {"scalar": (), "vector": (False,), "matrix": (False, False), "row": (True, False),
          "col": (False, True), "tensor3": (False,) * 3, "tensor4": (False,) * 4,
          "tensor5": (False,) * 5, "tensor6": (False,) * 6, "tensor7": (False,) * 7}


@pytest.mark.parametrize("prefix, dtype", [("b", "int8"), ("w", "int16"), ("i", "int32"),
                                           ("l", "int64"), ("f", "float32"),
                                           ("d", "float64")])
def test_algebra_available_types(prefix, dtype):
    import theano.tensor as T
    for kind, broadcastable in _KINDS.items():
        v = getattr(T, prefix + kind)()
        assert v.dtype == dtype and v.broadcastable == broadcastable, prefix + kind


@pytest.mark.xfail(reason="complex dtypes: theano.tensor has no cscalar, cvector, ..., "
                          "ctensor7 (exprc supports no complex dtype, see exprc/tensor/type.py; "
                          "docs/compat.md does not list it)", strict=True)
def test_algebra_available_complex_types():
    import theano.tensor as T
    for kind, broadcastable in _KINDS.items():
        v = getattr(T, "c" + kind)()
        assert v.dtype == "complex64" and v.broadcastable == broadcastable, "c" + kind


# ============================================================================= More Examples
_LOGISTIC = [[0.5, 0.73105858], [0.26894142, 0.11920292]]


def test_examples_logistic_function():
    import theano
    import theano.tensor as T
    x = T.dmatrix('x')
    s = 1 / (1 + T.exp(-x))
    logistic = theano.function([x], s)
    np.testing.assert_allclose(logistic([[0, 1], [-1, -2]]), _LOGISTIC, rtol=1e-7)
    s2 = (1 + T.tanh(x / 2)) / 2
    logistic2 = theano.function([x], s2)
    np.testing.assert_allclose(logistic2([[0, 1], [-1, -2]]), _LOGISTIC, rtol=1e-7)


def test_examples_more_than_one_thing_at_the_same_time():
    import theano
    import theano.tensor as T
    a, b = T.dmatrices('a', 'b')
    diff = a - b
    abs_diff = abs(diff)
    diff_squared = diff**2
    f = theano.function([a, b], [diff, abs_diff, diff_squared])
    out = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    assert isinstance(out, list) and len(out) == 3
    np.testing.assert_allclose(out[0], [[1., 0.], [-1., -2.]])
    np.testing.assert_allclose(out[1], [[1., 0.], [1., 2.]])
    np.testing.assert_allclose(out[2], [[1., 0.], [1., 4.]])


def test_examples_default_value_for_an_argument():
    import theano.tensor as T
    from theano import In, function
    x, y = T.dscalars('x', 'y')
    z = x + y
    f = function([x, In(y, value=1)], z)
    assert f(33) == 34.0
    assert f(33, 2) == 35.0
    x, y, w = T.dscalars('x', 'y', 'w')
    z = (x + y) * w
    f = function([x, In(y, value=1), In(w, value=2, name='w_by_name')], z)
    assert f(33) == 68.0
    assert f(33, 2) == 70.0
    assert f(33, 0, 1) == 33.0
    assert f(33, w_by_name=1) == 34.0
    assert f(33, w_by_name=1, y=0) == 33.0


def test_examples_shared_variables():
    import theano.tensor as T
    from theano import function, shared
    state = shared(0)
    inc = T.iscalar('inc')
    accumulator = function([inc], state, updates=[(state, state+inc)])
    assert state.get_value() == 0
    assert accumulator(1) == 0
    assert state.get_value() == 1
    assert accumulator(300) == 1
    assert state.get_value() == 301
    state.set_value(-1)
    assert accumulator(3) == -1
    assert state.get_value() == 2
    decrementor = function([inc], state, updates=[(state, state-inc)])
    assert decrementor(2) == 2
    assert state.get_value() == 0
    fn_of_state = state * 2 + inc
    # The type of foo must match the shared variable we are replacing
    # with the ``givens``
    foo = T.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert skip_shared(1, 3) == 7  # we're using 3 for the state, not state.value
    assert state.get_value() == 0  # old state still there, but we didn't use it


def test_examples_shared_broadcastable_pattern():
    import theano
    # "Theano shared variable broadcast pattern default to False for each dimensions."
    assert theano.shared(np.zeros((1, 3))).broadcastable == (False, False)
    s = theano.shared(np.zeros((1, 3)), broadcastable=(True, False))
    assert s.broadcastable == (True, False)


def test_examples_copying_functions():
    import theano
    import theano.tensor as T
    state = theano.shared(0)
    inc = T.iscalar('inc')
    accumulator = theano.function([inc], state, updates=[(state, state+inc)])
    assert accumulator(10) == 0
    assert state.get_value() == 10
    new_state = theano.shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    # Theano printed ``[array(0)]`` here (its copies lost the unpacking of a single output);
    # the value is what the page documents.
    assert np.asarray(new_accumulator(100)).item() == 0
    assert new_state.get_value() == 100
    assert state.get_value() == 10
    null_accumulator = accumulator.copy(delete_updates=True)
    assert np.asarray(null_accumulator(9000)).item() == 10
    assert state.get_value() == 10


def test_examples_random_numbers():
    from theano import function
    from theano.tensor.shared_randomstreams import RandomStreams
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2,2))
    rv_n = srng.normal((2,2))
    f = function([], rv_u)
    g = function([], rv_n, no_default_updates=True)    #Not updating rv_n.rng
    nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)

    # The page's digits are those of NumPy's generator; exprc's numbers differ (a known
    # difference), so the properties the page states are checked instead.
    f_val0 = f()
    f_val1 = f()  #different numbers from f_val0
    assert not np.allclose(f_val0, f_val1)
    assert f_val0.shape == (2, 2) and ((f_val0 >= 0) & (f_val0 < 1)).all()
    g_val0 = g()  # different numbers from f_val0 and f_val1
    g_val1 = g()  # same numbers as g_val0!
    np.testing.assert_array_equal(g_val0, g_val1)
    assert not np.allclose(g_val0, f_val0) and not np.allclose(g_val0, f_val1)
    np.testing.assert_allclose(nearly_zeros(), 0.0, atol=1e-12)

    # Seeding Streams
    rng_val = rv_u.rng.get_value(borrow=True)   # Get the rng for rv_u
    rng_val.seed(89234)                         # seeds the generator
    rv_u.rng.set_value(rng_val, borrow=True)    # Assign back seeded rng
    after_seed = f()
    rng_val = rv_u.rng.get_value(borrow=True)
    rng_val.seed(89234)
    rv_u.rng.set_value(rng_val, borrow=True)
    np.testing.assert_array_equal(f(), after_seed)
    np.testing.assert_array_equal(g(), g_val0)  # rv_n's generator was not touched

    srng.seed(902340)  # seeds rv_u and rv_n with different seeds each
    assert not np.allclose(g(), g_val0)

    # Sharing Streams Between Functions
    state_after_v0 = rv_u.rng.get_value().get_state()
    np.testing.assert_allclose(nearly_zeros(), [[0., 0.], [0., 0.]], atol=1e-12)
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()             # v2 != v1
    v3 = f()             # v3 == v1
    assert not np.allclose(v2, v1)
    np.testing.assert_array_equal(v3, v1)


def test_examples_copying_random_state_between_graphs():
    import theano
    from theano.sandbox.rng_mrg import MRG_RandomStreams
    from theano.tensor.shared_randomstreams import RandomStreams

    class Graph:
        def __init__(self, seed=123):
            self.rng = RandomStreams(seed)
            self.y = self.rng.uniform(size=(1,))

    g1 = Graph(seed=123)
    f1 = theano.function([], g1.y)
    g2 = Graph(seed=987)
    f2 = theano.function([], g2.y)
    # By default, the two functions are out of sync. (The page's digits are those of NumPy's
    # generator; exprc's differ, a known difference.)
    a1, a2 = f1(), f2()
    assert a1.shape == a2.shape == (1,) and a1 != a2 and 0 <= a1 < 1 and 0 <= a2 < 1

    def copy_random_state(g1, g2):
        if isinstance(g1.rng, MRG_RandomStreams):
            g2.rng.rstate = g1.rng.rstate
        for (su1, su2) in zip(g1.rng.state_updates, g2.rng.state_updates):
            su2[0].set_value(su1[0].get_value())

    # We now copy the state of the theano random number generators.
    copy_random_state(g1, g2)
    b1, b2 = f1(), f2()
    assert b1 == b2 and b1 != a1


def test_examples_logistic_regression():
    import numpy
    import theano
    import theano.tensor as T
    # The page draws from numpy.random unseeded; a seeded generator with the same methods
    # makes the test repeatable.
    rng = numpy.random.RandomState(42)

    N = 400                                   # training sample size
    feats = 784                               # number of input variables

    # generate a dataset: D = (input_values, target_class)
    D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))
    # The page trains 10000 steps; 500 already separate this data set (checked with NumPy),
    # and keep the test fast.
    training_steps = 500

    # Declare Theano symbolic variables
    x = T.dmatrix("x")
    y = T.dvector("y")
    w = theano.shared(rng.randn(feats), name="w")
    b = theano.shared(0., name="b")
    w0 = w.get_value()
    assert b.get_value() == 0.0  # documented "Initial model: ... 0.0"

    # Construct Theano expression graph
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))   # Probability that target = 1
    prediction = p_1 > 0.5                    # The prediction thresholded
    xent = -y * T.log(p_1) - (1-y) * T.log(1-p_1) # Cross-entropy loss function
    cost = xent.mean() + 0.01 * (w ** 2).sum()# The cost to minimize
    gw, gb = T.grad(cost, [w, b])             # Compute the gradient of the cost

    # Compile
    train = theano.function(
              inputs=[x,y],
              outputs=[prediction, xent],
              updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
    predict = theano.function(inputs=[x], outputs=prediction)

    # The first step against NumPy, the cross-entropy written without overflow: with 784
    # features |z| reaches ~100 and 1 - p_1 is exactly 0 in floating point.
    X, Y = D
    z = X @ w0
    p = 1 / (1 + np.exp(-z))
    pred, err = train(D[0], D[1])
    np.testing.assert_array_equal(pred, p > 0.5)
    np.testing.assert_allclose(err, Y * np.logaddexp(0, -z) + (1 - Y) * np.logaddexp(0, z),
                               rtol=1e-9)
    np.testing.assert_allclose(w.get_value(), w0 - 0.1 * (X.T @ (p - Y) / N + 0.02 * w0),
                               rtol=1e-10)
    np.testing.assert_allclose(b.get_value(), -0.1 * np.mean(p - Y), rtol=1e-10)

    # Train
    for _i in range(training_steps - 1):
        pred, err = train(D[0], D[1])
    # "prediction on D" reproduces "target values for D".
    np.testing.assert_array_equal(predict(D[0]), D[1])


# ===================================================================== Derivatives in Theano
def test_derivatives_computing_gradients():
    import theano.tensor as T
    from theano import function, pp
    x = T.dscalar('x')
    y = x**2
    gy = T.grad(y, x)
    # The page prints '((fill((x ** 2), 1.0) * 2) * (x ** (2 - 1)))': exprc's unoptimized
    # gradient graph is its own, so only its input is checked.
    assert "x" in pp(gy)  # print out the gradient prior to optimization
    f = function([x], gy)
    assert f(4) == 8.0
    np.testing.assert_allclose(f(94.2), 188.40000000000001)
    # "The optimizer simplifies the symbolic gradient expression": pp of the optimized
    # output is '(2.0 * x)'. exprc's rewritten graph: no fill and no power left.
    optimized = pp(f.maker.fgraph.outputs[0])
    assert "x" in optimized and "fill" not in optimized and "**" not in optimized


def test_derivatives_gradient_of_logistic():
    import theano.tensor as T
    from theano import function
    x = T.dmatrix('x')
    s = T.sum(1 / (1 + T.exp(-x)))
    gs = T.grad(s, x)
    dlogistic = function([x], gs)
    np.testing.assert_allclose(dlogistic([[0, 1], [-1, -2]]),
                               [[0.25, 0.19661193], [0.19661193, 0.10499359]], rtol=1e-7)


def test_derivatives_grad_of_a_list():
    import theano.tensor as T
    from theano import function
    # "The second argument of T.grad can be a list, in which case the output is also a list."
    a, b = T.dscalars('a', 'b')
    grads = T.grad(a * b ** 2, [a, b])
    assert isinstance(grads, list) and len(grads) == 2
    np.testing.assert_allclose(function([a, b], grads)(3.0, 2.0), [4.0, 12.0])


def test_derivatives_jacobian_and_hessian_with_scan():
    import theano
    import theano.tensor as T
    from theano import function
    x = T.dvector('x')
    y = x**2
    J, updates = theano.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]),
                             non_sequences=[y, x])
    f = function([x], J, updates=updates)
    np.testing.assert_allclose(f([4, 4]), [[8., 0.], [0., 8.]])
    # the macro
    np.testing.assert_allclose(function([x], theano.gradient.jacobian(y, x))([4, 4]),
                               [[8., 0.], [0., 8.]])

    x = T.dvector('x')
    y = x**2
    cost = y.sum()
    gy = T.grad(cost, x)
    H, updates = theano.scan(lambda i, gy, x: T.grad(gy[i], x),
                             sequences=T.arange(gy.shape[0]), non_sequences=[gy, x])
    f = function([x], H, updates=updates)
    np.testing.assert_allclose(f([4, 4]), [[2., 0.], [0., 2.]])
    np.testing.assert_allclose(function([x], theano.gradient.hessian(cost, x))([4, 4]),
                               [[2., 0.], [0., 2.]])


def test_derivatives_r_and_l_operators():
    import theano
    import theano.tensor as T
    W = T.dmatrix('W')
    V = T.dmatrix('V')
    x = T.dvector('x')
    y = T.dot(x, W)
    JV = T.Rop(y, W, V)
    f = theano.function([W, V, x], JV)
    np.testing.assert_allclose(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2., 2.])

    W = T.dmatrix('W')
    v = T.dvector('v')
    x = T.dvector('x')
    y = T.dot(x, W)
    VJ = T.Lop(y, W, v)
    # The page compiles ``JV`` here, a typo for ``VJ`` (JV depends on V, not an input). VJ is
    # outer(x, v) and does not read W, for which Theano too raised UnusedInputError by
    # default.
    f = theano.function([W, v, x], VJ, on_unused_input='ignore')
    np.testing.assert_allclose(f([[1, 1], [1, 1]], [2, 2], [0, 1]), [[0., 0.], [2., 2.]])


def test_derivatives_hessian_times_a_vector():
    import theano
    import theano.tensor as T
    x = T.dvector('x')
    v = T.dvector('v')
    y = T.sum(x**2)
    gy = T.grad(y, x)
    vH = T.grad(T.sum(gy*v), x)
    f = theano.function([x, v], vH)
    np.testing.assert_allclose(f([4, 4], [2, 2]), [4., 4.])

    x = T.dvector('x')
    v = T.dvector('v')
    y = T.sum(x**2)
    gy = T.grad(y, x)
    Hv = T.Rop(gy, x, v)
    f = theano.function([x, v], Hv)
    np.testing.assert_allclose(f([4, 4], [2, 2]), [4., 4.])


# ================================================================================ Conditions
def test_conditions_ifelse_vs_switch():
    import numpy
    import theano
    from theano import tensor as T
    from theano.ifelse import ifelse

    a, b = T.scalars('a', 'b')
    x, y = T.matrices('x', 'y')

    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))

    f_switch = theano.function([a, b, x, y], z_switch,
                               mode=theano.Mode(linker='vm'))
    f_lazyifelse = theano.function([a, b, x, y], z_lazy,
                                   mode=theano.Mode(linker='vm'))

    val1 = 0.
    val2 = 1.
    # The page times 10000 x 1000 matrices; the results do not depend on the size.
    big_mat1 = numpy.ones((100, 10))
    big_mat2 = numpy.ones((100, 10)) * 2

    n_times = 3
    for _i in range(n_times):
        assert f_switch(val1, val2, big_mat1, big_mat2) == 1.0
        assert f_lazyifelse(val1, val2, big_mat1, big_mat2) == 1.0
    assert f_switch(val2, val1, big_mat1, big_mat2) == 2.0
    assert f_lazyifelse(val2, val1, big_mat1, big_mat2) == 2.0


# ====================================================================================== Loop
def test_loop_tanh_of_dot_elementwise():
    import numpy as np
    import theano
    import theano.tensor as T

    # defining the tensor variables
    X = T.matrix("X")
    W = T.matrix("W")
    b_sym = T.vector("b_sym")

    results, updates = theano.scan(lambda v: T.tanh(T.dot(v, W) + b_sym), sequences=X)
    compute_elementwise = theano.function(inputs=[X, W, b_sym], outputs=results)

    # test values
    x = np.eye(2, dtype=theano.config.floatX)
    w = np.ones((2, 2), dtype=theano.config.floatX)
    b = np.ones((2), dtype=theano.config.floatX)
    b[1] = 2

    documented = [[0.96402758, 0.99505475], [0.96402758, 0.99505475]]
    np.testing.assert_allclose(compute_elementwise(x, w, b), documented, rtol=1e-7)
    # comparison with numpy
    np.testing.assert_allclose(np.tanh(x.dot(w) + b), documented, rtol=1e-7)


def test_loop_sequence_with_reversed_sequence():
    import numpy as np
    import theano
    import theano.tensor as T

    # define tensor variables
    X = T.vector("X")
    W = T.matrix("W")
    U = T.matrix("U")
    Y = T.matrix("Y")
    V = T.matrix("V")
    P = T.matrix("P")

    results, updates = theano.scan(lambda y, p, x_tm1: T.tanh(T.dot(x_tm1, W) + T.dot(y, U)
                                                              + T.dot(p, V)),
                                   sequences=[Y, P[::-1]], outputs_info=[X])
    compute_seq = theano.function(inputs=[X, W, Y, U, P, V], outputs=results)

    # test values
    x = np.zeros((2), dtype=theano.config.floatX)
    x[1] = 1
    w = np.ones((2, 2), dtype=theano.config.floatX)
    y = np.ones((5, 2), dtype=theano.config.floatX)
    y[0, :] = -3
    u = np.ones((2, 2), dtype=theano.config.floatX)
    p = np.ones((5, 2), dtype=theano.config.floatX)
    p[0, :] = 3
    v = np.ones((2, 2), dtype=theano.config.floatX)

    documented = [[-0.99505475, -0.99505475], [0.96471973, 0.96471973],
                  [0.99998585, 0.99998585], [0.99998771, 0.99998771], [1., 1.]]
    np.testing.assert_allclose(compute_seq(x, w, y, u, p, v), documented, rtol=1e-7)

    # comparison with numpy
    x_res = np.zeros((5, 2), dtype=theano.config.floatX)
    x_res[0] = np.tanh(x.dot(w) + y[0].dot(u) + p[4].dot(v))
    for i in range(1, 5):
        x_res[i] = np.tanh(x_res[i - 1].dot(w) + y[i].dot(u) + p[4-i].dot(v))
    np.testing.assert_allclose(x_res, documented, rtol=1e-7)


def test_loop_norms_of_lines_and_columns():
    import numpy as np
    import theano
    import theano.tensor as T

    # define tensor variable
    X = T.matrix("X")
    results, updates = theano.scan(lambda x_i: T.sqrt((x_i ** 2).sum()), sequences=[X])
    compute_norm_lines = theano.function(inputs=[X], outputs=results)
    # test value
    x = np.diag(np.arange(1, 6, dtype=theano.config.floatX), 1)
    np.testing.assert_allclose(compute_norm_lines(x), [1., 2., 3., 4., 5., 0.])

    X = T.matrix("X")
    results, updates = theano.scan(lambda x_i: T.sqrt((x_i ** 2).sum()), sequences=[X.T])
    compute_norm_cols = theano.function(inputs=[X], outputs=results)
    np.testing.assert_allclose(compute_norm_cols(x), [0., 1., 2., 3., 4., 5.])


def test_loop_trace():
    import numpy as np
    import theano
    import theano.tensor as T
    floatX = "float32"

    # define tensor variable
    X = T.matrix("X")
    results, updates = theano.scan(lambda i, j, t_f: T.cast(X[i, j] + t_f, floatX),
                                   sequences=[T.arange(X.shape[0]), T.arange(X.shape[1])],
                                   outputs_info=np.asarray(0., dtype=floatX))
    result = results[-1]
    compute_trace = theano.function(inputs=[X], outputs=result)

    # test value
    x = np.eye(5, dtype=theano.config.floatX)
    x[0] = np.arange(5, dtype=theano.config.floatX)
    out = compute_trace(x)
    assert out == 4.0 and out.dtype == np.float32
    assert np.diagonal(x).sum() == 4.0


def test_loop_two_taps():
    import numpy as np
    import theano
    import theano.tensor as T

    # define tensor variables
    X = T.matrix("X")
    W = T.matrix("W")
    b_sym = T.vector("b_sym")
    U = T.matrix("U")
    V = T.matrix("V")
    n_sym = T.iscalar("n_sym")

    results, updates = theano.scan(lambda x_tm2, x_tm1: T.dot(x_tm2, U) + T.dot(x_tm1, V)
                                   + T.tanh(T.dot(x_tm1, W) + b_sym),
                                   n_steps=n_sym, outputs_info=[dict(initial=X, taps=[-2, -1])])
    compute_seq2 = theano.function(inputs=[X, U, V, W, b_sym, n_sym], outputs=results)

    # test values
    # the initial value must be able to return x[-2]
    x = np.zeros((2, 2), dtype=theano.config.floatX)
    x[1, 1] = 1
    w = 0.5 * np.ones((2, 2), dtype=theano.config.floatX)
    u = 0.5 * (np.ones((2, 2), dtype=theano.config.floatX) - np.eye(2, dtype=theano.config.floatX))
    v = 0.5 * np.ones((2, 2), dtype=theano.config.floatX)
    n = 10
    b = np.ones((2), dtype=theano.config.floatX)

    documented = [[1.40514825, 1.40514825], [2.88898899, 2.38898899],
                  [4.34018291, 4.34018291], [6.53463142, 6.78463142],
                  [9.82972243, 9.82972243], [14.22203814, 14.09703814],
                  [20.07439936, 20.07439936], [28.12291843, 28.18541843],
                  [39.1913681, 39.1913681], [54.28407732, 54.25282732]]
    np.testing.assert_allclose(compute_seq2(x, u, v, w, b, n), documented, rtol=1e-7)


def test_loop_jacobian_of_tanh():
    import numpy as np
    import theano
    import theano.tensor as T

    # define tensor variables
    v = T.vector()
    A = T.matrix()
    y = T.tanh(T.dot(v, A))
    results, updates = theano.scan(lambda i: T.grad(y[i], v), sequences=[T.arange(y.shape[0])])
    # shape (d_out, d_in)
    compute_jac_t = theano.function([A, v], results, allow_input_downcast=True)

    # test values
    x = np.eye(5, dtype=theano.config.floatX)[0]
    w = np.eye(5, 3, dtype=theano.config.floatX)
    w[2] = np.ones((3), dtype=theano.config.floatX)
    documented = [[0.41997434, 0., 0.41997434, 0., 0.],
                  [0., 1., 1., 0., 0.],
                  [0., 0., 1., 0., 0.]]
    np.testing.assert_allclose(compute_jac_t(w, x), documented, rtol=1e-7, atol=1e-12)
    # compare with numpy
    np.testing.assert_allclose(((1 - np.tanh(x.dot(w)) ** 2) * w).T, documented, rtol=1e-7)


def test_loop_accumulate_number_of_loops():
    import theano
    import theano.tensor as T

    # define shared variables
    k = theano.shared(0)
    n_sym = T.iscalar("n_sym")

    results, updates = theano.scan(lambda: {k: (k + 1)}, n_steps=n_sym)
    accumulator = theano.function([n_sym], [], updates=updates, allow_input_downcast=True)

    assert k.get_value() == 0
    accumulator(5)
    assert k.get_value() == 5


def test_loop_binomial_noise():
    import numpy as np
    import theano
    import theano.tensor as T

    # define tensor variables
    X = T.matrix("X")
    W = T.matrix("W")
    b_sym = T.vector("b_sym")

    # define shared random stream
    trng = T.shared_randomstreams.RandomStreams(1234)
    d = trng.binomial(size=W[1].shape)

    results, updates = theano.scan(lambda v: T.tanh(T.dot(v, W) + b_sym) * d, sequences=X)
    compute_with_bnoise = theano.function(inputs=[X, W, b_sym], outputs=results,
                                          updates=updates, allow_input_downcast=True)
    x = np.eye(10, 2, dtype=theano.config.floatX)
    w = np.ones((2, 2), dtype=theano.config.floatX)
    b = np.ones((2), dtype=theano.config.floatX)

    out = compute_with_bnoise(x, w, b)
    # The page's zeros come from NumPy's generator (exprc's numbers differ, a known
    # difference); each entry is 0 or tanh(2) (first two rows) or tanh(1) (the others).
    noiseless = np.tanh(x.dot(w) + b)
    assert out.shape == (10, 2)
    assert np.all(np.isclose(out, 0) | np.isclose(out, noiseless))


def test_loop_binomial_noise_is_drawn_at_every_step():
    import numpy as np
    import theano
    import theano.tensor as T
    X = T.matrix("X")
    W = T.matrix("W")
    b_sym = T.vector("b_sym")
    trng = T.shared_randomstreams.RandomStreams(1234)
    d = trng.binomial(size=W[1].shape)
    results, updates = theano.scan(lambda v: T.tanh(T.dot(v, W) + b_sym) * d, sequences=X)
    compute_with_bnoise = theano.function(inputs=[X, W, b_sym], outputs=results,
                                          updates=updates, allow_input_downcast=True)
    x = np.eye(10, 2, dtype=theano.config.floatX)
    w = np.ones((2, 2), dtype=theano.config.floatX)
    b = np.ones((2), dtype=theano.config.floatX)
    out = compute_with_bnoise(x, w, b)
    # The documented output has a different mask on each row, and the page notes: "if you
    # want to use a random variable d that will not be updated through scan loops, you
    # should pass this variable as a non_sequences argument". A mask drawn once would repeat
    # on all 10 rows (chance of that with fresh draws: 4 ** -9).
    masks = out != 0
    assert not (masks == masks[0]).all()


def test_loop_power_of_a_with_k():
    import theano
    import theano.tensor as T
    theano.config.warn.subtensor_merge_bug = False

    k = T.iscalar("k")
    A = T.vector("A")

    def inner_fct(prior_result, B):
        return prior_result * B

    # Symbolic description of the result
    result, updates = theano.scan(fn=inner_fct,
                                  outputs_info=T.ones_like(A),
                                  non_sequences=A, n_steps=k)

    # Scan has provided us with A ** 1 through A ** k.  Keep only the last
    # value. Scan notices this and does not waste memory saving them.
    final_result = result[-1]

    power = theano.function(inputs=[A, k], outputs=final_result,
                            updates=updates)

    np.testing.assert_allclose(power(range(10), 2),
                               [0., 1., 4., 9., 16., 25., 36., 49., 64., 81.])
    np.testing.assert_allclose(power(range(10), 4), np.arange(10.0) ** 4)  # library page


def test_loop_polynomial_and_reduction_inside_scan():
    import numpy
    import theano
    import theano.tensor as T

    coefficients = theano.tensor.vector("coefficients")
    x = T.scalar("x")
    max_coefficients_supported = 10000

    # Generate the components of the polynomial
    full_range = theano.tensor.arange(max_coefficients_supported)
    components, updates = theano.scan(fn=lambda coeff, power, free_var:
                                      coeff * (free_var ** power),
                                      outputs_info=None,
                                      sequences=[coefficients, full_range],
                                      non_sequences=x)

    polynomial = components.sum()
    calculate_polynomial = theano.function(inputs=[coefficients, x],
                                           outputs=polynomial)

    test_coeff = numpy.asarray([1, 0, 2], dtype=numpy.float32)
    assert calculate_polynomial(test_coeff, 3) == 19.0

    # loop_solution_1.py, 3. Reduction performed inside scan
    outputs_info = T.as_tensor_variable(numpy.asarray(0, 'float64'))
    components, updates = theano.scan(fn=lambda coeff, power, prior_value, free_var:
                                      prior_value + (coeff * (free_var ** power)),
                                      sequences=[coefficients, full_range],
                                      outputs_info=outputs_info,
                                      non_sequences=x)
    polynomial = components[-1]
    calculate_polynomial = theano.function(inputs=[coefficients, x],
                                           outputs=polynomial, updates=updates)
    assert calculate_polynomial(test_coeff, 3) == 19.0


# The library's scan page (doc/library/scan.txt), linked from the Loop tutorial.
def test_scan_library_triangular_sequence():
    import theano
    import theano.tensor as T
    up_to = T.iscalar("up_to")

    # define a named function, rather than using lambda
    def accumulate_by_adding(arange_val, sum_to_date):
        return sum_to_date + arange_val

    scan_result, scan_updates = theano.scan(fn=accumulate_by_adding,
                                            outputs_info=T.as_tensor_variable(0),
                                            sequences=T.arange(up_to))
    triangular_sequence = theano.function(inputs=[up_to], outputs=scan_result)

    # test
    some_num = 15
    np.testing.assert_array_equal(triangular_sequence(some_num),
                                  [n * (n + 1) // 2 for n in range(some_num)])


def test_scan_library_set_value_at_position():
    import numpy
    import theano
    import theano.tensor as T
    location = T.imatrix("location")
    values = T.vector("values")
    output_model = T.matrix("output_model")

    def set_value_at_position(a_location, a_value, output_model):
        zeros = T.zeros_like(output_model)
        zeros_subtensor = zeros[a_location[0], a_location[1]]
        return T.set_subtensor(zeros_subtensor, a_value)

    result, updates = theano.scan(fn=set_value_at_position,
                                  outputs_info=None,
                                  sequences=[location, values],
                                  non_sequences=output_model)

    assign_values_at_positions = theano.function(inputs=[location, values, output_model],
                                                 outputs=result)

    # test
    test_locations = numpy.asarray([[1, 1], [2, 3]], dtype=numpy.int32)
    test_values = numpy.asarray([42, 50], dtype=numpy.float32)
    test_output_model = numpy.zeros((5, 5), dtype=numpy.float32)
    out = assign_values_at_positions(test_locations, test_values, test_output_model)
    expected = numpy.zeros((2, 5, 5))
    expected[0, 1, 1] = 42
    expected[1, 2, 3] = 50
    np.testing.assert_array_equal(out, expected)


def test_scan_library_rnn_with_several_taps():
    import theano
    import theano.tensor as T
    rng = np.random.RandomState(0)
    n = 3
    W, W_in_1, W_in_2, W_feedback, W_out = (theano.shared(rng.uniform(-0.5, 0.5, (n, n)))
                                            for _ in range(5))

    def oneStep(u_tm4, u_t, x_tm3, x_tm1, y_tm1, W, W_in_1, W_in_2, W_feedback, W_out):

        x_t = T.tanh(theano.dot(x_tm1, W) +
                     theano.dot(u_t, W_in_1) +
                     theano.dot(u_tm4, W_in_2) +
                     theano.dot(y_tm1, W_feedback))
        y_t = theano.dot(x_tm3, W_out)

        return [x_t, y_t]

    u = T.matrix()  # it is a sequence of vectors
    x0 = T.matrix()  # initial state of x has to be a matrix, since
    #                  it has to cover x[-3]
    y0 = T.vector()  # y0 is just a vector since scan has only to provide
    #                  y[-1]

    ([x_vals, y_vals], updates) = theano.scan(fn=oneStep,
                                              sequences=dict(input=u, taps=[-4, -0]),
                                              outputs_info=[dict(initial=x0, taps=[-3, -1]),
                                                            y0],
                                              non_sequences=[W, W_in_1, W_in_2, W_feedback,
                                                             W_out])
    f = theano.function([u, x0, y0], [x_vals, y_vals], updates=updates)
    uv, x0v, y0v = rng.randn(9, n), rng.randn(3, n), rng.randn(n)
    xs, ys = f(uv, x0v, y0v)
    # NumPy: "scan will consider uvals[0] as u[-4], and will start scaning from uvals[4]"
    Wv, W1v, W2v, Wfv, Wov = (s.get_value() for s in (W, W_in_1, W_in_2, W_feedback, W_out))
    x_hist, y_prev, xs_ref, ys_ref = list(x0v), y0v, [], []
    for t in range(4, 9):
        x_t = np.tanh(x_hist[-1] @ Wv + uv[t] @ W1v + uv[t - 4] @ W2v + y_prev @ Wfv)
        y_t = x_hist[-3] @ Wov
        x_hist.append(x_t)
        xs_ref.append(x_t)
        ys_ref.append(y_t)
        y_prev = y_t
    np.testing.assert_allclose(xs, xs_ref, rtol=1e-10)
    np.testing.assert_allclose(ys, ys_ref, rtol=1e-10)


def test_scan_library_shared_variable_updates():
    import theano
    a = theano.shared(1)
    values, updates = theano.scan(lambda: {a: a+1}, n_steps=10)
    b = a+1
    c = updates[a] + 1
    f = theano.function([], [b, c], updates=updates)
    # "b ... will be 2, c will be 12, while a.value is 11. If we call the function again,
    # b will become 12, c will be 22 and a.value 21."
    assert [int(v) for v in f()] == [2, 12] and a.get_value() == 11
    assert [int(v) for v in f()] == [12, 22] and a.get_value() == 21
    # "If we do not pass the updates dictionary to the function, then a.value will always
    # remain 1, b will always be 2 and c will always be 12."
    a.set_value(1)
    g = theano.function([], [b, c])
    assert [int(v) for v in g()] == [2, 12] and [int(v) for v in g()] == [2, 12]
    assert a.get_value() == 1


def test_scan_library_conditional_ending():
    import theano
    import theano.tensor as T

    def power_of_2(previous_power, max_value):
        return previous_power*2, theano.scan_module.until(previous_power*2 > max_value)

    max_value = T.scalar()
    values, _ = theano.scan(power_of_2,
                            outputs_info=T.constant(1.),
                            non_sequences=max_value,
                            n_steps=1024)

    f = theano.function([max_value], values)
    np.testing.assert_allclose(f(45), [2., 4., 8., 16., 32., 64.])


def test_scan_library_gibbs_sampling():
    import theano
    import theano.tensor as T
    rng = np.random.RandomState(1)
    W = theano.shared(rng.uniform(-1, 1, (6, 4)))
    bvis = theano.shared(np.zeros(6))
    bhid = theano.shared(np.zeros(4))
    trng = T.shared_randomstreams.RandomStreams(1234)

    # The page's step has two typos (``hsample. W.T`` and sampling with ``prob=vsample``);
    # this is the Gibbs step it describes.
    def OneStep(vsample):
        hmean = T.nnet.sigmoid(theano.dot(vsample, W) + bhid)
        hsample = trng.binomial(size=hmean.shape, n=1, prob=hmean)
        vmean = T.nnet.sigmoid(theano.dot(hsample, W.T) + bvis)
        return trng.binomial(size=vsample.shape, n=1, prob=vmean,
                             dtype=theano.config.floatX)

    sample = theano.tensor.vector()
    values, updates = theano.scan(OneStep, outputs_info=sample, n_steps=10)
    gibbs10 = theano.function([sample], values[-1], updates=updates)
    start = np.array([1., 0., 1., 0., 1., 0.])
    out = [gibbs10(start) for _ in range(4)]
    assert all(o.shape == (6,) and set(np.unique(o)) <= {0.0, 1.0} for o in out)
    # "If you do not pass this update dictionary to your function, you will always get the
    # same 10 sets of random numbers": with it, the chains differ between calls.
    assert len({tuple(o) for o in out + [gibbs10(start) for _ in range(8)]}) > 1


# ========================================================== How Shape Information is Handled
def test_shape_info_shape_without_computation():
    import theano
    x = theano.tensor.matrix('x')
    f = theano.function([x], (x ** 2).shape)
    np.testing.assert_array_equal(f(np.ones((3, 4))), [3, 4])
    # "The output of this compiled function does not contain any multiplication or power."
    ops = [type(node.op).__name__.lower() + str(node.op).lower()
           for node in f.maker.fgraph.toposort()]
    assert not any("pow" in o or "sqr" in o or "mul" in o for o in ops), ops


def test_shape_info_shape_inference_problem():
    import numpy
    import theano
    x = theano.tensor.matrix('x')
    y = theano.tensor.matrix('y')
    z = theano.tensor.join(0, x, y)
    xv = numpy.random.rand(5, 4)
    yv = numpy.random.rand(3, 3)

    f = theano.function([x, y], z.shape)
    # Theano returned [8, 4] here without an error ("DOES NOT RAISE AN ERROR AS SHOULD BE"):
    # the inferred shape hides the mismatch. Either outcome is Theano-compatible; a wrong
    # shape is not.
    try:
        shape = f(xv, yv)
    except ValueError:
        pass
    else:
        np.testing.assert_array_equal(shape, [8, 4])

    f = theano.function([x, y], z)  # Do not take the shape.
    with pytest.raises(ValueError):
        f(xv, yv)  # Raise a dimensions mismatch error.


def test_shape_info_fast_compile_detects_the_mismatch():
    import numpy
    import theano
    x = theano.tensor.matrix('x')
    y = theano.tensor.matrix('y')
    z = theano.tensor.join(0, x, y)
    # "You can also have the same effect by running in the mode FAST_COMPILE (it will not
    # apply this optimization, nor most other optimizations)".
    f = theano.function([x, y], z.shape, mode='FAST_COMPILE')
    with pytest.raises(ValueError):
        f(numpy.random.rand(5, 4), numpy.random.rand(3, 3))


def test_shape_info_optimizer_excluding_local_shape_to_shape_i():
    import numpy
    import theano
    x = theano.tensor.matrix('x')
    y = theano.tensor.matrix('y')
    z = theano.tensor.join(0, x, y)
    # "You can detect those problem by running the code without this optimization, with the
    # Theano flag optimizer_excluding=local_shape_to_shape_i."
    # exprc has no rewrite of that name (its shape rewrites never drop a check): the flag warns
    # and the check still fails as the page says.
    with pytest.warns(UserWarning, match="local_shape_to_shape_i"):
        with theano.config.change_flags(optimizer_excluding='local_shape_to_shape_i'):
            f = theano.function([x, y], z.shape)
    with pytest.raises(ValueError):
        f(numpy.random.rand(5, 4), numpy.random.rand(3, 3))


def test_shape_info_specify_shape():
    import theano
    x = theano.tensor.matrix()
    x_specify_shape = theano.tensor.specify_shape(x, (2, 2))
    f = theano.function([x], (x_specify_shape**2).shape)
    np.testing.assert_array_equal(f(np.ones((2, 2))), [2, 2])
    g = theano.function([x], x_specify_shape ** 2)
    np.testing.assert_allclose(g(np.full((2, 2), 3.0)), np.full((2, 2), 9.0))
    with pytest.raises((ValueError, AssertionError)):
        g(np.ones((3, 2)))


def test_shape_info_specify_shape_makes_the_shape_constant():
    import theano
    x = theano.tensor.matrix()
    x_specify_shape = theano.tensor.specify_shape(x, (2, 2))
    f = theano.function([x], (x_specify_shape**2).shape)
    # The page: "this allows to precompute the Theano function to a constant"; Theano then
    # no longer checks x's shape at all. exprc drops the square but keeps the check (its
    # rewrites never lose an error): the shape of the checked value, a view, is read.
    ops = [str(node.op).lower() for node in f.maker.fgraph.toposort()]
    assert not any("sqr" in o or "pow" in o for o in ops), ops
    np.testing.assert_array_equal(f(np.ones((2, 2))), [2, 2])
    with pytest.raises(ValueError):
        f(np.ones((3, 2)))


def test_shape_info_conv2d_shape_arguments():
    import theano
    import theano.tensor as T
    # "You can pass the shape info directly to the ConvOp created when calling conv2d."
    x = T.tensor4()
    w = T.tensor4()
    out = theano.tensor.nnet.conv2d(x, w, input_shape=(7, 3, 5, 5), filter_shape=(2, 3, 4, 4))
    f = theano.function([x, w], out.shape)
    np.testing.assert_array_equal(f(np.ones((7, 3, 5, 5)), np.ones((2, 3, 4, 4))),
                                  [7, 2, 2, 2])


# ============================================================ Understanding Memory Aliasing
def test_aliasing_borrowing_when_creating_shared_variables():
    import numpy
    import theano
    np_array = numpy.ones(2, dtype='float32')

    s_default = theano.shared(np_array)
    s_false = theano.shared(np_array, borrow=False)
    s_true = theano.shared(np_array, borrow=True)

    np_array += 1  # now it is an array of 2.0 s

    # Documented guarantee: the default and borrow=False take a deep copy. (Whether s_true
    # sees the change is explicitly "not guaranteed".)
    np.testing.assert_array_equal(s_default.get_value(), [1., 1.])
    np.testing.assert_array_equal(s_false.get_value(), [1., 1.])
    assert s_true.get_value().shape == (2,)


def test_aliasing_accessing_and_assigning_shared_values():
    import numpy
    import theano
    np_array = numpy.ones(2, dtype='float32')
    s = theano.shared(np_array)

    v_false = s.get_value(borrow=False)  # N.B. borrow default is False
    v_true = s.get_value(borrow=True)
    # "When borrow=False is passed to get_value, it means that the return value may not be
    # aliased to any part of Theano's internal memory."
    v_false += 5
    np.testing.assert_array_equal(s.get_value(), [1., 1.])
    assert v_true.shape == (2,)

    v_internal = s.get_value(borrow=True, return_internal_type=True)
    np.testing.assert_array_equal(v_internal, [1., 1.])

    def some_inplace_fn(v):
        return v

    s.set_value(
        some_inplace_fn(s.get_value(borrow=True)),
        borrow=True)
    np.testing.assert_array_equal(s.get_value(), [1., 1.])


def test_aliasing_shared_buffers_are_never_aliased():
    import theano
    # "The memory allocated for a shared variable buffer is unique: it is never aliased to
    # another shared variable."
    s1 = theano.shared(np.arange(3.0))
    s2 = theano.shared(np.zeros(3))
    theano.function([], [], updates=[(s2, s1)])()
    np.testing.assert_array_equal(s2.get_value(), [0., 1., 2.])
    assert not np.shares_memory(s1.get_value(borrow=True), s2.get_value(borrow=True))
    theano.function([], [], updates=[(s1, s1 + 1)])()
    np.testing.assert_array_equal(s2.get_value(), [0., 1., 2.])


def test_aliasing_borrowing_when_constructing_function_objects():
    import theano
    import theano.tensor

    x = theano.tensor.matrix()
    y = 2 * x
    f = theano.function([theano.In(x, borrow=True)], theano.Out(y, borrow=True))
    np.testing.assert_allclose(f(np.ones((2, 2))), np.full((2, 2), 2.0))

    # "The default behaviour of a function is to return user-space values for outputs, and to
    # expect user-space values for inputs": neither the argument nor an earlier result is
    # overwritten.
    g = theano.function([x], 2 * x + 1)
    a = np.ones((2, 2))
    r1 = g(a)
    r2 = g(np.zeros((2, 2)))
    np.testing.assert_array_equal(a, np.ones((2, 2)))
    np.testing.assert_array_equal(r1, np.full((2, 2), 3.0))
    np.testing.assert_array_equal(r2, np.ones((2, 2)))


# ======================================================== Printing/Drawing Theano graphs
def _printing_logreg():
    import numpy
    import theano
    import theano.tensor as T
    rng = numpy.random.RandomState(0)
    # Training data (the page's N = 400 and feats = 784 give the same graphs)
    N = 40
    feats = 7
    D = (rng.randn(N, feats).astype(theano.config.floatX),
         rng.randint(size=N, low=0, high=2).astype(theano.config.floatX))
    # Declare Theano symbolic variables
    x = T.matrix("x")
    y = T.vector("y")
    w = theano.shared(rng.randn(feats).astype(theano.config.floatX), name="w")
    b = theano.shared(numpy.asarray(0., dtype=theano.config.floatX), name="b")
    x.tag.test_value = D[0]
    y.tag.test_value = D[1]
    # Construct Theano expression graph
    p_1 = 1 / (1 + T.exp(-T.dot(x, w)-b))  # Probability of having a one
    prediction = p_1 > 0.5  # The prediction that is done: 0 or 1
    # Compute gradients
    xent = -y*T.log(p_1) - (1-y)*T.log(1-p_1)  # Cross-entropy
    cost = xent.mean() + 0.01*(w**2).sum()  # The cost to optimize
    gw, gb = T.grad(cost, [w, b])
    # Training and prediction function
    train = theano.function(inputs=[x, y], outputs=[prediction, xent],
                            updates=[[w, w-0.01*gw], [b, b-0.01*gb]], name="train")
    predict = theano.function(inputs=[x], outputs=prediction, name="predict")
    return D, prediction, train, predict


def test_printing_optimizer_excluding_fusion_and_inplace():
    import theano
    import theano.tensor as T
    # The page's note: "you can disable some Theano optimizations by using the Theano flag
    # optimizer_excluding=fusion:inplace".
    x = T.dvector("x")
    with theano.config.change_flags(optimizer_excluding="fusion:inplace"):
        f = theano.function([x], T.exp(x) * 2 + 1)
    np.testing.assert_allclose(f([0.0, 1.0]), np.exp([0.0, 1.0]) * 2 + 1)


def test_printing_pretty_print():
    import theano
    D, prediction, train, predict = _printing_logreg()
    # documented: 'gt((TensorConstant{1} / (TensorConstant{1} + exp(((-(x \\dot w)) - b)))),
    # TensorConstant{0.5})'
    text = theano.printing.pprint(prediction)
    assert _in_order(text, "exp", "x", "w", "b", "0.5"), text


def test_printing_debugprint():
    import theano
    D, prediction, train, predict = _printing_logreg()
    # The pre-compilation graph: one line per node, the inputs indented below.
    text = theano.printing.debugprint(prediction, file="str")
    assert len(text.strip().splitlines()) >= 8, text
    assert all(name in text for name in ("x", "w", "b")), text
    # The post-compilation graph.
    text = theano.printing.debugprint(predict, file="str")
    assert all(name in text for name in ("x", "w", "b")), text
    np.testing.assert_array_equal(predict(D[0]).shape, (40,))


def test_printing_pydotprint(tmp_path):
    import theano
    D, prediction, train, predict = _printing_logreg()
    for obj, name in ((prediction, "logreg_pydotprint_prediction"),
                      (predict, "logreg_pydotprint_predict"),
                      (train, "logreg_pydotprint_train")):
        outfile = tmp_path / f"{name}.png"
        if shutil.which("dot") is None:  # without Graphviz: an error that says what to install
            with pytest.raises(Exception, match="Graphviz"):
                theano.printing.pydotprint(obj, outfile=str(outfile), var_with_name_simple=True)
            continue
        theano.printing.pydotprint(obj, outfile=str(outfile), var_with_name_simple=True)
        assert outfile.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ======================================================================= Loading and Saving
def test_loading_and_saving_pickling_shared_and_functions(tmp_path):
    import pickle as cPickle

    import theano
    import theano.tensor as T
    W = theano.shared(np.arange(6.0).reshape(2, 3), name="W")
    x = T.dvector("x")
    f = theano.function([x], T.dot(W, x), updates=[(W, W * 2)])
    my_obj = (W, f)

    with open(tmp_path / 'obj.save', 'wb') as fh:
        cPickle.dump(my_obj, fh, protocol=cPickle.HIGHEST_PROTOCOL)
    with open(tmp_path / 'obj.save', 'rb') as fh:
        loaded_obj = cPickle.load(fh)

    W2, f2 = loaded_obj
    np.testing.assert_array_equal(W2.get_value(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(f2([1., 1., 1.]), [3., 12.])
    # The reloaded function updates the reloaded shared variable, not the original.
    np.testing.assert_array_equal(W2.get_value(), 2 * np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(W.get_value(), np.arange(6.0).reshape(2, 3))


def test_loading_and_saving_several_objects_in_one_file(tmp_path):
    import pickle as cPickle

    import theano
    obj1, obj2, obj3 = (theano.shared(np.full(2, float(i)), name=f"p{i}") for i in range(3))
    with open(tmp_path / 'objects.save', 'wb') as f:
        for obj in [obj1, obj2, obj3]:
            cPickle.dump(obj, f, protocol=cPickle.HIGHEST_PROTOCOL)
    with open(tmp_path / 'objects.save', 'rb') as f:
        loaded_objects = []
        for _i in range(3):
            loaded_objects.append(cPickle.load(f))
    assert [o.name for o in loaded_objects] == ["p0", "p1", "p2"]
    for i, o in enumerate(loaded_objects):
        np.testing.assert_array_equal(o.get_value(), [float(i)] * 2)


class _Model:
    """The page's long-term serialization: only the parameters' values are pickled."""

    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.training_set = object()

    def __getstate__(self):
        return (self.W.get_value(), self.b.get_value())

    def __setstate__(self, state):
        import theano
        W, b = state
        self.W = theano.shared(W, name="W")
        self.b = theano.shared(b, name="b")


def test_loading_and_saving_long_term_getstate():
    import theano
    model = _Model(theano.shared(np.eye(2), name="W"), theano.shared(np.zeros(2), name="b"))
    m = pickle.loads(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    np.testing.assert_array_equal(m.W.get_value(), np.eye(2))
    np.testing.assert_array_equal(m.b.get_value(), np.zeros(2))
    assert not hasattr(m, "training_set")


def test_loading_and_saving_pkl_utils(tmp_path):
    import numpy
    import theano
    from theano.misc.pkl_utils import dump, load
    foo_1 = theano.shared(0, name='foo')
    foo_2 = theano.shared(1, name='foo')
    with open(tmp_path / 'model.zip', 'wb') as f:
        dump((foo_1, foo_2, numpy.array(2)), f)
    # Theano wrote a zip archive that numpy.load could list (['foo', 'foo_2', 'array_0',
    # 'pkl']); exprc's dump writes one plain pickle on purpose (see the docstring of
    # exprc.compat.theano.misc.pkl_utils), so only the round trip is checked.
    with open(tmp_path / 'model.zip', 'rb') as f:
        foo_1, foo_2, array = load(f)
    assert array == 2 and foo_1.get_value() == 0 and foo_2.get_value() == 1


# ================================================= Configuration Settings and Compiling Modes
def test_modes_config_can_be_printed():
    import theano
    text = str(theano.config)
    assert "floatX" in text and "mode" in text


def _modes_logreg(mode, steps=3, floatX=None):
    import numpy
    import theano
    import theano.tensor as T
    rng = numpy.random.RandomState(7)
    floatX = floatX or theano.config.floatX
    N = 60
    feats = 20
    D = (rng.randn(N, feats).astype(floatX), rng.randint(size=N, low=0, high=2).astype(floatX))

    # Declare Theano symbolic variables
    x = T.matrix("x")
    y = T.vector("y")
    w = theano.shared(rng.randn(feats).astype(floatX), name="w")
    b = theano.shared(numpy.asarray(0., dtype=floatX), name="b")
    x.tag.test_value = D[0]
    y.tag.test_value = D[1]

    # Construct Theano expression graph
    p_1 = 1 / (1 + T.exp(-T.dot(x, w)-b))  # Probability of having a one
    prediction = p_1 > 0.5  # The prediction that is done: 0 or 1
    xent = -y*T.log(p_1) - (1-y)*T.log(1-p_1)  # Cross-entropy
    cost = xent.mean() + 0.01*(w**2).sum()  # The cost to optimize
    gw, gb = T.grad(cost, [w, b])

    # Compile expressions to functions
    train = theano.function(
        inputs=[x, y],
        outputs=[prediction, xent],
        updates=[(w, w-0.01*gw), (b, b-0.01*gb)],
        name="train", mode=mode)
    predict = theano.function(inputs=[x], outputs=prediction,
                              name="predict", mode=mode)
    for _i in range(steps):
        pred, err = train(D[0], D[1])
    return D, train, predict, w.get_value(), b.get_value(), err


def _numpy_logreg(D, steps=3):
    rng = np.random.RandomState(7)
    rng.randn(60, 20), rng.randint(size=60, low=0, high=2)
    w = rng.randn(20)
    b = 0.0
    X, Y = (a.astype(float) for a in D)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-X @ w - b))
        err = -Y * np.log(p) - (1 - Y) * np.log(1 - p)
        w, b = w - 0.01 * (X.T @ (p - Y) / len(Y) + 0.02 * w), b - 0.01 * np.mean(p - Y)
    return w, b, err


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE", None, "DebugMode",
                                  "NanGuardMode"])
def test_modes_logistic_regression_in_each_mode(mode):
    D, train, predict, w, b, err = _modes_logreg(mode)
    w_ref, b_ref, err_ref = _numpy_logreg(D)
    np.testing.assert_allclose(w, w_ref, rtol=1e-10)
    np.testing.assert_allclose(b, b_ref, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(err, err_ref, rtol=1e-10)
    assert predict(D[0]).shape == (60,)


@pytest.mark.parametrize("linker, optimizer", [("py", "fast_compile"), ("cvm", "fast_run"),
                                               ("c|py", "fast_run"), ("c", None),
                                               ("vm", "None")])
def test_modes_full_constructors(linker, optimizer):
    import theano
    mode = theano.compile.mode.Mode(linker=linker, optimizer=optimizer)
    D, train, predict, w, b, err = _modes_logreg(mode)
    w_ref, b_ref, err_ref = _numpy_logreg(D)
    np.testing.assert_allclose(w, w_ref, rtol=1e-10)
    np.testing.assert_allclose(err, err_ref, rtol=1e-10)


@pytest.mark.parametrize("optimizer", ["o1", "o2", "unsafe", "stabilize"])
def test_modes_optimizer_names(optimizer):
    import theano
    mode = theano.Mode(optimizer=optimizer)
    D, train, predict, w, b, err = _modes_logreg(mode)
    np.testing.assert_allclose(w, _numpy_logreg(D)[0], rtol=1e-10)


def test_modes_used_the_cpu():
    D, train, predict, w, b, err = _modes_logreg(None, steps=1)
    # The page tells the CPU from the GPU by the op class names of
    # ``train.maker.fgraph.toposort()``; those names are Theano's, the walk is checked here.
    nodes = train.maker.fgraph.toposort()
    assert nodes and all(hasattr(node, "op") and hasattr(node, "inputs") for node in nodes)


def test_modes_float32_exercise():
    import theano
    # modes_solution_1.py: floatX=float32 and float32 data everywhere.
    with theano.config.change_flags(floatX="float32"):
        D, train, predict, w, b, err = _modes_logreg(None, steps=2, floatX="float32")
        assert w.dtype == np.float32 and b.dtype == np.float32 and err.dtype == np.float32
    w_ref, b_ref, err_ref = _numpy_logreg(D, steps=2)
    np.testing.assert_allclose(w, w_ref, rtol=1e-4)


def test_modes_debugmode():
    import theano
    import theano.tensor as T
    x = T.dvector('x')

    f = theano.function([x], 10 * x, mode='DebugMode')

    np.testing.assert_allclose(f([5]), [50.])
    np.testing.assert_allclose(f([0]), [0.])
    np.testing.assert_allclose(f([7]), [70.])


def test_profiling_profile_true(capsys):
    import numpy
    import theano

    x, y, z = theano.tensor.vectors('xyz')
    f = theano.function([x, y, z], [(x + y + z) * 2], profile=True)
    xv = numpy.random.rand(10).astype(theano.config.floatX)
    yv = numpy.random.rand(10).astype(theano.config.floatX)
    zv = numpy.random.rand(10).astype(theano.config.floatX)
    np.testing.assert_allclose(f(xv, yv, zv)[0], (xv + yv + zv) * 2)
    f.profile.summary()
    captured = capsys.readouterr()  # Theano printed the summary to stderr
    assert (captured.out + captured.err).strip()


def test_profiling_shared_profile_stats(capsys):
    import theano
    import theano.tensor as T
    x = T.dvector("x")
    profile = theano.compile.ProfileStats()
    f = theano.function([x], x * 2, profile=profile)
    g = theano.function([x], x + 1, profile=profile)
    f([1.0])
    g([1.0])
    profile.summary()
    captured = capsys.readouterr()
    assert (captured.out + captured.err).strip()


# ProfileMode is not tested: Theano 1.0 had removed it ("ProfileMode is removed. Use
# config.profile instead."), and docs/compat.md says the same.
def test_profiling_config_profile_flag(capsys):
    import theano
    import theano.tensor as T
    x = T.dvector("x")
    try:
        theano.config.profile = True
        f = theano.function([x], x * 2)
    finally:
        theano.config.profile = False
    np.testing.assert_allclose(f([1.0]), [2.0])
    f.profile.summary()
    captured = capsys.readouterr()
    assert (captured.out + captured.err).strip()


# ==================================================================================== Sparse
def test_sparse_graphs_can_be_built():
    import theano
    from theano import sparse
    assert {"float32", "float64", "int64"} <= set(sparse.all_dtypes)
    x = sparse.csc_matrix(name='x', dtype='float32')
    y = sparse.dense_from_sparse(x)
    z = sparse.csc_from_dense(y)
    assert z.type.format == "csc" and y.ndim == 2
    x = sparse.csc_matrix(name='x', dtype='int64')
    data, indices, indptr, shape = sparse.csm_properties(x)
    assert sparse.CSR(data, indices, indptr, shape) is not None
    assert theano.sparse is sparse


def test_sparse_properties_and_construction():
    sp = pytest.importorskip("scipy.sparse")
    import numpy as np
    import theano
    from theano import sparse
    x = sparse.csc_matrix(name='x', dtype='int64')
    data, indices, indptr, shape = sparse.csm_properties(x)
    y = sparse.CSR(data, indices, indptr, shape)
    f = theano.function([x], y)
    a = sp.csc_matrix(np.asarray([[0, 1, 1], [0, 0, 0], [1, 0, 0]]))
    np.testing.assert_array_equal(f(a).toarray(), [[0, 0, 1], [1, 0, 0], [1, 0, 0]])


def test_sparse_structured_add_and_round_trip():
    sp = pytest.importorskip("scipy.sparse")
    import numpy as np
    import theano
    from theano import sparse
    x = sparse.csc_matrix(name='x', dtype='float32')
    y = sparse.structured_add(x, 2)
    f = theano.function([x], y)
    a = sp.csc_matrix(np.asarray([[0, 0, -1], [0, -2, 1], [3, 0, 0]], dtype='float32'))
    np.testing.assert_array_equal(f(a).toarray(), [[0., 0., 1.], [0., 0., 3.], [5., 0., 0.]])
    x = sparse.csc_matrix(name='x', dtype='float32')
    z = sparse.csc_from_dense(sparse.dense_from_sparse(x))
    np.testing.assert_array_equal(theano.function([x], z)(a).toarray(), a.toarray())


# ================================================================================= Debugging
def test_debugging_interpreting_error_messages():
    import numpy as np
    import theano
    import theano.tensor as T

    x = T.vector()
    y = T.vector()
    z = x + x
    z = z + y
    f = theano.function([x, y], z)
    # "ValueError: Input dimension mis-match. (input[0].shape[0] = 3, input[1].shape[0] = 2)"
    with pytest.raises(ValueError) as info:
        f(np.ones((2,)), np.ones((3,)))
    assert "2" in str(info.value) and "3" in str(info.value)

    a = T.dmatrix('a')
    b = T.dmatrix('b')
    f = theano.function([a, b], [a * b])
    # matrices chosen so dimensions are unsuitable for multiplication
    mat1 = np.arange(12).reshape((3, 4))
    mat2 = np.arange(25).reshape((5, 5))
    with pytest.raises(ValueError):
        f(mat1, mat2)


def _test_value_graph():
    import numpy
    import theano
    import theano.tensor as T
    # configure shared variables
    W1val = numpy.random.rand(2, 10, 10).astype(theano.config.floatX)
    W1 = theano.shared(W1val, 'W1')
    W2val = numpy.random.rand(15, 20).astype(theano.config.floatX)
    W2 = theano.shared(W2val, 'W2')
    # input which will be of shape (5,10)
    x = T.matrix('x')
    return W1, W2, x


def test_debugging_test_values_off():
    import numpy
    import theano
    import theano.tensor as T
    # compute_test_value is 'off' by default, meaning this feature is inactive
    theano.config.compute_test_value = 'off'  # Use 'warn' to activate this feature
    W1, W2, x = _test_value_graph()
    # transform the shared variable in some way. Theano does not
    # know off hand that the matrix func_of_W1 has shape (20, 10)
    func_of_W1 = W1.dimshuffle(2, 0, 1).flatten(2).T
    # source of error: dot product of 5x10 with 20x10
    h1 = T.dot(x, func_of_W1)
    # do more stuff
    h2 = T.dot(h1, W2.T)
    # compile and call the actual function
    f = theano.function([x], h2)
    with pytest.raises(ValueError):
        f(numpy.random.rand(5, 10))


@pytest.mark.parametrize("flag", ["raise", "warn"])
def test_debugging_test_values_find_the_line(flag):
    import numpy
    import theano
    import theano.tensor as T
    try:
        # enable on-the-fly graph computations
        theano.config.compute_test_value = flag
        W1, W2, x = _test_value_graph()
        # provide Theano with a default test-value
        x.tag.test_value = numpy.random.rand(5, 10)
        func_of_W1 = W1.dimshuffle(2, 0, 1).flatten(2).T
        # "Theano automatically instruments intermediate results."
        assert func_of_W1.tag.test_value.shape == (20, 10)
        np.testing.assert_allclose((x * 2).tag.test_value, 2 * x.tag.test_value)
        # The error is raised where the faulty node is built: "h1 = T.dot(x, func_of_W1)".
        with pytest.raises(ValueError):
            T.dot(x, func_of_W1)
    finally:
        theano.config.compute_test_value = 'off'


def test_debugging_test_values_missing_is_an_error_with_raise():
    import theano
    import theano.tensor as T
    try:
        theano.config.compute_test_value = 'raise'
        # "raise: ... Any variable for which a test value is required, but not provided by
        # the user, is treated as an error."
        x = T.matrix('x')
        with pytest.raises(AttributeError):  # as Theano
            x * 2
        # Constants and shared variables are used as is.
        s = theano.shared(np.ones(3))
        np.testing.assert_allclose((s * 2).tag.test_value, [2., 2., 2.])
    finally:
        theano.config.compute_test_value = 'off'


def test_debugging_print_test_value():
    import theano
    import theano.tensor as T
    x = T.scalar('x')
    # Assigning test value
    x.tag.test_value = 42
    try:
        # Enable test value printing
        theano.config.print_test_value = True
        # The page shows "x\narray(42.0)"; docs/compat.md: print_test_value is stored
        # without effect, so only the name is printed.
        assert "x" in x.__repr__()
    finally:
        # Disable test value printing
        theano.config.print_test_value = False
    assert "x" in x.__repr__()
    np.testing.assert_array_equal(x.tag.test_value, 42)


def test_debugging_print_op(capsys):
    import numpy
    import theano

    x = theano.tensor.dvector('x')

    x_printed = theano.printing.Print('this is a very important value')(x)

    f = theano.function([x], x * 5)
    f_with_print = theano.function([x], x_printed * 5)

    #this runs the graph without any printing
    assert numpy.all(f([1, 2, 3]) == [5, 10, 15])
    assert capsys.readouterr().out == ""

    #this runs the graph with the message, and value printed
    assert numpy.all(f_with_print([1, 2, 3]) == [5, 10, 15])
    out = capsys.readouterr().out
    # documented: "this is a very important value __str__ = [ 1.  2.  3.]" (NumPy's
    # formatting of the array has changed since).
    assert _in_order(out, "this is a very important value", "__str__ =", "1", "2", "3"), out


def test_debugging_monitormode_step_through(capsys):
    import theano

    def inspect_inputs(i, node, fn):
        print(i, node, "input(s) value(s):", [input[0] for input in fn.inputs],
              end='')

    def inspect_outputs(i, node, fn):
        print(" output(s) value(s):", [output[0] for output in fn.outputs])

    x = theano.tensor.dscalar('x')
    f = theano.function([x], [5 * x],
                        mode=theano.compile.MonitorMode(
                            pre_func=inspect_inputs,
                            post_func=inspect_outputs))
    assert f(3)[0] == 15.0
    out = capsys.readouterr().out
    # documented: 0 Elemwise{mul,no_inplace}(TensorConstant{5.0}, x) input(s) value(s):
    # [array(5.0), array(3.0)] output(s) value(s): [array(15.0)]
    assert _in_order(out, "0 ", "input(s) value(s):", "3", "output(s) value(s):", "15"), out


def test_debugging_monitormode_detect_nan(capsys):
    import numpy
    import theano

    def detect_nan(i, node, fn):
        for output in fn.outputs:
            if (not isinstance(output[0], numpy.random.RandomState) and
                    numpy.isnan(output[0]).any()):
                print('*** NaN detected ***')
                theano.printing.debugprint(node)
                print('Inputs : %s' % [input[0] for input in fn.inputs])
                print('Outputs: %s' % [output[0] for output in fn.outputs])
                break

    x = theano.tensor.dscalar('x')
    f = theano.function([x], [theano.tensor.log(x) * x],
                        mode=theano.compile.MonitorMode(
                            post_func=detect_nan))
    f(0)  # log(0) * 0 = -inf * 0 = NaN
    out = capsys.readouterr().out
    assert _in_order(out, "*** NaN detected ***", "Inputs : ", "0", "Outputs: ", "nan"), out

    mode = theano.compile.MonitorMode(post_func=detect_nan).excluding(
        'local_elemwise_fusion', 'inplace')
    f = theano.function([x], [theano.tensor.log(x) * x],
                        mode=mode)
    assert np.isnan(f(0)[0])
    assert "*** NaN detected ***" in capsys.readouterr().out
    assert f(1)[0] == 0.0
    assert capsys.readouterr().out == ""


def test_debugging_dumping_a_function(tmp_path):
    import theano
    import theano.tensor as T
    x = T.dvector("x")
    W = theano.shared(np.ones(2), name="W")
    # "Replace this line: theano.function(...) with theano.function_dump(filename, ...)"
    theano.function_dump(str(tmp_path / "func_dump.bin"), [x], x * W, updates=[(W, W + 1)])
    # Theano's docstring: d = cPickle.load(open("func_dump.bin", "rb")); f = theano.function(**d)
    with open(tmp_path / "func_dump.bin", "rb") as fh:
        d = pickle.load(fh)
    f = theano.function(**d)
    np.testing.assert_allclose(f([2.0, 3.0]), [2.0, 3.0])


def test_debugging_nanguardmode():
    import numpy
    import theano
    import theano.tensor as T
    from theano.compile.nanguardmode import NanGuardMode

    x = T.matrix()
    w = theano.shared(numpy.random.randn(5, 7).astype(theano.config.floatX))
    y = T.dot(x, w)
    fun = theano.function(
        [x], y,
        mode=NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True)
    )
    ok = numpy.ones((3, 5), dtype=theano.config.floatX)
    np.testing.assert_allclose(fun(ok), ok @ w.get_value())
    with numpy.errstate(over="ignore"):
        infa = numpy.tile(
            (numpy.asarray(100.) ** 1000000).astype(theano.config.floatX), (3, 5))
    # "It will raise an AssertionError indicating that Inf value is detected"
    with pytest.raises(AssertionError):
        fun(infa)


# ========================================================================== Extending Theano
def _double_ops():
    import theano

    class DoubleOp1(theano.Op):
        __props__ = ()

        def make_node(self, x):
            x = theano.tensor.as_tensor_variable(x)
            # Note: using x_.type() is dangerous, as it copies x's broadcasting
            # behaviour
            return theano.Apply(self, [x], [x.type()])

        def perform(self, node, inputs, output_storage):
            x = inputs[0]
            z = output_storage[0]
            z[0] = x * 2

        def infer_shape(self, node, i0_shapes):
            return i0_shapes

        def grad(self, inputs, output_grads):
            return [output_grads[0] * 2]

        def R_op(self, inputs, eval_points):
            # R_op can receive None as eval_points.
            # That mean there is no diferientiable path through that input
            # If this imply that you cannot compute some outputs,
            # return None for those.
            if eval_points[0] is None:
                return eval_points
            return self.grad(inputs, eval_points)

    class DoubleOp2(theano.Op):
        __props__ = ()

        itypes = [theano.tensor.dmatrix]
        otypes = [theano.tensor.dmatrix]

        def perform(self, node, inputs, output_storage):
            x = inputs[0]
            z = output_storage[0]
            z[0] = x * 2

        def infer_shape(self, node, i0_shapes):
            return i0_shapes

        def grad(self, inputs, output_grads):
            return [output_grads[0] * 2]

        def R_op(self, inputs, eval_points):
            if eval_points[0] is None:
                return eval_points
            return self.grad(inputs, eval_points)

    return DoubleOp1, DoubleOp2


def test_extending_double_op_with_make_node():
    DoubleOp1, _ = _double_ops()
    import numpy
    import theano
    x = theano.tensor.matrix()
    f = theano.function([x], DoubleOp1()(x))
    inp = numpy.random.rand(5, 4)
    out = f(inp)
    assert numpy.allclose(inp * 2, out)
    node = DoubleOp1()(x).owner
    assert isinstance(node.op, DoubleOp1) and node.inputs == [x]
    assert DoubleOp1() == DoubleOp1()  # __props__ = (): all instances are equal


def test_extending_double_op_with_itypes_and_otypes():
    _, DoubleOp2 = _double_ops()
    import numpy
    import theano
    x = theano.tensor.matrix()
    f = theano.function([x], DoubleOp2()(x))
    inp = numpy.random.rand(5, 4)
    out = f(inp)
    assert numpy.allclose(inp * 2, out)


def test_extending_double_op_infer_shape_grad_and_rop():
    DoubleOp1, _ = _double_ops()
    import numpy
    import theano
    x = theano.tensor.matrix()
    op = DoubleOp1()
    # infer_shape: "the op gets optimized out of the graph if only the shape of the output
    # is needed".
    f = theano.function([x], op(x).shape)
    np.testing.assert_array_equal(f(numpy.random.rand(5, 4)), [5, 4])
    assert not any(isinstance(node.op, DoubleOp1) for node in f.maker.fgraph.toposort())
    # grad, checked by finite differences as the page's test_grad does
    theano.gradient.verify_grad(op, [numpy.random.rand(5, 7, 2)],
                                rng=numpy.random.RandomState(0))
    g = theano.function([x], theano.grad(op(x).sum(), x))
    np.testing.assert_allclose(g(numpy.ones((2, 3))), numpy.full((2, 3), 2.0))
    # R_op
    v = theano.tensor.matrix()
    r = theano.function([v], theano.tensor.Rop(op(x), x, v))  # 2 * v does not read x
    np.testing.assert_allclose(r(numpy.full((2, 3), 3.0)), numpy.full((2, 3), 6.0))


def test_extending_props():
    import theano

    class AXPBOp(theano.Op):
        """
        This creates an Op that takes x to a*x+b.
        """
        __props__ = ("a", "b")

        def __init__(self, a, b):
            self.a = a
            self.b = b
            super().__init__()

        def make_node(self, x):
            x = theano.tensor.as_tensor_variable(x)
            return theano.Apply(self, [x], [x.type()])

        def perform(self, node, inputs, output_storage):
            x = inputs[0]
            z = output_storage[0]
            z[0] = self.a * x + self.b

        def infer_shape(self, node, i0_shapes):
            return i0_shapes

    mult4plus5op = AXPBOp(4, 5)
    another_mult4plus5op = AXPBOp(4, 5)
    mult2plus3op = AXPBOp(2, 3)

    assert mult4plus5op == another_mult4plus5op
    assert mult4plus5op != mult2plus3op
    assert hash(mult4plus5op) == hash(another_mult4plus5op)
    assert "4" in str(mult4plus5op) and "5" in str(mult4plus5op)

    x = theano.tensor.matrix()
    f = theano.function([x], mult4plus5op(x))
    g = theano.function([x], mult2plus3op(x))

    import numpy
    inp = numpy.random.rand(5, 4).astype(numpy.float32)
    assert numpy.allclose(4 * inp + 5, f(inp))
    assert numpy.allclose(2 * inp + 3, g(inp))


def test_extending_as_op():
    import numpy
    import theano
    from theano import function
    from theano.compile.ops import as_op

    def infer_shape_numpy_dot(node, input_shapes):
        ashp, bshp = input_shapes
        return [ashp[:-1] + bshp[-1:]]

    @as_op(itypes=[theano.tensor.fmatrix, theano.tensor.fmatrix],
           otypes=[theano.tensor.fmatrix], infer_shape=infer_shape_numpy_dot)
    def numpy_dot(a, b):
        return numpy.dot(a, b)

    x = theano.tensor.fmatrix()
    y = theano.tensor.fmatrix()
    f = function([x, y], numpy_dot(x, y))
    inp1 = numpy.random.rand(5, 4).astype('float32')
    inp2 = numpy.random.rand(4, 7).astype('float32')
    out = f(inp1, inp2)
    np.testing.assert_allclose(out, inp1 @ inp2, rtol=1e-5)
    shape = function([x, y], numpy_dot(x, y).shape)
    np.testing.assert_array_equal(shape(inp1, inp2), [5, 7])


# ============================================================================== Broadcasting
def test_broadcasting_rows_and_columns():
    import numpy as np
    import theano
    import theano.tensor as T
    r = T.row()
    assert r.broadcastable == (True, False)
    mtr = T.matrix()
    assert mtr.broadcastable == (False, False)
    f_row = theano.function([r, mtr], [r + mtr])
    R = np.arange(3).reshape(1, 3)
    M = np.arange(9).reshape(3, 3)
    out = f_row(R, M)
    assert isinstance(out, list) and len(out) == 1
    np.testing.assert_allclose(out[0], [[0., 2., 4.], [3., 5., 7.], [6., 8., 10.]])
    c = T.col()
    assert c.broadcastable == (False, True)
    f_col = theano.function([c, mtr], [c + mtr])
    C = np.arange(3).reshape(3, 1)
    M = np.arange(9).reshape(3, 3)
    np.testing.assert_allclose(f_col(C, M)[0], [[0., 1., 2.], [4., 5., 6.], [8., 9., 10.]])


# ========================================================================== Graph Structures
def test_graph_structures_short_example():
    import theano
    import theano.tensor as T
    # create 3 Variables with owner = None
    x = T.matrix('x')
    y = T.matrix('y')
    z = T.matrix('z')
    assert x.owner is None and y.owner is None and z.owner is None
    # create 2 Variables (one for 'e', one intermediate for y*z)
    # create 2 Apply instances (one for '+', one for '*')
    e = x + y * z
    assert isinstance(e.owner, theano.gof.Apply)
    assert e.owner.outputs[e.index] is e and e.index == 0
    mul_variable = e.owner.inputs[1]
    assert e.owner.inputs[0] is x
    assert mul_variable.owner.inputs[0] is y
    assert mul_variable.owner.inputs[1] is z
    assert mul_variable.owner.op != e.owner.op
    assert set(theano.gof.graph.inputs([e])) == {x, y, z}
    assert len(theano.gof.graph.io_toposort([x, y, z], [e])) == 2


@pytest.mark.xfail(reason="theano.tensor exports no Apply and no Variable, and T.add / "
                          "T.mul are functions rather than Op instances, so the graph cannot "
                          "be built by hand with Apply(op=mul, ...)", strict=True)
def test_graph_structures_long_example():
    from theano.tensor import Apply, TensorType, Variable, add, mul

    # Instantiate a type that represents a matrix of doubles
    float64_matrix = TensorType(dtype='float64',              # double
                                broadcastable=(False, False))  # matrix

    # We make the Variable instances we need.
    x = Variable(type=float64_matrix, name='x')
    y = Variable(type=float64_matrix, name='y')
    z = Variable(type=float64_matrix, name='z')

    # This is the Variable that we want to symbolically represents y*z
    mul_variable = Variable(type=float64_matrix)
    assert mul_variable.owner is None

    # Instantiate a symbolic multiplication
    node_mul = Apply(op=mul,
                     inputs=[y, z],
                     outputs=[mul_variable])
    # Fields 'owner' and 'index' are set by Apply
    assert mul_variable.owner is node_mul
    # 'index' is the position of mul_variable in mode_mul's outputs
    assert mul_variable.index == 0

    # This is the Variable that we want to symbolically represents x+(y*z)
    add_variable = Variable(type=float64_matrix)
    assert add_variable.owner is None

    # Instantiate a symbolic addition
    node_add = Apply(op=add,
                     inputs=[x, mul_variable],
                     outputs=[add_variable])
    # Fields 'owner' and 'index' are set by Apply
    assert add_variable.owner is node_add
    assert add_variable.index == 0

    e = add_variable

    # We have access to x, y and z through pointers
    assert e.owner.inputs[0] is x
    assert e.owner.inputs[1] is mul_variable
    assert e.owner.inputs[1].owner.inputs[0] is y
    assert e.owner.inputs[1].owner.inputs[1] is z


def test_graph_structures_automatic_wrapping_and_constants():
    import theano
    import theano.tensor as T
    e = T.dscalar('x') + 1
    node = e.owner
    assert isinstance(node.inputs[1], theano.gof.Constant) and node.inputs[1].data == 1
    assert node.outputs[0] is e and e.dtype == "float64"
    # Variables: y is produced by a computation on x.
    x = theano.tensor.ivector()
    y = -x
    assert x.owner is None and y.owner is not None and y.owner.inputs == [x]
    assert y.type == x.type
    # "A constant does not need to be specified in a function's list of inputs. In fact,
    # doing so will raise an exception."
    c = T.constant(2.0)
    with pytest.raises((TypeError, ValueError)):
        theano.function([c], c * 2)
    assert theano.function([], c * 2)() == 4.0


def test_graph_structures_walk_with_ancestors_and_clone():
    import theano
    import theano.tensor as T
    x, y = T.dvectors('x', 'y')
    e = T.exp(x) * y + 1
    names = {v.name for v in theano.gof.graph.ancestors([e]) if v.name}
    assert {"x", "y"} <= names
    new_inputs, new_outputs = theano.gof.graph.clone([x, y], [e])
    assert new_inputs[0] is not x and new_outputs[0] is not e
    f = theano.function(new_inputs, new_outputs[0])
    np.testing.assert_allclose(f([0.0, 1.0], [2.0, 3.0]), np.exp([0.0, 1.0]) * [2, 3] + 1)

