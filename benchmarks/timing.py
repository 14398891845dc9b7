"""Timing: repeated samples of a callable, summarised by median, minimum and IQR."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


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
