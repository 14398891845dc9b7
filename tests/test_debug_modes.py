"""The debugging modes: DebugMode, NanGuardMode and MonitorMode, and their Theano names.

DebugMode's search for the culprit is shown on bugs injected for the test: a C expression of
a scalar op made wrong, a C rule of an op class that perturbs its output or writes into its
input, a rewrite rule that changes values, and a NumPy rule that writes into its input.
"""

import io
import pickle

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.compile import (
    DebugMode,
    DebugModeError,
    InvalidValueError,
    MonitorMode,
    NanGuardError,
    NanGuardMode,
)
from exprc.compile.debugmode import difference
from exprc.compile.mode import get_mode
from exprc.errors import ExprcError
from exprc.ifelse import ifelse
from exprc.link.c.program import C_CODE
from exprc.link.codegen.render import SCALAR_C
from exprc.link.reference import REFERENCE
from exprc.rewriting.engine import RULE_SETS, Rule
from exprc.tensor.elemwise import Elemwise
from exprc.tensor.reduction import Reduce
from exprc.tensor.shared_randomstreams import RandomStreams

NO_FUSION = DebugMode(exclude=("fusion",))


def _layer(mode):
    """tanh(x W + b) summed, with an update of W: several kinds of node."""
    W = exprc.shared(np.linspace(-1.0, 1.0, 6).reshape(3, 2), name="W")
    b = exprc.shared(np.array([0.1, -0.2]), name="b")
    x = T.dmatrix("x")
    hidden = T.tanh(T.dot(x, W) + b)
    cost = (hidden * 3).sum()
    f = exprc.function([x], cost, updates=[(W, W - 0.1 * exprc.grad(cost, W))], mode=mode)
    return f, W, b


X = np.arange(6.0).reshape(2, 3) / 4 - 0.5


def _numpy_layer(W, b, x):
    hidden = np.tanh(x @ W + b)
    return (hidden * 3).sum(), W - 0.1 * x.T @ (3 * (1 - hidden ** 2))


# ------------------------------------------------------------------ DebugMode
@pytest.mark.parametrize("mode", [DebugMode(), "DEBUG_MODE", NO_FUSION],
                         ids=["default", "by_name", "no_fusion"])
def test_debug_mode_agrees_and_applies_updates(mode):
    f, W, b = _layer(mode)
    assert isinstance(f.mode, DebugMode)
    cost, new_W = _numpy_layer(W.get_value(), b.get_value(), X)
    np.testing.assert_allclose(f(X), cost, rtol=1e-12)
    np.testing.assert_allclose(W.get_value(), new_W, rtol=1e-12)
    assert f.placement()[0][1] == "c"  # the results are the compiled program's


def test_debug_mode_over_loops_branches_and_random_streams():
    v, c = T.dvector("v"), T.dscalar("c")
    sums, _ = exprc.scan(lambda item, total: total * 0.5 + item, sequences=[v],
                         outputs_info=[T.constant(0.0)])
    srng = RandomStreams(seed=5)
    noise = srng.uniform((3,))
    branch = ifelse(T.gt(c, 0), c * v, v - c)
    f = exprc.function([v, c], [sums, branch, noise], mode=DebugMode())
    plain = exprc.function([v, c], [sums, branch, noise], mode="REFERENCE")
    values = np.array([1.0, 2.0, 4.0]), 2.0
    got = [f(*values), f(*values)]
    srng.seed(5)  # the same numbers again: each call advanced the stream once
    want = [plain(*values), plain(*values)]
    for got_values, want_values in zip(got, want):
        for got_value, want_value in zip(got_values, want_values):
            np.testing.assert_allclose(got_value, want_value, rtol=1e-12)


def _wrong_tanh(monkeypatch):
    monkeypatch.setitem(SCALAR_C, "tanh", dict(SCALAR_C["tanh"], f="({m_tanh}({a}) + 0.25)"))


def test_debug_mode_names_the_first_node_whose_c_code_is_wrong(monkeypatch):
    _wrong_tanh(monkeypatch)
    f, W, b = _layer(NO_FUSION)
    before = W.get_value()
    with pytest.raises(DebugModeError) as caught:
        f(X)
    error = caught.value
    # Every node after tanh differs too in the whole program, but run alone on the reference
    # values of their inputs they agree: the culprit is the tanh node itself.
    assert isinstance(error.node.op, Elemwise) and error.node.op.scalar_op.name == "tanh"
    assert error.output == 0
    assert error.max_difference == pytest.approx(0.25)
    message = str(error)
    assert "The first node that differs" in message and "Elemwise{tanh}" in message
    assert "test_debug_modes.py" in message  # the user's line that built the node
    position = [n for n in f.maker.fgraph.toposort()].index(error.node)
    assert f"node {position}, Elemwise{{tanh}}" in message
    np.testing.assert_array_equal(W.get_value(), before)  # no update from a failed call


def test_debug_mode_finds_the_wrong_node_inside_a_fused_one(monkeypatch):
    _wrong_tanh(monkeypatch)
    f, W, b = _layer(DebugMode())
    with pytest.raises(DebugModeError) as caught:
        f(X)
    assert "tanh" in str(caught.value.node.op) and caught.value.output == 0


def _patch_product(monkeypatch, extra: str) -> type:
    """Append C code to the rule of the op computing ``x W`` (Dot, or a BLAS op)."""
    f, _, _ = _layer("FAST_RUN")
    reads_w = [n for n in f.maker.fgraph.toposort() if any(i.name == "W" for i in n.inputs)
               and not isinstance(n.op, Elemwise)]
    op_class = type(reads_w[0].op)
    original = C_CODE[op_class]

    def patched(node, ctx):
        return original(node, ctx) + "\n" + extra.format(out=ctx.outputs[0], a=ctx.inputs[0])

    monkeypatch.setitem(C_CODE._rules, op_class, patched)
    return op_class


def test_debug_mode_finds_a_wrong_rule_of_an_op_class(monkeypatch):
    op_class = _patch_product(monkeypatch, "((double *){out}.data)[0] += 1.0;")
    f, W, b = _layer(NO_FUSION)
    with pytest.raises(DebugModeError) as caught:
        f(X)
    assert type(caught.value.node.op) is op_class
    assert caught.value.max_difference == pytest.approx(1.0)


def test_debug_mode_finds_c_code_writing_into_an_input(monkeypatch):
    op_class = _patch_product(monkeypatch, "((double *){a}.data)[0] = 42.0;")
    f, W, b = _layer(NO_FUSION)
    x = X.copy()
    with pytest.raises(DebugModeError, match="wrote into its input 0") as caught:
        f(x)
    assert type(caught.value.node.op) is op_class
    assert "does not declare" in str(caught.value)
    np.testing.assert_array_equal(x, X)  # the caller's array is not the one written


def test_debug_mode_names_the_rewrite_pass_that_changed_the_values(monkeypatch):
    def bad(fgraph, node):
        return [T.cosh(node.inputs[0])]

    monkeypatch.setitem(RULE_SETS, "specialize", RULE_SETS["specialize"] + [
        Rule("sinh_made_cosh", fn=bad, keys=(("elemwise", "sinh"),))])
    x = T.dvector("x")
    f = exprc.function([x], T.sinh(x) + 1, mode=DebugMode())
    with pytest.raises(DebugModeError, match="after the pass 'specialize'") as caught:
        f(np.array([0.5, -1.0]))
    assert "sinh_made_cosh (1x)" in str(caught.value)
    assert caught.value.node is None and caught.value.output == 0


def test_debug_mode_finds_a_numpy_rule_writing_into_its_input(monkeypatch):
    original = REFERENCE[Reduce]

    def clobbering(node, *args):
        results = original(node, *args)
        args[0][...] = 0
        return results

    monkeypatch.setitem(REFERENCE._rules, Reduce, clobbering)
    x = T.dvector("x")
    f = exprc.function([x], (x * 2).sum(), mode=DebugMode())
    wrote = r"NumPy rule of node \d+, Reduce.* wrote into its input 0"
    with pytest.raises(DebugModeError, match=wrote) as caught:
        f(np.array([1.0, 2.0]))
    assert isinstance(caught.value.node.op, Reduce)


def test_debug_mode_checks_values_are_finite_unless_told_not_to():
    x = T.dvector("x")
    f = exprc.function([x], T.log(x), mode=DebugMode())
    with pytest.raises(InvalidValueError, match="Elemwise{log} of the graph as built computed"):
        f(np.array([1.0, 0.0]))
    g = exprc.function([x], T.log(x), mode=DebugMode(check_isfinite=False))
    np.testing.assert_array_equal(g(np.array([1.0, 0.0])), [0.0, -np.inf])


def test_debug_mode_and_stability_rewrites():
    x = T.dvector("x")
    far = np.array([-800.0, 0.0])
    f = exprc.function([x], T.log(T.nnet.sigmoid(x)), mode=DebugMode(check_isfinite=False))
    with pytest.raises(DebugModeError, match="pass 'stabilize'"):
        f(far)  # the graph as built gives -inf, the stabilized one -800
    g = exprc.function([x], T.log(T.nnet.sigmoid(x)),
                       mode=DebugMode(check_isfinite=False, allow_remove_inf_nan=True))
    np.testing.assert_allclose(g(far), [-800.0, np.log(0.5)])


def test_debug_mode_profiles_and_pickles():
    f, W, b = _layer(DebugMode())
    v = T.dvector("v")
    g = exprc.function([v], T.exp(v).sum(), mode=DebugMode(), profile=True)
    g(np.array([0.0, 1.0]))
    assert g.profile.calls == 1 and len(g.profile.nodes()) == len(g.placement())
    h, W2 = pickle.loads(pickle.dumps((f, W)))
    assert h.mode == f.mode
    cost, new_W = _numpy_layer(W2.get_value(), b.get_value(), X)
    np.testing.assert_allclose(h(X), cost, rtol=1e-12)
    np.testing.assert_allclose(W2.get_value(), new_W, rtol=1e-12)


def test_difference_rules():
    assert difference(np.array([1.0, np.nan]), np.array([1.0 + 1e-9, np.nan])) is None
    nan_moved = difference(np.array([1.0, np.nan]), np.array([np.nan, 1.0]))
    assert nan_moved is not None and nan_moved.index == (0,)
    assert nan_moved.max_abs == np.inf
    assert difference(np.array([np.inf]), np.array([-np.inf])) is not None
    assert difference(np.array([np.inf]), np.array([np.inf])) is None
    assert difference(np.array([-np.inf]), np.array([5.0]), allow_remove_inf_nan=True) is None
    assert difference(np.array([3, 4]), np.array([3, 5])).max_abs == 1
    assert difference(np.array([True]), np.array([True])) is None
    float32 = np.float32
    assert difference(np.array([1.0], float32), np.array([1.00005], float32)) is None
    assert difference(np.array([1.0]), np.array([1.00005])) is not None  # float64 is tighter
    shape = difference(np.zeros(2), np.zeros(3))
    assert "where the reference has float64[2]" in shape.summary
    wide = difference(np.zeros((2, 2)), np.array([[0.0, 0.0], [0.0, 0.5]]))
    assert wide.index == (1, 1) and wide.max_abs == 0.5 and wide.got == 0.5


def test_debug_mode_by_name_and_its_settings():
    assert get_mode("DEBUG_MODE") == DebugMode()
    mode = DebugMode("fast_compile", rtol=0.1).excluding("canonicalize")
    assert isinstance(mode, DebugMode) and mode.rtol == 0.1
    assert mode.optimizer == "fast_compile" and mode.exclude == ("canonicalize",)
    assert mode.including("canonicalize").exclude == ()


# ------------------------------------------------------------------ NanGuardMode
def test_nan_guard_names_the_node_of_log_zero():
    x = T.dvector("x")
    y = T.log(x) * 2
    f = exprc.function([x], y, mode=NanGuardMode().excluding("fusion"))
    np.testing.assert_allclose(f(np.array([1.0, np.e])), [0.0, 2.0])
    with pytest.raises(NanGuardError) as caught:
        f(np.array([1.0, 0.0]))
    message = str(caught.value)
    assert message.startswith("NanGuardMode: Inf in output 0 of node 0, Elemwise{log}")
    assert "test_debug_modes.py" in message and "1 Inf" in message
    assert isinstance(caught.value, AssertionError)  # as Theano's
    fused = exprc.function([x], y, mode=NanGuardMode())
    with pytest.raises(NanGuardError, match=r"Composite\{.*log"):
        fused(np.array([0.0]))


def test_nan_guard_checks_the_inputs_and_big_values():
    x = T.dvector("x")
    W = exprc.shared(np.array([1.0, np.nan]), name="W")
    f = exprc.function([x], x * 1e6, mode=NanGuardMode())
    with pytest.raises(NanGuardError, match="Inf in the value of input x"):
        f(np.array([np.inf]))
    with pytest.raises(NanGuardError, match=r"a big value \(1e\+12, over 1e\+10\)"):
        f(np.array([1e6]))
    g = exprc.function([x], x + W, mode=NanGuardMode())
    with pytest.raises(NanGuardError, match="NaN in the value of shared variable W"):
        g(np.zeros(2))
    # Theano's positional order: nan_is_error, inf_is_error, big_is_error.
    quiet = exprc.function([x], T.log(x) * 1e12, mode=NanGuardMode(True, False, False))
    assert quiet(np.array([0.0, 1.0]))[0] == -np.inf
    with pytest.raises(NanGuardError, match="NaN"):
        quiet(np.array([-1.0]))
    integers = T.lvector("n")
    exprc.function([integers], integers * 10 ** 11, mode=NanGuardMode())(np.array([3]))


# ------------------------------------------------------------------ MonitorMode
def test_monitor_mode_runs_theanos_detect_nan_recipe(capsys):
    import exprc.compat.theano as theano

    def detect_nan(i, node, fn):
        for output in fn.outputs:
            if (not isinstance(output[0], np.random.RandomState) and
                    np.isnan(output[0]).any()):
                print('*** NaN detected ***')
                theano.printing.debugprint(node)
                print('Inputs : %s' % [input[0] for input in fn.inputs])
                print('Outputs: %s' % [output[0] for output in fn.outputs])
                break

    x = theano.tensor.dscalar('x')
    f = theano.function([x], [theano.tensor.log(x) * x],
                        mode=theano.compile.MonitorMode(post_func=detect_nan))
    f(0)  # log(0) * 0 = -inf * 0 = NaN
    printed = capsys.readouterr().out
    assert "*** NaN detected ***" in printed and "Outputs: [array(nan)]" in printed
    unfused = theano.compile.MonitorMode(post_func=detect_nan).excluding(
        'local_elemwise_fusion', 'inplace')
    g = theano.function([x], [theano.tensor.log(x) * x], mode=unfused)
    g(0)
    printed = capsys.readouterr().out
    assert "Inputs : [array(0.), array(-inf)]" in printed  # the product alone, seen apart
    assert printed.count("*** NaN detected ***") == 1


def test_monitor_mode_calls_around_every_node_and_callbacks_may_change_values():
    seen = []

    def pre(i, node, fn):
        seen.append(("pre", i, type(node.op).__name__, [c[0] is None for c in fn.outputs]))

    def post(i, node, fn):
        seen.append(("post", i, type(node.op).__name__, [c[0] is None for c in fn.outputs]))
        if isinstance(node.op, Elemwise) and node.op.scalar_op.name == "exp":
            fn.outputs[0][0] = np.zeros_like(fn.outputs[0][0])

    x = T.dvector("x")
    mode = MonitorMode(pre_func=pre, post_func=post).excluding("fusion")
    f = exprc.function([x], (T.exp(x) + 1).sum(), mode=mode)
    assert f(np.array([1.0, 2.0])) == 2.0  # downstream nodes read the value put in the cell
    n = len(f.maker.fgraph.apply_nodes)
    assert [s[:2] for s in seen] == [(p, i) for i in range(n) for p in ("pre", "post")]
    assert all(s[3] == [s[0] == "pre"] for s in seen)
    assert isinstance(mode, MonitorMode) and mode.post_func is post


def test_monitor_mode_checks_what_a_callback_puts_in_a_cell_and_takes_no_linker():
    def wrong(i, node, fn):
        fn.outputs[0][0] = "text"

    x = T.dvector("x")
    f = exprc.function([x], T.exp(x), mode=MonitorMode(post_func=wrong))
    with pytest.raises(ExprcError, match="as set by a MonitorMode callback"):
        f(np.array([1.0]))
    with pytest.raises(ExprcError, match="takes no other linker"):
        MonitorMode(linker="c")


# ------------------------------------------------------------------ Theano's names
def test_theano_mode_names_and_modules():
    from exprc.compat import install_theano

    install_theano()
    import theano
    import theano.compile.debugmode
    import theano.compile.monitormode
    import theano.compile.nanguardmode
    from theano.compile.nanguardmode import NanGuardMode as TheanoNanGuardMode

    assert theano.compile.DebugMode is theano.compile.debugmode.DebugMode
    assert theano.compile.MonitorMode is theano.compile.monitormode.MonitorMode
    x = theano.tensor.dvector("x")
    for name, kind in (("DebugMode", DebugMode), ("DEBUG_MODE", DebugMode),
                       ("NanGuardMode", NanGuardMode)):
        f = theano.function([x], x * 2, mode=name)
        assert isinstance(f.mode, kind)
        np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])
    with theano.config.change_flags(mode="DebugMode"):
        assert isinstance(theano.function([x], x * 2).mode, DebugMode)
    guard = TheanoNanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=False)
    with pytest.raises(AssertionError, match="Inf"):
        theano.function([x], theano.tensor.log(x), mode=guard)([0.0])
    debug = theano.compile.DebugMode(check_c_code=True, optimizer="fast_compile")
    assert debug.check_isfinite and debug.optimizer == "fast_compile"
    assert debug.excluding("local_elemwise_fusion").exclude == ("fusion",)


def test_theano_profile_stats():
    import exprc.compat.theano as theano

    stats = theano.compile.ProfileStats(message="training")
    x = theano.tensor.dvector("x")
    f = theano.function([x], theano.tensor.exp(x).sum(), profile=stats)
    g = theano.function([x], x * 2, profile=stats)
    f([1.0, 2.0])
    f([1.0, 2.0])
    g([3.0])
    assert stats.functions == [f, g] and stats.fct_callcount == 3
    assert stats.fct_call_time > 0 and stats.compile_time > 0
    assert set(stats.apply_time) == {(h.fgraph, node) for h in (f, g)
                                     for node in h.program.nodes}
    out = io.StringIO()
    stats.summary(file=out)
    assert out.getvalue().startswith("training: 2 function(s), 3 call(s)")
    named = theano.function([x], x + 1, profile="named")
    assert named.profile is not None
