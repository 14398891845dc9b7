"""The GPU benchmarks: exprc's CUDA backend beside PyTorch CUDA, in one run.

Workloads (the CPU suite's, ``workloads.py``'s graphs and data, float32 unless said):

- W1 ``a*x + b*y + c`` over ``2**--size-log2`` elements (default 2**26), with the data passed
  from the host each call (NumPy in, NumPy out, what a user of ``exprc.function`` sees) and
  with everything on the device (exprc: shared variables and an update ``out <- a*x+b*y+c``,
  nothing crossing the bus); floors: the device-to-device copy bandwidth and the bus (two
  uploads and one download of the vectors), both measured in the same run.
- W3 the MLP SGD step (``workloads.mlp_sizes()``, batch 128) and W4 the LeNet SGD step (batches
  128 and 1024): parameters on the device; the batch passed from NumPy each call, or set once
  on the device (exprc: shared variables through ``givens``). Each call returns the cost.
- W5 the call overhead of ``x + 1`` on 10 float64 elements: from the host, on the device with
  the result fetched, and on the device with the result kept there.

PyTorch runs each workload eagerly on its CUDA tensors and, where it helps (W1, W3, W4), under
``torch.compile``, with TF32 off (exprc's float32 products are float32). Every system's first
result is checked against NumPy; the steps by their cost and by the gradients read back from
their updated parameters. Each call is timed to the end of its device work (a synchronize, or
the copy of a result to the host). See the GPU section of ``benchmarks/README.md``.

Usage::

    python benchmarks/gpu.py [--only W1,W3] [--repeat 15] [--markdown] [--json gpu.json]
    python benchmarks/run.py --device cuda [same options]
    python benchmarks/gpu.py --emulate --size-log2 10 ...   # test mode: the CPU emulator
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import platform
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import workloads as wl
from peers import Runner, Skipped
from report import Result, Row, ratio, seconds
from run import mismatch
from timing import measure

import exprc
import exprc.tensor as T

GPU_WORKLOADS = ("W1", "W3", "W4", "W5")
# The cheap workloads first: a run stopped by a time limit has printed their tables.
RUN_ORDER = ("W1", "W5", "W3", "W4")
PEERS = ("pytorch", "torch.compile")

# Where a row's data is (the "data" column); rows are compared with exprc's in the same place.
HOST = "from host"              # NumPy in, NumPy out: every call crosses the bus
FETCHED = "on device, fetched"  # inputs on the device, the (small) result copied to the host
DEVICE = "on device"            # inputs and results stay on the device; timed to a synchronize


# --------------------------------------------------------------------------- results


@dataclass
class GpuRow(Row):
    """A :class:`report.Row` with where its data was (:data:`HOST`, :data:`FETCHED`,
    :data:`DEVICE`); ``build_s`` is the time to the first result (build, compile, first
    call)."""

    data: str = ""


@dataclass
class GpuResult(Result):
    """A timed GPU workload: ``floors`` per data place (``{place: (seconds, how)}``) and, for
    W1, the bytes a call must move (``traffic``) for the effective bandwidth."""

    floors: dict[str, tuple[float, str]] = field(default_factory=dict)
    traffic: int | None = None
    notes: list[str] = field(default_factory=list)

    def reference(self, data: str) -> float | None:
        """exprc's median with its data in ``data``, or None."""
        row = next((r for r in self.rows if r.system == "exprc" and r.data == data), None)
        return row.stats.median if row and row.stats else None


def timed_row(system: str, data: str, build, reference, repeat: int, budget_s: float,
              atol: float = 1e-5) -> GpuRow:
    """Build one system's runner, check its first result against ``reference`` and time it.

    A slow call gets fewer samples (at least 3, or ``repeat`` if fewer), so that the row's
    samples take about ``budget_s``. A builder raising :class:`Skipped` gives a row that says
    why; any other failure a row that says what failed.
    """
    try:
        start = time.perf_counter()
        runner = build()
        first = runner.fn()
        first_s = time.perf_counter() - start
        error = _mismatch(runner.check(first) if runner.check else first, reference, atol)
        start = time.perf_counter()
        runner.fn()
        once = max(time.perf_counter() - start, 1e-9)
        samples = min(repeat, max(3, int(budget_s / once)))
        stats = measure(runner.fn, samples, warmup=0)
        return GpuRow(system, stats, runner.note, error, first_s, data=data)
    except Skipped as reason:
        return GpuRow(system, error=f"skipped: {reason}", data=data)
    except Exception as failure:
        first_line = (str(failure).splitlines() or [""])[0]
        return GpuRow(system, error=f"{type(failure).__name__}: {first_line[:200]}", data=data)


def _mismatch(value, reference, atol: float) -> str:
    """``run.mismatch`` (its float32 tolerances), computed in float32 for large float32
    arrays (W1's): the float64 copies it makes take seconds at 2**26 elements."""
    if not (isinstance(reference, np.ndarray) and reference.dtype == np.float32
            and reference.size > 1 << 20):
        return mismatch(value, reference, atol=atol)
    value = np.asarray(value)
    if value.shape != reference.shape or value.dtype != np.float32:
        return mismatch(value, reference, atol=atol)
    difference = np.abs(value - reference)
    if np.all(difference <= atol + 2e-3 * np.abs(reference)):  # NaN compares False: flagged
        return ""
    return f"WRONG: max |difference| {np.nanmax(difference):.3g}"


def _bytes(count: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count:.0f} B"


# --------------------------------------------------------------------------- exprc


CUDA_MODE = exprc.Mode(linker="cuda")


class ExprcCuda:
    """exprc's CUDA backend on one device (a GPU, or the CPU emulator in test mode): builds
    ``exprc.function`` with ``Mode(linker='cuda')`` for it, and waits for it."""

    def __init__(self, device):
        self.device = device

    def function(self, inputs, outputs, **kwargs):
        """The compiled function, and a note on where its nodes run (nodes without a CUDA
        rule run on the CPU with transfers; the note names them)."""
        from exprc.link.cuda import using_device
        from exprc.link.cuda.program import CudaFallbackWarning

        with using_device(self.device), warnings.catch_warnings():
            warnings.simplefilter("ignore", CudaFallbackWarning)
            f = exprc.function(inputs, outputs, mode=CUDA_MODE, **kwargs)
        placement = f.placement()
        on_cpu = [node.split(": ", 1)[-1] for node, where in placement
                  if where == "cpu (transfer)"]
        note = "Mode(linker='cuda')"
        if on_cpu:
            names = list(dict.fromkeys(on_cpu))
            note += (f"; {len(on_cpu)} of {len(placement)} nodes on the CPU (no CUDA rule): "
                     + ", ".join(names[:4]) + (", ..." if len(names) > 4 else ""))
        return f, note

    def synchronize(self) -> None:
        self.device.synchronize()

    def shared(self, value, name: str):
        return exprc.shared(np.asarray(value), name=name)

    # -- W1
    def w1(self, d: wl.ElementwiseData, data: str) -> Runner:
        if data == HOST:
            a, b, c = (T.scalar(name, dtype="float32") for name in "abc")
            x, y = T.vector("x", dtype="float32"), T.vector("y", dtype="float32")
            f, note = self.function([a, x, b, y, c], a * x + b * y + c)
            return Runner(lambda: f(d.a, d.x, d.b, d.y, d.c), note + ", NumPy in and out")
        a, x, b, y, c = (self.shared(getattr(d, n), n) for n in "axbyc")
        out = self.shared(np.zeros_like(d.x), "out")
        f, note = self.function([], [], updates=[(out, a * x + b * y + c)])
        return Runner(self._synchronized(f), note + ", shared x, y, a, b, c; update of a "
                      "shared out",
                      check=lambda _: out.get_value())

    def _synchronized(self, f):
        def call():
            f()
            self.synchronize()

        return call

    # -- W3, W4
    def step(self, graph, data, params: list[np.ndarray], data_place: str) -> Runner:
        """An SGD step from a ``workloads`` graph builder (``mlp_train_graph``,
        ``lenet_train_graph``): the batch from NumPy each call, or (``FETCHED``) in shared
        variables substituted by ``givens``. Checked by the cost and the gradients read back
        from the updated parameters (``workloads.lstm_check``)."""
        (x, labels), cost, updates = graph(data)
        if data_place == HOST:
            f, note = self.function([x, labels], cost, updates=updates)
            fn, note = (lambda: f(data.X, data.labels)), note + ", batch from NumPy"
        else:
            givens = {x: self.shared(data.X, "X"), labels: self.shared(data.labels, "labels")}
            f, note = self.function([], cost, updates=updates, givens=givens)
            fn, note = f, note + ", batch in shared variables (givens)"
        shared = [p for p, _ in updates]
        return Runner(fn, note + "; parameters shared",
                      check=lambda cost: wl.lstm_check(cost, params,
                                                       [p.get_value() for p in shared]))

    # -- W5
    def w5(self, x: np.ndarray, data: str, trust_input: bool = False) -> Runner:
        if data == HOST:
            v = T.vector("x", dtype=str(x.dtype))
            f, note = self.function([v], v + 1, trust_input=trust_input)
            return Runner(lambda: f(x), note + ", NumPy in and out"
                          + (", trust_input=True" if trust_input else ""))
        v = self.shared(x, "x")
        if data == FETCHED:
            f, note = self.function([], v + 1)
            return Runner(f, note + ", shared x, result returned")
        out = self.shared(np.zeros_like(x), "out")
        f, note = self.function([], [], updates=[(out, v + 1)])
        return Runner(self._synchronized(f), note + ", shared x, update of a shared out",
                      check=lambda _: out.get_value())

    # -- floors
    def copy_seconds(self, n: int, repeat: int) -> float:
        """Best time of a device-to-device copy of ``n`` float32 (``cuMemcpyDtoDAsync``)."""
        from exprc.link.cuda.device import DeviceArray

        source = DeviceArray.empty(self.device, (n,), np.float32)
        target = DeviceArray.empty(self.device, (n,), np.float32)

        def copy_once():
            self.device.copy(target.address, source.address, source.nbytes)
            self.synchronize()

        return measure(copy_once, repeat).min

    def bus_seconds(self, d: wl.ElementwiseData, repeat: int) -> float:
        """Best time of uploading ``d.x`` and ``d.y`` and downloading a vector as long, with
        the device's own copies (the transfers exprc makes for W1 from the host)."""
        from exprc.link.cuda.device import DeviceArray

        result = DeviceArray.from_host(self.device, d.x)

        def transfers():
            DeviceArray.from_host(self.device, d.x)
            DeviceArray.from_host(self.device, d.y)
            result.to_host()

        return measure(transfers, repeat).min


# --------------------------------------------------------------------------- PyTorch


class TorchCuda:
    """PyTorch on a CUDA device (``device="cpu"`` only to try the code without a GPU).

    Eager runners and ``torch.compile`` (``dynamic=False``: every shape its own graph) of the
    same code; each call ends with ``torch.cuda.synchronize()`` or a copy to the host. TF32 is
    turned off for products and convolutions, so that float32 is float32 as in exprc.
    """

    name = "PyTorch"

    def __init__(self, device: str = "cuda"):
        import torch

        self.torch = torch
        self.version = torch.__version__
        self.device = torch.device(device)
        if self.device.type == "cuda":
            if not torch.cuda.is_available():
                raise ImportError(f"torch {torch.__version__} sees no CUDA device (built for "
                                  f"CUDA {torch.version.cuda})")
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False

    def describe(self) -> str:
        t = self.torch
        text = f"PyTorch {self.version}"
        if self.device.type == "cuda":
            cudnn = t.backends.cudnn.version() if t.backends.cudnn.is_available() else None
            text += (f" (CUDA {t.version.cuda}, cuDNN {cudnn}) on "
                     f"{t.cuda.get_device_name(self.device)}")
        else:
            text += f" on {self.device}"
        return text

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)

    def put(self, array) -> object:
        """A copy of ``array`` on the device (a 0-d array stays 0-d)."""
        return self.torch.from_numpy(np.array(array, order="C")).to(self.device)

    def _compile(self, fn):
        return self.torch.compile(fn, dynamic=False)

    @staticmethod
    def _host(value) -> np.ndarray:
        return value.detach().cpu().numpy()

    # -- W1
    def w1(self, d: wl.ElementwiseData, data: str, compiled: bool = False) -> Runner:
        def w1(a, x, b, y, c):
            return a * x + b * y + c

        a, b, c = (self.put(np.asarray(s)) for s in (d.a, d.b, d.c))
        if data == HOST:
            x, y = self.torch.from_numpy(d.x), self.torch.from_numpy(d.y)
            dev = self.device
            return Runner(lambda: w1(a, x.to(dev), b, y.to(dev), c).cpu(),
                          "eager, .to(device) in, .cpu() out", check=self._host)
        f = self._compile(w1) if compiled else w1
        x, y = self.put(d.x), self.put(d.y)

        def run():
            out = f(a, x, b, y, c)
            self.synchronize()
            return out

        return Runner(run, ("torch.compile" if compiled else "eager") + ", synchronize",
                      check=self._host)

    # -- W3
    def mlp_step(self, data: wl.MLPData):
        t = self.torch
        layers = []
        for W, b in data.copy_params():
            layer = t.nn.Linear(*W.shape)
            with t.no_grad():
                layer.weight.copy_(t.from_numpy(W.T.copy()))
                layer.bias.copy_(t.from_numpy(b))
            layers += [layer, t.nn.ReLU()]
        model = t.nn.Sequential(*layers[:-1]).to(self.device)
        linear = [m for m in model if isinstance(m, t.nn.Linear)]
        optimizer = t.optim.SGD(model.parameters(), lr=float(wl.LEARNING_RATE))

        def step(X, labels):
            optimizer.zero_grad(set_to_none=True)
            cost = t.nn.functional.cross_entropy(model(X), labels)
            cost.backward()
            optimizer.step()
            return cost.detach()

        def current():
            return [v for m in linear for v in (self._host(m.weight).T, self._host(m.bias))]

        return step, current

    # -- W4
    def lenet_step(self, data: wl.LeNetData):
        from peers import torch_lenet_step  # the CPU benchmark's step, on this device

        params, step = torch_lenet_step(self.torch, data, self.put)

        def current():
            values = [self._host(p) for p in params]
            for i in (0, 2):
                values[i] = values[i][:, :, ::-1, ::-1]
            return values

        return step, current

    def step(self, make, data, params: list[np.ndarray], data_place: str,
             compiled: bool = False) -> Runner:
        """The SGD step that ``make`` (:meth:`mlp_step`, :meth:`lenet_step`) writes, returning the
        cost with ``.item()``; the batch copied from the host each call, or (``FETCHED``) on
        the device once."""
        step, current = make(data)
        if compiled:
            step = self._compile(step)
        labels = data.labels.astype(np.int64)
        if data_place == HOST:
            X, y, dev = self.torch.from_numpy(data.X), self.torch.from_numpy(labels), self.device
            fn, note = (lambda: step(X.to(dev), y.to(dev)).item()), "batch .to(device) each call"
        else:
            X, y = self.put(data.X), self.put(labels)
            fn, note = (lambda: step(X, y).item()), "batch on the device"
        how = "torch.compile of the step" if compiled else "eager"
        return Runner(fn, f"{how}, optim.SGD, {note}, cost .item()",
                      check=lambda cost: wl.lstm_check(cost, params, current()))

    # -- W5
    def w5(self, x: np.ndarray, data: str) -> Runner:
        if data == HOST:
            host, dev = self.torch.from_numpy(x), self.device
            return Runner(lambda: (host.to(dev) + 1).cpu(), ".to(device), + 1, .cpu()",
                          check=self._host)
        v = self.put(x)
        if data == FETCHED:
            return Runner(lambda: (v + 1).cpu(), "+ 1, .cpu()", check=self._host)

        def run():
            out = v + 1
            self.synchronize()
            return out

        return Runner(run, "+ 1, synchronize", check=self._host)

    # -- floors
    def copy_seconds(self, n: int, repeat: int) -> float:
        """Best time of ``dst.copy_(src)`` on ``n`` float32 on the device."""
        source = self.torch.empty(n, dtype=self.torch.float32, device=self.device)
        target = self.torch.empty_like(source)

        def copy_once():
            target.copy_(source)
            self.synchronize()

        return measure(copy_once, repeat).min

    def bus_seconds(self, d: wl.ElementwiseData, repeat: int) -> float:
        """Best time of ``x.to(device)``, ``y.to(device)`` and ``.cpu()`` of a vector as long."""
        x, y, dev = self.torch.from_numpy(d.x), self.torch.from_numpy(d.y), self.device
        result = self.put(d.x)
        return measure(lambda: (x.to(dev), y.to(dev), result.cpu()), repeat).min


# --------------------------------------------------------------------------- workloads


@dataclass
class Systems:
    """What runs: exprc (None: skipped for ``exprc_reason``), PyTorch eager and compiled."""

    exprc: ExprcCuda | None
    exprc_reason: str = ""
    torch: TorchCuda | None = None
    eager: bool = False
    compiled: bool = False
    notes: list[str] = field(default_factory=list)

    def exprc_build(self, build):
        """``build`` for exprc's row, or a builder that says why it is skipped."""
        if self.exprc is None:
            def skipped():
                raise Skipped(self.exprc_reason)

            return skipped
        return build


def _rows(builders: list[tuple[str, str, object]], reference, options,
          atol: float = 1e-5) -> list[GpuRow]:
    return [timed_row(system, data, build, reference, options.repeat, options.seconds, atol)
            for system, data, build in builders]


def w1_floors(result: GpuResult, d: wl.ElementwiseData, systems: Systems, repeat: int) -> None:
    """Measure W1's floors into ``result.floors``: on the device, the traffic at the
    device-to-device copy bandwidth (PyTorch's copy when it runs, else exprc's device's);
    from the host, the bus (exprc's device's transfers, else PyTorch's). A floor that cannot
    be measured is left out, with a note saying why."""
    n, traffic = d.x.size, result.traffic
    copier = systems.torch or systems.exprc
    if copier is not None:
        what = ("torch dst.copy_(src)" if copier is systems.torch
                else "the device's copy (cuMemcpyDtoD)")
        try:
            bandwidth = 2 * 4 * n / copier.copy_seconds(n, 2 * repeat)
        except Exception as failure:
            result.notes.append(f"no floor on the device: {what} failed: {failure}")
        else:
            result.floors[DEVICE] = (traffic / bandwidth, (
                f"{_bytes(traffic)} (2 reads + 1 write) at {bandwidth / 1e9:.3g} GB/s, the "
                f"device-to-device copy bandwidth ({what} of {_bytes(4 * n)}, read + write)"))
            result.floor_s, result.floor_note = result.floors[DEVICE]
    mover = systems.exprc or systems.torch
    if mover is not None:
        what = ("exprc's device uploads and download" if mover is systems.exprc
                else "torch .to(device) and .cpu()")
        try:
            bus_s = mover.bus_seconds(d, repeat)
        except Exception as failure:
            result.notes.append(f"no floor from the host: {what} failed: {failure}")
        else:
            result.floors[HOST] = (bus_s, f"2 uploads + 1 download of {_bytes(4 * n)} over "
                                          f"the bus ({what}, pageable memory): "
                                          f"{traffic / bus_s / 1e9:.3g} GB/s")


def bench_w1(systems: Systems, options) -> GpuResult:
    """W1 from the host and on the device; floors: the copy bandwidth and the bus."""
    n = 2 ** options.size_log2
    d = wl.ElementwiseData.random(n)
    traffic = 3 * 4 * n
    result = GpuResult("W1", f"{wl.W1_EXPRESSION}, 2**{options.size_log2} float32",
                       traffic=traffic)
    w1_floors(result, d, systems, options.repeat)
    builders = []
    for data in (HOST, DEVICE):
        builders.append(("exprc", data, systems.exprc_build(
            lambda data=data: systems.exprc.w1(d, data))))
    if systems.eager:
        builders += [("PyTorch eager", data, lambda data=data: systems.torch.w1(d, data))
                     for data in (HOST, DEVICE)]
    if systems.compiled:
        builders.append(("torch.compile", DEVICE,
                         lambda: systems.torch.w1(d, DEVICE, compiled=True)))
    result.rows = _rows(builders, wl.w1_numpy(d), options)
    return result


def _flat_mlp(params) -> list[np.ndarray]:
    return [array for pair in params for array in pair]


def mlp_reference(data: wl.MLPData) -> np.ndarray:
    """The first W3 step's cost and gradients (``workloads.lstm_check``'s layout) from the
    hand-written NumPy step, run in float64 so that the reference has no float32 rounding."""
    wide = copy.copy(data)
    kept = [(W.astype(np.float64), b.astype(np.float64)) for W, b in data.params]
    wide.copy_params = lambda: kept  # the step updates these in place
    wide.X = data.X.astype(np.float64)
    cost = wl.mlp_train_numpy(wide)()
    return wl.lstm_check(cost, _flat_mlp(data.params), _flat_mlp(kept))


def lenet_reference(data: wl.LeNetData) -> np.ndarray:
    """The first W4 step's cost and gradients, by hand in NumPy in float64."""
    cost, grads = wl.lenet_cost_and_grads_numpy([p.astype(np.float64) for p in data.params],
                                                data.X.astype(np.float64), data.labels)
    return np.concatenate([[cost]] + [g.ravel() for g in grads])


def bench_step(key: str, title: str, data, graph, params: list[np.ndarray], reference,
               torch_make, systems: Systems, options) -> GpuResult:
    """W3 or W4: the step with the batch from the host and on the device."""
    result = GpuResult(key, title)
    builders = []
    for place in (HOST, FETCHED):
        builders.append(("exprc", place, systems.exprc_build(
            lambda place=place: systems.exprc.step(graph, data, params, place))))
    if systems.eager:
        builders += [("PyTorch eager", place, lambda place=place: systems.torch.step(
            getattr(systems.torch, torch_make), data, params, place)) for place in (HOST, FETCHED)]
    if systems.compiled:
        builders.append(("torch.compile", FETCHED, lambda: systems.torch.step(
            getattr(systems.torch, torch_make), data, params, FETCHED, compiled=True)))
    # Gradients add up over the batch in float32 and some entries are near zero: the absolute
    # tolerance is relative to the largest gradient (as W8's).
    result.rows = _rows(builders, reference, options, atol=1e-4 * np.abs(reference[1:]).max())
    return result


def bench_w3(systems: Systems, options) -> GpuResult:
    sizes = options.w3_sizes
    data = wl.MLPData.random(sizes, options.w3_batch)
    return bench_step("W3", f"MLP step {'-'.join(map(str, sizes))}, batch {options.w3_batch}, "
                            "float32", data, wl.mlp_train_graph, _flat_mlp(data.params),
                      mlp_reference(data), "mlp_step", systems, options)


def bench_w4(batch: int, systems: Systems, options) -> GpuResult:
    c, image, f1, f2, k, hidden, classes = options.w4_shape
    shape = wl.LeNetShape(batch=batch, channels=c, image=image, filters=(f1, f2), kernel=k,
                          hidden=hidden, classes=classes)
    data = wl.LeNetData.random(shape)
    return bench_step("W4", f"LeNet step {c}x{image}x{image} -> {f1}@{k}x{k} -> {f2}@{k}x{k} "
                            f"-> {hidden} -> {classes}, batch {batch}, float32", data,
                      wl.lenet_train_graph, data.params, lenet_reference(data), "lenet_step",
                      systems, options)


def bench_w5(systems: Systems, options) -> GpuResult:
    """W5: ``x + 1`` on a small float64 vector, in the three places."""
    x = np.arange(options.w5_size, dtype=np.float64)
    result = GpuResult("W5", f"call overhead of f(x) = x + 1, {options.w5_size} float64")
    builders = []
    for place in (HOST, FETCHED, DEVICE):
        builders.append(("exprc", place, systems.exprc_build(
            lambda place=place: systems.exprc.w5(x, place))))
        if place == HOST:
            builders.append(("exprc trust_input", HOST, systems.exprc_build(
                lambda: systems.exprc.w5(x, HOST, trust_input=True))))
    if systems.eager:
        builders += [("PyTorch eager", place, lambda place=place: systems.torch.w5(x, place))
                     for place in (HOST, FETCHED, DEVICE)]
    result.rows = _rows(builders, wl.w5_numpy(x), options)
    return result


# --------------------------------------------------------------------------- tables


def _failure(error: str) -> str:
    return error if error.startswith("skipped") else f"failed: {error}"


def _of_floor(result: GpuResult, row: GpuRow) -> str:
    """The floor's time over the row's median: for W1 on the device, the share of the copy
    bandwidth the row reaches."""
    floor = result.floors.get(row.data)
    if floor is None or row.stats is None:
        return "-"
    return f"{100 * floor[0] / row.stats.median:.0f}%"


def _bandwidth(result: GpuResult, row: GpuRow) -> str:
    if result.traffic is None or row.stats is None:
        return "-"
    rate = result.traffic / row.stats.median / 1e9
    return f"{rate:.0f}" if rate >= 100 else f"{rate:.3g}"


def text_table(result: GpuResult) -> str:
    """One workload's plain-text table: each row compared with exprc's with its data in the
    same place, and with the floor of that place."""
    lines = [f"{result.key}  {result.title}"]
    lines += [f"    floor ({place}) {seconds(s)}: {how}" for place, (s, how)
              in result.floors.items()]
    lines += [f"    {note}" for note in result.notes]
    bandwidth = result.traffic is not None
    lines.append(f"    {'system':<19}{'data':<20}{'median':>10}{'min':>10}{'IQR':>10}"
                 f"{'vs exprc':>10}{'of floor':>9}" + (f"{'GB/s':>8}" if bandwidth else "")
                 + f"{'first':>10}  how")
    for r in result.rows:
        if r.stats is None:
            lines.append(f"    {r.system:<19}{r.data:<20}{_failure(r.error)}")
            continue
        s = r.stats
        note = r.note + (f"  [{r.error}]" if r.error else "")
        lines.append(f"    {r.system:<19}{r.data:<20}{seconds(s.median):>10}{seconds(s.min):>10}"
                     f"{seconds(s.iqr):>10}{ratio(s.median, result.reference(r.data)):>10}"
                     f"{_of_floor(result, r):>9}"
                     + (f"{_bandwidth(result, r):>8}" if bandwidth else "")
                     + f"{seconds(r.build_s):>10}  {note}")
    return "\n".join(lines)


def markdown(results: list[GpuResult], machine: str) -> str:
    """One Markdown table of every row of every workload."""
    lines = [machine, "",
             "| workload | system | data | median | vs exprc | of floor | GB/s | first result |",
             "|---|---|---|---|---|---|---|---|"]
    for result in results:
        for r in result.rows:
            title = f"{result.key} {result.title}"
            if r.stats is None:
                cell = "skipped" if r.error.startswith("skipped") else "failed"
                lines.append(f"| {title} | {r.system} | {r.data} | {cell} | - | - | - | - |")
                continue
            wrong = " WRONG" if r.error else ""
            lines.append(f"| {title} | {r.system} | {r.data} | {seconds(r.stats.median)}{wrong} "
                         f"| {ratio(r.stats.median, result.reference(r.data))} "
                         f"| {_of_floor(result, r)} | {_bandwidth(result, r)} "
                         f"| {seconds(r.build_s)} |")
    lines += ["", "median per call; vs exprc: against exprc's median with the data in the same "
                  "place; of floor: the floor's time over the median (W1 on the device: the "
                  "share of the copy bandwidth); first result: build, compile and first call."]
    floors = [f"- {r.key} floor ({place}): {seconds(s)}, {how}" for r in results
              for place, (s, how) in r.floors.items()]
    floors += [f"- {r.key}: {note}" for r in results for note in r.notes]
    if floors:
        lines += [""] + floors
    return "\n".join(lines)


def to_json(results: list[GpuResult], machine: dict) -> str:
    """Every measurement."""
    out = {"machine": machine, "workloads": []}
    for result in results:
        out["workloads"].append({
            "key": result.key, "title": result.title, "traffic_bytes": result.traffic,
            "floors": {place: {"seconds": s, "how": how}
                       for place, (s, how) in result.floors.items()},
            "rows": [{"system": r.system, "data": r.data, "note": r.note, "error": r.error,
                      "first_result_s": r.build_s,
                      "stats": asdict(r.stats) if r.stats else None} for r in result.rows]})
    return json.dumps(out, indent=1)


# --------------------------------------------------------------------------- machine


def _nvidia_smi() -> str | None:
    """``name, driver version, memory`` of the first GPU as nvidia-smi says, or None."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                               "--format=csv,noheader"], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else None


def machine_description(systems: Systems, emulate: bool) -> dict:
    """What the numbers were measured on: the GPU, its driver, the CUDA versions, PyTorch."""
    info = {"python": platform.python_version(), "numpy": np.__version__,
            "exprc": exprc.__version__}
    device = systems.exprc.device if systems.exprc else None
    if emulate:
        info["device"] = "CUDA emulator on the CPU (test mode: the times mean nothing)"
    elif device is not None:
        info["device"] = f"{device.name}, {device.multiprocessors} SMs"
        info["driver_cuda"] = getattr(device, "driver_cuda_version", None)
        try:
            from exprc.link.cuda.toolchain import find_nvcc

            info["nvcc"] = find_nvcc().version
        except Exception as failure:  # reported, not fatal: the device itself was set up
            info["nvcc"] = f"unknown ({failure})"
    if not emulate:
        info["nvidia_smi"] = _nvidia_smi()
    if systems.torch is not None:
        info["torch"] = systems.torch.describe()
    return info


def machine_line(info: dict) -> str:
    parts = [f"GPU: {info.get('device') or info.get('nvidia_smi') or 'none for exprc'}"]
    if info.get("nvidia_smi"):
        parts.append(f"nvidia-smi: {info['nvidia_smi']}")
    if info.get("driver_cuda"):
        parts.append(f"driver CUDA {info['driver_cuda']}")
    if info.get("nvcc"):
        parts.append(f"nvcc {info['nvcc']}")
    if info.get("torch"):
        parts.append(info["torch"])
    parts.append(f"Python {info['python']}, NumPy {info['numpy']}, exprc {info['exprc']}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- driver


def _ints(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}") from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(GPU_WORKLOADS),
                        help="comma-separated workloads among W1, W3, W4, W5 (default: all)")
    parser.add_argument("--repeat", type=int, default=15, help="timed samples per row, at most")
    parser.add_argument("--seconds", type=float, default=3.0,
                        help="about how long one row's samples may take: a slow call gets "
                             "fewer samples (at least 3)")
    parser.add_argument("--size-log2", type=int, default=26, help="W1 length is 2**this")
    parser.add_argument("--w3-sizes", type=_ints, default=wl.mlp_sizes(2),
                        help="W3 layer widths (default 784,256,256,10)")
    parser.add_argument("--w3-batch", type=int, default=128)
    parser.add_argument("--w4-batches", type=_ints, default=[128, 1024])
    parser.add_argument("--w4-shape", type=_ints, default=[1, 28, 20, 50, 5, 500, 10],
                        help="LeNet: channels,image side,filters 1,filters 2,kernel,hidden,"
                             "classes (default 1,28,20,50,5,500,10)")
    parser.add_argument("--w5-size", type=int, default=10)
    parser.add_argument("--peers", default=",".join(PEERS),
                        help="'pytorch' (eager), 'torch.compile', both (default) or 'none'")
    parser.add_argument("--json", help="write every measurement to this file")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    parser.add_argument("--emulate", action="store_true",
                        help="test mode: run exprc on its CPU emulation of a CUDA device (the "
                             "times mean nothing; for checking the script without a GPU)")
    args = parser.parse_args(argv)
    if len(args.w4_shape) != 7:
        parser.error(f"--w4-shape takes 7 numbers, got {len(args.w4_shape)}")
    return args


def make_systems(args: argparse.Namespace, torch_device: str = "cuda") -> Systems:
    """exprc on the GPU (or the emulator), and the PyTorch peers asked for that import."""
    notes = []
    exprc_system, reason = None, ""
    if args.emulate:
        from exprc.link.cuda.emulator import EmulatedDevice

        exprc_system = ExprcCuda(EmulatedDevice())
    else:
        from exprc.link.cuda import default_device
        from exprc.link.cuda.driver import CudaUnavailable

        try:
            exprc_system = ExprcCuda(default_device())
        except Exception as failure:  # CudaUnavailable says why; anything else, what failed
            reason = str(failure) if isinstance(failure, CudaUnavailable) else (
                f"setting up the GPU failed: {type(failure).__name__}: {failure}")
            notes.append(f"exprc skipped: {reason}")
    names = set() if args.peers.strip().lower() == "none" else {
        p.strip().lower() for p in args.peers.split(",") if p.strip()}
    unknown = names - set(PEERS)
    if unknown:
        notes.append(f"peers without a GPU version here, not run: {', '.join(sorted(unknown))}")
    ordinal = getattr(exprc_system.device, "ordinal", None) if exprc_system else None
    if torch_device == "cuda" and ordinal is not None:
        torch_device = f"cuda:{ordinal}"  # the GPU exprc uses (the device flag may name one)
    torch_system = None
    if names & set(PEERS):
        try:
            torch_system = TorchCuda(torch_device)
        except Exception as failure:  # not installed, no CUDA, or a build that does not load
            notes.append(f"PyTorch skipped: {type(failure).__name__}: {failure}")
    return Systems(exprc_system, reason, torch_system,
                   eager=torch_system is not None and "pytorch" in names,
                   compiled=torch_system is not None and "torch.compile" in names, notes=notes)


def run(args: argparse.Namespace, systems: Systems) -> list[GpuResult]:
    """Run the selected workloads, printing each table as it is done."""
    only = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    steps = {"W1": [lambda: bench_w1(systems, args)],
             "W3": [lambda: bench_w3(systems, args)],
             "W4": [lambda batch=batch: bench_w4(batch, systems, args)
                    for batch in args.w4_batches],
             "W5": [lambda: bench_w5(systems, args)]}
    unknown = [w for w in only if w not in steps]
    if unknown:
        print(f"no GPU version of {', '.join(unknown)}; GPU workloads: "
              f"{', '.join(GPU_WORKLOADS)}")
    results, start = [], time.perf_counter()
    for key in RUN_ORDER:
        if key in only:
            for step in steps[key]:
                print()
                began = time.perf_counter()
                result = step()
                print(text_table(result))
                print(f"    ({result.key} took {time.perf_counter() - began:.0f} s)")
                sys.stdout.flush()
                results.append(result)
    print(f"\nall workloads: {time.perf_counter() - start:.0f} s")
    return results


def main(argv: list[str] | None = None, torch_device: str = "cuda") -> list[GpuResult]:
    """Run the GPU benchmarks, print their tables (and Markdown, JSON when asked); return the
    results. ``torch_device`` is PyTorch's device (``"cpu"`` only to try the code)."""
    args = parse_args(argv)
    systems = make_systems(args, torch_device)
    info = machine_description(systems, args.emulate)
    line = machine_line(info)
    print(line)
    for note in systems.notes:
        print(note)
    with _quiet_compile_logs():
        results = run(args, systems)
    if args.markdown:
        print("\n" + markdown(results, line))
    if args.json:
        Path(args.json).write_text(to_json(results, info))
    return results


@contextlib.contextmanager
def _quiet_compile_logs():
    """Keep torch.compile's warnings about its own choices (recompiles, graph breaks) out of
    the tables; failures still show as failed rows."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"torch\..*")
        yield


if __name__ == "__main__":
    main()
