"""Profiles of compiled functions (``function(..., profile=True)``), on both backends."""

import io

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcError


@pytest.mark.parametrize("mode", ["FAST_RUN", "REFERENCE"])
def test_profile_counts_calls_and_times_every_node(mode):
    x = T.dmatrix("x")
    w = exprc.shared(np.ones((200, 200)), name="w")
    out = T.tanh(x.dot(w)).sum()
    f = exprc.function([x], out, mode=mode, profile=True, name="layer")
    xv = np.random.default_rng(0).standard_normal((300, 200))
    for _ in range(3):
        np.testing.assert_allclose(f(xv), np.tanh(xv @ np.ones((200, 200))).sum(), rtol=1e-12)
    profile = f.profile
    assert profile.calls == 3 and profile.call_seconds > 0
    nodes = profile.nodes()
    assert [n.index for n in nodes] == list(range(len(f.program.nodes)))
    assert all(n.seconds >= 0 for n in nodes)
    backend = "c" if mode == "FAST_RUN" else "numpy"
    assert {n.backend for n in nodes} == {backend}
    # The 300x200x200 product, or on a busy machine the tanh over its result (which the C
    # backend computes in place), dominates whatever the backend calls it: never the glue.
    slowest = max(nodes, key=lambda n: n.seconds)
    assert slowest.op_class in ("Dot", "Gemm", "Gemv", "Composite", "Elemwise",
                                "InplaceElemwise")
    assert sum(n.seconds for n in nodes) <= profile.call_seconds
    by_op = profile.by_op()
    assert sum(count for _, count, _ in by_op) == len(nodes)
    text = io.StringIO()
    profile.summary(file=text)
    assert "Function layer: 3 call(s)" in text.getvalue()
    assert slowest.op in text.getvalue()


def test_unprofiled_functions_have_no_profile_and_programs_say_so():
    x = T.dvector("x")
    f = exprc.function([x], x + 1)
    assert f.profile is None
    with pytest.raises(ExprcError, match="not built for profiling"):
        f.program.node_seconds()
    with exprc.config.change_flags(profile=True):
        g = exprc.function([x], x + 1)
    g(np.ones(3))
    assert g.profile is not None and g.profile.calls == 1


def test_profiled_chunked_program_times_nodes_in_every_chunk(monkeypatch):
    from exprc.link.c import program

    monkeypatch.setattr(program, "CHUNK_NODES", 2)
    x = T.dmatrix("x")
    f = exprc.function([x], [T.exp(x).sum(axis=1), (x * 2).max(axis=0), x.T.dot(x)],
                       profile=True)
    xv = np.random.default_rng(1).standard_normal((50, 40))
    got = f(xv)
    np.testing.assert_allclose(got[2], xv.T @ xv, rtol=1e-12)
    assert "exprc_chunk1" in f.program.source
    assert sum(n.seconds > 0 for n in f.profile.nodes()) >= 3
