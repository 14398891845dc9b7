"""What a user can rely on under threads, forks, bad stored values and pickling (see
docs/reliability.md); each test is a regression test for a failure once seen."""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcTypeError
from exprc.tensor.shared_randomstreams import RandomStreams

THREADS = 4


def _run_in_threads(target, count: int = THREADS) -> None:
    start = threading.Barrier(count)
    errors = []

    def run(k):
        try:
            start.wait()
            target(k)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


@pytest.fixture(params=["native", "cffi"])
def call_path(request):
    """Run a compiled function through the native call path, or force the cffi one."""
    def prepare(f):
        if request.param == "cffi":
            f._native = f.program.native = None
        return f
    return prepare


def test_updates_from_many_threads_are_never_lost(call_path):
    s = exprc.shared(np.zeros((), "int64"), name="s")
    plus_one = call_path(exprc.function([], [], updates=[(s, s + 1)]))
    plus_two = call_path(exprc.function([], [], updates=[(s, s + 2)]))
    calls = 500

    def work(k):
        f = plus_one if k % 2 else plus_two
        for _ in range(calls):
            f()

    _run_in_threads(work)
    assert int(s.get_value()) == calls * (THREADS // 2) * (1 + 2)


def test_random_streams_from_many_threads_draw_distinct_numbers(call_path):
    draw = call_path(exprc.function([], RandomStreams(seed=3).uniform((2,))))
    results = [[] for _ in range(THREADS)]

    def work(k):
        for _ in range(100):
            results[k].append(draw())

    _run_in_threads(work)
    values = np.concatenate([np.concatenate(r) for r in results])
    assert len(np.unique(values)) == values.size == THREADS * 100 * 2


def test_calls_without_updates_stay_correct_from_many_threads(call_path):
    x = T.matrix("x")
    f = call_path(exprc.function([x], T.tanh(x).sum(axis=1)))
    inputs = [np.random.default_rng(k).normal(size=(50 + k, 7)) for k in range(THREADS)]

    def work(k):
        for _ in range(200):
            np.testing.assert_allclose(f(inputs[k]), np.tanh(inputs[k]).sum(axis=1))

    _run_in_threads(work)


@pytest.mark.parametrize("bad", [np.ones(3, "float32"), np.ones((3, 1)), [1.0, 2.0, 3.0]],
                         ids=["dtype", "rank", "list"])
def test_a_stored_value_of_another_type_is_refused(bad):
    s = exprc.shared(np.array([1.0, -2.0, 3.5]), name="W")
    f = exprc.function([], s * 2)
    with pytest.raises(ExprcTypeError, match="'W'.*float64 and rank 1"):
        s.container.value = bad
    np.testing.assert_array_equal(f(), [2.0, -4.0, 7.0])  # the refused value was not stored


def test_a_fixed_size_is_kept_by_the_stored_value():
    s = exprc.shared(np.zeros((2, 3)), shape=(2, None), name="b")
    with pytest.raises(ExprcTypeError, match="shape"):
        s.container.value = np.zeros((3, 3))


@pytest.mark.parametrize("value, expected", [
    (np.ones(3, "float32"), np.full(3, 2.0)),        # converted, not read as float64
    (np.arange(3), np.arange(3) * 2.0),              # int64: converted
    ([1.0, 2.0], np.array([2.0, 4.0])),              # a list: converted
])
def test_trust_input_never_reads_an_argument_as_another_type(value, expected, call_path):
    x = T.dvector("x")
    f = call_path(exprc.function([x], x * 2, trust_input=True))
    np.testing.assert_array_equal(f(value), expected)


def test_trust_input_still_refuses_what_cannot_be_converted():
    x = T.dvector("x")
    f = exprc.function([x], x * 2, trust_input=True)
    with pytest.raises(ExprcTypeError):
        f(np.ones((2, 2)))


def test_a_pickled_function_is_compiled_again_on_loading():
    # The details are in tests/test_function_pickle.py.
    x = T.dvector("x")
    f = exprc.function([x], x * 2, name="double")
    g = pickle.loads(pickle.dumps(f))
    assert g.name == "double" and g.program is not f.program
    np.testing.assert_array_equal(g(np.array([1.0, 2.0])), [2.0, 4.0])


FORK_SCRIPT = r"""
import multiprocessing, sys
import numpy as np
import exprc, exprc.tensor as T

def child(queue):
    x = T.vector("x")
    f = exprc.function([x], T.exp(x).sum())
    queue.put(float(f(np.zeros(1 << 17, exprc.config.floatX))))

def fork_children(count):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    children = [ctx.Process(target=child, args=(queue,)) for _ in range(count)]
    for p in children:
        p.start()
    for p in children:
        p.join(120)
        if p.is_alive():
            p.kill()
            sys.exit("a forked child hung")
        if p.exitcode != 0:
            sys.exit(f"a forked child failed with exit code {p.exitcode}")
    assert sorted(queue.get() for _ in range(count)) == [float(1 << 17)] * count

fork_children(3)            # right after import
y = T.matrix("y")
g = exprc.function([y], T.tanh(y).sum())   # starts the backend's warm-up ...
fork_children(3)            # ... and forks while it may still run
assert float(g(np.zeros((512, 512), exprc.config.floatX))) == 0.0   # OpenMP-sized loops
fork_children(3)            # after the parent ran parallel loops
print("ok")
"""


def test_forked_children_compile_and_run(tmp_path):
    """Data loaders fork: a child forked right after import, during the first compile or after
    parallel loops compiles and runs its own functions."""
    import subprocess
    import sys

    script = tmp_path / "fork_children.py"
    script.write_text(FORK_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


NESTED_UPDATE_SCRIPT = r"""
import signal, threading, time
import numpy as np
import exprc, exprc.tensor as T

w = exprc.shared(np.eye(256) * 0.5, name="w")
s = exprc.shared(np.zeros((), "int64"), name="s")
h = T.matrix("h")
out = h
for _ in range(30):
    out = T.tanh(T.dot(out, w))
slow = exprc.function([h], out.sum(), updates=[(s, s + 1)])
bump = exprc.function([], [], updates=[(s, s + 100)])
state = {"in_call": False, "inside": None, "error": None}

def handler(signum, frame):
    state["inside"] = state["in_call"]
    try:
        bump()
    except exprc.errors.ExprcError as exc:
        state["error"] = str(exc)

signal.signal(signal.SIGINT, handler)
for rows in (4096, 16384, 65536):        # until the signal lands inside the call
    s.set_value(np.zeros((), "int64"))
    state.update(inside=None, error=None)
    timer = threading.Timer(0.05, signal.raise_signal, (signal.SIGINT,))
    state["in_call"] = True
    timer.start()
    slow(np.ones((rows, 256)))
    state["in_call"] = False
    timer.join()
    time.sleep(0.01)
    if state["inside"]:
        break
assert state["inside"], "the signal never arrived during a call"
assert "called while another call" in (state["error"] or ""), state
assert int(s.get_value()) == 1, int(s.get_value())   # the outer update, nothing lost or doubled
bump()
assert int(s.get_value()) == 101
print("ok")
"""


def test_an_updating_call_from_a_signal_handler_during_an_updating_call_is_refused(tmp_path):
    """Signal handlers run during a compiled call; an updating function called from one while
    an updating call runs in the same thread would lose an update, so it raises instead."""
    import subprocess
    import sys

    script = tmp_path / "nested_update.py"
    script.write_text(NESTED_UPDATE_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
