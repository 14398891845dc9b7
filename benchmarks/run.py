"""Run the benchmark workloads W1-W9 on exprc, NumPy and the peers that import.

Each timed workload is compiled by every system, its first result is checked against NumPy
(a mismatch is flagged, not hidden), then it is timed: ``--repeat`` samples after a warm-up
call, each sample long enough for the clock (fast calls are batched), reported as median,
minimum and interquartile range per call. The machine floors (memory bandwidth, float32 GEMM
rate) are measured in the same run, so each figure can be read against what the hardware
allows. See docs/performance.md.

Usage::

    python benchmarks/run.py [--only W1,W3] [--repeat N] [--json out.json] [--markdown]
"""

from __future__ import annotations

import argparse
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
from peers import Runner, Skipped, TheanoPeer, build_peers
from report import CompileResult, Result, Row
from timing import measure

import exprc
from exprc.link.c.blas import quiet_idle_threads

ALL_WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9")


# --------------------------------------------------------------------------- timed workloads


def timed_row(system: str, build, reference, repeat: int, atol: float = 1e-5) -> Row:
    """Build (compile) one system's workload, check its first result, and time it.

    A builder that raises :class:`Skipped` gives a row that says why it did not run; one timed
    in a child process (``runner.stats``) brings its own timing and build time.
    """
    try:
        start = time.perf_counter()
        runner = build()
        build_s = time.perf_counter() - start
        first = runner.fn()
        error = mismatch(runner.check(first) if runner.check else first, reference, atol=atol)
        stats = runner.stats or measure(runner.fn, repeat)
        return Row(system, stats, runner.note, error,
                   build_s if runner.build_s is None else runner.build_s)
    except Skipped as reason:
        return Row(system, error=f"skipped: {reason}")
    except Exception as failure:
        first_line = (str(failure).splitlines() or [""])[0]
        return Row(system, error=f"{type(failure).__name__}: {first_line[:200]}")


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


def run_rows(builders: dict, reference, repeat: int, atol: float = 1e-5) -> list[Row]:
    """Rows of every system, in the order given."""
    return [timed_row(system, build, reference, repeat, atol)
            for system, build in builders.items()]


def peer_builders(peers, method: str, *args) -> dict:
    """``{peer name: builder}`` for the peers that implement one workload."""
    return {p.name: (lambda p=p: getattr(p, method)(*args)) for p in peers if hasattr(p, method)}


def bench_elementwise(key: str, n: int, repeat: int, peers) -> Result:
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
    builders = {"exprc": exprc_runner(exprc_fn, data),
                "NumPy": lambda: Runner(lambda: numpy_fn(data), "ufuncs, one temporary each"),
                **peer_builders(peers, method, data)}
    result.rows = run_rows(builders, numpy_fn(data), repeat)
    return result


def bench_mlp(repeat: int, peers, batch: int = 128, sizes=None, peak_n: int = 2048) -> Result:
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
    builders = {"exprc": exprc_runner(wl.mlp_train_exprc, data),
                "NumPy": lambda: Runner(wl.mlp_train_numpy(data), "hand-written backward"),
                **peer_builders(peers, "w3", data)}
    rows = run_rows(builders, reference, repeat)
    gemm_s = min(before.min, floors.step_gemm_time(products, 2 * repeat).min)
    peak = floors.peak_gemm_rate(peak_n, max(3, repeat // 3))
    return Result("W3", f"MLP step {'-'.join(map(str, sizes))}, batch {batch}, float32",
                  rows=rows, floor_s=gemm_s,
                  floor_note=f"{flops / 1e6:.0f} MFLOP in {len(products)} GEMMs at "
                             f"{flops / gemm_s / 1e9:.0f} GFLOP/s (np.matmul, same shapes); "
                             f"peak {peak / 1e9:.0f} GFLOP/s ({peak_n}^3)")


def bench_call_overhead(repeat: int, peers) -> Result:
    """W5: per-call time of ``f(x) = x + 1`` on 10 float64 elements."""
    x = np.arange(10, dtype=np.float64)
    builders = {"exprc": exprc_runner(wl.w5_exprc, x),
                "exprc trust_input": exprc_runner(wl.w5_exprc, x, trust_input=True),
                "NumPy": lambda: Runner(lambda: wl.w5_numpy(x), "bare x + 1"),
                **peer_builders(peers, "w5", x)}
    result = Result("W5", "call overhead of f(x) = x + 1, 10 float64")
    result.rows = run_rows(builders, x + 1, repeat)
    return result


def bench_lenet(repeat: int, peers, shape: wl.LeNetShape | None = None,
                peak_n: int = 2048) -> Result:
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
    builders = {"exprc": exprc_runner(wl.lenet_train_exprc, data),
                "NumPy": lambda: Runner(wl.lenet_train_numpy(data),
                                        "hand-written backward, windows + tensordot"),
                **peer_builders(peers, "w4", data)}
    rows = run_rows(builders, reference, repeat)
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


def bench_lstm(repeat: int, peers, shape: wl.LSTMShape | None = None) -> Result:
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

    builders = {"exprc": exprc_build, "NumPy": numpy_build}
    for peer in peers:
        if isinstance(peer, TheanoPeer):  # compiles and times in its own process
            builders[peer.name] = lambda p=peer: p.w8(data, repeat)
        elif hasattr(peer, "w8"):
            builders[peer.name] = lambda p=peer: p.w8(data)
        if hasattr(peer, "w8_compiled"):
            builders["torch.compile"] = lambda p=peer: p.w8_compiled(data)
    rows = run_rows(builders, reference, repeat, atol=1e-4 * np.abs(reference).max())
    gemm_s = min(before.min, floors.lstm_gemm_time(shape, 2 * repeat, batched=True).min)
    per_step_s = floors.lstm_gemm_time(shape, 2 * repeat).min
    return Result("W8", f"LSTM step, {shape.steps} steps, batch {shape.batch}, {shape.n_in} -> "
                        f"{shape.hidden}, BPTT + SGD, float32",
                  rows=rows, floor_s=gemm_s,
                  floor_note=f"{flops / 1e6:.0f} MFLOP of GEMMs at {flops / gemm_s / 1e9:.0f} "
                             f"GFLOP/s (np.matmul: 2 per time step on the recurrence, 3 over "
                             f"the sequence); all {len(products)} one step at a time: "
                             f"{report.seconds(per_step_s)}")


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
                        help="comma-separated peers to run, or 'none' (theano: W8 "
                             "only, in the interpreter named by EXPRC_BENCH_THEANO_PYTHON)")
    parser.add_argument("--w7-depths", default="2,8,32", help="hidden layers for W7")
    parser.add_argument("--compile-peers", default="jax,pytorch",
                        help="peers measured in W6/W7 as well as exprc ('none', or add "
                             "'pytensor': its cold Numba compiles take minutes); W9 takes "
                             "jax and pytorch from these")
    parser.add_argument("--json", help="write every measurement to this file")
    parser.add_argument("--markdown", action="store_true",
                        help="also print one Markdown table of all workloads")
    return parser.parse_args(argv)


def _names(text: str) -> set[str]:
    return set() if text.strip().lower() == "none" else {
        t.strip().lower() for t in text.split(",") if t.strip()}


def main(argv: list[str] | None = None) -> list:
    """Run the selected workloads, print their tables, and return the results."""
    args = parse_args(argv)
    # exprc sets its OpenMP and OpenBLAS idle-thread settings (GOMP_SPINCOUNT,
    # OPENBLAS_THREAD_TIMEOUT) at its first function(), before it loads either library. A peer
    # imported first (PyTorch) loads libgomp with its default spinning, which then holds the
    # cores that OpenBLAS's threads need (the W8 step took 32 ms instead of 23). Applying them
    # before any peer loads gives every system the same settings.
    quiet_idle_threads()
    only = {w.strip().upper() for w in args.only.split(",")}
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
        "W1": lambda: bench_elementwise("W1", n, args.repeat, peers),
        "W2": lambda: bench_elementwise("W2", n, args.repeat, peers),
        "W3": lambda: bench_mlp(args.repeat, peers),
        "W4": lambda: bench_lenet(args.repeat, peers),
        "W5": lambda: bench_call_overhead(args.repeat, peers),
        "W6": lambda: bench_compile_cold_warm(compile_systems),
        "W7": lambda: bench_compile_growth([int(d) for d in args.w7_depths.split(",")],
                                           compile_systems),
        "W8": lambda: bench_lstm(args.repeat, peers),
        "W9": lambda: bench_lstm_compile([s for s in compile_systems if s != "pytensor"]),
    }
    results = []
    for key in ALL_WORKLOADS:
        if key in only:
            results.append(_run_step(steps[key]))
    if args.markdown:
        print("\n" + report.markdown(results, f"{machine['cpu']}, {machine['cores']} cores"))
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
