"""Pickling compiled functions and graph objects, ``Function.copy`` and ``f.maker``.

A pickled function carries the graph it was built from (before rewriting), its mode and
options, its shared variables with their values and its stored input values; loading it
compiles again, from the compile cache when this machine built the program before.
"""

import copy
import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc import In, Out
from exprc.compile import DebugMode, MonitorMode, NanGuardMode
from exprc.compile.recipe import PICKLE_FORMAT, FunctionPickleError, load_function
from exprc.errors import ExprcTypeError, ExprcValueError
from exprc.ifelse import ifelse
from exprc.link.c.runtime import runtime_library
from exprc.link.c.toolchain import OPENMP_FLAG, compile_flags, default_cache
from exprc.tensor.opfromgraph import OpFromGraph
from exprc.tensor.shared_randomstreams import RandomStreams

REPO = Path(__file__).resolve().parents[1]
PROTOCOLS = sorted({2, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL})


def _watch(i, node, fn):
    """A MonitorMode callback at module level, so that the mode pickles."""


MODES = ["FAST_RUN", "FAST_COMPILE", "REFERENCE", DebugMode(), NanGuardMode(),
         MonitorMode(post_func=_watch)]
MODE_IDS = ["fast_run", "fast_compile", "reference", "debug", "nanguard", "monitor"]


def _sgd_step(mode, name="step"):
    """A logistic-regression training step: shared W and b, updated by gradient descent."""
    rng = np.random.default_rng(0)
    W = exprc.shared(rng.standard_normal((3, 2)), name="W")
    b = exprc.shared(np.zeros(2), name="b")
    x, y = T.dmatrix("x"), T.dmatrix("y")
    p = T.nnet.sigmoid(T.dot(x, W) + b)
    cost = ((p - y) ** 2).mean()
    gW, gb = exprc.grad(cost, [W, b])
    f = exprc.function([x, y], cost, updates=[(W, W - 0.5 * gW), (b, b - 0.5 * gb)],
                       mode=mode, name=name)
    return f, W, b


def _numpy_step(W, b, x, y):
    """The same step, written with NumPy: (cost, new W, new b)."""
    z = x @ W + b
    p = 1 / (1 + np.exp(-z))
    cost = ((p - y) ** 2).mean()
    dz = 2 * (p - y) / p.size * p * (1 - p)
    return cost, W - 0.5 * x.T @ dz, b - 0.5 * dz.sum(axis=0)


DATA = (np.arange(12.0).reshape(4, 3) / 10 - 0.5, np.eye(4, 2))


# ------------------------------------------------------------------ functions
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_a_pickled_function_runs_and_updates_its_shared_variables(mode, protocol):
    f, W, b = _sgd_step(mode)
    f(*DATA)  # the pickle holds the values after one step
    W_before, b_before = W.get_value(), b.get_value()
    g, W2, b2 = pickle.loads(pickle.dumps((f, W, b), protocol=protocol))
    assert W2 is not W and g.shared_vars[0] is W2 and g.shared_vars[1] is b2
    np.testing.assert_array_equal(W2.get_value(), W_before)
    cost, new_W, new_b = _numpy_step(W_before, b_before, *DATA)
    np.testing.assert_allclose(g(*DATA), cost, rtol=1e-12)
    np.testing.assert_allclose(W2.get_value(), new_W, rtol=1e-12)
    np.testing.assert_allclose(b2.get_value(), new_b, rtol=1e-12)
    np.testing.assert_array_equal(W.get_value(), W_before)  # the original is left alone
    W2.set_value(np.zeros((3, 2)))  # the loaded function reads the loaded variable
    expected = _numpy_step(np.zeros((3, 2)), b2.get_value(), *DATA)[0]
    np.testing.assert_allclose(g(*DATA), expected, rtol=1e-12)
    assert g.name == "step" and g.mode == f.mode


def test_a_pickled_function_keeps_its_options_and_stored_inputs():
    x, s = T.fvector("x"), T.dscalar("s")
    a = T.dscalar("a")
    f = exprc.function([x, In(a, value=2.0, name="scale"),
                        In(s, value=0.0, update=s + a * x.sum().astype("float64"))],
                       Out(x * 2, borrow=True), allow_input_downcast=True, profile=True,
                       trust_input=True)
    f([1.0, 2.0])
    assert f["s"] == 6.0
    g = pickle.loads(pickle.dumps(f))
    assert g["s"] == 6.0 and g["scale"] == 2.0  # the current stored values travelled
    np.testing.assert_array_equal(g(np.array([1.0, 1.0])), [2.0, 2.0])  # float64 cast down
    assert g["s"] == 10.0 and f["s"] == 6.0  # its own state, updated
    np.testing.assert_array_equal(g(np.array([1.0], np.float32), scale=3.0), [2.0])
    assert g["s"] == 13.0
    assert g.outputs[0].borrow and g.trust_input and g.profile is not None
    assert g.profile.calls == 2


def test_a_loaded_function_hits_the_compile_cache_here(monkeypatch):
    f, W, b = _sgd_step("FAST_RUN")
    cache = default_cache()
    builds = []
    build = cache._build
    monkeypatch.setattr(cache, "_build", lambda *args: builds.append(args) or build(*args))
    g = pickle.loads(pickle.dumps(f))
    assert g.program.source == f.program.source
    assert builds == []  # nothing compiled


_CHILD = textwrap.dedent("""
    import json, pickle, sys, numpy as np
    from pathlib import Path
    import exprc
    from exprc.link.c.toolchain import default_cache
    exprc.config.c_optimize = "fast"
    f, W, b = pickle.loads(Path(sys.argv[1]).read_bytes())
    x, y = np.arange(12.0).reshape(4, 3) / 10 - 0.5, np.eye(4, 2)
    cost = f(x, y)
    programs = [e.path.name for e in default_cache().entries()
                if (e.path / "module.c").is_file()
                and "exprc: program" in (e.path / "module.c").read_text()[:200]]
    print(json.dumps([float(cost), W.get_value().tolist(), programs]))
""")


def _load_in_a_new_process(pickled: Path, cache_dir: Path) -> tuple:
    """(cost, W after the step, program entries of the cache) from a fresh interpreter."""
    env = {**os.environ, "EXPRC_CACHE_DIR": str(cache_dir)}
    env.pop("EXPRC_FLAGS", None)
    done = subprocess.run([sys.executable, "-c", _CHILD, str(pickled)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    cost, weights, programs = json.loads(done.stdout.strip().splitlines()[-1])
    return cost, np.array(weights), set(programs)


def test_a_pickle_loads_in_another_process_with_an_empty_cache_then_hits_it(tmp_path):
    """What a pickle made on one machine meets on another: no compiled program, so the load
    compiles afresh; a second load on that machine finds the program in its cache."""
    f, W, b = _sgd_step("FAST_RUN")
    pickled = tmp_path / "step.pkl"
    pickled.write_bytes(pickle.dumps((f, W, b)))
    cost, new_W, _ = _numpy_step(W.get_value(), b.get_value(), *DATA)
    cache_dir = tmp_path / "cache"
    # That machine has exprc installed, with its runtime library (built into the cache when
    # the sources differ from the prebuilt one), and no compiled program.
    library = runtime_library(default_cache(), openmp=OPENMP_FLAG in compile_flags(
        default_cache().compiler))
    if not library.prebuilt:
        shutil.copytree(library.path.parent, cache_dir / library.path.parent.name)
    first_cost, first_W, first_programs = _load_in_a_new_process(pickled, cache_dir)
    assert len(first_programs) == 1  # compiled there
    np.testing.assert_allclose(first_cost, cost, rtol=1e-12)
    np.testing.assert_allclose(first_W, new_W, rtol=1e-12)
    second_cost, second_W, second_programs = _load_in_a_new_process(pickled, cache_dir)
    assert second_programs == first_programs  # a cache hit: nothing new was built
    assert second_cost == first_cost
    np.testing.assert_array_equal(second_W, first_W)


def test_random_stream_state_travels():
    srng = RandomStreams(seed=11)
    u = srng.uniform((5,))
    f = exprc.function([], u)
    f()
    pickled = pickle.dumps(f)
    expected = [f(), f()]
    g = pickle.loads(pickled)
    got = [g(), g()]
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(got[0], got[1])


def test_functions_over_loops_branches_and_graph_ops_pickle():
    v = T.dvector("v")
    c = T.dscalar("c")
    sums, _ = exprc.scan(lambda item, total: total + item, sequences=[v],
                         outputs_info=[T.constant(0.0)])
    a, b = T.dscalar("a"), T.dscalar("b")
    affine = OpFromGraph([a, b], [a * b + 1])
    outputs = [sums, ifelse(T.gt(c, 0), c * 2, c - 1), affine(c, c)]
    values = (np.array([1.0, 2.0, 3.5]), 3.0)
    expected = [np.cumsum(values[0]), 6.0, 10.0]
    for mode in ("FAST_RUN", "REFERENCE"):
        f = exprc.function([v, c], outputs, mode=mode)
        f(*values)
        g = pickle.loads(pickle.dumps(f))
        for got, want in zip(g(*values), expected):
            np.testing.assert_allclose(got, want, rtol=1e-12)
        np.testing.assert_allclose(g(values[0], -2.0)[1], -3.0)


def test_a_damaged_pickle_is_refused_clearly():
    f, W, b = _sgd_step("REFERENCE")
    _, (layout, version, recipe, stored) = f.__reduce__()
    with pytest.raises(FunctionPickleError, match="layout 99"):
        load_function(99, version, recipe, stored)
    broken = dict(recipe, graph_outputs=recipe["graph_outputs"][:1])
    with pytest.raises(FunctionPickleError, match="damaged: the graph has 1 results"):
        load_function(PICKLE_FORMAT, version, broken, stored)
    with pytest.raises(FunctionPickleError, match="damaged: inputs holds a str"):
        load_function(PICKLE_FORMAT, version, dict(recipe, inputs=["x"]), stored)
    with pytest.raises(FunctionPickleError, match="recipe is not a dict"):
        load_function(PICKLE_FORMAT, version, {"inputs": []}, stored)
    with pytest.raises(FunctionPickleError, match="stored input values"):
        load_function(PICKLE_FORMAT, version, recipe, [(7, np.zeros(2))])
    # The same errors reach pickle.loads, and are pickle's own kind of error.
    data = pickle.dumps(f).replace(b"graph_outputs", b"graph_outputz")
    with pytest.raises(pickle.UnpicklingError, match="damaged"):
        pickle.loads(data)


def test_deepcopy_gives_a_function_with_its_own_shared_variables():
    f, W, b = _sgd_step("FAST_RUN")
    g = copy.deepcopy(f)
    assert g.shared_vars[0] is not W
    before = W.get_value()
    g(*DATA)
    np.testing.assert_array_equal(W.get_value(), before)
    assert not np.array_equal(g.shared_vars[0].get_value(), before)


# ------------------------------------------------------------------ graph objects
def test_graph_objects_pickle():
    x = T.dmatrix("x")
    W = exprc.shared(np.ones((3, 2)), name="W")
    c = T.constant(np.arange(2.0))
    y = T.tanh(T.dot(x, W)) + c
    srng = RandomStreams(seed=1)
    sample = srng.normal((2,))
    sums, _ = exprc.scan(lambda item, total: total + item, sequences=[T.dvector("v")],
                         outputs_info=[T.constant(0.0)])
    branch = ifelse(T.gt(T.dscalar("k"), 0), T.dscalar("p"), T.dscalar("q"))
    for protocol in PROTOCOLS:
        for var in (y, sample, sums, branch):
            loaded = pickle.loads(pickle.dumps(var, protocol=protocol))
            assert loaded.type == var.type
            assert loaded.owner.op == var.owner.op and hash(loaded.owner.op) == hash(
                var.owner.op)
            assert str(loaded.owner.op) == str(var.owner.op)
        loaded_c = pickle.loads(pickle.dumps(c, protocol=protocol))
        assert not loaded_c.data.flags.writeable  # constants stay read-only
        np.testing.assert_array_equal(loaded_c.data, c.data)
        loaded_W = pickle.loads(pickle.dumps(W, protocol=protocol))
        np.testing.assert_array_equal(loaded_W.get_value(), W.get_value())
        assert loaded_W.container.lock is not W.container.lock
        with loaded_W.container.lock:  # a working lock of its own
            loaded_W.set_value(np.zeros((3, 2)))
        assert W.get_value().sum() == 6.0


def test_variables_made_after_a_load_number_after_the_loaded_ones():
    x = T.dvector("x")
    y = T.exp(x) + 1
    loaded = pickle.loads(pickle.dumps(y))
    fresh = T.dvector()
    assert int(fresh.auto_name[1:]) > int(loaded.owner.inputs[0].auto_name[1:])


# ------------------------------------------------------------------ copy and maker
def test_copy_shares_shared_variables_and_has_its_own_stored_inputs():
    # Theano's test_copy: stored defaults are copied, the states then drift apart.
    x, s = T.dscalar("x"), T.dscalar("s")
    a = T.dscalar("a")
    f = exprc.function([x, In(a, value=1.0, name="a"),
                        In(s, value=0.0, update=s + a * x, mutable=True)], s + a * x)
    g = copy.copy(f)
    assert g["a"] == f["a"] and g["s"] == f["s"]
    assert f(2, 1) == g(2)
    assert f(2, 1) == g(2)
    f(1, 2)
    assert f(1, 2) != g(1, 2)


def test_copy_swap_reads_and_updates_the_other_shared_variables():
    # Theano's test_swap_SharedVariable, in both kinds of mode.
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        i = T.iscalar("i")
        x_list = exprc.shared(np.linspace(0.0, 0.9, 10))
        x = T.dscalar("x")
        y = exprc.shared(np.int64(1), name="y")
        z = exprc.shared(np.int64(2), name="z")
        m = exprc.shared(np.int64(0), name="m")
        y_rpl = exprc.shared(np.int64(3), name="y_rpl")
        z_rpl = exprc.shared(np.int64(4), name="z_rpl")
        original = exprc.function([i], [x + y + z + m], mode=mode,
                                  updates=[(z, z + 1), (m, m + 2)], givens={x: x_list[i]})
        swapped = original.copy(swap={y: y_rpl, z: z_rpl})
        assert original(1)[0] == pytest.approx(0.1 + 1 + 2 + 0)
        assert swapped(1)[0] == pytest.approx(0.1 + 3 + 4 + 2)
        assert swapped(2)[0] == pytest.approx(0.2 + 3 + 5 + 4)
        assert (m.get_value(), z.get_value(), z_rpl.get_value()) == (6, 3, 6)
        assert (y.get_value(), y_rpl.get_value()) == (1, 3)
        inputs = swapped.maker.fgraph.inputs
        assert any(v is y_rpl for v in inputs) and not any(v is y for v in inputs)


def test_copy_checks_what_it_swaps():
    x = T.dscalar("x")
    y = exprc.shared(1.0, name="y")
    f = exprc.function([x], x + y)
    with pytest.raises(ExprcValueError, match="not a shared variable of"):
        f.copy(swap={exprc.shared(2.0): exprc.shared(3.0)})
    with pytest.raises(ExprcTypeError, match="cannot be swapped"):
        f.copy(swap={y: exprc.shared(np.float32(1.0))})
    with pytest.raises(ExprcTypeError, match="not a shared variable"):
        f.copy(swap={y: 3.0})


def test_copy_delete_updates():
    # Theano's test_copy_delete_updates.
    w, x = T.iscalar("w"), T.fscalar("x")
    y = exprc.shared(np.float32(1), name="y")
    z = exprc.shared(np.float32(2), name="z")
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        z.set_value(np.float32(2))
        original = exprc.function([x], x + y + z, mode=mode, updates={z: z * 2})
        quiet = original.copy(delete_updates=True)
        one = np.float32(1)
        assert [quiet(one), quiet(one), quiet(one)] == [4, 4, 4]
        assert z.get_value() == 2
        # Unused inputs left by the deleted updates are fine.
        exprc.function([x], x, mode=mode, updates={z: z * 2}).copy(delete_updates=True)
        exprc.function([x, w], x, mode=mode,
                       updates={z: (z + w).astype("float32")}).copy(delete_updates=True)


def test_copy_share_memory_reuses_the_program():
    f, W, b = _sgd_step("FAST_RUN")
    shared = f.copy(share_memory=True)
    own = f.copy()
    assert shared.program is f.program
    assert own.program is not f.program and own.program.source == f.program.source
    assert own.fgraph is not f.fgraph and shared.fgraph is not f.fgraph
    assert (shared.name, own.name, f.copy(name="other").name) == ("step copy",) * 2 + (
        "other",)
    cost, new_W, _ = _numpy_step(W.get_value(), b.get_value(), *DATA)
    np.testing.assert_allclose(own(*DATA), cost, rtol=1e-12)  # updates the same W
    np.testing.assert_allclose(W.get_value(), new_W, rtol=1e-12)
    assert pickle.loads(pickle.dumps(own)).name == "step copy"


def test_maker_and_input_storage():
    f, W, b = _sgd_step("FAST_RUN")
    maker = f.maker
    assert maker.fgraph is f.fgraph and maker.mode is f.mode
    assert maker.outputs == f.outputs
    assert list(maker.fgraph.inputs[:2]) == [i.variable for i in f.inputs]
    assert set(maker.fgraph.toposort()) == set(maker.fgraph.apply_nodes)
    assert len(maker.fgraph.outputs) == 3  # the cost, then the new W and b
    implicit = maker.inputs[2:]
    assert [i.variable for i in implicit] == [W, b]
    assert all(i.implicit and i.shared for i in implicit)
    assert not any(i.implicit for i in maker.inputs[:2])
    assert implicit[0].value is W.container
    assert implicit[0].update is maker.fgraph.outputs[1]
    assert f.input_storage == [None, None, W.container, b.container]


def test_out_accepts_return_internal_type():
    x = T.dvector("x")
    f = exprc.function([x], Out(x * 2, return_internal_type=True))
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])
    assert f.outputs[0].return_internal_type


# ------------------------------------------------------------------ Theano's names
def test_theano_pkl_utils_dump_and_load(tmp_path):
    from exprc.compat.theano.misc import pkl_utils

    f, W, b = _sgd_step("FAST_RUN")
    path = tmp_path / "model.pkl"
    with open(path, "wb") as handle:
        pkl_utils.dump((f, W), handle)
    with open(path, "rb") as handle:
        g, W2 = pkl_utils.load(handle)
    assert g.shared_vars[0] is W2
    np.testing.assert_allclose(g(*DATA), f(*DATA), rtol=1e-12)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(pkl_utils.PickleLoadError, match="does not hold a whole pickle"):
        pkl_utils.load(path)
