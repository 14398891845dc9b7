"""Ops written in Python (``perform``, ``grad``, ``infer_shape``, ``R_op``, ``as_op``) run in every
mode: on the reference executor, and called back from the compiled C function in FAST_RUN,
with the rest of the graph in C. Expected values are written with NumPy independently."""

from __future__ import annotations

import gc
import os
import pickle
import threading

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.compile.ops import as_op
from exprc.errors import ExprcError
from exprc.gradient import verify_grad
from exprc.graph.ir import Apply, Op
from exprc.graph.optable import MissingRuleError
from exprc.link.reference.python_op import PerformError
from exprc.tensor.type import TensorType

MODES = ["REFERENCE", "FAST_COMPILE", "FAST_RUN"]


class Scale(Op):
    """``k * x`` with its gradient, R-op and shape, as a user writes an op."""

    __props__ = ("k",)

    def __init__(self, k):
        self.k = float(k)

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        output_storage[0][0] = (x * self.k).astype(x.dtype)

    def infer_shape(self, node, input_shapes):
        return input_shapes

    def grad(self, inputs, output_grads):
        return [output_grads[0] * self.k]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else eval_points[0] * self.k]


class SortAndArgmax(Op):
    """Two outputs of two dtypes: each row sorted, and the argmax of each row."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type(), TensorType("int64", shape=(x.type.shape[0],))()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        output_storage[0][0] = np.sort(x, axis=1)
        output_storage[1][0] = np.argmax(x, axis=1)

    def grad(self, inputs, output_grads):
        raise AssertionError("not differentiated in these tests")


class Unlisted(Op):
    """An op with a parameter but no ``__props__``: Theano compares such ops by identity."""

    def __init__(self, k):
        self.k = k

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] + self.k


class Misbehaving(Op):
    """``perform`` stores what ``fault`` says: a wrong dtype, rank or size, nothing, or
    raises."""

    __props__ = ("fault",)

    def __init__(self, fault):
        self.fault = fault

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [TensorType(x.dtype, shape=(3,))()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        if self.fault == "raise":
            raise ValueError("the input is not to my liking")
        value = {"dtype": x.astype("float32"), "rank": x.reshape(3, 1), "size": x[:2],
                 "nothing": None, "ok": x * 1.0}[self.fault]
        output_storage[0][0] = value


class NoShape(Op):
    """Knows its shape only by running: ``perform`` counts its calls."""

    __props__ = ()
    calls = 0

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [TensorType(x.dtype, shape=(None,))()])

    def perform(self, node, inputs, output_storage):
        type(self).calls += 1
        output_storage[0][0] = inputs[0][inputs[0] > 0]


class ShapeOnly(Scale):
    """Like Scale, but running it is an error: only its shape may be asked for."""

    def perform(self, node, inputs, output_storage):
        raise AssertionError("perform ran although only the shape was asked for")


def _rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("mode", MODES)
def test_forward_in_every_mode_against_numpy(mode):
    x = T.dmatrix("x")
    y = T.exp(Scale(3.0)(x + 1.0)).sum(axis=0)
    value = _rng().normal(size=(4, 5))
    f = exprc.function([x], y, mode=mode)
    np.testing.assert_allclose(f(value), np.exp(3.0 * (value + 1.0)).sum(axis=0), rtol=1e-12)
    wheres = {where for _, where in f.placement()}
    assert wheres == ({"c", "python"} if mode == "FAST_RUN" else {"python (reference)"})


@pytest.mark.parametrize("mode", MODES)
def test_two_outputs_of_two_dtypes_from_strided_inputs(mode):
    """The inputs reach ``perform`` as they are (a transposed, a reversed and a broadcast
    view in the C program), the int64 output joins C arithmetic."""
    x = T.dmatrix("x")
    v = T.dvector("v")
    sorted_rows, best = SortAndArgmax()(x.T[::-1] + v.dimshuffle(0, "x"))
    f = exprc.function([x, v], [sorted_rows * 2.0, best + 1], mode=mode)
    xv, vv = _rng().normal(size=(3, 4)), _rng().normal(size=4)
    m = xv.T[::-1] + vv[:, None]
    got_sorted, got_best = f(xv, vv)
    np.testing.assert_allclose(got_sorted, np.sort(m, axis=1) * 2.0)
    assert got_best.dtype == np.int64
    np.testing.assert_array_equal(got_best, np.argmax(m, axis=1) + 1)


@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
def test_zero_d_and_empty_values(mode):
    s = T.dscalar("s")
    e = T.dmatrix("e")
    f = exprc.function([s, e], [Scale(2.0)(s) + 1.0, Scale(2.0)(e).sum(axis=1)], mode=mode)
    got_s, got_e = f(1.5, np.zeros((3, 0)))
    assert got_s.shape == () and float(got_s) == 4.0
    np.testing.assert_array_equal(got_e, np.zeros(3))


@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
def test_gradient_through_the_ops_grad_by_finite_differences(mode):
    point = [_rng().normal(size=(3, 4)), _rng().normal(size=(4, 2))]
    verify_grad(lambda a, b: T.tanh(T.dot(Scale(-1.5)(a), b)), point, rng=0, mode=mode)


def test_rop_uses_the_ops_r_op_and_lop_its_grad():
    x, v = T.dvector("x"), T.dvector("v")
    y = T.sin(Scale(2.0)(x ** 2))
    jv = exprc.function([x, v], exprc.gradient.Rop(y, x, v))
    vj = exprc.function([x, v], exprc.gradient.Lop(y, x, v))
    xv, vv = _rng().normal(size=5), _rng().normal(size=5)
    jacobian_diagonal = np.cos(2.0 * xv ** 2) * 4.0 * xv
    np.testing.assert_allclose(jv(xv, vv), jacobian_diagonal * vv, rtol=1e-10)
    np.testing.assert_allclose(vj(xv, vv), jacobian_diagonal * vv, rtol=1e-10)


def test_infer_shape_gives_the_shape_without_running_perform():
    """The shape pass (FAST_RUN) reads the shape from infer_shape."""
    x = T.dmatrix("x")
    f = exprc.function([x], ShapeOnly(2.0)(x + 1.0).shape)
    np.testing.assert_array_equal(f(np.zeros((3, 7))), [3, 7])
    assert not any("ShapeOnly" in node for node, _ in f.placement())


@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
def test_without_infer_shape_the_shape_is_measured(mode):
    x = T.dvector("x")
    f = exprc.function([x], NoShape()(x).shape, mode=mode)
    before = NoShape.calls
    np.testing.assert_array_equal(f(np.array([1.0, -1.0, 2.0])), [2])
    assert NoShape.calls == before + 1


def test_an_op_in_the_middle_of_a_c_graph_values_before_and_after():
    """A training step: dense layer, the Python op, loss and the gradient through both."""
    rng = _rng()
    x, w = T.dmatrix("x"), T.dmatrix("w")
    hidden = T.tanh(T.dot(x, w))
    scaled = Scale(0.5)(hidden)
    loss = (scaled ** 2).sum()
    g = exprc.grad(loss, w)
    f = exprc.function([x, w], [hidden, scaled, loss, g])
    placement = f.placement()
    assert [n for n, where in placement if where == "python"] == \
        [n for n, _ in placement if "Scale" in n]
    assert sum(where == "python" for _, where in placement) == 1
    assert sum(where == "c" for _, where in placement) >= 4
    xv, wv = rng.normal(size=(5, 3)), rng.normal(size=(3, 4))
    h = np.tanh(xv @ wv)
    got = f(xv, wv)
    np.testing.assert_allclose(got[0], h, rtol=1e-12)
    np.testing.assert_allclose(got[1], 0.5 * h, rtol=1e-12)
    np.testing.assert_allclose(got[2], (0.25 * h ** 2).sum(), rtol=1e-12)
    np.testing.assert_allclose(got[3], xv.T @ (0.5 * h * (1 - h ** 2)), rtol=1e-10)


@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
@pytest.mark.parametrize("fault, says", [
    ("dtype", "dtype float32 and shape (3,)"), ("rank", "shape (3, 1)"),
    ("size", "shape (2,)"), ("nothing", "nothing was stored")])
def test_a_result_of_the_wrong_type_is_a_clear_error(mode, fault, says):
    x = T.dvector("x")
    f = exprc.function([x], Misbehaving(fault)(x) + 1.0, mode=mode)
    with pytest.raises(PerformError, match="Misbehaving.perform, output 0") as caught:
        f(np.arange(3.0))
    assert says in str(caught.value)
    if fault != "nothing":
        assert "TensorType(float64, (3,))" in str(caught.value)
    np.testing.assert_array_equal(exprc.function([x], Misbehaving("ok")(x), mode=mode)(
        np.arange(3.0)), np.arange(3.0))


@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
def test_an_exception_in_perform_names_the_op_and_is_chained(mode):
    x = T.dvector("x")
    f = exprc.function([x], T.exp(Misbehaving("raise")(T.log(x))).sum(), mode=mode)
    for _ in range(3):  # the program released what it held: it keeps working
        with pytest.raises(ValueError, match="not to my liking") as caught:
            f(np.ones(3))
        message = str(caught.value)
        assert "Misbehaving" in message and "test_python_ops.py" in message
        assert isinstance(caught.value.__cause__, ValueError)
        assert str(caught.value.__cause__) == "the input is not to my liking"
    if mode == "FAST_RUN":
        assert "node 1, C backend" in message


class Interrupted(Op):
    __props__ = ("kind",)

    def __init__(self, kind):
        self.kind = kind

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        raise {"interrupt": KeyboardInterrupt, "value": ValueError}[self.kind]("stop")


def test_a_keyboard_interrupt_in_perform_comes_out_as_it_was_raised():
    x = T.dvector("x")
    f = exprc.function([x], T.exp(Interrupted("interrupt")(x * 2.0)))
    with pytest.raises(KeyboardInterrupt):
        f(np.ones(3))
    np.testing.assert_allclose(exprc.function([x], T.exp(x))(np.zeros(2)), [1.0, 1.0])


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc/self/statm")
def test_a_failing_call_releases_its_buffers():
    """Each failing call holds two 8 MB values when the Python node raises: the program's
    failure path must give them back, so repeated failures do not grow the process."""
    x = T.dvector("x")
    held = T.exp(x)
    f = exprc.function([x], Interrupted("value")(held) + held * 2.0)
    value = np.ones(1 << 20)

    def resident() -> int:
        with open("/proc/self/statm") as stream:
            return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def fail() -> None:
        with pytest.raises(ValueError):
            f(value)
        gc.collect()  # the exception's frames hold a copy of the input

    fail()
    before = resident()
    for _ in range(40):  # leaking would hold 40 * 16 MB
        fail()
    assert resident() - before < 100 << 20


def test_calls_from_several_threads_at_once():
    x = T.dvector("x")
    f = exprc.function([x], T.sqrt(Scale(3.0)(T.exp(x))).sum() + Misbehaving("ok")(x[:3]).sum())
    failing = exprc.function([x], Misbehaving("raise")(x))
    errors, results = [], {}

    def work(k):
        rng = np.random.default_rng(k)
        try:
            for _ in range(40):
                value = rng.normal(size=50)
                got = f(value)
                expected = np.sqrt(3.0 * np.exp(value)).sum() + value[:3].sum()
                if not np.isclose(got, expected, rtol=1e-12):
                    errors.append((k, got, expected))
                if k % 2:
                    with pytest.raises(ValueError, match="not to my liking"):
                        failing(value[:3])
            results[k] = True
        except Exception as exc:  # reported below, with the thread
            errors.append((k, exc))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 6


@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
def test_scan_body_with_a_python_op(mode):
    xs = T.dmatrix("xs")
    h0 = T.dvector("h0")
    hs, _ = exprc.scan(lambda x_t, h: T.tanh(Scale(0.5)(h) + x_t), sequences=xs,
                       outputs_info=h0)
    f = exprc.function([xs, h0], hs, mode=mode)
    xv, hv = _rng().normal(size=(6, 3)), _rng().normal(size=3)
    expected, h = [], hv
    for row in xv:
        h = np.tanh(0.5 * h + row)
        expected.append(h)
    np.testing.assert_allclose(f(xv, hv), np.array(expected), rtol=1e-12)
    if mode == "FAST_RUN":
        assert any(where == "python" and "> Scale" in node for node, where in f.placement())
        bad, _ = exprc.scan(lambda x_t: Misbehaving("raise")(x_t), sequences=xs)
        with pytest.raises(ValueError, match="not to my liking") as caught:
            exprc.function([xs], bad)(np.ones((2, 3)))
        assert "at step 0" in str(caught.value)


def test_a_large_program_split_into_chunks():
    """Past CHUNK_NODES nodes the program's values live in a frame; Python nodes still find
    their state there."""
    x = T.dmatrix("x")
    y, expected = x, None
    value = _rng().normal(size=(3, 4))
    expected = value
    for k in range(20):
        y = Scale(0.5)(y) + y.sum(axis=0) * 0.1 + float(k)
        expected = 0.5 * expected + expected.sum(axis=0) * 0.1 + float(k)
    f = exprc.function([x], y)
    assert len(f.placement()) > 48
    np.testing.assert_allclose(f(value), expected, rtol=1e-10)


def test_placement_is_a_readable_table():
    x = T.dvector("x")
    f = exprc.function([x], T.exp(Scale(2.0)(x)))
    placement = f.placement()
    # exp overwrites the buffer the callback filled: it belongs to the program like any other
    assert list(placement) == [("0: Scale{k=2.0}", "python"),
                               ("1: Elemwise{exp}[destroys 0]", "c")]
    assert placement.counts() == {"python": 1, "c": 1}
    text = str(placement)
    assert text.splitlines()[0].split() == ["where", "node"]
    assert "python  0: Scale{k=2.0}" in text and text.endswith("(1 python, 1 c)")
    reference = exprc.function([x], T.exp(Scale(2.0)(x)), mode="REFERENCE").placement()
    assert {where for _, where in reference} == {"python (reference)"}


def test_ops_without_props_compare_by_identity():
    x = T.dvector("x")
    f = exprc.function([x], [Unlisted(1.0)(x), Unlisted(2.0)(x)])
    a, b = f(np.zeros(2))
    np.testing.assert_array_equal(a, [1.0, 1.0])
    np.testing.assert_array_equal(b, [2.0, 2.0])
    assert Scale(2.0) == Scale(2.0) and Unlisted(1.0) != Unlisted(1.0)


def test_missing_methods_are_named():
    class NoPerform(Op):
        __props__ = ()

        def make_node(self, x):
            return Apply(self, [x], [x.type()])

    x = T.dvector("x")
    with pytest.raises(MissingRuleError, match="NoPerform has no NumPy reference.*perform"):
        exprc.function([x], NoPerform()(x), mode="REFERENCE")
    with pytest.raises(MissingRuleError, match="Unlisted has no gradient rule.*grad"):
        exprc.grad(Unlisted(1.0)(x).sum(), x)


def test_user_ops_need_no_table_rows():
    for cls in (Scale, SortAndArgmax, Unlisted, exprc.compile.ops.FromFunctionOp):
        assert cls not in Op.ALL_OPS


def test_constant_inputs_are_folded_unless_perform_fails():
    x = T.dvector("x")
    folded = exprc.function([x], x + Scale(2.0)(T.constant(np.arange(3.0))))
    assert [where for _, where in folded.placement()] == ["c"]
    np.testing.assert_array_equal(folded(np.ones(3)), [1.0, 3.0, 5.0])
    failing = exprc.function([], Misbehaving("raise")(T.constant(np.arange(3.0))))
    with pytest.raises(ValueError, match="not to my liking"):
        failing()

    class Unfolded(Scale):
        def do_constant_folding(self, node):
            return False

    kept = exprc.function([x], x + Unfolded(2.0)(T.constant(np.arange(3.0))))
    assert [where for _, where in kept.placement()] == ["python", "c"]
    np.testing.assert_array_equal(kept(np.ones(3)), [1.0, 3.0, 5.0])


# ---------------------------------------------------------------------- as_op
@as_op(itypes=[T.dmatrix, T.dvector], otypes=[T.dvector])
def masked_row_max(m, weights):
    """The largest weighted entry of each row."""
    return (m * weights).max(axis=1)


@pytest.mark.parametrize("mode", MODES)
def test_as_op_runs_a_plain_function(mode):
    m, w = T.dmatrix("m"), T.dvector("w")
    f = exprc.function([m, w], masked_row_max(m, w) * 2.0, mode=mode)
    mv, wv = _rng().normal(size=(4, 3)), _rng().normal(size=3)
    np.testing.assert_allclose(f(mv, wv), (mv * wv).max(axis=1) * 2.0)
    assert str(masked_row_max) == "FromFunctionOp{masked_row_max}"


def test_as_op_checks_its_inputs_and_pickles_by_name():
    with pytest.raises(exprc.errors.ExprcTypeError, match="input 1.*itypes\\[1\\]"):
        masked_row_max(T.dmatrix(), T.fvector())
    with pytest.raises(exprc.errors.ExprcTypeError, match="takes 2 input"):
        masked_row_max(T.dmatrix())
    assert pickle.loads(pickle.dumps(masked_row_max)) is masked_row_max


def test_as_op_with_infer_shape():
    calls = []

    @as_op(itypes=[T.dvector], otypes=[T.dvector],
           infer_shape=lambda node, shapes: [(shapes[0][0] * 2,)])
    def twice(v):
        calls.append(1)
        return np.concatenate([v, v])

    v = T.dvector("v")
    np.testing.assert_array_equal(exprc.function([v], twice(v).shape)(np.ones(3)), [6])
    assert not calls
    np.testing.assert_array_equal(exprc.function([v], twice(v))(np.arange(2.0)),
                                  [0.0, 1.0, 0.0, 1.0])


# ---------------------------------------------------------------------- Theano's tutorial
def test_theano_extending_tutorial_ops_through_the_compatibility_package():
    import exprc.compat.theano as theano

    class DoubleOp1(theano.Op):
        __props__ = ()

        def make_node(self, x):
            x = theano.tensor.as_tensor_variable(x)
            return theano.Apply(self, [x], [x.type()])

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = inputs[0] * 2

        def infer_shape(self, node, i0_shapes):
            return i0_shapes

        def grad(self, inputs, output_grads):
            return [output_grads[0] * 2]

        def R_op(self, inputs, eval_points):
            if eval_points[0] is None:
                return eval_points
            return self.grad(inputs, eval_points)

    class DoubleOp2(theano.gof.Op):
        __props__ = ()
        itypes = [theano.tensor.dmatrix]
        otypes = [theano.tensor.dmatrix]

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = inputs[0] * 2

        def infer_shape(self, fgraph, node, i0_shapes):  # the later signature
            return i0_shapes

        def grad(self, inputs, output_grads):
            return [output_grads[0] * 2, theano.gradient.DisconnectedType()()][:1]

    @theano.compile.ops.as_op(itypes=[theano.tensor.dmatrix], otypes=[theano.tensor.dmatrix])
    def numpy_dot(a):
        return np.dot(a, a.T)

    x = theano.tensor.dmatrix("x")
    value = _rng().normal(size=(3, 4))
    for op in (DoubleOp1(), DoubleOp2()):
        for mode in ("FAST_COMPILE", "FAST_RUN"):
            f = theano.function([x], op(x), mode=mode)
            np.testing.assert_allclose(f(value), value * 2)
        shape = theano.function([x], op(x).shape)
        assert (shape(value) == [3, 4]).all()
        assert {where for _, where in shape.placement()} == {"c"}
        theano.gradient.verify_grad(op, [value], rng=np.random.RandomState(0))
    f = theano.function([x], numpy_dot(x))
    np.testing.assert_allclose(f(value), value @ value.T)


def test_theano_grad_markers_for_disconnected_and_undefined_inputs():
    import exprc.compat.theano as theano

    class PowerOp(theano.Op):
        """x ** n for an integer n: no gradient w.r.t. n, an undefined one w.r.t. x < 0."""

        __props__ = ("undefined",)

        def __init__(self, undefined=False):
            self.undefined = undefined

        def make_node(self, x, n):
            x, n = theano.tensor.as_tensor_variable(x), theano.tensor.as_tensor_variable(n)
            return theano.Apply(self, [x, n], [x.type()])

        def perform(self, node, inputs, output_storage):
            x, n = inputs
            output_storage[0][0] = x ** n

        def grad(self, inputs, output_grads):
            x, n = inputs
            if self.undefined:
                return [theano.gradient.grad_undefined(self, 0, x, "for the test"),
                        theano.gradient.DisconnectedType()()]
            return [output_grads[0] * n * x ** (n - 1), theano.gradient.DisconnectedType()()]

    x, n = theano.tensor.dvector("x"), theano.tensor.lscalar("n")
    g = theano.function([x, n], theano.grad(PowerOp()(x, n).sum(), x))
    np.testing.assert_allclose(g(np.array([1.0, 2.0]), 3), [3.0, 12.0])
    with pytest.raises(exprc.errors.NullGradError, match="PowerOp.*undefined: for the test"):
        theano.grad(PowerOp(True)(x, n).sum(), x)


class Uncooperative(Op):
    """Raises an exception that is hard to report: one whose ``str()`` raises, or whose class
    refuses to be built from one message with an error other than TypeError."""

    __props__ = ("kind",)

    class BrokenStr(Exception):
        def __str__(self):
            raise RuntimeError("__str__ itself fails")

    class Picky(Exception):
        def __init__(self, code):
            if not isinstance(code, int):
                raise ValueError("Picky takes an int code")
            super().__init__(code)

    def __init__(self, kind):
        self.kind = kind

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        raise {"str": self.BrokenStr(), "picky": self.Picky(7)}[self.kind]


@pytest.mark.parametrize("kind, cls", [("str", Uncooperative.BrokenStr),
                                       ("picky", Uncooperative.Picky)])
def test_an_exception_hard_to_report_is_not_replaced_by_another(kind, cls):
    """Rebuilding the exception with the op's context must not raise the error of its
    ``__str__`` or of its constructor instead: it comes out as ExprcError, caused by it."""
    x = T.dvector("x")
    f = exprc.function([x], Uncooperative(kind)(x) + 1.0)
    with pytest.raises(exprc.errors.ExprcError, match="Uncooperative.perform") as caught:
        f(np.ones(2))
    assert isinstance(caught.value.__cause__, cls)
    assert cls.__name__ in str(caught.value)


class KeepsItsBuffer(Op):
    """Stores an array it keeps on the op and overwrites on its next call (in big-endian
    byte order, to check that results come back in the native one)."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        buffer = getattr(self, "buffer", None)
        if buffer is None or buffer.shape != inputs[0].shape:
            buffer = self.buffer = np.empty(inputs[0].shape, ">f8")
        buffer[...] = inputs[0] * 2.0
        output_storage[0][0] = buffer


@pytest.mark.parametrize("mode", MODES)
def test_a_buffer_perform_keeps_and_reuses_does_not_change_earlier_values(mode):
    x = T.dvector("x")
    op = KeepsItsBuffer()
    both = exprc.function([x], [op(x), op(x * 3.0)], mode=mode)(np.ones(2))
    np.testing.assert_array_equal(both[0], [2.0, 2.0])   # not overwritten by the second node
    np.testing.assert_array_equal(both[1], [6.0, 6.0])
    f = exprc.function([x], op(x), mode=mode)
    first = f(np.ones(2))
    f(np.full(2, 5.0))
    np.testing.assert_array_equal(first, [2.0, 2.0])     # nor by the next call
    assert first.dtype == np.dtype("float64") and first.dtype.isnative


class WrongShape(Op):
    """``perform`` doubles its input; ``infer_shape`` says the matrix comes out transposed
    (``swap``), or right but only for symbolic sizes (``symbolic``: it calls a method ints
    lack)."""

    __props__ = ("kind",)

    def __init__(self, kind):
        self.kind = kind

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2.0

    def infer_shape(self, node, input_shapes):
        (rows, cols), = input_shapes
        if self.kind == "swap":
            return [(cols, rows)]
        return [(rows.astype("int64"), cols.astype("int64"))]


@pytest.mark.parametrize("mode", MODES)
def test_infer_shape_disagreeing_with_perform_is_an_error_not_a_wrong_shape(mode):
    """A compiled function answers ``op(x).shape`` from infer_shape: when perform runs too,
    a disagreement is reported rather than returned as the shape."""
    x = T.dmatrix("x")
    y = WrongShape("swap")(x)
    f = exprc.function([x], [y, y.shape], mode=mode)
    with pytest.raises(PerformError, match=r"shape \(2, 3\), but WrongShape.infer_shape gives "
                                           r"\(3, 2\) for inputs of shapes \(2, 3\)"):
        f(np.ones((2, 3)))
    y = WrongShape("symbolic")(x)
    value, shape = exprc.function([x], [y, y.shape], mode=mode)(np.ones((2, 3)))
    np.testing.assert_array_equal(value, np.full((2, 3), 2.0))
    np.testing.assert_array_equal(shape, [2, 3])


def test_print_needs_a_hashable_global_fn():
    class Collector(list):  # a list: unhashable, though callable
        def __call__(self, op, value):
            self.append(value)

    with pytest.raises(exprc.errors.ExprcTypeError, match="global_fn must be a hashable"):
        exprc.printing.Print("h", global_fn=Collector())


# ------------------------------------------------ errors of the reference executor and shapes
class _Raising(exprc.Op):
    __props__ = ("kind",)

    def __init__(self, kind):
        self.kind = kind

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return exprc.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        raise {"str": _BrokenStr(), "picky": _Picky(7)}[self.kind]


class _BrokenStr(Exception):
    def __str__(self):
        raise RuntimeError("str broke")


class _Picky(Exception):
    def __init__(self, code):
        if not isinstance(code, int):
            raise ValueError("wants an int")
        super().__init__(code)


@pytest.mark.parametrize("kind, cause", [("str", _BrokenStr), ("picky", _Picky)])
def test_reference_executor_reports_exceptions_hard_to_rebuild(kind, cause):
    x = T.dvector("x")
    f = exprc.function([x], _Raising(kind)(x), mode="REFERENCE")
    with pytest.raises(ExprcError, match=cause.__name__) as caught:
        f(np.ones(2))
    assert isinstance(caught.value.__cause__, cause)


class _ShapeFrom(exprc.Op):
    __props__ = ("size",)

    def __init__(self, size):
        self.size = size

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return exprc.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0].copy()

    def infer_shape(self, node, input_shapes):
        return [(self.size,)]


def test_infer_shape_sizes_must_be_natural_and_come_from_the_inputs():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="-1; sizes are >= 0"):
        exprc.function([x], _ShapeFrom(-1)(x).shape)
    free = T.lscalar("free")
    with pytest.raises(ValueError, match="reads free"):
        exprc.function([x, free], _ShapeFrom(free)(x).shape, on_unused_input="ignore")


class _Filled(exprc.Op):
    """``n`` copies of ``value``: a size that is data, given by an input (as ``alloc``)."""

    __props__ = ()

    def make_node(self, value, n):
        value, n = T.as_tensor_variable(value), T.as_tensor_variable(n)
        return exprc.Apply(self, [value, n], [T.dvector()])

    def perform(self, node, inputs, output_storage):
        value, n = inputs
        output_storage[0][0] = np.full(int(n), float(value))

    def infer_shape(self, node, input_shapes):
        return [(node.inputs[1],)]


def test_infer_shape_may_read_the_nodes_inputs():
    value, n = T.dscalar("value"), T.lscalar("n")
    f = exprc.function([value, n], _Filled()(value, n).shape)
    assert "_Filled" not in str(f.placement())  # the shape came from n, without perform
    np.testing.assert_array_equal(f(2.0, 4), [4])
