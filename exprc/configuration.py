"""Global configuration: ``exprc.config``.

Values come from, in increasing priority: the defaults below, the ``EXPRC_FLAGS`` environment
variable (``EXPRC_FLAGS="floatX=float32,debug=1"``), and assignments at run time
(``exprc.config.floatX = 'float32'``). Every flag is validated when it is set, so a typo fails
loudly instead of being ignored.
"""

from __future__ import annotations

import math
import os
import re
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Flag:
    default: Any
    parse: Callable[[str], Any]
    check: Callable[[Any], bool]
    doc: str


def _float_dtype(value: str) -> str:
    return str(value)


def _shell_words(value: Any) -> bool:
    """Whether ``value`` is a string that splits into words like a shell command line (the C
    compiler and its flags are split this way and run without a shell)."""
    if not isinstance(value, str):
        return False
    try:
        shlex.split(value)
    except ValueError:
        return False
    return True


def _seconds(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


_DEVICE = re.compile(r"cpu|(cuda|gpu)[0-9]*")


def _bool(value: str) -> bool:
    text = str(value).strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise ValueError(f"expected True, False, 1 or 0, got {value!r}")
    return text in ("true", "1")


_FLAGS = {
    "floatX": _Flag(
        "float64", _float_dtype, lambda v: v in ("float32", "float64"),
        "dtype of floating-point variables and Python float constants: float32 or float64",
    ),
    "mode": _Flag(
        "FAST_RUN", str, lambda v: isinstance(v, str),
        "default compilation mode of function(): FAST_RUN (all rewrites, compiled to C), "
        "FAST_COMPILE (cheap rewrites, NumPy executor) or REFERENCE (no rewrites, NumPy)",
    ),
    "optimizer_excluding": _Flag(
        "", str, lambda v: isinstance(v, str),
        "colon-separated names of rewrite passes or rules that function() must not run",
    ),
    "fast_math": _Flag(
        False, _bool, lambda v: isinstance(v, bool),
        "let rewrites assume no value is inf or NaN (x - x -> 0, x / x -> 1, x * 0 -> 0 for "
        "floats); off by default because those rewrites change such results",
    ),
    "device": _Flag(
        "cpu", str, lambda v: isinstance(v, str) and _DEVICE.fullmatch(v) is not None,
        "where FAST_RUN functions run: cpu (compiled C) or cuda / cudaN (an NVIDIA GPU through "
        "pycuda, device N, default 0; needs pip install 'exprc[cuda]', a driver and nvcc)",
    ),
    "nvcc": _Flag(
        "", str, _shell_words,
        "nvcc command for the CUDA backend (split like a shell command line, never run through "
        "a shell); empty: $CUDA_HOME/bin/nvcc, $CUDA_PATH/bin/nvcc, nvcc on PATH, then "
        "/usr/local/cuda*/bin/nvcc",
    ),
    "c_compiler": _Flag(
        "", str, _shell_words,
        "C compiler command for the C backend (e.g. 'gcc-13' or 'ccache gcc', split like a "
        "shell command line, never run through a shell); empty: the CC environment variable, "
        "else cc or gcc",
    ),
    "c_optimize": _Flag(
        "full", str, lambda v: v in ("full", "fast"),
        "C compiler optimisation: 'full' (-O3 -march=native, the default) or 'fast' (-O1, "
        "quick builds for tests)",
    ),
    "c_flags": _Flag(
        "", str, _shell_words,
        "extra C compiler flags, appended last (split like a shell command line, never run "
        "through a shell)",
    ),
    "c_compile_timeout": _Flag(
        600.0, float, _seconds,
        "seconds a C build may take before its compiler processes are stopped and "
        "function() raises a CompileError; 0: no limit",
    ),
    "openmp": _Flag(
        True, _bool, lambda v: isinstance(v, bool),
        "let generated loops use OpenMP threads (when the compiler supports it); the number of "
        "threads follows OMP_NUM_THREADS",
    ),
    "blas_threads": _Flag(
        0, int, lambda v: isinstance(v, int) and v >= 0,
        "threads OpenBLAS may use in compiled functions; 0: as many as OpenMP uses "
        "(OMP_NUM_THREADS, else the cores), so the two pools never ask for more than that",
    ),
    "thread_backoff": _Flag(
        True, _bool, lambda v: isinstance(v, bool),
        "run matrix products and OpenMP loops on one thread while the machine has more "
        "runnable threads than cores (seen from the calling thread being preempted); threads "
        "that wait for a descheduled partner make a step many times slower",
    ),
    "compiledir": _Flag(
        "", str, lambda v: isinstance(v, str),
        "folder of the compile cache; empty: EXPRC_CACHE_DIR, else the platform's cache folder",
    ),
    "keep_buffers": _Flag(
        True, _bool, lambda v: isinstance(v, bool),
        "compiled functions keep their intermediate buffers between calls (faster repeated "
        "calls; memory stays held until the function is discarded)",
    ),
    "profile": _Flag(
        False, _bool, lambda v: isinstance(v, bool),
        "build functions that time every node (f.profile.summary() prints where the time "
        "went); the same as function(..., profile=True)",
    ),
    "compute_test_value": _Flag(
        "off", str, lambda v: v in ("off", "ignore", "warn", "raise", "pdb"),
        "compute each node's value from its inputs' test values (x.tag.test_value) while the "
        "graph is built: off, ignore / warn / raise (what to do when an input has none; pdb "
        "is raise)",
    ),
    "variable_truth": _Flag(
        "error", str, lambda v: v in ("error", "theano"),
        "bool() of a symbolic variable: error (always: its value is unknown), or theano "
        "(True, except for comparison results, as Theano; the compatibility package sets it)",
    ),
    "debug": _Flag(
        0, int, lambda v: isinstance(v, int) and 0 <= v <= 4,
        "0 quiet; 1 passes and times; 2 graphs after each pass; 3 generated source; 4 compiler "
        "commands",
    ),
}


@contextmanager
def attributes_set(target: Any, values: dict) -> Iterator[None]:
    """Set attributes of ``target`` for a ``with`` block, then put the previous values back
    (also when the block raises, and for the attributes set before one that was refused)."""
    previous = {name: getattr(target, name) for name in values}
    try:
        for name, value in values.items():
            setattr(target, name, value)
        yield
    finally:
        for name, value in previous.items():
            setattr(target, name, value)


class Config:
    """The live configuration object, available as ``exprc.config``."""

    def __init__(self, env: str | None = None):
        object.__setattr__(self, "_values", {k: f.default for k, f in _FLAGS.items()})
        for name, raw in _parse_flag_string(env or "").items():
            if name not in _FLAGS:
                raise ValueError(
                    f"EXPRC_FLAGS names an unknown flag {name!r}; known flags: {sorted(_FLAGS)}"
                )
            setattr(self, name, _FLAGS[name].parse(raw))

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        raise AttributeError(f"exprc.config has no flag {name!r}; known flags: {sorted(values)}")

    def __setattr__(self, name: str, value: Any) -> None:
        flag = _FLAGS.get(name)
        if flag is None:
            raise AttributeError(f"exprc.config has no flag {name!r}; known flags: "
                                 f"{sorted(_FLAGS)}")
        if not flag.check(value):
            raise ValueError(f"invalid value {value!r} for exprc.config.{name}: {flag.doc}")
        self._values[name] = value

    @contextmanager
    def change_flags(self, **flags: Any):
        """Set flags for the duration of a ``with`` block, then restore them.

        Examples
        --------
        >>> import exprc
        >>> with exprc.config.change_flags(floatX="float32"):
        ...     exprc.tensor.matrix().dtype
        'float32'
        """
        with attributes_set(self, flags):
            yield self

    def __repr__(self) -> str:
        return "\n".join(f"{k} = {v!r}    # {_FLAGS[k].doc}" for k, v in self._values.items())


def _parse_flag_string(text: str) -> dict[str, str]:
    pairs = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"EXPRC_FLAGS entry {item!r} is not of the form name=value")
        pairs[name.strip()] = raw.strip()
    return pairs


config = Config(os.environ.get("EXPRC_FLAGS"))
