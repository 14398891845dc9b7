"""``theano.compile.profiling``: ``ProfileStats``, a thin gathering of exprc's per-function
profiles (:class:`~exprc.compile.profiling.FunctionProfile`).

Pass one as ``theano.function(..., profile=stats)`` (or a string, which names a new one):
the function is built with exprc's profiling, and ``stats`` reports the calls and node times
of every function given it.
"""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["ProfileStats"]


class ProfileStats:
    """Calls and node times of the functions built with ``profile=`` this object.

    Parameters
    ----------
    atexit_print : bool
        Accepted for Theano's signature; nothing is printed at exit (call :meth:`summary`).
    flag_time_thunks, gpu_checks
        Accepted and ignored: exprc times every node of a profiled function.
    message : str, optional
        A title for :meth:`summary`.

    Attributes
    ----------
    functions : list of Function
        The functions gathered, in the order they were built.
    compile_time : float
        Seconds spent building them.
    """

    def __init__(self, atexit_print: bool = True, flag_time_thunks=None, gpu_checks=True,
                 message: str | None = None, **kwargs):
        self.atexit_print = atexit_print
        self.message = message
        self.functions: list = []
        self.compile_time = 0.0

    def add(self, function, compile_seconds: float = 0.0) -> None:
        """Gather ``function`` (built with ``profile=True``)."""
        self.functions.append(function)
        self.compile_time += compile_seconds

    @property
    def fct_callcount(self) -> int:
        """Calls of the gathered functions."""
        return sum(f.profile.calls for f in self.functions)

    @property
    def fct_call_time(self) -> float:
        """Seconds spent in those calls."""
        return sum(f.profile.call_seconds for f in self.functions)

    @property
    def apply_time(self) -> dict:
        """``{(fgraph, node): seconds}`` over the nodes of every gathered function."""
        times = {}
        for f in self.functions:
            for node, seconds in zip(f.program.nodes, f.program.node_seconds()):
                times[(f.fgraph, node)] = times.get((f.fgraph, node), 0.0) + seconds
        return times

    def summary(self, file: TextIO | None = None, n_ops_to_print: int = 20,
                n_apply_to_print: int = 20) -> None:
        """Print the totals, then each function's profile (its time per op class and its
        ``n_apply_to_print`` slowest nodes); ``file`` defaults to ``sys.stderr``."""
        out = file or sys.stderr
        title = self.message or "ProfileStats"
        print(f"{title}: {len(self.functions)} function(s), {self.fct_callcount} call(s), "
              f"{self.fct_call_time:.6f} s in calls, {self.compile_time:.6f} s compiling",
              file=out)
        for f in self.functions:
            f.profile.summary(file=out, n_nodes=n_apply_to_print)
