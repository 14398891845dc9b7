"""The rewrite engine: FunctionGraph edits, merging, constant folding, the fixpoint driver,
pattern matching, the pipeline's modes and exclusions, and the rewrite log."""

import warnings

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.compile.mode import Mode
from exprc.errors import ExprcError
from exprc.graph.fgraph import FunctionGraph
from exprc.graph.ir import Constant
from exprc.rewriting import RewriteLog
from exprc.rewriting.engine import Rule, run_to_fixpoint
from exprc.rewriting.patterns import Const, Elem, Var
from exprc.rewriting.pipeline import PASS_NAMES, optimize
from exprc.rewriting.rules.cleanup import MAX_FOLDED_SIZE, merge
from exprc.tensor.elemwise import Elemwise


def ops(fgraph):
    return [str(n.op) for n in fgraph.toposort()]


def test_function_graph_copies_and_never_touches_the_user_graph():
    x = T.dvector("x")
    y = T.exp(x) + 1
    fg = FunctionGraph([x], [y])
    fg.replace(fg.outputs[0], T.log(x), "test")
    assert ops(fg) == ["Elemwise{log}"]
    assert str(y.owner.op) == "Elemwise{add}"  # the user's graph is unchanged


def test_replace_drops_dead_nodes_and_keeps_clients_consistent():
    x = T.dvector("x")
    a = T.exp(x)
    fg = FunctionGraph([x], [a * 2, a + 1], clone=False)
    fg.replace(fg.outputs[0], x, "test")
    assert ops(fg) == ["Elemwise{exp}", "DimShuffle{x}", "Elemwise{add}"]
    assert list(fg.clients[a]) == [(fg.outputs[1].owner, 0)]
    assert all(c == "output" or c in fg for var in fg.clients for c, _ in fg.clients[var])


def test_replace_refuses_a_different_type():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x)])
    with pytest.raises(ExprcError, match="would replace"):
        fg.replace(fg.outputs[0], T.dmatrix("m"), "bad")


def test_merge_eliminates_common_subexpressions_and_equal_constants():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x) * 2.0, T.exp(x) * 2.0])
    log = RewriteLog()
    merge(fg, log)
    assert fg.outputs[0] is fg.outputs[1]
    assert ops(fg).count("Elemwise{exp}") == 1
    assert log.fired["merge"] >= 2 and log.fired["merge_constant"] == 1


def test_constant_folding_and_its_size_cap():
    small = T.constant(np.arange(4.0))
    f = exprc.function([], T.exp(small) + 1)
    assert f.fgraph.apply_nodes == set()
    assert isinstance(f.fgraph.outputs[0], Constant)
    np.testing.assert_allclose(f(), np.exp(np.arange(4.0)) + 1)
    n = int(np.sqrt(MAX_FOLDED_SIZE)) * 2
    big = T.zeros((n, n))
    g = exprc.function([], big + 1)
    assert g.fgraph.apply_nodes, "a result larger than the cap must not be folded"
    np.testing.assert_array_equal(g(), np.ones((n, n)))


def test_folding_leaves_errors_to_run_time():
    # The index is only known once 3 + 2 is folded; the error belongs to the call.
    bad = T.constant(np.arange(3.0))[T.constant(3) + T.constant(2)]
    f = exprc.function([], bad)
    with pytest.raises(IndexError, match="out of bounds"):
        f()


def test_gradient_filters_are_removed_after_differentiation():
    x = T.dvector("x")
    y = exprc.gradient.grad_clip(x, -1.0, 1.0) * 3
    f = exprc.function([x], [y, exprc.grad(T.sum(y), x)])
    assert not any("GradientFilter" in o for o in ops(f.fgraph))
    out, g = f(np.array([1.0, 2.0]))
    np.testing.assert_allclose(out, [3.0, 6.0])
    np.testing.assert_allclose(g, [1.0, 1.0])


def test_patterns_bind_consistently_and_commute():
    x, y = T.dvector("x"), T.dvector("y")
    pattern = Elem("add", Elem("mul", Var("a"), Var("a")), Const(1))
    assert pattern.match(1 + x * x, {}) == {"a": x}
    assert pattern.match(x * y + 1, {}) is None
    assert Elem("log", Var("a")).match(T.exp(x), {}) is None


def _swap_rules():
    # Two rules that undo each other: only the budget stops them.
    return [Rule("to_exp2", pattern=Elem("exp", Var("x")), build=lambda x: T.exp2(x),
                 keys=(("elemwise", "exp"),)),
            Rule("to_exp", pattern=Elem("exp2", Var("x")), build=lambda x: T.exp(x),
                 keys=(("elemwise", "exp2"),))]


def test_fixpoint_driver_stops_a_rewrite_loop():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x)])
    log = RewriteLog()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_to_fixpoint(fg, _swap_rules(), log, budget_per_node=5)
    assert any("budget" in str(w.message) for w in caught)
    assert sum(log.fired.values()) <= 5 * 1 + 1001


def test_driver_visits_each_node_once_when_nothing_applies():
    x = T.dvector("x")
    y = x
    for _ in range(200):
        y = T.tanh(y)
    fg = FunctionGraph([x], [y])
    calls = []
    probe = Rule("probe", fn=lambda fgraph, node: calls.append(node), keys=(Elemwise,))
    run_to_fixpoint(fg, [probe], RewriteLog())
    assert len(calls) == 200


def test_modes_and_exclusions():
    x = T.dvector("x")
    y = T.exp(x) * 2.0 + T.exp(x) * 2.0
    fast = exprc.function([x], y)
    assert {name for name, _, _ in fast.rewrite_log.passes} == set(PASS_NAMES)
    cheap = exprc.function([x], y, mode="FAST_COMPILE")
    assert {name for name, _, _ in cheap.rewrite_log.passes} == {"merge", "canonicalize",
                                                                  "loops", "merge_again"}
    none = exprc.function([x], y, mode="REFERENCE")
    assert none.rewrite_log.passes == [] and ops(none.fgraph).count("Elemwise{exp}") == 2
    no_merge = exprc.function([x], y, mode=Mode().excluding("merge", "merge_again"))
    assert "merge" not in {n for n, _, _ in no_merge.rewrite_log.passes}
    with pytest.raises(ExprcError, match="unknown passes"):
        exprc.function([x], y, mode=Mode().excluding("no_such_pass"))
    for f in (fast, cheap, none, no_merge):
        np.testing.assert_allclose(f(np.array([0.0, 1.0])), 4 * np.exp([0.0, 1.0]))


def test_optimizer_excluding_flag():
    x = T.dvector("x")
    with exprc.config.change_flags(optimizer_excluding="merge:merge_again"):
        f = exprc.function([x], T.exp(x) + T.exp(x))
    assert exprc.config.optimizer_excluding == ""
    assert "merge" not in {n for n, _, _ in f.rewrite_log.passes}


def test_rewrite_log_is_data_and_text():
    x = T.dvector("x")
    f = exprc.function([x], T.exp(x) + T.exp(x))
    log = f.rewrite_log
    assert log.fired["merge"] >= 1
    assert all(seconds >= 0 for _, seconds, _ in log.passes)
    assert "merge" in log.summary()


def test_debug_flag_prints_passes(capsys):
    x = T.dvector("x")
    with exprc.config.change_flags(debug=2):
        exprc.function([x], T.exp(x) + T.exp(x))
    err = capsys.readouterr().err
    assert "--- after merge" in err and "ms" in err


def test_debugprint_of_a_compiled_function_shows_the_optimized_graph():
    x = T.dvector("x")
    f = exprc.function([x], T.exp(x) + T.exp(x))
    text = exprc.printing.debugprint(f, file="str")
    assert text.count("|x [id") == 1  # the two exp(x) were merged into one node


def test_optimize_with_optimizer_none_changes_nothing():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x) + T.exp(x)])
    before = ops(fg)
    optimize(fg, "none")
    assert ops(fg) == before
