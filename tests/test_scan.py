"""scan: Theano's loop API, its gradient, the native C loop, the loop rewrites and bad input.

Forward results of the op are checked against NumPy loops in tests/registry/cases_scan.py (on
every backend, gradients by finite differences); this file holds the programs and behaviours
that are not one op: random streams and updates, second derivatives, truncated gradients,
jacobian and hessian, long loops, nested loops, the rewrites, and the errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcError, ExprcTypeError, ExprcValueError
from exprc.gradient import Rop, hessian, jacobian, verify_grad
from exprc.scan_module import until
from exprc.tensor.scan import Scan
from exprc.tensor.shared_randomstreams import RandomStreams
from tests.test_gradient import numeric_grad as _fd_grad

MODES = ["REFERENCE", None]  # None: the default mode, compiled to C


def _scans(f) -> list:
    return [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]


# ---------------------------------------------------------------------------- API and results
def test_return_forms():
    x = T.dvector("x")
    one, updates = exprc.scan(lambda v: v * 2, sequences=x)
    assert isinstance(one, T.TensorVariable) and len(updates) == 0
    listed, _ = exprc.scan(lambda v: v * 2, sequences=x, return_list=True)
    assert isinstance(listed, list) and len(listed) == 1
    two, _ = exprc.scan(lambda v: [v, v + 1], sequences=x)
    assert isinstance(two, list) and len(two) == 2


@pytest.mark.parametrize("mode", MODES)
def test_map_reduce_foldl_foldr(mode):
    x = T.dvector("x")
    squares, _ = exprc.map(lambda v: v ** 2, x)
    total, _ = exprc.reduce(lambda v, acc: acc + v, x, T.constant(0.0, dtype="float64"))
    left, _ = exprc.foldl(lambda v, acc: acc * 2 + v, x, T.constant(0.0, dtype="float64"))
    right, _ = exprc.foldr(lambda v, acc: acc * 2 + v, x, T.constant(0.0, dtype="float64"))
    f = exprc.function([x], [squares, total, left, right], mode=mode)
    xv = np.array([1.0, 2.0, 3.0])
    out = f(xv)
    np.testing.assert_allclose(out[0], xv ** 2)
    np.testing.assert_allclose(out[1], 6.0)
    np.testing.assert_allclose(out[2], ((1 * 2) + 2) * 2 + 3)
    np.testing.assert_allclose(out[3], ((3 * 2) + 2) * 2 + 1)


@pytest.mark.parametrize("mode", MODES)
def test_symbolic_n_steps_and_shared_variable_read_inside(mode):
    k = T.iscalar("k")
    scale = exprc.shared(np.array([1.0, 2.0]), name="scale")
    out, _ = exprc.scan(lambda prev: prev * scale, outputs_info=T.ones_like(scale.get_value()),
                        n_steps=k)
    f = exprc.function([k], out[-1], mode=mode)
    np.testing.assert_allclose(f(3), [1.0, 8.0])
    scale.set_value(np.array([3.0, 1.0]))  # read at call time, not when the graph was built
    np.testing.assert_allclose(f(2), [9.0, 1.0])


@pytest.mark.parametrize("mode", MODES)
def test_n_steps_shorter_than_the_sequences(mode):
    x = T.dvector("x")
    out, _ = exprc.scan(lambda v: v + 1, sequences=x, n_steps=2)
    np.testing.assert_allclose(exprc.function([x], out, mode=mode)(np.arange(5.0)), [1, 2])


@pytest.mark.parametrize("mode", MODES)
def test_until_stops_early_and_n_steps_bounds_it(mode):
    x = T.dscalar("x")
    out, _ = exprc.scan(lambda prev: (prev * 2, until(prev * 2 > 50)), outputs_info=x,
                        n_steps=100)
    bounded, _ = exprc.scan(lambda prev: (prev * 2, until(prev * 2 > 50)), outputs_info=x,
                            n_steps=3)
    f = exprc.function([x], [out, bounded], mode=mode)
    a, b = f(1.0)
    np.testing.assert_allclose(a, [2, 4, 8, 16, 32, 64])
    np.testing.assert_allclose(b, [2, 4, 8])


@pytest.mark.parametrize("mode", MODES)
def test_nested_loops(mode):
    m = T.dmatrix("m")

    def row_sum(row):
        total, _ = exprc.scan(lambda v, acc: acc + v, sequences=row,
                              outputs_info=T.constant(0.0, dtype="float64"))
        return total[-1]

    sums, _ = exprc.scan(row_sum, sequences=m)
    mv = np.arange(12.0).reshape(3, 4)
    f = exprc.function([m], sums, mode=mode)
    np.testing.assert_allclose(f(mv), mv.sum(axis=1))
    g = exprc.function([m], exprc.grad((sums ** 2).sum(), m), mode=mode)
    np.testing.assert_allclose(g(mv), 2 * mv.sum(axis=1, keepdims=True) * np.ones((3, 4)))


# ---------------------------------------------------------------------------- random, updates
def _gibbs_chain(seed, mode, steps=6):
    srng = RandomStreams(seed=seed)
    w = exprc.shared(np.linspace(-1, 1, 16).reshape(4, 4), name="w")
    v0 = T.dvector("v0")

    def gibbs(v):
        h = srng.binomial(size=v.shape, n=1, p=T.nnet.sigmoid(T.dot(v, w)), dtype="float64")
        return srng.binomial(size=v.shape, n=1, p=T.nnet.sigmoid(T.dot(h, w.T)),
                             dtype="float64")

    chain, updates = exprc.scan(gibbs, outputs_info=v0, n_steps=steps)
    return exprc.function([v0], chain, updates=updates, mode=mode), updates


def test_gibbs_chain_with_random_streams():
    f_ref, updates = _gibbs_chain(7, "REFERENCE")
    f_c, _ = _gibbs_chain(7, None)
    assert len(updates) == 2  # one generator state per sample drawn inside the step
    v0 = np.ones(4)
    first_ref, first_c = f_ref(v0), f_c(v0)
    np.testing.assert_array_equal(first_ref, first_c)  # one seed, the same numbers everywhere
    assert set(np.unique(first_c)) <= {0.0, 1.0}
    # Each step draws new numbers, and each call continues the streams.
    assert not all((first_c[0] == row).all() for row in first_c[1:])
    second_c = f_c(v0)
    np.testing.assert_array_equal(second_c, f_ref(v0))
    assert not np.array_equal(first_c, second_c)


@pytest.mark.parametrize("mode", MODES)
def test_updates_returned_by_the_step(mode):
    count = exprc.shared(np.int64(0), name="count")
    out, updates = exprc.scan(lambda i: (i * 2, {count: count + 1}), sequences=T.arange(4))
    f = exprc.function([], out, updates=updates, mode=mode)
    np.testing.assert_array_equal(f(), [0, 2, 4, 6])
    assert count.get_value() == 4
    f()
    assert count.get_value() == 8


def test_a_shared_variable_updated_inside_and_outside_is_refused():
    count = exprc.shared(np.int64(0), name="count")
    _, updates = exprc.scan(lambda i: (i, {count: count + 1}), sequences=T.arange(3))
    with pytest.raises(ExprcValueError, match="count.*updated twice"):
        updates[count] = count + 5
    with pytest.raises(ExprcValueError, match="count.*updated twice"):
        updates.update({count: count - 1})


# ---------------------------------------------------------------------------- gradients
def _lstm(x, h0, c0, w_x, w_h, b):
    def step(x_t, h, c, w_x, w_h, b):
        gates = T.dot(x_t, w_x) + T.dot(h, w_h) + b
        n = h.shape[-1]
        i = T.nnet.sigmoid(gates[:, :n])
        f = T.nnet.sigmoid(gates[:, n:2 * n])
        g = T.tanh(gates[:, 2 * n:3 * n])
        o = T.nnet.sigmoid(gates[:, 3 * n:])
        c_new = f * c + i * g
        return [o * T.tanh(c_new), c_new]

    (hs, cs), _ = exprc.scan(step, sequences=x, outputs_info=[h0, c0],
                             non_sequences=[w_x, w_h, b])
    return hs


def _lstm_np(x, h0, c0, w_x, w_h, b):
    def sig(z):
        return 1 / (1 + np.exp(-z))

    h, c, hs = h0, c0, []
    n = h0.shape[-1]
    for x_t in x:
        gates = x_t @ w_x + h @ w_h + b
        i, f, g, o = (sig(gates[:, :n]), sig(gates[:, n:2 * n]), np.tanh(gates[:, 2 * n:3 * n]),
                      sig(gates[:, 3 * n:]))
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    return np.array(hs)


@pytest.mark.parametrize("mode", MODES)
def test_lstm_forward_and_gradient(mode):
    rng = np.random.default_rng(3)
    shapes = [(4, 2, 3), (2, 2), (2, 2), (3, 8), (2, 8), (8,)]
    values = [rng.normal(size=s) * 0.5 for s in shapes]
    symbols = [T.tensor("float64", shape=(None,) * len(s)) for s in shapes]
    f = exprc.function(symbols, _lstm(*symbols), mode=mode)
    np.testing.assert_allclose(f(*values), _lstm_np(*values), rtol=1e-10)
    verify_grad(lambda *a: _lstm(*a).sum() + (_lstm(*a)[-1] ** 2).sum(), values, mode=mode,
                rng=np.random.default_rng(0))


@pytest.mark.parametrize("mode", MODES)
def test_second_derivatives_and_rop_through_a_loop(mode):
    w, h0 = T.dscalar("w"), T.dscalar("h0")
    hs, _ = exprc.scan(lambda h, w: h * w, outputs_info=h0, non_sequences=w, n_steps=3)
    cost = hs.sum()  # h0 (w + w^2 + w^3)
    g = exprc.grad(cost, w)
    gg = exprc.grad(g, w)
    jv = Rop(hs, w, T.constant(1.0, dtype="float64"))
    f = exprc.function([w, h0], [g, gg, jv], mode=mode)
    g_v, gg_v, jv_v = f(2.0, 1.5)
    np.testing.assert_allclose(g_v, 1.5 * (1 + 2 * 2 + 3 * 4))
    np.testing.assert_allclose(gg_v, 1.5 * (2 + 6 * 2))
    np.testing.assert_allclose(jv_v, 1.5 * np.array([1, 2 * 2, 3 * 4]))


@pytest.mark.parametrize("mode", MODES)
def test_gradient_of_a_gradient_of_an_elman_network(mode):
    rng = np.random.default_rng(1)
    xv, h0v, wv = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(3, 3)) * 0.5
    x, h0, w = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("w")
    hs, _ = exprc.scan(lambda xt, h, w: T.tanh(T.dot(h, w) + xt), sequences=x, outputs_info=h0,
                       non_sequences=w)
    g = exprc.grad((hs ** 2).sum(), w)
    f = exprc.function([x, h0, w], exprc.grad((g ** 2).sum(), w), mode=mode)

    def cost(wv):
        h, total = h0v, 0.0
        for t in range(4):
            h = np.tanh(h @ wv + xv[t])
            total += (h ** 2).sum()
        return total

    def grad_norm(wv):
        return (_fd_grad(cost, wv, 1e-5) ** 2).sum()

    np.testing.assert_allclose(f(xv, h0v, wv), _fd_grad(grad_norm, wv, 1e-4), rtol=1e-4,
                               atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_truncate_gradient(mode):
    x, h0, w = T.dvector("x"), T.dscalar("h0"), T.dscalar("w")
    hs, _ = exprc.scan(lambda xt, h, w: h * w + xt, sequences=x, outputs_info=h0,
                       non_sequences=w, truncate_gradient=2)
    gx, gh0, gw = exprc.grad(hs[-1], [x, h0, w])
    f = exprc.function([x, h0, w], [gx, gh0, gw], mode=mode)
    xv = np.array([1.0, 2.0, 3.0, 4.0])
    gx_v, gh0_v, gw_v = f(xv, 0.5, 3.0)
    # Only the last two steps are backpropagated through: h3 = w h2 + x3, h2 = w h1 + x2.
    np.testing.assert_allclose(gx_v, [0.0, 0.0, 3.0, 1.0])
    assert gh0_v == 0.0
    h = 0.5
    hs_v = []
    for v in xv:
        h = h * 3.0 + v
        hs_v.append(h)
    np.testing.assert_allclose(gw_v, hs_v[2] + 3.0 * hs_v[1])


@pytest.mark.parametrize("mode", MODES)
def test_jacobian_and_hessian_of_unknown_length(mode):
    a, x = T.dmatrix("a"), T.dvector("x")
    y = T.tanh(T.dot(a, x))
    cost = (y ** 2).sum() + (x ** 3).sum()
    f = exprc.function([a, x], [jacobian(y, x), hessian(cost, x)], mode=mode)
    rng = np.random.default_rng(0)
    av, xv = rng.normal(size=(3, 4)), rng.normal(size=4)
    jac, hess = f(av, xv)

    def y_np(xv):
        return np.tanh(av @ xv)

    def cost_np(xv):
        return (y_np(xv) ** 2).sum() + (xv ** 3).sum()

    expected_jac = np.array([(y_np(xv + 1e-6 * e) - y_np(xv - 1e-6 * e)) / 2e-6
                             for e in np.eye(4)]).T
    np.testing.assert_allclose(jac, expected_jac, atol=1e-7)
    expected_hess = np.array([(_fd_grad(cost_np, xv + 1e-4 * e, 1e-5)
                               - _fd_grad(cost_np, xv - 1e-4 * e, 1e-5)) / 2e-4
                              for e in np.eye(4)])
    np.testing.assert_allclose(hess, expected_hess, atol=1e-4)


# ---------------------------------------------------------------------------- compiled loop
def test_long_loop_keeps_only_what_is_read():
    x = T.dvector("x")
    total, _ = exprc.scan(lambda v, acc: acc + v, sequences=x,
                          outputs_info=T.constant(0.0, dtype="float64"))
    f = exprc.function([x], total[-1])
    (node,) = _scans(f)
    assert node.op.n_carry == 1 and not node.op.sot_taps  # one value, not a row per step
    assert f.rewrite_log.fired["scan_keep_last_only"] == 1
    assert f(np.ones(100_000)) == 100_000.0
    assert all(backend == "c" for _, backend in f.placement())


def test_long_loop_on_the_reference_executor_does_not_recurse():
    x = T.dvector("x")
    total, _ = exprc.scan(lambda v, acc: acc + v, sequences=x,
                          outputs_info=T.constant(0.0, dtype="float64"))
    f = exprc.function([x], total[-1], mode="REFERENCE")
    assert f(np.ones(20_000)) == 20_000.0


def test_products_with_a_sequence_move_before_the_loop():
    x, h0, w_in, w_rec = T.dtensor3("x"), T.dmatrix("h0"), T.dmatrix("w_in"), T.dmatrix("w_rec")
    hs, _ = exprc.scan(lambda xt, h, a, b: T.tanh(T.dot(xt, a) + T.dot(h, b)), sequences=x,
                       outputs_info=h0, non_sequences=[w_in, w_rec])
    f = exprc.function([x, h0, w_in, w_rec], hs)
    assert f.rewrite_log.fired["scan_push_out_products"] >= 1
    (node,) = _scans(f)
    # The body no longer multiplies by w_in: only the recurrent product is left inside.
    products = [n for n in node.op.inner.nodes() if "Dot" in type(n.op).__name__
                or "Gemm" in type(n.op).__name__ or "Gemv" in type(n.op).__name__]
    assert len(products) == 1
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(3, 4)),
              rng.normal(size=(4, 4)) * 0.3]
    reference = exprc.function([x, h0, w_in, w_rec], hs, mode="REFERENCE")
    np.testing.assert_allclose(f(*values), reference(*values), rtol=1e-12)


def test_unused_outputs_are_dropped():
    x = T.dvector("x")
    (a, b), _ = exprc.scan(lambda v: [v + 1, T.exp(v)], sequences=x)
    f = exprc.function([x], a)
    (node,) = _scans(f)
    assert len(node.outputs) == 1
    np.testing.assert_allclose(f(np.arange(3.0)), [1, 2, 3])


def test_equal_loops_merge():
    x = T.dvector("x")
    a, _ = exprc.scan(lambda v: v * 3, sequences=x)
    b, _ = exprc.scan(lambda v: v * 3, sequences=x)
    f = exprc.function([x], [a, b + 1])
    assert len(_scans(f)) == 1


# ---------------------------------------------------------------------------- bad input
def test_wrong_number_of_outputs():
    x = T.dvector("x")
    with pytest.raises(ExprcTypeError, match="'rnn'.*returned 2 output.*describes 1"):
        exprc.scan(lambda v, h: [h + v, h], sequences=x, outputs_info=[x[0]], name="rnn")


def test_state_whose_dtype_changes():
    x = T.fvector("x")
    h0 = T.fscalar("h0")
    with pytest.raises(ExprcTypeError, match="'acc'.*float64.*initial value.*float32"):
        exprc.scan(lambda v, h: T.cast(h + v, "float64"), sequences=x, outputs_info=h0,
                   name="acc")


def test_taps_reaching_before_the_initial_rows():
    x = T.dvector("x")
    init = T.dvector("init", shape=(2,))
    with pytest.raises(ExprcValueError, match="'deep'.*3 steps back.*only 2 rows"):
        exprc.scan(lambda v, a, b: a + b + v, sequences=x,
                   outputs_info=dict(initial=init, taps=[-3, -1]), name="deep")
    with pytest.raises(ExprcValueError, match="negative taps"):
        exprc.scan(lambda v, a: a + v, sequences=x, outputs_info=dict(initial=x, taps=[1]))


@pytest.mark.parametrize("mode", MODES)
def test_taps_reaching_before_the_initial_rows_at_run_time(mode):
    x, init = T.dvector("x"), T.dvector("init")
    out, _ = exprc.scan(lambda v, a, b: a + b + v, sequences=x,
                        outputs_info=dict(initial=init, taps=[-3, -1]), name="deep")
    f = exprc.function([x, init], out, mode=mode)
    with pytest.raises(ValueError, match="'deep'.*3 steps back.*2 rows"):
        f(np.ones(4), np.ones(2))
    # rows 1, 2, 3 then: 1 + 3 + 1 = 5, 2 + 5 + 1 = 8
    np.testing.assert_allclose(f(np.ones(2), np.array([1.0, 2.0, 3.0])), [5.0, 8.0])


@pytest.mark.parametrize("mode", MODES)
def test_n_steps_zero_or_negative(mode):
    k = T.iscalar("k")
    out, _ = exprc.scan(lambda h: h + 1, outputs_info=T.constant(0.0, dtype="float64"),
                        n_steps=k, name="count")
    f = exprc.function([k], out, mode=mode)
    for bad in (0, -2):
        with pytest.raises(ValueError, match="'count'.*number of steps must be positive"):
            f(bad)
    with pytest.raises(ExprcValueError, match="positive"):
        exprc.scan(lambda h: h + 1, outputs_info=T.constant(0.0), n_steps=0)


@pytest.mark.parametrize("mode", MODES)
def test_sequences_of_different_lengths(mode):
    x, y = T.dvector("x"), T.dvector("y")
    out, _ = exprc.scan(lambda a, b: a + b, sequences=[x, y], name="pairs")
    f = exprc.function([x, y], out, mode=mode)
    with pytest.raises(ValueError, match="(?s)'pairs'.*sequence 1 has 2 rows.*exactly 3.*"
                                         "graph built at .*test_scan.py"):
        f(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="'pairs'.*sequence 1 has 4 rows.*exactly 3"):
        f(np.ones(3), np.ones(4))
    np.testing.assert_allclose(f(np.ones(3), np.ones(3)), [2, 2, 2])


@pytest.mark.parametrize("mode", MODES)
def test_a_sequence_too_short_for_n_steps(mode):
    x = T.dvector("x")
    out, _ = exprc.scan(lambda a: a * 2, sequences=x, n_steps=4, name="short")
    f = exprc.function([x], out, mode=mode)
    with pytest.raises(ValueError, match="'short'.*sequence 0 has 3 rows.*at least 4"):
        f(np.ones(3))


@pytest.mark.parametrize("mode", MODES)
def test_a_state_whose_shape_changes(mode):
    x = T.dvector("x")
    h0 = T.dvector("h0")
    out, _ = exprc.scan(lambda v, h: T.concatenate([h, v.dimshuffle("x")]), sequences=x,
                        outputs_info=h0, name="grow")
    f = exprc.function([x, h0], out, mode=mode)
    with pytest.raises(ValueError, match="'grow'.*step 0.*state 0.*shape"):
        f(np.array([3.0, 3.0]), np.ones(2))


def test_strict_refuses_unlisted_outer_values():
    x = T.dvector("x")
    w = exprc.shared(2.0, name="w")
    with pytest.raises(ExprcTypeError, match="strict.*reads the shared variable w"):
        exprc.scan(lambda v: v * w, sequences=x, strict=True)
    out, _ = exprc.scan(lambda v, w: v * w, sequences=x, non_sequences=[w], strict=True)
    np.testing.assert_allclose(exprc.function([x], out)(np.ones(2)), [2, 2])


def test_no_sequences_and_no_n_steps():
    with pytest.raises(ExprcTypeError, match="n_steps"):
        exprc.scan(lambda h: h + 1, outputs_info=T.constant(0.0))


def test_until_has_no_gradient():
    x = T.dscalar("x")
    out, _ = exprc.scan(lambda prev: (prev * 2, until(prev > 5)), outputs_info=x, n_steps=10)
    with pytest.raises(ExprcError, match="until"):
        exprc.grad(out.sum(), x)


# ---------------------------------------------------------------------------- seeing inside
def test_debugprint_shows_the_inner_graph():
    x = T.dvector("x")
    total, _ = exprc.scan(lambda v, acc: acc + T.exp(v), sequences=x,
                          outputs_info=T.constant(0.0, dtype="float64"), name="total")
    text = exprc.printing.debugprint(total, file="str")
    outer, inner = text.split("Inner graphs:")
    assert "Scan{total}" in outer and "Elemwise{exp}" not in outer
    assert "Scan{total}" in inner and " >" in inner and "Elemwise{exp}" in inner
    assert "x[t]" in inner  # the body reads the sequence's row


def test_profile_times_the_nodes_inside_a_loop():
    x = T.dvector("x")
    total, _ = exprc.scan(lambda v, acc: acc + T.exp(v) * T.sin(v), sequences=x,
                          outputs_info=T.constant(0.0, dtype="float64"), name="total")
    f = exprc.function([x], total, profile=True)
    f(np.ones(1000))
    inner = f.profile.inner_nodes()
    assert inner and all(item.op.startswith("Scan{total} > ") for item in inner)
    assert all(item.seconds >= 0 for item in inner) and sum(i.seconds for i in inner) > 0
    (scan_node,) = [n for n in f.profile.nodes() if n.op_class == "Scan"]
    assert sum(i.seconds for i in inner) <= scan_node.seconds
    import io

    out = io.StringIO()
    f.profile.summary(file=out)
    assert "inside loops and branches" in out.getvalue()


@pytest.mark.parametrize("mode", ["FAST_RUN", "REFERENCE"])
def test_loops_over_the_same_sequence_merge(mode):
    x, w = T.dvector("x"), T.dscalar("w")
    a, _ = exprc.scan(lambda v, w: v * w, sequences=x, non_sequences=w)
    b, _ = exprc.scan(lambda v, acc: acc + v, sequences=x,
                      outputs_info=T.constant(0.0, dtype="float64"))
    c, _ = exprc.scan(lambda v, acc: acc * v, sequences=a,  # reads a: stays a loop of its own
                      outputs_info=T.constant(1.0, dtype="float64"))
    f = exprc.function([x, w], [a, b, c], mode=mode)
    if mode == "FAST_RUN":
        assert f.rewrite_log.fired["scan_merge"] == 1
        assert len(_scans(f)) == 2
    xv = np.array([1.0, 2.0, 3.0])
    out = f(xv, 2.0)
    np.testing.assert_allclose(out[0], xv * 2)
    np.testing.assert_allclose(out[1], np.cumsum(xv))
    np.testing.assert_allclose(out[2], np.cumprod(xv * 2))


@pytest.mark.parametrize("mode", MODES)
def test_gradient_through_random_samples_drawn_inside_the_loop(mode):
    srng = RandomStreams(seed=3)
    x, w, p = T.dmatrix("x"), T.dscalar("w"), T.dscalar("p")

    def step(x_t, h, w, p):
        noise = srng.uniform(size=x_t.shape, dtype="float64")
        keep = srng.binomial(size=x_t.shape, p=p, dtype="float64")
        return T.tanh(h * w + x_t * noise * keep)

    hs, updates = exprc.scan(step, sequences=x, outputs_info=T.zeros_like(x[0]),
                             non_sequences=[w, p])
    assert len(updates) == 2
    cost = hs.sum()
    # Without the updates the generator states stay put, so the function is deterministic.
    f = exprc.function([x, w, p], [cost, exprc.grad(cost, w)], no_default_updates=True,
                       mode=mode)
    xv = np.random.default_rng(0).random((5, 3))
    value, gw = f(xv, 0.5, 0.7)
    assert f(xv, 0.5, 0.7)[0] == value
    expected = (f(xv, 0.5 + 1e-6, 0.7)[0] - f(xv, 0.5 - 1e-6, 0.7)[0]) / 2e-6
    np.testing.assert_allclose(gw, expected, rtol=1e-6)
    with pytest.raises(ExprcError, match="RandomBinomial.*no pathwise gradient"):
        exprc.grad(cost, p)


def test_function_refuses_a_second_update_of_a_shared_variable_the_loop_updates():
    count = exprc.shared(np.int64(0), name="count")
    out, updates = exprc.scan(lambda i: (i, {count: count + 1}), sequences=T.arange(3),
                              name="counting")
    mine = dict(updates)
    mine[count] = count + 5  # a plain dict lets this overwrite the loop's update
    with pytest.raises(ExprcValueError, match="count is updated inside the loop "
                                              "Scan{counting}.*and also by function"):
        exprc.function([], out, updates=mine)
    f = exprc.function([], out, updates=updates)
    f()
    assert count.get_value() == 3


def test_the_gradient_reads_what_the_forward_loop_kept():
    shapes = [(5, 2, 3), (2, 4), (2, 4), (3, 16), (4, 16), (16,)]
    symbols = [T.tensor("float64", shape=(None,) * len(s)) for s in shapes]
    hs = _lstm(*symbols)
    cost = (hs ** 2).sum()
    grads = exprc.grad(cost, symbols[3:])
    f = exprc.function(symbols, grads)
    forward, backward = sorted(_scans(f), key=lambda n: n.op.name.startswith("grad"))
    assert f.rewrite_log.fired["scan_subsume"] == 1  # one forward loop, keeping the gates
    assert forward.op.n_nit_sot >= 4
    # The reverse loop computes no activation again, and the weights' gradients are
    # products after the loop.
    inner_ops = " ".join(str(n.op) for n in backward.op.inner.nodes())
    assert "sigmoid" not in inner_ops and "tanh" not in inner_ops
    assert f.rewrite_log.fired["scan_push_out_sum_of_products"] >= 2
    rng = np.random.default_rng(5)
    values = [rng.normal(size=s) * 0.5 for s in shapes]
    reference = exprc.function(symbols, grads, mode="REFERENCE")
    for got, want in zip(f(*values), reference(*values)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_strict_accepts_values_computed_from_listed_ones():
    x = T.dvector("x")
    w = exprc.shared(np.array([1.0, 2.0, 3.0]), name="w")
    # w[:2] * 2 is an outer value computed from the listed w: fine under strict, as in Theano.
    out, _ = exprc.scan(lambda v, w: v * (w[:2] * 2).sum(), sequences=x, non_sequences=[w],
                        strict=True)
    np.testing.assert_allclose(exprc.function([x], out)(np.ones(2)), [6.0, 6.0])


@pytest.mark.parametrize("mode", MODES)
def test_a_hostile_loop_name_reaches_messages_as_text(mode):
    name = 'evil */ #include <x> "\\n %s %n %%'
    x, y = T.dvector("x"), T.dvector("y")
    out, _ = exprc.scan(lambda a, b: a + b, sequences=[x, y], name=name)
    f = exprc.function([x, y], out, mode=mode)
    np.testing.assert_allclose(f(np.ones(2), np.ones(2)), [2.0, 2.0])
    with pytest.raises(ValueError) as caught:
        f(np.ones(3), np.ones(2))
    assert f"scan {name!r}: sequence 1 has 2 rows" in str(caught.value)


def test_a_compiled_loop_called_from_many_threads():
    from concurrent.futures import ThreadPoolExecutor

    x, w = T.dmatrix("x"), T.dmatrix("w")
    hs, _ = exprc.scan(lambda x_t, h, w: T.tanh(T.dot(h, w) + x_t), sequences=x,
                       outputs_info=T.zeros_like(x[0]), non_sequences=w)
    f = exprc.function([x, w], [hs, exprc.grad((hs ** 2).sum(), w)])
    reference = exprc.function([x, w], [hs, exprc.grad((hs ** 2).sum(), w)], mode="REFERENCE")
    rng = np.random.default_rng(0)
    cases = [(rng.normal(size=(int(rng.integers(1, 30)), 4)), rng.normal(size=(4, 4)) * 0.5)
             for _ in range(24)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda case: f(*case), cases * 3))
    for (xv, wv), got in zip(cases * 3, results):
        for a, b in zip(got, reference(xv, wv)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_an_error_inside_the_body_names_the_step_and_the_loop(mode):
    x, i = T.dvector("x"), T.lvector("i")
    out, _ = exprc.scan(lambda k, x: x[k] * 2, sequences=i, non_sequences=x, name="gather")
    f = exprc.function([x, i], out, mode=mode)
    np.testing.assert_allclose(f(np.arange(3.0), np.array([2, 0])), [4.0, 0.0])
    with pytest.raises(IndexError, match=r"(?s)index 5 is out of bounds.*at step 1 of scan "
                                         "'gather'"):
        f(np.arange(3.0), np.array([1, 5, 0]))


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 9])
def test_a_state_read_at_its_last_rows_keeps_only_those(steps):
    x = T.dvector("x")
    s, _ = exprc.scan(lambda v, a, b: a + b + v, sequences=x,
                      outputs_info=dict(initial=T.constant(np.array([1.0, 2.0])), taps=[-2, -1]))
    outs = [s[-1], s[-3:], s[-2]]
    f = exprc.function([x], outs)
    (node,) = _scans(f)
    assert node.op.keep == (3,)  # a ring of three rows, not one per step
    assert f.rewrite_log.fired["scan_keep_last_rows"] == 1
    reference = exprc.function([x], outs, mode="REFERENCE")
    xv = np.arange(float(steps))
    if steps < 2:  # s[-2] does not exist: both raise
        for g in (f, reference):
            with pytest.raises(IndexError):
                g(xv)
        return
    for got, want in zip(f(xv), reference(xv)):
        np.testing.assert_array_equal(got, want)


def test_a_long_loop_read_at_its_last_rows():
    x = T.dvector("x")
    s, _ = exprc.scan(lambda v, a: a * 0.5 + v, sequences=x,
                      outputs_info=T.constant(0.0, dtype="float64"))
    f = exprc.function([x], s[-4:])
    (node,) = _scans(f)
    assert node.op.keep == (4,)
    last = f(np.ones(100_000))
    assert last.shape == (4,)
    np.testing.assert_allclose(last, 2.0)  # a = a / 2 + 1 has long converged to 2


# ---------------------------------------------------------------------------- regressions
@pytest.mark.parametrize("mode", MODES)
def test_gradient_when_the_body_reads_a_constant_and_an_expression_of_it(mode):
    # W and W.T are two constants of the loop computed from one another: each is
    # differentiated on its own inside, and the outer walk adds what flows back through W.T.
    x, w = T.dmatrix("x"), T.dmatrix("w")
    hs, _ = exprc.scan(lambda x_t, h, w, wt: T.tanh(T.dot(h, w) + T.dot(x_t, wt)),
                       sequences=x, outputs_info=T.zeros_like(x[0]), non_sequences=[w, w.T])
    cost = (hs ** 2).sum()
    rng = np.random.default_rng(0)
    xv, wv = rng.normal(size=(4, 3)), rng.normal(size=(3, 3)) * 0.5

    def cost_np(wv):
        h, total = np.zeros(3), 0.0
        for x_t in xv:
            h = np.tanh(h @ wv + x_t @ wv.T)
            total += (h ** 2).sum()
        return total

    g = exprc.function([x, w], exprc.grad(cost, w), mode=mode)(xv, wv)
    np.testing.assert_allclose(g, _fd_grad(cost_np, wv), rtol=1e-6, atol=1e-8)
    a, s = T.dscalar("a"), T.dvector("s")
    out, _ = exprc.scan(lambda v: T.exp(a) * v * a, sequences=s)  # a read from outside
    ga = exprc.function([s, a], exprc.grad((out ** 2).sum(), a), mode=mode)(np.ones(1), 0.5)
    np.testing.assert_allclose(ga, 2 * np.exp(1.0) * (0.25 + 0.5))


@pytest.mark.parametrize("mode", MODES)
def test_gradient_of_steps_passing_values_through(mode):
    x, a0, b0 = T.dvector("x"), T.dscalar("a0"), T.dscalar("b0")
    same, _ = exprc.map(lambda v: v, x)
    kept, _ = exprc.scan(lambda v, s: s, sequences=x, outputs_info=a0)
    (p, q), _ = exprc.scan(lambda a, b: [b, a], outputs_info=[a0, b0], n_steps=3)
    grads = exprc.grad(same.sum() + 2 * kept.sum() + p.sum() + 5 * q.sum(), [x, a0, b0])
    gx, ga, gb = exprc.function([x, a0, b0], grads, mode=mode)(np.ones(3), 2.0, 3.0)
    np.testing.assert_allclose(gx, [1.0, 1.0, 1.0])
    # kept: 3 copies of a0; p = [b0, a0, b0], q = [a0, b0, a0]
    assert ga == 2 * 3 + 1 + 5 * 2 and gb == 2 + 5 * 1


def test_second_derivative_through_nested_loops():
    m, h0 = T.dmatrix("m"), T.dscalar("h0")

    def outer(row, h):
        r, _ = exprc.scan(lambda v, acc: T.tanh(acc + v), sequences=row, outputs_info=h)
        return r[-1]

    out, _ = exprc.scan(outer, sequences=m, outputs_info=h0)
    g = exprc.grad(out.sum(), h0)
    gg = exprc.function([m, h0], exprc.grad(g, h0))
    mv = np.full((2, 3), 0.1)

    def f(h):
        total = 0.0
        for row in mv:
            for v in row:
                h = np.tanh(h + v)
            total += h
        return total

    np.testing.assert_allclose(gg(mv, 0.3), (f(0.3 + 1e-4) - 2 * f(0.3) + f(0.3 - 1e-4)) / 1e-8,
                               rtol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_a_sequence_the_body_does_not_read_is_still_checked(mode):
    x, y, k = T.dvector("x"), T.dvector("y"), T.lscalar("k")
    out, _ = exprc.scan(lambda a, b: a * 2, sequences=[x, y])
    out2, _ = exprc.scan(lambda a, b: a * 2, sequences=[x, y], n_steps=k)
    with pytest.raises(ValueError, match="sequence 1 has 5 rows.*exactly 3"):
        exprc.function([x, y], out, mode=mode)(np.ones(3), np.ones(5))
    with pytest.raises(ValueError, match="sequence 1 has 1 rows.*at least 3"):
        exprc.function([x, y, k], out2, mode=mode)(np.ones(5), np.ones(1), 3)
    # After a product with a loop constant moved out of the loop, sequences keep their numbers.
    a, b, w = T.dmatrix("a"), T.dmatrix("b"), T.dmatrix("w")
    out3, _ = exprc.scan(lambda p, q, w: T.dot(p, w) + q, sequences=[a, b], non_sequences=w)
    with pytest.raises(ValueError, match="sequence 1 has 4 rows"):
        exprc.function([a, b, w], out3, mode=mode)(np.ones((2, 3)), np.ones((4, 3)), np.eye(3))


def test_n_steps_must_be_an_integer():
    with pytest.raises(ExprcTypeError, match="n_steps must be an int or a 0-d integer"):
        exprc.scan(lambda h: h + 1, outputs_info=T.constant(0.0), n_steps=T.dscalar("k"))


def test_two_loops_updating_one_shared_variable_are_refused():
    c = exprc.shared(np.int64(0), name="c")
    one, first = exprc.scan(lambda i: (i, {c: c + 1}), sequences=T.arange(3))
    two, second = exprc.scan(lambda i: (i * 2, {c: c + 2}), sequences=T.arange(3))
    both = dict(first)
    both.update(second)  # a plain dict: the second loop's update replaces the first's
    with pytest.raises(ExprcValueError, match="c is updated inside two loops"):
        exprc.function([], [one, two], updates=both)


@pytest.mark.parametrize("mode", MODES)
def test_jacobian_of_an_empty_vector(mode):
    x = T.dvector("x")
    f = exprc.function([x], jacobian(x ** 2, x), mode=mode)
    assert f(np.zeros(0)).shape == (0, 0)
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), np.diag([2.0, 4.0]))
