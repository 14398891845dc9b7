"""Timing: repeated samples of a callable, summarised by median, minimum and IQR; and the
background load that ``run.py --load N`` times the workloads under.

It imports nothing but the standard library, so that ``theano_child.py`` can use it in the
Theano environment.
"""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace


@dataclass
class Stats:
    """Seconds per call over ``samples`` samples of ``number`` calls each."""

    median: float
    min: float
    iqr: float
    samples: int
    number: int

    def as_dict(self) -> dict:
        """Plain values for the JSON report."""
        return asdict(self)

    def per(self, count: int) -> Stats:
        """The same samples as seconds per one of ``count`` steps that each call ran."""
        return replace(self, median=self.median / count, min=self.min / count,
                       iqr=self.iqr / count)


def calls_per_sample(fn: Callable[[], object], min_sample_seconds: float) -> int:
    """How many calls make one sample last at least ``min_sample_seconds`` (a power of 10).

    Slow calls are timed one by one; very fast ones (W5) in batches, so the clock's
    resolution and the loop's own cost stay small against the measured time.
    """
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - start >= min_sample_seconds or number >= 10 ** 6:
            return number
        number *= 10


def measure(fn: Callable[[], object], repeat: int, min_sample_seconds: float = 0.005,
            warmup: int = 1) -> Stats:
    """Time ``fn`` (which must block until its work is done) after ``warmup`` calls.

    The garbage collector is paused during the samples, as ``timeit`` does, so that a
    collection triggered by one system's garbage is not charged to another.
    """
    for _ in range(warmup):
        fn()
    number = calls_per_sample(fn, min_sample_seconds)
    samples = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter() - start) / number)
    finally:
        if enabled:
            gc.enable()
    return summarize(samples, number)


def summarize(samples: list[float], number: int = 1) -> Stats:
    """Median, minimum and interquartile range of per-call times."""
    if len(samples) >= 2:
        q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    else:
        q1 = q3 = samples[0]
    return Stats(statistics.median(samples), min(samples), q3 - q1, len(samples), number)


# --------------------------------------------------------------------------- background load

# The busy loop of one load process: plain arithmetic, no memory traffic to speak of, so it
# takes a core's time and little else. It stops by itself at its deadline and as soon as its
# parent is gone (a benchmark killed with SIGKILL cannot run its cleanup), so no busy process
# outlives the benchmark by more than a fraction of a second.
_SPIN = """
import os, sys, time
parent, deadline = int(sys.argv[1]), time.monotonic() + float(sys.argv[2])
print("ready", flush=True)
x = 0
while True:
    for i in range(20000):
        x = (x * 1103515245 + i) % 2147483647
    if os.getppid() != parent or time.monotonic() > deadline:
        break
"""


def load_label(processes: int) -> str:
    """How rows measured beside ``processes`` busy processes are labelled."""
    return "quiet" if processes == 0 else f"loaded ({processes} busy)"


@contextlib.contextmanager
def background_load(processes: int, deadline_s: float = 600.0) -> Iterator[None]:
    """Run the body while ``processes`` other processes each keep one core busy.

    The processes have started spinning when the body begins (each reports when it is ready),
    and are stopped when it ends, however it ends (an exception, Ctrl-C). Each one also stops
    by itself after ``deadline_s`` seconds or when this process is gone. With ``processes``
    0 the body simply runs.
    """
    spinners: list[subprocess.Popen] = []
    try:
        for _ in range(processes):
            spinners.append(subprocess.Popen(
                [sys.executable, "-c", _SPIN, str(os.getpid()), str(deadline_s)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True))
        for spinner in spinners:
            if spinner.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a load process exited with {spinner.wait()}")
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()
            spinner.stdout.close()
