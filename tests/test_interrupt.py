"""Ctrl-C during a long compiled call (docs/c_backend.md, "Interrupts").

A compiled call runs the whole graph in one native function with the GIL released. A SIGINT
during it must stop it between two nodes with ``KeyboardInterrupt``, leave shared variables as
they were and leak nothing, and the function must work afterwards; a Python SIGINT handler
still runs (at once, the call going on when it returns), ``SIG_IGN`` is respected, and a call
in another thread is never stopped.

Each scenario runs in a child process (``python -m tests.test_interrupt <scenario>``), which
keeps its signal handlers away from pytest and its workers, and reports what it saw as one
JSON line. The graph is a chain of matrix products, and the child sizes its input so that an
uninterrupted call takes about ``LONG_SECONDS``; the SIGINT comes ``SIGNAL_AFTER`` seconds into
a call. Durations are only compared with durations measured in the same child, or replaced by
counts of the nodes a profiled build completed.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
LONG_SECONDS = 3.0       # an uninterrupted long call
MEDIUM_SECONDS = 1.5     # a call that a handler lets finish
SIGNAL_AFTER = 0.3
LINKS = 30               # tanh(dot) links of the chain: over CHUNK_NODES nodes, so chunked
WIDTH = 384
CHILD_TIMEOUT = 300

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


# ---------------------------------------------------------------------- the parent side
@functools.cache
def _scenario(name: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "tests.test_interrupt", name], cwd=REPO,
                          capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, (
        f"child {name}: exit status {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\n"
        f"stderr:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def test_ctrl_c_stops_a_long_call_between_nodes_and_changes_nothing():
    r = _scenario("native")
    assert r["chunked"]
    assert r["raised"] == "KeyboardInterrupt"
    # It stopped soon after the signal, long before an uninterrupted call would have ended.
    assert r["interrupted_seconds"] < r["long_seconds"] / 2, r
    assert r["shared_unchanged"]
    assert r["next_call_right"] and r["calls_counted_after"] == 1
    # The buffers of interrupted calls went back to the program (released on its fail path).
    assert r["rss_growth_mib"] < 0.5 * r["buffer_mib"] * r["repeats"], r


def test_a_profiled_build_stops_after_a_few_nodes():
    r = _scenario("profiled")["native"]
    assert not r["chunked"]
    assert r["raised"] == "KeyboardInterrupt"
    assert r["completed_nodes"] < r["nodes"] / 2, r
    assert r["profile_calls"] == 0 and r["shared_unchanged"]
    assert r["next_call_right"]


def test_the_cffi_call_path_stops_too():
    r = _scenario("profiled")["cffi"]
    assert r["through_cffi"]
    assert r["raised"] == "KeyboardInterrupt"
    assert r["completed_nodes"] < r["nodes"] / 2, r
    assert r["shared_unchanged"] and r["next_call_right"]


def test_programs_of_a_second_runtime_library_stop_too():
    # Every runtime library loaded shares the first one's handler and pending mark.
    r = _scenario("profiled")["second_library"]
    assert r["libraries"] == 2
    assert r["raised"] == "KeyboardInterrupt"
    assert r["completed_nodes"] < r["nodes"] / 2, r
    assert r["shared_unchanged"] and r["next_call_right"]


def test_python_handlers_run_at_once_and_decide():
    r = _scenario("handlers")
    # A handler that returns runs during the call (not after it, as it did when only Python
    # saw the signal), which then goes on through every node to the right result.
    assert r["custom_raised"] is None and r["custom_ran"] == 1
    assert 0 < r["custom_ran_at"] < r["custom_call_seconds"], r
    assert r["custom_nodes_run"] > r["nodes"] / 2 and r["custom_call_right"]
    # A handler that raises stops the call with its exception, shared variables unchanged.
    assert r["raising_raised"] == "RuntimeError" and r["raising_unchanged"]
    assert r["raising_nodes_run"] < r["nodes"] / 2, r
    # SIGINT ignored: the call is not disturbed.
    assert r["ignored_raised"] is None and r["ignored_call_right"]
    # Python's default handler set again with signal.signal: calls stop again.
    assert r["default_again_raised"] == "KeyboardInterrupt"
    assert r["default_again_nodes_run"] < r["nodes"] / 2, r


def test_a_call_in_another_thread_is_not_stopped():
    r = _scenario("handlers")["thread"]
    assert r["main_raised"] == "KeyboardInterrupt"
    assert r["worker_error"] is None and r["worker_right"]
    assert r["count"] == 1


# ---------------------------------------------------------------------- the child side
class _Chain:
    """A function computing ``tanh(...tanh(x @ w) @ w...)`` summed over each row, counting its
    calls in a shared ``count`` and scaling the shared ``w`` a little at each call."""

    def __init__(self, links: int = LINKS, profile: bool = False):
        import exprc
        import exprc.tensor as T

        exprc.config.c_optimize = "fast"
        rng = np.random.default_rng(0)
        self.w = exprc.shared(rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH), name="w")
        self.count = exprc.shared(np.zeros((), "int64"), name="count")
        self.links = links
        x = T.dmatrix("x")
        y = x
        for _ in range(links):
            y = T.tanh(T.dot(y, self.w))
        self.f = exprc.function([x], y.sum(axis=1), profile=profile,
                                updates=[(self.count, self.count + 1),
                                         (self.w, self.w * 0.999)])
        self.rng = rng

    def rows(self, m: int) -> np.ndarray:
        return self.rng.standard_normal((m, WIDTH))

    def expected(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        y = x
        for _ in range(self.links):
            y = np.tanh(y @ w)
        return y.sum(axis=1)

    def sized(self, seconds: float) -> np.ndarray:
        """Rows for a call of about ``seconds``: the cost grows linearly with the rows once
        there are enough of them to hide the fixed costs."""
        m = 256
        while True:
            probe = self.rows(m)
            took = _duration(lambda probe=probe: self.f(probe))
            if took >= seconds / 5:
                took = min(took, _duration(lambda probe=probe: self.f(probe)))
                return self.rows(int(m * seconds / took))
            m *= 4 if took < seconds / 20 else 2

    def snapshot(self) -> tuple:
        return int(self.count.get_value()), self.w.get_value().copy()

    def unchanged(self, before: tuple) -> bool:
        count, w = self.snapshot()
        return count == before[0] and np.array_equal(w, before[1])

    def next_call_right(self) -> bool:
        x, w = self.rows(50), self.w.get_value()
        return bool(np.allclose(self.f(x), self.expected(x, w), rtol=1e-9, atol=1e-12))


def _duration(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _interrupted(call, after: float = SIGNAL_AFTER) -> tuple[str | None, float]:
    """Run ``call()`` with a SIGINT sent to the process ``after`` seconds in: the exception
    it raised (by class name), and its duration."""
    running = threading.Event()

    def send():
        if running.is_set():
            os.kill(os.getpid(), signal.SIGINT)
        else:
            late.append(True)

    late: list = []
    timer = threading.Timer(after, send)
    raised = None
    running.set()
    started = time.perf_counter()
    timer.start()
    try:
        call()
    except BaseException as exc:
        raised = type(exc).__name__
    seconds = time.perf_counter() - started
    running.clear()
    timer.join()
    if late:
        raise RuntimeError(f"the call ended after {seconds:.2f} s, before the signal: the "
                           "machine ran faster than the child measured")
    return raised, seconds


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child_native() -> dict:
    chain = _Chain()
    x = chain.sized(LONG_SECONDS)
    long_seconds = _duration(lambda: chain.f(x))
    before = chain.snapshot()
    raised, seconds = _interrupted(lambda: chain.f(x))
    unchanged = chain.unchanged(before)
    # Repeated interruptions keep the memory flat: nothing leaks on the fail path.
    repeats = 4
    _interrupted(lambda: chain.f(x))
    rss = _rss_mib()
    for _ in range(repeats):
        _interrupted(lambda: chain.f(x))
    growth = _rss_mib() - rss
    unchanged = unchanged and chain.unchanged(before)
    right = chain.next_call_right()
    return {"chunked": "exprc_chunk1" in chain.f.program.source, "raised": raised,
            "interrupted_seconds": seconds, "long_seconds": long_seconds,
            "shared_unchanged": unchanged, "next_call_right": right,
            "calls_counted_after": int(chain.count.get_value()) - before[0],
            "rss_growth_mib": growth, "repeats": repeats, "buffer_mib": x.nbytes / 2**20}


def _child_profiled() -> dict:
    import exprc
    from exprc.link.c import interrupts

    x = _Chain(links=LINKS // 2, profile=True).sized(LONG_SECONDS)
    out = {"native": _interrupted_first_call(x, through_cffi=False),
           "cffi": _interrupted_first_call(x, through_cffi=True)}
    # Programs without OpenMP link against a runtime library of their own.
    with exprc.config.change_flags(openmp=False):
        out["second_library"] = _interrupted_first_call(x, through_cffi=False)
    out["second_library"]["libraries"] = len(interrupts._libraries)
    return out


def _interrupted_first_call(x: np.ndarray, through_cffi: bool) -> dict:
    # A new function, whose node times are those of the interrupted call alone.
    fresh = _Chain(links=LINKS // 2, profile=True)
    if through_cffi:
        fresh.f._native = fresh.f.program.native = None
    before = fresh.snapshot()
    raised, _ = _interrupted(lambda: fresh.f(x))
    nodes = fresh.f.profile.nodes()
    return {"chunked": "exprc_chunk1" in fresh.f.program.source, "raised": raised,
            "through_cffi": fresh.f.program.native is None,
            "completed_nodes": sum(n.seconds > 0 for n in nodes), "nodes": len(nodes),
            "profile_calls": fresh.f.profile.calls, "shared_unchanged": fresh.unchanged(before),
            "next_call_right": fresh.next_call_right()}


def _nodes_run(chain: _Chain, call) -> tuple[str | None, float, int]:
    """``_interrupted(call)`` on a profiled chain, and how many nodes the call ran."""
    before = [n.seconds for n in chain.f.profile.nodes()]
    raised, seconds = _interrupted(call)
    after = [n.seconds for n in chain.f.profile.nodes()]
    return raised, seconds, sum(b > a for a, b in zip(before, after))


def _child_handlers() -> dict:
    chain = _Chain(profile=True)
    x = chain.sized(MEDIUM_SECONDS)
    # The calls meant to stop get a longer input, which they never finish.
    x_long = chain.rows(int(len(x) * LONG_SECONDS / MEDIUM_SECONDS))
    out = {"nodes": len(chain.f.profile.nodes())}

    ran = []
    signal.signal(signal.SIGINT, lambda *_: ran.append(time.perf_counter()))
    w = chain.w.get_value()
    started = time.perf_counter()
    raised, seconds, run = _nodes_run(chain, lambda: out.setdefault("custom", chain.f(x)))
    out.update(custom_ran=len(ran), custom_ran_at=ran[0] - started if ran else None,
               custom_call_seconds=seconds, custom_raised=raised, custom_nodes_run=run,
               custom_call_right=bool(np.allclose(out.pop("custom", np.nan),
                                                  chain.expected(x, w), rtol=1e-9)))

    def stop(*_):
        raise RuntimeError("stop")

    signal.signal(signal.SIGINT, stop)
    before = chain.snapshot()
    raised, _, run = _nodes_run(chain, lambda: chain.f(x_long))
    out.update(raising_raised=raised, raising_nodes_run=run,
               raising_unchanged=chain.unchanged(before))

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    w = chain.w.get_value()
    raised, _ = _interrupted(lambda: out.setdefault("ignored", chain.f(x)))
    out.update(ignored_raised=raised,
               ignored_call_right=bool(np.allclose(out.pop("ignored", np.nan),
                                                   chain.expected(x, w), rtol=1e-9)))

    signal.signal(signal.SIGINT, signal.default_int_handler)
    raised, _, run = _nodes_run(chain, lambda: chain.f(x_long))
    out.update(default_again_raised=raised, default_again_nodes_run=run)
    out["thread"] = _call_in_a_thread(chain, x)
    return out


def _call_in_a_thread(chain: _Chain, x: np.ndarray) -> dict:
    """A SIGINT while the main thread waits for another one's call."""
    w = chain.w.get_value()
    count = int(chain.count.get_value())
    result = {}

    def work():
        try:
            result["value"] = chain.f(x)
        except BaseException as exc:
            result["error"] = repr(exc)

    worker = threading.Thread(target=work)

    def wait():
        worker.start()
        while worker.is_alive():
            time.sleep(0.01)

    main_raised, _ = _interrupted(wait)
    worker.join()
    return {"main_raised": main_raised, "worker_error": result.get("error"),
            "worker_right": bool(np.allclose(result.get("value", np.nan),
                                             chain.expected(x, w), rtol=1e-9)),
            "count": int(chain.count.get_value()) - count}


_CHILDREN = {"native": _child_native, "profiled": _child_profiled,
             "handlers": _child_handlers}

if __name__ == "__main__":
    import faulthandler

    faulthandler.dump_traceback_later(CHILD_TIMEOUT - 30, exit=True)  # a hang shows where
    print("RESULT " + json.dumps(_CHILDREN[sys.argv[1]]()), flush=True)
