"""Compile time of a training step in a fresh process: the MLP's (W6, W7), the LSTM's (W9).

Run as a script, it is the child: it imports one system (timed: the import time), builds the
training step of an MLP with ``depth`` hidden layers (or, with ``--workload lstm``, W8's LSTM
step; PyTorch's is then ``torch.compile`` of it) and runs it once, and prints one JSON
line. The main figure is ``first_result_s``: from after the imports to the first step's
result, which covers building the graph, compiling it and one call; it is the same measure
for systems that compile when ``function()`` is called (exprc, PyTensor) and for those that
compile on the first call (JAX, ``torch.compile``). exprc also reports the parts.

The parent (:func:`run_child`) starts the child with the system's on-disk compile cache
pointed at a folder of its choice: an empty folder gives a cold compile, the same folder
again a warm one.

Child usage: ``python benchmarks/compile_time.py SYSTEM DEPTH [--width W] [--batch B]``, or
``python benchmarks/compile_time.py SYSTEM 0 --workload lstm`` (W8's sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Where each system keeps its compiled code between processes, as environment variables.
CACHE_ENVIRONMENT = {
    "exprc": lambda d: {"EXPRC_CACHE_DIR": d},
    "pytensor": lambda d: {"PYTENSOR_FLAGS": f"base_compiledir={d}"},
    "jax": lambda d: {"JAX_COMPILATION_CACHE_DIR": d,
                      "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
                      "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"},
    "pytorch": lambda d: {"TORCHINDUCTOR_CACHE_DIR": d},
}


@contextmanager
def _timed_c_compiler():
    """Wrap exprc's call of the C compiler, while the block runs, to add up its time and the
    source size.

    Yields the running totals, which stay empty when exprc's internals no longer have that
    call (the breakdown is then left out; the main figure does not depend on it).
    """
    spent = {}
    try:
        # The C toolchain that the compile cache builds through calls this module function.
        from exprc.link.c import toolchain as toolchain_module
        original = toolchain_module.compile_shared
    except (ImportError, AttributeError):
        yield spent
        return

    def timed(compiler, source_path, *args, **kwargs):
        start = time.perf_counter()
        try:
            return original(compiler, source_path, *args, **kwargs)
        finally:
            spent["cc_s"] = spent.get("cc_s", 0.0) + time.perf_counter() - start
            spent["source_bytes"] = spent.get("source_bytes", 0) + Path(source_path).stat().st_size

    toolchain_module.compile_shared = timed
    try:
        yield spent
    finally:
        toolchain_module.compile_shared = original


def _exprc_child(depth: int, width: int, batch: int) -> dict:
    start = time.perf_counter()
    import workloads

    import exprc
    imported = time.perf_counter()
    data = workloads.MLPData.random(workloads.mlp_sizes(depth, width), batch)
    inputs, cost, updates = workloads.mlp_train_graph(data)
    built = time.perf_counter()
    with _timed_c_compiler() as compiler:
        f = exprc.function(inputs, cost, updates=updates, mode=workloads.c_mode())
    compiled = time.perf_counter()
    f(data.X, data.labels)
    done = time.perf_counter()
    rewrite_log = getattr(f, "rewrite_log", None)
    return {"import_s": imported - start, "first_result_s": done - imported,
            "graph_s": built - imported, "function_s": compiled - built,
            "rewrite_s": sum(p[1] for p in rewrite_log.passes) if rewrite_log else None,
            **compiler, "first_call_s": done - compiled, "nodes": len(f.fgraph.apply_nodes)}


def _exprc_lstm_child(shape=None) -> dict:
    """The exprc child for W9: W8's LSTM step (``shape``: W8's sizes unless given)."""
    start = time.perf_counter()
    import workloads

    import exprc
    imported = time.perf_counter()
    data = workloads.LSTMData.random(shape or workloads.LSTMShape())
    if not hasattr(exprc, "scan"):
        raise NotImplementedError("exprc has no scan yet")
    inputs, cost, updates = workloads.lstm_train_graph(data)
    built = time.perf_counter()
    with _timed_c_compiler() as compiler:
        f = exprc.function(inputs, cost, updates=updates, mode=workloads.c_mode())
    compiled = time.perf_counter()
    f(data.X)
    done = time.perf_counter()
    rewrite_log = getattr(f, "rewrite_log", None)
    return {"import_s": imported - start, "first_result_s": done - imported,
            "graph_s": built - imported, "function_s": compiled - built,
            "rewrite_s": sum(p[1] for p in rewrite_log.passes) if rewrite_log else None,
            **compiler, "first_call_s": done - compiled, "nodes": len(f.fgraph.apply_nodes)}


def _peer_lstm_child(system: str) -> dict:
    """A peer's child for W9: JAX's jitted step, or ``torch.compile`` of PyTorch's."""
    start = time.perf_counter()
    import peers
    import workloads
    peer = {cls.name.lower(): cls for cls in peers.PEER_CLASSES}[system]()
    imported = time.perf_counter()
    data = workloads.LSTMData.random(workloads.LSTMShape())
    runner = peer.w8_compiled(data) if system == "pytorch" else peer.w8(data)
    runner.fn()
    done = time.perf_counter()
    return {"import_s": imported - start, "first_result_s": done - imported,
            "note": runner.note}


def _peer_child(system: str, depth: int, width: int, batch: int) -> dict:
    start = time.perf_counter()
    import peers
    import workloads
    peer = {cls.name.lower(): cls for cls in peers.PEER_CLASSES}[system]()
    imported = time.perf_counter()
    data = workloads.MLPData.random(workloads.mlp_sizes(depth, width), batch)
    runner = peer.w3(data)
    runner.fn()
    done = time.perf_counter()
    return {"import_s": imported - start, "first_result_s": done - imported,
            "note": runner.note}


def child(argv: list[str]) -> None:
    """Measure one compile and print it as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", choices=sorted(CACHE_ENVIRONMENT))
    parser.add_argument("depth", type=int)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--workload", choices=("mlp", "lstm"), default="mlp",
                        help="lstm: W8's step at its sizes (DEPTH, --width, --batch unused)")
    args = parser.parse_args(argv)
    if args.workload == "lstm":
        result = (_exprc_lstm_child() if args.system == "exprc"
                  else _peer_lstm_child(args.system))
    elif args.system == "exprc":
        result = _exprc_child(args.depth, args.width, args.batch)
    else:
        result = _peer_child(args.system, args.depth, args.width, args.batch)
    print(json.dumps({"system": args.system, "depth": args.depth, **result}))


def run_child(system: str, depth: int, cache_dir: str, width: int = 256, batch: int = 128,
              timeout: float = 600, workload: str = "mlp") -> dict:
    """Run the child in a fresh Python process with ``system``'s cache in ``cache_dir``
    (``workload="lstm"``: W8's step, ``depth``, ``width`` and ``batch`` unused).

    Returns the child's measurements, or ``{"error": ...}`` with the last line of its
    output when it fails.
    """
    env = {**os.environ, **CACHE_ENVIRONMENT[system](str(cache_dir))}
    command = [sys.executable, str(HERE / "compile_time.py"), system, str(depth),
               "--width", str(width), "--batch", str(batch), "--workload", workload]
    try:
        done = subprocess.run(command, check=False, capture_output=True, text=True, env=env,
                              cwd=HERE,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": f"exit {done.returncode}: {tail[:200]}"}
    return json.loads(lines[-1])


if __name__ == "__main__":
    child(sys.argv[1:])
