"""Compilation modes: which rewrites run and which executor runs the result.

A :class:`Mode` makes a function's program in two steps: :meth:`Mode.rewrite` copies the graph
into a :class:`~exprc.graph.fgraph.FunctionGraph` and runs the rewrite pipeline on it, and
:meth:`Mode.link` builds the program that runs the rewritten graph. The debugging modes
(:class:`~exprc.compile.debugmode.DebugMode`, :class:`~exprc.compile.nanguardmode.NanGuardMode`,
:class:`~exprc.compile.monitormode.MonitorMode`) are modes whose ``link`` builds a program
that checks or reports what it computes.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from exprc.configuration import config
from exprc.errors import ExprcError, user_stacklevel
from exprc.graph.fgraph import FunctionGraph
from exprc.graph.ir import Variable
from exprc.link.c import linker as c_linker
from exprc.link.reference import ReferenceProgram
from exprc.rewriting.engine import RewriteLog
from exprc.rewriting.pipeline import optimize
from exprc.rewriting.rules.branches import expand_inline, sink_into_branches
from exprc.tensor.sparse_type import holds_sparse


@dataclass(frozen=True)
class Mode:
    """How ``function`` compiles a graph.

    Parameters
    ----------
    linker : str
        The executor: ``'c'`` (default) compiles the whole graph to one C function called
        once per call, or, when the ``device`` flag names a GPU, to CUDA; ``'cuda'`` compiles
        it to CUDA kernels for the GPU (see ``docs/cuda.md``); ``'reference'`` evaluates each
        op with NumPy, as a specification.
    optimizer : str
        The rewrite pipeline: ``'fast_run'`` (all passes), ``'fast_compile'`` (cheap passes)
        or ``'none'``.
    exclude : tuple of str
        Names of passes or rules to skip (see ``exprc.rewriting.PIPELINE``).
    """

    linker: str = "c"
    optimizer: str = "fast_run"
    exclude: tuple = ()

    def excluding(self, *names: str) -> Mode:
        """This mode (of the same class, with the same settings) without the named passes or
        rules."""
        return self._with_exclude(tuple(self.exclude) + names)

    def including(self, *names: str) -> Mode:
        """This mode with the named passes or rules no longer excluded."""
        return self._with_exclude(tuple(e for e in self.exclude if e not in names))

    def _with_exclude(self, exclude: tuple) -> Mode:
        changed = copy.copy(self)
        object.__setattr__(changed, "exclude", exclude)  # a frozen copy, changed before use
        return changed

    def __post_init__(self):
        if self.linker not in LINKERS:
            raise ExprcError(f"unknown linker {self.linker!r}; known: {sorted(LINKERS)}")
        if self.optimizer not in OPTIMIZERS:
            raise ExprcError(f"unknown optimizer {self.optimizer!r}; known: {sorted(OPTIMIZERS)}")

    def rewrite(self, inputs: Sequence[Variable], outputs: Sequence[Variable]
                ) -> tuple[FunctionGraph, RewriteLog]:
        """A rewritten copy of the graph from ``inputs`` to ``outputs`` and the log of the
        rewrites (the graph the user built is left as it is)."""
        fgraph = FunctionGraph(inputs, outputs)
        expand_inline(fgraph)  # control flow, in every mode (even without rewrites)
        sink_into_branches(fgraph)
        return fgraph, optimize(fgraph, self.optimizer, self.exclude)

    def link(self, fgraph: FunctionGraph, original: tuple[list, list], profile: bool):
        """The program running ``fgraph`` (from :meth:`rewrite`): called with the values of its
        inputs, it returns the values of its outputs.

        Parameters
        ----------
        fgraph : FunctionGraph
            The rewritten graph.
        original : (list of Variable, list of Variable)
            The inputs and outputs of the graph before rewriting, for modes that compare
            with it (:class:`~exprc.compile.debugmode.DebugMode`).
        profile : bool
            Build a program that times every node.
        """
        # Sparse values (scipy.sparse matrices) have no C form: a graph holding any runs on
        # the reference executor, whatever the linker (docs/sparse.md).
        if holds_sparse(fgraph.clients):
            return ReferenceProgram(fgraph.inputs, fgraph.outputs, profile=profile)
        if self.linker == "cuda" or (self.linker == "c" and config.device != "cpu"):
            program = _cuda_program(fgraph, profile, asked=self.linker == "cuda")
            if program is not None:
                return program
        if self.linker in ("c", "cuda"):
            return c_linker.CProgram(fgraph.inputs, fgraph.outputs, profile=profile)
        return ReferenceProgram(fgraph.inputs, fgraph.outputs, profile=profile)


def _cuda_program(fgraph: FunctionGraph, profile: bool, asked: bool):
    """The graph compiled for the GPU; None (after saying why, once per process) when the
    ``device`` flag asks for CUDA and there is none to use, so that the same code runs on a
    machine without a GPU. A mode that names the ``cuda`` linker gets the error instead."""
    from exprc.link.cuda import default_device
    from exprc.link.cuda.driver import CudaUnavailable
    from exprc.link.cuda.program import CudaProgram

    try:
        device = default_device()
    except CudaUnavailable as exc:
        if asked:
            raise
        if not _told_unavailable:
            _told_unavailable.append(str(exc))
            warnings.warn(f"device={config.device} was asked for but CUDA cannot be used: "
                          f"{exc}; functions run on the CPU", CudaUnavailableWarning,
                          stacklevel=user_stacklevel())
        return None
    return CudaProgram(fgraph.inputs, fgraph.outputs, device, profile=profile)


class CudaUnavailableWarning(UserWarning):
    """``device=cuda`` was asked for on a machine where CUDA cannot be used (said once)."""


_told_unavailable: list[str] = []

LINKERS = {"reference", "c", "cuda"}
OPTIMIZERS = {"fast_run", "fast_compile", "none"}

PREDEFINED = {
    "FAST_RUN": Mode("c", "fast_run"),
    "FAST_COMPILE": Mode("reference", "fast_compile"),
    "REFERENCE": Mode("reference", "none"),
}


def get_mode(mode: str | Mode | None) -> Mode:
    """The :class:`Mode` for a name, a Mode, or None (``exprc.config.mode``).

    The names are those of :data:`PREDEFINED` and ``'DEBUG_MODE'`` (a
    :class:`~exprc.compile.debugmode.DebugMode` with its defaults).
    """
    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if mode in PREDEFINED:
        return PREDEFINED[mode]
    if mode == "DEBUG_MODE":
        from exprc.compile.debugmode import DebugMode  # built on this module

        return DebugMode()
    raise ExprcError(f"unknown mode {mode!r}; known modes: {sorted([*PREDEFINED, 'DEBUG_MODE'])}"
                     " or a Mode()")
