"""Run the benchmark workloads W1-W10 on exprc, NumPy and the peers that import.

Each timed workload is compiled by every system, its first result is checked against NumPy
(a mismatch is flagged, not hidden), then it is timed: ``--repeat`` samples after a warm-up
call, each sample long enough for the clock (fast calls are batched), reported as median,
minimum and interquartile range per call. The machine floors (memory bandwidth, float32 GEMM
rate) are measured in the same run, so each figure can be read against what the hardware
allows. With ``--load N`` every timed system is timed twice, quiet and beside N processes
that each keep a core busy; with ``--threads all,1`` exprc is also timed on one thread. See
docs/performance.md.

Usage::

    python benchmarks/run.py [--only W1,W3] [--repeat N] [--json out.json] [--markdown]
    python benchmarks/run.py --only W3,W4,W10 --load 2 --threads all,1
    python benchmarks/run.py --device cuda [gpu.py's options]   # the GPU benchmarks
"""

from __future__ import annotations

import os

# The idle-thread settings that exprc applies before it loads OpenBLAS and libgomp
# (exprc.link.c.blas.quiet_idle_threads, the same values), set here before anything imports
# NumPy, whose own OpenBLAS reads them when it loads: otherwise its workers spin for about 0.1 s
# after each product of the floors and the NumPy rows, on the cores the next system needs.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")
os.environ.setdefault("GOMP_SPINCOUNT", "10000")

import argparse
import contextlib
import ctypes
import platform
import sys
import tempfile
import time
from pathlib import Path

import compile_time
import floors
import numpy as np
import report
import workloads as wl
from peers import Runner, Skipped, build_peers
from report import CompileResult, Result, Row
from timing import background_load, measure

import exprc
from exprc.link.c import blas
from exprc.link.c.blas import quiet_idle_threads

ALL_WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9", "W10")


class Conditions:
    """What every timed system is timed under: ``loads`` (busy background processes, 0 for
    quiet; each gives its own rows) and ``threads`` (exprc's rows: ``"all"`` for its default,
    a number for that many threads in both its OpenMP loops and its BLAS calls)."""

    def __init__(self, loads=(0,), threads=("all",)):
        self.loads, self.threads = tuple(loads), tuple(threads)


QUIET = Conditions()


# --------------------------------------------------------------------------- timed workloads


def timed_rows(system: str, build, reference, repeat: int, atol: float = 1e-5,
               loads=(0,)) -> list[Row]:
    """Build (compile) one system's workload, check its first result, and time it, once per
    background load in ``loads`` (one row each).

    A builder that raises :class:`Skipped` gives rows that say why it did not run; one timed
    in a child process (``runner.stats``) brings its own timings and build time. A runner
    whose calls run several steps (``runner.steps``) is reported per step.
    """
    try:
        start = time.perf_counter()
        runner = build()
        build_s = time.perf_counter() - start
        first = runner.fn()
        error = mismatch(runner.check(first) if runner.check else first, reference, atol=atol)
        rows = []
        for load in loads:
            if runner.stats:
                stats = runner.stats[load]
            else:
                with exprc_threads(runner.threads), background_load(load):
                    stats = measure(runner.fn, repeat)
            rows.append(Row(system, stats.per(runner.steps), runner.note, error,
                            build_s if runner.build_s is None else runner.build_s, load))
        return rows
    except Skipped as reason:
        return [Row(system, error=f"skipped: {reason}", load=load) for load in loads]
    except Exception as failure:
        first_line = (str(failure).splitlines() or [""])[0]
        return [Row(system, error=f"{type(failure).__name__}: {first_line[:200]}", load=load)
                for load in loads]


@contextlib.contextmanager
def exprc_threads(count: int | None):
    """Run the body with exprc's OpenMP loops and OpenBLAS calls on ``count`` threads (None:
    as they are), and put both back after it.

    exprc's runtime library runs its loops on the system's GNU OpenMP (``libgomp.so.1``, the
    copy loaded here), whose thread count the calling thread sets; its OpenBLAS is the
    ``scipy-openblas32`` wheel's.
    """
    if count is None:
        yield
        return
    gomp = ctypes.CDLL("libgomp.so.1")
    omp_before, blas_before = gomp.omp_get_max_threads(), blas.get_num_threads()
    gomp.omp_set_num_threads(count)
    blas.set_num_threads(count)
    try:
        yield
    finally:
        gomp.omp_set_num_threads(omp_before)
        blas.set_num_threads(blas_before)


def mismatch(value, reference, rtol: float = 2e-3, atol: float = 1e-5) -> str:
    """'' when ``value`` matches the NumPy reference to float32 accuracy, else what differs."""
    value = np.asarray(value, dtype=np.float64)
    if value.shape != np.shape(reference):
        return f"WRONG shape {value.shape}, expected {np.shape(reference)}"
    if np.allclose(value, reference, rtol=rtol, atol=atol):
        return ""
    return f"WRONG: max |difference| {np.max(np.abs(value - reference)):.3g}"


def exprc_runner(build, *args, **kwargs):
    """A builder of exprc's runner (its note names the linker)."""
    return lambda: Runner(build(*args, **kwargs), "exprc.function, Mode(linker='c')")


def exprc_builders(builder, conditions: Conditions) -> dict:
    """``{row name: builder}`` of exprc's rows: ``"exprc"`` on its default threads, and
    ``"exprc N thread(s)"`` for each number in ``conditions.threads``. ``builder`` makes a
    :class:`Runner` (``exprc_runner``)."""
    builders = {}
    for threads in conditions.threads:
        if threads == "all":
            builders["exprc"] = builder
        else:
            count = int(threads)
            name = f"exprc {count} thread{'s' if count > 1 else ''}"
            builders[name] = lambda count=count: _with_threads(builder(), count)
    return builders


def _with_threads(runner: Runner, count: int) -> Runner:
    runner.threads = count
    return runner


def run_rows(builders: dict, reference, repeat: int, atol: float = 1e-5,
             conditions: Conditions = QUIET) -> list[Row]:
    """Rows of every system, in the order given, each under every load of ``conditions``."""
    return [row for system, build in builders.items()
            for row in timed_rows(system, build, reference, repeat, atol, conditions.loads)]


def peer_builders(peers, method: str, *args, repeat: int = 15,
                  conditions: Conditions = QUIET) -> dict:
    """``{peer name: builder}`` for the peers that implement one workload; a peer that times
    itself in a child process (Theano) is told the samples and loads."""
    def build(peer):
        if getattr(peer, "times_itself", False):
            return getattr(peer, method)(*args, repeat=repeat, loads=conditions.loads)
        return getattr(peer, method)(*args)

    return {p.name: (lambda p=p: build(p)) for p in peers if hasattr(p, method)}


def bench_elementwise(key: str, n: int, repeat: int, peers,
                      conditions: Conditions = QUIET) -> Result:
    """W1 or W2 on float32 vectors of ``n`` elements; floor from the memory bandwidth."""
    bandwidth = floors.bandwidth(n, 2 * repeat)
    data = wl.ElementwiseData.random(n)
    numpy_fn, exprc_fn, method, expression = {
        "W1": (wl.w1_numpy, wl.w1_exprc, "w1", wl.W1_EXPRESSION),
        "W2": (wl.w2_numpy, wl.w2_exprc, "w2", wl.W2_EXPRESSION)}[key]
    traffic = 3 * 4 * n
    result = Result(key, f"{expression}, 2**{n.bit_length() - 1} float32",
                    floor_s=traffic / bandwidth.bytes_per_second,
                    floor_note=f"{traffic / 1e6:.0f} MB (2 reads + 1 write) at "
                               f"{bandwidth.bytes_per_second / 1e9:.1f} GB/s measured with "
                               f"np.add(x, y, out=z) on {bandwidth.threads} thread(s)")
    builders = {**exprc_builders(exprc_runner(exprc_fn, data), conditions),
                "NumPy": lambda: Runner(lambda: numpy_fn(data), "ufuncs, one temporary each"),
                **peer_builders(peers, method, data, repeat=repeat, conditions=conditions)}
    result.rows = run_rows(builders, numpy_fn(data), repeat, conditions=conditions)
    return result


def bench_mlp(repeat: int, peers, batch: int = 128, sizes=None, peak_n: int = 2048,
              conditions: Conditions = QUIET) -> Result:
    """W3: one SGD step of the 784-256-256-10 MLP; floor from the GEMM rate on its shapes.

    The GEMMs are timed before and after the systems and the best is kept, so that a burst of
    load from elsewhere during one measurement does not lower the floor's rate.
    """
    sizes = sizes or wl.mlp_sizes(2)
    data = wl.MLPData.random(sizes, batch)
    products = wl.step_gemms(sizes, batch)
    flops = sum(g.flops for g in products)
    before = floors.step_gemm_time(products, 2 * repeat)
    reference = wl.mlp_train_numpy(data)()
    builders = {**exprc_builders(exprc_runner(wl.mlp_train_exprc, data), conditions),
                "NumPy": lambda: Runner(wl.mlp_train_numpy(data), "hand-written backward"),
                **peer_builders(peers, "w3", data, repeat=repeat, conditions=conditions)}
    rows = run_rows(builders, reference, repeat, conditions=conditions)
    gemm_s = min(before.min, floors.step_gemm_time(products, 2 * repeat).min)
    peak = floors.peak_gemm_rate(peak_n, max(3, repeat // 3))
    return Result("W3", f"MLP step {'-'.join(map(str, sizes))}, batch {batch}, float32",
                  rows=rows, floor_s=gemm_s,
                  floor_note=f"{flops / 1e6:.0f} MFLOP in {len(products)} GEMMs at "
                             f"{flops / gemm_s / 1e9:.0f} GFLOP/s (np.matmul, same shapes); "
                             f"peak {peak / 1e9:.0f} GFLOP/s ({peak_n}^3)")


def bench_call_overhead(repeat: int, peers, conditions: Conditions = QUIET) -> Result:
    """W5: per-call time of ``f(x) = x + 1`` on 10 float64 elements."""
    x = np.arange(10, dtype=np.float64)
    builders = {"exprc": exprc_runner(wl.w5_exprc, x),
                "exprc trust_input": exprc_runner(wl.w5_exprc, x, trust_input=True),
                "NumPy": lambda: Runner(lambda: wl.w5_numpy(x), "bare x + 1"),
                **peer_builders(peers, "w5", x, repeat=repeat, conditions=conditions)}
    result = Result("W5", "call overhead of f(x) = x + 1, 10 float64")
    result.rows = run_rows(builders, x + 1, repeat, conditions=conditions)
    return result


def bench_lenet(repeat: int, peers, shape: wl.LeNetShape | None = None,
                peak_n: int = 2048, conditions: Conditions = QUIET) -> Result:
    """W4: one SGD step of LeNet (two 5x5 convolutions with ReLU and 2x2 max-pooling, a dense
    ReLU layer, softmax), batch 128; floor from the GEMM rate on the step's products with the
    convolutions unfolded (``workloads.lenet_gemms``), measured before and after the systems
    as for W3."""
    shape = shape or wl.LeNetShape()
    data = wl.LeNetData.random(shape)
    products = wl.lenet_gemms(shape)
    flops = sum(g.flops for g in products)
    before = floors.step_gemm_time(products, 2 * repeat)
    reference = wl.lenet_train_numpy(data)()
    builders = {**exprc_builders(exprc_runner(wl.lenet_train_exprc, data), conditions),
                "NumPy": lambda: Runner(wl.lenet_train_numpy(data),
                                        "hand-written backward, windows + tensordot"),
                **peer_builders(peers, "w4", data, repeat=repeat, conditions=conditions)}
    rows = run_rows(builders, reference, repeat, conditions=conditions)
    gemm_s = min(before.min, floors.step_gemm_time(products, 2 * repeat).min)
    peak = floors.peak_gemm_rate(peak_n, max(3, repeat // 3))
    (c1, o1, side), (_, o2, _) = shape.conv_layers()
    k = shape.kernel
    return Result("W4", f"LeNet step {c1}x{side}x{side} -> {o1}@{k}x{k} -> {o2}@{k}x{k} -> "
                        f"{shape.hidden} -> {shape.classes}, batch {shape.batch}, float32",
                  rows=rows, floor_s=gemm_s,
                  floor_note=f"{flops / 1e6:.0f} MFLOP in {len(products)} GEMMs (im2col "
                             f"shapes) at {flops / gemm_s / 1e9:.0f} GFLOP/s (np.matmul); "
                             f"peak {peak / 1e9:.0f} GFLOP/s ({peak_n}^3)")


def bench_lstm(repeat: int, peers, shape: wl.LSTMShape | None = None,
               conditions: Conditions = QUIET) -> Result:
    """W8: one SGD training step of a one-layer LSTM over a whole sequence (forward, loss,
    backpropagation through time, update); floor: the time of the step's matrix products with
    those on the recurrence taken one time step at a time and the others over the whole
    sequence (``floors.lstm_gemm_time``), measured before and after the systems as for W3. The
    note gives the products' time all taken one step at a time, as a plain scan runs them.

    Every system's first step is checked by its cost and by the gradients read back from its
    updated parameters (``workloads.lstm_check``) against NumPy's step in float64. Gradients
    add up over 100 steps in float32, and some of their entries are near zero, so the absolute
    tolerance is relative to the largest entry.
    """
    shape = shape or wl.LSTMShape()
    data = wl.LSTMData.random(shape)
    products = wl.lstm_gemms(shape)
    flops = sum(g.flops for g in products)
    before = floors.lstm_gemm_time(shape, 2 * repeat, batched=True)
    reference = wl.lstm_reference(data)

    def check(step):
        return lambda cost: wl.lstm_check(cost, data.params, step.params())

    def exprc_build():
        if not hasattr(exprc, "scan"):
            raise Skipped("exprc.scan is not there yet")
        step = wl.lstm_train_exprc(data)
        return Runner(step, "exprc.scan, exprc.function, Mode(linker='c')", check(step))

    def numpy_build():
        step = wl.lstm_train_numpy(data)
        return Runner(step, "hand-written BPTT, input products for all steps at once",
                      check(step))

    builders = {**exprc_builders(exprc_build, conditions), "NumPy": numpy_build,
                **peer_builders(peers, "w8", data, repeat=repeat, conditions=conditions)}
    for peer in peers:
        if hasattr(peer, "w8_compiled"):
            builders["torch.compile"] = lambda p=peer: p.w8_compiled(data)
    rows = run_rows(builders, reference, repeat, atol=1e-4 * np.abs(reference).max(),
                    conditions=conditions)
    gemm_s = min(before.min, floors.lstm_gemm_time(shape, 2 * repeat, batched=True).min)
    per_step_s = floors.lstm_gemm_time(shape, 2 * repeat).min
    return Result("W8", f"LSTM step, {shape.steps} steps, batch {shape.batch}, {shape.n_in} -> "
                        f"{shape.hidden}, BPTT + SGD, float32",
                  rows=rows, floor_s=gemm_s,
                  floor_note=f"{flops / 1e6:.0f} MFLOP of GEMMs at {flops / gemm_s / 1e9:.0f} "
                             f"GFLOP/s (np.matmul: 2 per time step on the recurrence, 3 over "
                             f"the sequence); all {len(products)} one step at a time: "
                             f"{report.seconds(per_step_s)}")


def _float64_gemm_time(products, repeat: int):
    """``floors.step_gemm_time`` with float64 operands (W10's precision)."""
    operands = [(a.astype(np.float64), b.astype(np.float64))
                for a, b in floors.gemm_operands(products)]
    return measure(lambda: [np.matmul(a, b) for a, b in operands], repeat)


def bench_tutorial(repeat: int, peers, shape: wl.TutorialShape | None = None,
                   conditions: Conditions = QUIET) -> Result:
    """W10: the deep-learning tutorial's MLP (784-500-10, tanh, softmax, L1/L2 terms, batch 20,
    float64), many small SGD steps, reported per step; floor from the float64 GEMM rate on the
    step's products, measured before and after the systems as for W3.

    A timed call runs ``shape.steps`` steps over the stored minibatches in turn and gives their
    mean cost; each system's first call (its first ``steps`` steps from the same initial
    weights) is checked against NumPy's.
    """
    shape = shape or wl.TutorialShape()
    data = wl.TutorialData.random(shape)
    products = wl.tutorial_gemms(shape)
    flops = sum(g.flops for g in products)
    before = _float64_gemm_time(products, 2 * repeat)
    reference = wl.tutorial_train_numpy(data)()

    def exprc_build():
        return Runner(wl.tutorial_train_exprc(data),
                      "exprc.function with givens, Mode(linker='c')", steps=shape.steps)

    builders = {**exprc_builders(exprc_build, conditions),
                "NumPy": lambda: Runner(wl.tutorial_train_numpy(data), "hand-written backward",
                                        steps=shape.steps),
                **peer_builders(peers, "w10", data, repeat=repeat, conditions=conditions)}
    rows = run_rows(builders, reference, repeat, atol=1e-9, conditions=conditions)
    gemm_s = min(before.min, _float64_gemm_time(products, 2 * repeat).min)
    return Result("W10", f"tutorial MLP step {shape.n_in}-{shape.hidden}-{shape.classes} "
                         f"tanh, batch {shape.batch}, L1/L2, float64, per step of "
                         f"{shape.steps}", rows=rows, floor_s=gemm_s,
                  floor_note=f"{flops / 1e6:.1f} MFLOP in {len(products)} GEMMs at "
                             f"{flops / gemm_s / 1e9:.0f} GFLOP/s (np.matmul float64, same "
                             f"shapes)")


# --------------------------------------------------------------------------- compile time


def bench_compile_cold_warm(systems: list[str]) -> CompileResult:
    """W6: the W3 step compiled in a fresh process, cold (empty cache) then warm."""
    result = CompileResult("W6", "compile time of the W3 step, fresh process",
                           note="cold: empty compile cache; warm: a second process, same cache")
    for system in systems:
        with tempfile.TemporaryDirectory(prefix=f"bench-{system}-") as cache:
            for case in ("cold", "warm"):
                run = compile_time.run_child(system, 2, cache)
                result.runs.append({**run, "system": _display(system), "case": case})
    return result


def bench_compile_growth(depths: list[int], systems: list[str]) -> CompileResult:
    """W7: cold compile of MLP steps with more and more hidden layers."""
    result = CompileResult("W7", f"cold compile of MLP steps with {depths} hidden layers "
                                 "of 256, fresh process, empty cache")
    for depth in depths:
        for system in systems:
            with tempfile.TemporaryDirectory(prefix=f"bench-{system}-") as cache:
                run = compile_time.run_child(system, depth, cache)
            result.runs.append({**run, "system": _display(system), "case": f"depth {depth}"})
    return result


def bench_lstm_compile(systems: list[str]) -> CompileResult:
    """W9: the W8 step compiled in a fresh process, cold (empty cache) then warm; PyTorch's is
    ``torch.compile`` of the step."""
    result = CompileResult("W9", "compile time of the W8 LSTM step, fresh process",
                           note="cold: empty compile cache; warm: a second process, same cache")
    for system in systems:
        name = "torch.compile" if system == "pytorch" else _display(system)
        if system == "exprc" and not hasattr(exprc, "scan"):
            result.runs += [{"system": name, "case": case,
                             "error": "skipped: exprc.scan is not there yet"}
                            for case in ("cold", "warm")]
            continue
        with tempfile.TemporaryDirectory(prefix=f"bench-{system}-") as cache:
            for case in ("cold", "warm"):
                run = compile_time.run_child(system, 0, cache, workload="lstm")
                result.runs.append({**run, "system": name, "case": case})
    return result


def _display(system: str) -> str:
    return {"exprc": "exprc", "pytensor": "PyTensor", "jax": "JAX", "pytorch": "PyTorch"}[system]


# --------------------------------------------------------------------------- driver


def machine_description() -> dict:
    """What the numbers were measured on."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            model = next(line.split(":", 1)[1].strip() for line in info
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": floors.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "exprc": exprc.__version__, "platform": platform.platform()}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(ALL_WORKLOADS),
                        help="comma-separated workloads, e.g. W1,W3 (default: all)")
    parser.add_argument("--repeat", type=int, default=15, help="timed samples per system")
    parser.add_argument("--size-log2", type=int, default=24, help="W1/W2 length is 2**this")
    parser.add_argument("--peers", default="pytensor,pytorch,jax,theano",
                        help="comma-separated peers to run, or 'none' (theano: W3, W4, W8 "
                             "and W10, in the interpreter named by EXPRC_BENCH_THEANO_PYTHON)")
    parser.add_argument("--w7-depths", default="2,8,32", help="hidden layers for W7")
    parser.add_argument("--compile-peers", default="jax,pytorch",
                        help="peers measured in W6/W7 as well as exprc ('none', or add "
                             "'pytensor': its cold Numba compiles take minutes); W9 takes "
                             "jax and pytorch from these")
    parser.add_argument("--load", type=int, default=0,
                        help="also time every timed workload beside this many processes that "
                             "each keep one core busy (rows labelled quiet / loaded); W6, W7 "
                             "and W9 run quiet")
    parser.add_argument("--threads", default="all",
                        help="exprc's rows: 'all' (its default threads) and/or thread counts, "
                             "e.g. all,1")
    parser.add_argument("--json", help="write every measurement to this file")
    parser.add_argument("--markdown", action="store_true",
                        help="also print one Markdown table of all workloads")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cpu (default): these workloads on the C backend; cuda: the GPU "
                             "benchmarks of benchmarks/gpu.py instead (exprc's CUDA backend "
                             "beside PyTorch CUDA), which take that script's options (see "
                             "'run.py --device cuda --help')")
    return parser.parse_args(argv)


def _device(argv: list[str] | None) -> tuple[str, list[str]]:
    """The ``--device`` asked for, and the other arguments (for gpu.py's own options)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    known, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return known.device, rest


def _names(text: str) -> set[str]:
    return set() if text.strip().lower() == "none" else {
        t.strip().lower() for t in text.split(",") if t.strip()}


def main(argv: list[str] | None = None) -> list:
    """Run the selected workloads, print their tables, and return the results (with
    ``--device cuda``, those of ``gpu.py``, which takes the other arguments)."""
    device, rest = _device(argv)
    if device == "cuda":
        import gpu

        return gpu.main(rest)
    args = parse_args(argv)
    # exprc sets its OpenMP and OpenBLAS idle-thread settings (GOMP_SPINCOUNT,
    # OPENBLAS_THREAD_TIMEOUT) at its first function(), before it loads either library. A peer
    # imported first (PyTorch) loads libgomp with its default spinning, which then holds the
    # cores that OpenBLAS's threads need (the W8 step took 32 ms instead of 23). Applying them
    # before any peer loads gives every system the same settings.
    quiet_idle_threads()
    only = {w.strip().upper() for w in args.only.split(",")}
    if args.load < 0:
        raise SystemExit(f"--load must be 0 or more, got {args.load}")
    threads = [t.strip().lower() for t in args.threads.split(",") if t.strip()]
    if not threads or any(t != "all" and not (t.isdigit() and int(t) > 0) for t in threads):
        raise SystemExit(f"--threads takes 'all' and/or positive counts, got {args.threads!r}")
    conditions = Conditions((0, args.load) if args.load else (0,), threads)
    machine = machine_description()
    print(f"{machine['cpu']}, {machine['cores']} cores; Python {machine['python']}, "
          f"NumPy {machine['numpy']}, exprc {machine['exprc']}")
    peers, skipped = build_peers(_names(args.peers))
    for peer in peers:
        print(f"{peer.name} {peer.version}")
    for line in skipped:
        print(line)
    compile_systems = ["exprc"] + [
        name for name in ("pytensor", "jax", "pytorch") if name in _names(args.compile_peers)
        and any(p.name.lower() == name for p in peers)]
    n = 2 ** args.size_log2
    steps = {
        "W1": lambda: bench_elementwise("W1", n, args.repeat, peers, conditions),
        "W2": lambda: bench_elementwise("W2", n, args.repeat, peers, conditions),
        "W3": lambda: bench_mlp(args.repeat, peers, conditions=conditions),
        "W4": lambda: bench_lenet(args.repeat, peers, conditions=conditions),
        "W5": lambda: bench_call_overhead(args.repeat, peers, conditions),
        "W6": lambda: bench_compile_cold_warm(compile_systems),
        "W7": lambda: bench_compile_growth([int(d) for d in args.w7_depths.split(",")],
                                           compile_systems),
        "W8": lambda: bench_lstm(args.repeat, peers, conditions=conditions),
        "W9": lambda: bench_lstm_compile([s for s in compile_systems if s != "pytensor"]),
        "W10": lambda: bench_tutorial(args.repeat, peers, conditions=conditions),
    }
    results = []
    for key in ALL_WORKLOADS:
        if key in only:
            results.append(_run_step(steps[key]))
    if args.markdown:
        print("\n" + report.markdown(results, f"{machine['cpu']}, {machine['cores']} cores"
                                      + (f"; loaded: {args.load} busy processes beside"
                                         if args.load else "")))
    if args.json:
        Path(args.json).write_text(report.to_json(results, machine))
    return results


def _run_step(step):
    print()
    result = step()
    if isinstance(result, Result):
        print(report.text_table(result))
    elif isinstance(result, CompileResult):
        print(report.compile_text_table(result))
    else:
        print(result)
    sys.stdout.flush()
    return result


if __name__ == "__main__":
    main()
