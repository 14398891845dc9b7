"""LeNet inference exported: exprc from Python, the standalone C and ONNX Runtime in one run.

The network is the LeNet of ``examples/mnist_lenet.py`` in float32, with random weights and
nonzero biases, or with the parameters of a ``mnist_lenet.py --save`` file (``--params``).
Its deterministic prediction function is compiled with exprc and, for each batch size, timed as

- exprc's compiled function called from Python on a NumPy batch, with exprc's default threads
  and with one (in a child process started with ``OMP_NUM_THREADS=1``: OpenMP reads the
  variable once, when it is loaded);
- the export of :func:`exprc.export.c.to_c` built with ``cc -O2 -std=c99``, with
  ``-O3 -march=native``, and with ``-O2 -DEXPRC_USE_CBLAS`` against a CBLAS when one links
  (``EXPRC_BENCH_CBLAS`` may give its flags); each is timed inside a C ``main`` that calls
  ``clock_gettime(CLOCK_MONOTONIC)`` around every call of ``lenet_run``, so starting and
  loading the program are not counted;
- the model of :func:`exprc.export.onnx.to_onnx` in ONNX Runtime (CPUExecutionProvider) with
  one intra-op thread per core and with one.

Every figure is the median and the minimum of ``--repeat`` single calls after ``--warmup``
calls. Every system's output is checked against exprc's: a largest absolute difference above
1e-5 flags the row ``WRONG``. The exported C is single-threaded, and its CBLAS runs with one
thread (``OPENBLAS_NUM_THREADS=1``), hence the one-thread rows of exprc and ONNX Runtime.
Sizes: the C source, the stripped program (the export and the timing ``main``, ``-O2``), the
ONNX model, the weights and the arena (the work memory of one call). Each table also says how
many cores other processes kept busy while its rows ran: the rows with two threads slow down
many times over when another process holds one of two cores.

Usage::

    python benchmarks/export.py [--repeat N] [--batches 1,64] [--markdown] [--json FILE]
                                [--params lenet.npz]
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from floors import cpu_count
from report import Result, Row, ratio, seconds
from run import machine_description
from timing import Stats, measure, summarize

from exprc.link.codegen.render import C_TYPES

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
#: The largest absolute difference from exprc's probabilities a system may show.
TOLERANCE = 1e-5
NAME = "lenet"
IMAGE_SHAPE = (1, 28, 28)
#: Systems in table order: exprc first (the reference of the "vs exprc" column).
EXPRC, EXPRC_1 = "exprc", "exprc, 1 thread"
C_O2, C_O3, C_BLAS = "C -O2", "C -O3 -march=native", "C -O2 + CBLAS"
ORT, ORT_1 = "ONNX Runtime", "ONNX Runtime, 1 thread"
#: The C flags of each exported-C row (besides -std=c99 and the CBLAS flags).
C_FLAGS = {C_O2: ["-O2"], C_O3: ["-O3", "-march=native"], C_BLAS: ["-O2", "-DEXPRC_USE_CBLAS"]}
#: One thread for whatever pool a CBLAS may start, so that the C rows stay single-threaded.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

#: The timing ``main``: reads one batch, calls ``<name>_run`` ``warmup + repeat`` times, timing
#: each call, writes the last call's outputs and prints the seconds of the timed calls.
MAIN_C = """\
/* Timing main of benchmarks/export.py. clock_gettime needs POSIX under -std=c99. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "{name}.h"

static {input_type} input[{input_size}];
static {output_type} output[{output_size}];

static double now(void)
{{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}}

int main(int argc, char **argv)
{{
    FILE *file;
    long repeat, warmup, i;
    double *took;
    if (argc != 5) {{
        fprintf(stderr, "usage: %s input.bin output.bin repeat warmup\\n", argv[0]);
        return 2;
    }}
    repeat = strtol(argv[3], NULL, 10);
    warmup = strtol(argv[4], NULL, 10);
    if (repeat < 1 || warmup < 0) {{ fprintf(stderr, "bad repeat or warmup\\n"); return 2; }}
    took = malloc(sizeof(double) * (size_t)repeat);
    file = fopen(argv[1], "rb");
    if (!took || !file || fread(input, sizeof input, 1, file) != 1) {{
        fprintf(stderr, "cannot read %s\\n", argv[1]);
        return 2;
    }}
    fclose(file);
    for (i = 0; i < warmup + repeat; ++i) {{
        double start = now();
        int status = {name}_run(input, output);
        double end = now();
        if (status) {{ fprintf(stderr, "{name}_run: %s\\n", {name}_last_error()); return 3; }}
        if (i >= warmup) took[i - warmup] = end - start;
    }}
    file = fopen(argv[2], "wb");
    if (!file || fwrite(output, sizeof output, 1, file) != 1) {{
        fprintf(stderr, "cannot write %s\\n", argv[2]);
        return 2;
    }}
    fclose(file);
    for (i = 0; i < repeat; ++i) printf("%.9e\\n", took[i]);
    free(took);
    return 0;
}}
"""

#: Checks that a CBLAS links, loads and multiplies: [[1,2],[3,4]] @ [[5,6],[7,8]].
CBLAS_PROBE_C = """\
#include <stdio.h>
#include <cblas.h>

int main(void)
{
    float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[4] = {0, 0, 0, 0};
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    return !(c[0] == 19 && c[1] == 22 && c[2] == 43 && c[3] == 50);
}
"""


class Skipped(Exception):
    """A system that cannot run here; the message says why."""


@dataclass
class CBlas:
    """A CBLAS the exported C can link: its name for the table and its cc flags."""

    name: str
    flags: list[str]


@dataclass
class BatchResult:
    """One batch size: the timed rows, each system's threads, and the sizes in bytes."""

    batch: int
    result: Result
    threads: dict[str, int] = field(default_factory=dict)
    sizes: dict[str, int | None] = field(default_factory=dict)
    #: Cores that other processes kept busy, on average, while this batch ran (None: unknown).
    others_busy: float | None = None


class OtherLoad:
    """Measures how many cores other processes kept busy while a block ran (Linux only).

    The machine's busy time (``/proc/stat``, stolen time included) less this process's and
    its waited-for children's: the rows with several threads slow down many times over when
    another process holds a core, so the tables say how busy the machine was.
    """

    def __enter__(self) -> OtherLoad:
        self.cores: float | None = None
        self._start = self._sample()
        return self

    def __exit__(self, *exc) -> None:
        end = self._sample()
        if self._start is not None and end is not None and end[0] > self._start[0]:
            wall, busy, own = (b - a for a, b in zip(self._start, end))
            self.cores = max(0.0, (busy - own) / wall)

    @staticmethod
    def _sample() -> tuple[float, float, float] | None:
        try:
            with open("/proc/stat") as stat:
                ticks = [int(v) for v in stat.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        user, nice, system, _, _, irq, softirq, steal = ticks
        busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
        own = os.times()
        return (time.perf_counter(), busy,
                own.user + own.system + own.children_user + own.children_system)


# --------------------------------------------------------------------------- the network


def build_lenet(filters: tuple, dense: int, params: str | None, seed: int = 0):
    """LeNet of ``examples/mnist_lenet.py`` and its compiled deterministic prediction.

    ``params`` is a file of :func:`exprc.nn.layers.save_params` (``mnist_lenet.py --save``).
    Without it the weights are the layers' own random initialisation (seeded) and the biases,
    which start at zero, are drawn too, so that adding them is tested as well.
    """
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    import mnist_lenet

    import exprc
    from exprc import nn

    rng = np.random.RandomState(seed)
    previous_rng = nn.random.get_rng()
    nn.random.set_rng(rng)
    try:
        with exprc.config.change_flags(floatX="float32"):
            network = mnist_lenet.build_network(filters=filters, dense=dense, dropout=0.0)
            if params:
                # The format of nn.layers.load_params, cast: the benchmark is float32, and a
                # file written with --floatX float64 holds float64 values.
                with np.load(params) as data:
                    values = [data[f"arr_{i}"].astype(np.float32) for i in range(len(data.files))]
                nn.layers.set_all_param_values(network, values)
            else:
                for param in nn.layers.get_all_params(network):
                    value = param.get_value()
                    if value.ndim == 1:
                        param.set_value(rng.uniform(-0.1, 0.1, value.shape).astype(value.dtype))
            input_var = nn.layers.get_all_layers(network)[0].input_var
            prediction = nn.layers.get_output(network, deterministic=True)
            predict = exprc.function([input_var], prediction, name="lenet_predict")
    finally:
        nn.random.set_rng(previous_rng)
    return network, predict


def describe_network(filters: tuple, dense: int) -> str:
    c, side = IMAGE_SHAPE[0], IMAGE_SHAPE[1]
    return (f"LeNet {c}x{side}x{side} -> {filters[0]}@5x5 -> pool 2 -> {filters[1]}@5x5 -> "
            f"pool 2 -> {dense} -> 10 softmax, float32")


def difference(value: np.ndarray, expected: np.ndarray) -> tuple[str, float | None]:
    """(error, largest absolute difference): error is '' when ``value`` matches."""
    value = np.asarray(value)
    if value.shape != expected.shape:
        return f"WRONG shape {value.shape}, expected {expected.shape}", None
    largest = float(np.max(np.abs(value.astype(np.float64) - expected))) if value.size else 0.0
    if not np.isfinite(largest) or largest > TOLERANCE:
        return f"WRONG: max |difference| {largest:.3g} (> {TOLERANCE:g})", largest
    return "", largest


def checked_row(system: str, stats: Stats | None, output: np.ndarray, expected: np.ndarray,
                note: str, build_s: float | None = None) -> Row:
    error, largest = difference(output, expected)
    if largest is not None:
        note = f"{note}; max |diff| {largest:.1e}" if note else f"max |diff| {largest:.1e}"
    return Row(system, stats, note, error, build_s)


def failed_row(system: str, failure: Exception) -> Row:
    if isinstance(failure, Skipped):
        return Row(system, error=f"skipped: {failure}")
    first_line = (str(failure).splitlines() or [""])[0]
    return Row(system, error=f"{type(failure).__name__}: {first_line[:400]}")


# --------------------------------------------------------------------------- exprc


def exprc_one_thread(work: Path, args: argparse.Namespace, batches: list[int]) -> dict:
    """Time exprc with ``OMP_NUM_THREADS=1`` in a child process; ``{batch: (stats, output)}``.

    The child loads the parameters and batches the parent saved in ``work``.
    """
    env = {**os.environ, **ONE_THREAD}
    command = [sys.executable, str(Path(__file__).resolve()), "--child-exprc", str(work),
               "--batches", ",".join(map(str, batches)), "--repeat", str(args.repeat),
               "--warmup", str(args.warmup), "--filters", ",".join(map(str, args.filters)),
               "--dense", str(args.dense)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the one-thread child failed: {done.stderr.strip()[-300:]}")
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    return {b: (Stats(**stats[str(b)]), np.load(work / f"exprc1_{b}.npy")) for b in batches}


def child_exprc(args: argparse.Namespace) -> None:
    """The child of :func:`exprc_one_thread`: prints ``{batch: stats}`` as JSON."""
    work = Path(args.child_exprc)
    _, predict = build_lenet(args.filters, args.dense, str(work / "params.npz"))
    out = {}
    for batch in args.batches:
        x = np.load(work / f"x{batch}.npy")
        out[batch] = measure(lambda x=x: predict(x), args.repeat, min_sample_seconds=0,
                             warmup=args.warmup).as_dict()
        np.save(work / f"exprc1_{batch}.npy", predict(x))
    print(json.dumps(out))


# --------------------------------------------------------------------------- exported C


def find_cblas(cc: str, work: Path) -> CBlas:
    """The first CBLAS that a probe program links and runs with; :class:`Skipped` if none.

    Tried in order: the flags in ``EXPRC_BENCH_CBLAS``, the scipy-openblas32 wheel (unless its
    symbols carry a prefix, as its builds for SciPy do), the system's ``-lopenblas``,
    ``-lcblas``, ``-lblas``.
    """
    candidates, reasons = [], []
    custom = os.environ.get("EXPRC_BENCH_CBLAS")
    if custom:
        candidates.append(CBlas(f"EXPRC_BENCH_CBLAS ({custom})", shlex.split(custom)))
    try:
        import scipy_openblas32 as wheel

        lib_dir = wheel.get_lib_dir()
        library = ctypes.CDLL(str(Path(lib_dir) / f"lib{wheel.get_library()}.so"))
        if hasattr(library, "cblas_sgemm"):
            candidates.append(CBlas("scipy-openblas32", [
                f"-I{wheel.get_include_dir()}", f"-L{lib_dir}", f"-Wl,-rpath,{lib_dir}",
                f"-l{wheel.get_library()}"]))
        else:
            reasons.append("scipy-openblas32 (prefixed symbols, no cblas_sgemm)")
    except (ImportError, OSError) as missing:
        reasons.append(f"scipy-openblas32: {missing}")
    for flag in ("-lopenblas", "-lcblas", "-lblas"):
        candidates.append(CBlas(f"system {flag}{openblas_config(flag[2:])}", [flag]))
    probe = work / "cblas_probe.c"
    probe.write_text(CBLAS_PROBE_C)
    for candidate in candidates:
        exe = work / "cblas_probe"
        built = subprocess.run([cc, "-std=c99", "-o", str(exe), str(probe), *candidate.flags,
                                "-lm"], capture_output=True, text=True)
        if built.returncode == 0 and subprocess.run(
                [str(exe)], env={**os.environ, **ONE_THREAD}, capture_output=True).returncode == 0:
            if reasons:
                candidate.name += f"; not used: {', '.join(reasons)}"
            return candidate
        reasons.append(f"{candidate.name} does not link or run")
    raise Skipped("no CBLAS found: " + "; ".join(reasons))


def openblas_config(library: str) -> str:
    """``', OpenBLAS 0.3.21, Haswell kernels'`` when ``library`` is an OpenBLAS, else ''.

    Its version and the kernels it picked for this CPU explain much of its speed.
    """
    path = ctypes.util.find_library(library)
    try:
        loaded = ctypes.CDLL(path) if path else None
        config, core = loaded.openblas_get_config, loaded.openblas_get_corename
    except (OSError, AttributeError):
        return ""
    config.restype = core.restype = ctypes.c_char_p
    words = config().decode(errors="replace").split()
    version = words[1] if len(words) > 1 and words[0] == "OpenBLAS" else "(version unknown)"
    return f", OpenBLAS {version}, {core().decode(errors='replace')} kernels"


def build_c(source: Path, main: Path, exe: Path, cc: str, flags: list[str],
            libraries: list[str]) -> float:
    """Compile the export with the timing main; returns the compiler's seconds."""
    # Libraries after the sources: a linker resolves only the symbols already wanted.
    command = [cc, *flags, "-std=c99", "-o", str(exe), str(main), str(source), *libraries,
               "-lm"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        errors = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"the C build failed: {errors} (command: {shlex.join(command)})")
    return took


def stripped_size(exe: Path) -> int | None:
    """Bytes of ``exe`` without its symbols, or None when there is no ``strip``."""
    strip = shutil.which("strip")
    if strip is None:
        return None
    stripped = exe.with_name(exe.name + ".stripped")
    subprocess.run([strip, "-o", str(stripped), str(exe)], check=True, capture_output=True)
    return stripped.stat().st_size


def time_c(exe: Path, directory: Path, dtype: str, repeat: int, warmup: int,
           env: dict | None = None):
    """(stats, outputs) of the timing main's run."""
    inputs, outputs = directory / "input.bin", directory / "output.bin"
    done = subprocess.run([str(exe), str(inputs), str(outputs), str(repeat), str(warmup)],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise RuntimeError(f"{exe.name} exited with {done.returncode}: {done.stderr.strip()}")
    samples = [float(line) for line in done.stdout.split()]
    return summarize(samples), np.fromfile(outputs, dtype=dtype)


def export_c_rows(predict, x: np.ndarray, expected: np.ndarray, directory: Path,
                  args: argparse.Namespace, cblas: CBlas | Skipped, sizes: dict) -> list[Row]:
    """The rows of the exported C (and its sizes into ``sizes``)."""
    systems = [C_O2, C_O3, C_BLAS]
    if shutil.which(args.cc) is None:
        reason = Skipped(f"no C compiler {args.cc!r} (set --cc or CC)")
        return [failed_row(system, reason) for system in systems]
    from exprc.export.c import to_c

    try:
        files = to_c(predict, NAME, directory, input_shapes=[x.shape])
    except Exception as failure:
        return [failed_row(system, failure) for system in systems]
    sizes.update(c_source=files.source.stat().st_size, weights=files.weight_bytes,
                 arena=files.arena_bytes)
    (input_dtype,), (output_dtype,) = files.input_dtypes, files.output_dtypes
    (directory / "main.c").write_text(MAIN_C.format(
        name=NAME, input_size=x.size, output_size=expected.size,
        input_type=C_TYPES[input_dtype], output_type=C_TYPES[output_dtype]))
    np.ascontiguousarray(x, dtype=input_dtype).tofile(directory / "input.bin")
    rows = []
    for system in systems:
        try:
            flags, libraries = C_FLAGS[system], []
            env, note = None, "timed inside a C main"
            if system == C_BLAS:
                if isinstance(cblas, Skipped):
                    raise cblas
                libraries = cblas.flags
                env, note = ONE_THREAD, f"{cblas.name}, timed inside a C main"
            exe = directory / system.replace(" ", "").replace("+", "_").replace("-", "_")
            build_s = build_c(files.source, directory / "main.c", exe, args.cc, flags,
                              libraries)
            size = stripped_size(exe)
            if system == C_O2:
                sizes["c_program"] = size
            if size is not None:
                note += f"; program {size / 1e6:.2f} MB stripped"
            stats, output = time_c(exe, directory, output_dtype, args.repeat, args.warmup,
                                   env)
            rows.append(checked_row(system, stats, output.reshape(expected.shape), expected,
                                    note, build_s))
        except Exception as failure:
            rows.append(failed_row(system, failure))
    return rows


# --------------------------------------------------------------------------- ONNX Runtime


def onnx_rows(predict, x: np.ndarray, expected: np.ndarray, directory: Path,
              args: argparse.Namespace, sizes: dict) -> tuple[list[Row], int]:
    """The ONNX Runtime rows (all cores, one thread) and the cores used."""
    cores = cpu_count()
    systems = [ORT, ORT_1]
    try:
        import onnxruntime
    except ImportError:
        reason = Skipped("onnxruntime is not installed (pip install 'exprc[export]')")
        return [failed_row(system, reason) for system in systems], cores
    from exprc.export.onnx import to_onnx

    path = directory / f"{NAME}.onnx"
    try:
        to_onnx(predict, path, input_shapes=[x.shape])
    except Exception as failure:
        return [failed_row(system, failure) for system in systems], cores
    sizes["onnx_model"] = path.stat().st_size
    rows = []
    for system, threads in ((ORT, cores), (ORT_1, 1)):
        try:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            start = time.perf_counter()
            session = onnxruntime.InferenceSession(str(path), options,
                                                   providers=["CPUExecutionProvider"])
            build_s = time.perf_counter() - start
            feed = {session.get_inputs()[0].name: x}
            stats = measure(lambda s=session, f=feed: s.run(None, f), args.repeat,
                            min_sample_seconds=0, warmup=args.warmup)
            output = session.run(None, feed)[0]
            # The session's threads would otherwise live on into the next system's timing.
            del session
            rows.append(checked_row(system, stats, output, expected,
                                    "CPUExecutionProvider",
                                    build_s))
        except Exception as failure:
            rows.append(failed_row(system, failure))
    return rows, cores


# --------------------------------------------------------------------------- one batch


def bench_batch(batch: int, predict, x: np.ndarray, one_thread, work: Path,
                args: argparse.Namespace, cblas) -> BatchResult:
    """Every row of one batch size."""
    from exprc.link.c.blas import openmp_threads

    directory = work / f"batch{batch}"
    directory.mkdir()
    expected = np.asarray(predict(x), dtype=np.float64)
    result = Result(f"batch {batch}", describe_network(args.filters, args.dense))
    out = BatchResult(batch, result)
    stats = measure(lambda: predict(x), args.repeat, min_sample_seconds=0, warmup=args.warmup)
    threads = openmp_threads()
    result.rows.append(Row(EXPRC, stats, "called from Python; OpenMP's default threads"))
    out.threads[EXPRC] = threads
    if isinstance(one_thread, Exception):
        result.rows.append(failed_row(EXPRC_1, one_thread))
    else:
        stats, output = one_thread[batch]
        result.rows.append(checked_row(EXPRC_1, stats, output, expected,
                                       "called from Python; OMP_NUM_THREADS=1 (child "
                                       "process)"))
    out.threads[EXPRC_1] = 1
    result.rows += export_c_rows(predict, x, expected, directory, args, cblas, out.sizes)
    out.threads.update({C_O2: 1, C_O3: 1, C_BLAS: 1})
    rows, cores = onnx_rows(predict, x, expected, directory, args, out.sizes)
    result.rows += rows
    out.threads.update({ORT: cores, ORT_1: 1})
    return out


def bench_batch_watched(*args, **kwargs) -> BatchResult:
    """:func:`bench_batch`, with the load of other processes meanwhile."""
    with OtherLoad() as load:
        out = bench_batch(*args, **kwargs)
    out.others_busy = load.cores
    return out


# --------------------------------------------------------------------------- reports

SIZE_LABELS = {
    "c_source": "C source (`lenet.c`, weights embedded)",
    "c_program": "C program, stripped (`-O2`, with the timing main)",
    "weights": "weights",
    "arena": "arena (work memory of one call)",
    "onnx_model": "ONNX model (`lenet.onnx`)",
}


def megabytes(value: int | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1e6:.2f} MB" if value >= 100_000 else f"{value / 1e3:.1f} kB"


def text_report(batch: BatchResult) -> str:
    """The plain-text table of one batch size, then its sizes."""
    result = batch.result
    lines = [f"{result.key}  {result.title}",
             f"    {'system':<24}{'threads':>8}{'median':>10}{'min':>10}{'IQR':>10}"
             f"{'vs exprc':>10}{'build':>10}  how"]
    exprc_row = result.row(EXPRC)
    reference = exprc_row.stats.median if exprc_row and exprc_row.stats else None
    for r in result.rows:
        threads = str(batch.threads.get(r.system, "-"))
        if r.stats is None:
            failure = r.error if r.error.startswith("skipped") else f"failed: {r.error}"
            lines.append(f"    {r.system:<24}{threads:>8}  {failure}")
            continue
        s = r.stats
        note = r.note + (f"  [{r.error}]" if r.error else "")
        lines.append(f"    {r.system:<24}{threads:>8}{seconds(s.median):>10}"
                     f"{seconds(s.min):>10}{seconds(s.iqr):>10}{ratio(s.median, reference):>10}"
                     f"{seconds(r.build_s):>10}  {note}")
    sizes = ", ".join(f"{key.replace('_', ' ')} {megabytes(batch.sizes.get(key))}"
                      for key in SIZE_LABELS if key in batch.sizes)
    if sizes:
        lines.append(f"    sizes: {sizes}")
    lines.append(f"    other processes kept {busy_text(batch.others_busy)} busy meanwhile")
    return "\n".join(lines)


def busy_text(cores: float | None) -> str:
    return "? cores" if cores is None else f"{cores:.2f} cores"


def markdown(batches: list[BatchResult], machine: str, versions: str) -> str:
    """The latency table (median and min per batch size) and the size table."""
    systems = list(dict.fromkeys(r.system for b in batches for r in b.result.rows))
    heads = [f"batch {b.batch}" for b in batches]
    lines = [f"Machine: {machine}; {versions}", "",
             "| system | threads | " + " | ".join(heads) + " |",
             "|---|---|" + "---|" * len(heads)]
    for system in systems:
        cells = []
        for b in batches:
            row = b.result.row(system)
            if row is None:
                cells.append("-")
            elif row.stats is None:
                cells.append("skipped" if row.error.startswith("skipped") else "failed")
            else:
                wrong = " WRONG" if row.error else ""
                cells.append(f"{seconds(row.stats.median)} (min {seconds(row.stats.min)})"
                             f"{wrong}")
        threads = batches[0].threads.get(system, "-")
        lines.append(f"| {system} | {threads} | " + " | ".join(cells) + " |")
    lines.append("| *other processes' load* | | "
                 + " | ".join(busy_text(b.others_busy) for b in batches) + " |")
    lines += ["", "Latency of one call: median (and minimum) of the timed calls. Other "
              "processes' load: the cores they kept busy, on average, while the batch's rows "
              "ran.", "",
              "| size | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)]
    for key, label in SIZE_LABELS.items():
        lines.append(f"| {label} | "
                     + " | ".join(megabytes(b.sizes.get(key)) for b in batches) + " |")
    return "\n".join(lines)


def to_json(batches: list[BatchResult], machine: dict) -> str:
    return json.dumps({"machine": machine, "batches": [{
        "batch": b.batch, "title": b.result.title, "sizes": b.sizes,
        "others_busy_cores": b.others_busy,
        "rows": [{"system": r.system, "threads": b.threads.get(r.system), "note": r.note,
                  "error": r.error, "build_s": r.build_s,
                  "stats": r.stats.as_dict() if r.stats else None} for r in b.result.rows]}
        for b in batches]}, indent=1)


def versions_line(cc: str) -> str:
    import exprc

    parts = [f"exprc {exprc.__version__}", f"NumPy {np.__version__}"]
    try:
        import onnxruntime

        parts.append(f"ONNX Runtime {onnxruntime.__version__}")
    except ImportError:
        pass
    if shutil.which(cc):
        done = subprocess.run([cc, "--version"], capture_output=True, text=True)
        parts.append((done.stdout.splitlines() or [cc])[0])
    return ", ".join(parts)


# --------------------------------------------------------------------------- driver


def _ints(text: str) -> list[int]:
    values = [int(t) for t in text.split(",") if t.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="timed calls per system")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls before them")
    parser.add_argument("--batches", type=_ints, default=[1, 64], help="e.g. 1,64")
    parser.add_argument("--params", help="a mnist_lenet.py --save file (default: random)")
    parser.add_argument("--filters", type=_ints, default=[20, 50],
                        help="filters of the two convolutions (smaller: a quick check)")
    parser.add_argument("--dense", type=int, default=500, help="units of the dense layer")
    parser.add_argument("--cc", default=os.environ.get("CC", "cc"), help="the C compiler")
    parser.add_argument("--out", help="keep the exports and programs in this folder "
                                      "(default: a temporary one)")
    parser.add_argument("--json", help="write every measurement to this file")
    parser.add_argument("--markdown", action="store_true", help="also print Markdown tables")
    parser.add_argument("--child-exprc", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if len(args.filters) != 2:
        parser.error("--filters takes two numbers")
    if args.repeat < 1 or args.warmup < 0:
        parser.error("--repeat must be at least 1 and --warmup at least 0")
    args.filters = tuple(args.filters)
    return args


def main(argv: list[str] | None = None) -> list[BatchResult]:
    """Run every system on every batch size, print the tables, and return the results."""
    args = parse_args(argv)
    if args.child_exprc:
        child_exprc(args)
        return []
    from exprc.link.c.blas import quiet_idle_threads

    # As in run.py: exprc's idle-thread settings before any library starts a thread pool.
    quiet_idle_threads()
    machine = machine_description()
    versions = versions_line(args.cc)
    print(f"{machine['cpu']}, {machine['cores']} cores; {versions}")
    with tempfile.TemporaryDirectory(prefix="exprc_export_bench_") as temporary:
        work = Path(args.out or temporary)
        work.mkdir(parents=True, exist_ok=True)
        for old in work.glob("batch*"):
            if old.is_dir():  # a kept --out folder's builds of an earlier run
                shutil.rmtree(old)
        start = time.perf_counter()
        network, predict = build_lenet(args.filters, args.dense, args.params)
        print(f"{describe_network(args.filters, args.dense)}; compiled in "
              f"{time.perf_counter() - start:.2f} s")
        from exprc import nn

        nn.layers.save_params(network, work / "params.npz")
        rng = np.random.default_rng(1)
        inputs = {b: rng.random((b,) + IMAGE_SHAPE, dtype=np.float32) for b in args.batches}
        for b, x in inputs.items():
            np.save(work / f"x{b}.npy", x)
        try:
            one_thread = exprc_one_thread(work, args, args.batches)
        except Exception as failure:
            one_thread = failure
        try:
            cblas = (find_cblas(args.cc, work) if shutil.which(args.cc)
                     else Skipped(f"no C compiler {args.cc!r}"))
        except Skipped as reason:
            cblas = reason
        results = []
        for b in args.batches:
            results.append(bench_batch_watched(b, predict, inputs[b], one_thread, work, args,
                                               cblas))
            print()
            print(text_report(results[-1]))
            sys.stdout.flush()
    machine_text = f"{machine['cpu']}, {machine['cores']} cores"
    if args.markdown:
        print("\n" + markdown(results, machine_text, versions))
    if args.json:
        Path(args.json).write_text(to_json(results, {**machine, "versions": versions}))
    return results


if __name__ == "__main__":
    main()
