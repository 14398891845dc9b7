"""What the debugging modes share: running a graph node by node on the reference executor while
an observer watches each node, and naming nodes and values in messages.

:class:`WatchedProgram` is the program of :class:`~exprc.compile.nanguardmode.NanGuardMode`
and :class:`~exprc.compile.monitormode.MonitorMode`: the reference executor's own loop and
rule table (:class:`~exprc.link.reference.ReferenceProgram`), with a fresh :class:`Observer`
per call. :class:`~exprc.compile.debugmode.DebugMode` uses the same observers on its reference
runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from exprc.graph.fgraph import FunctionGraph
from exprc.graph.ir import Apply, Variable
from exprc.link.reference import ReferenceProgram
from exprc.tensor.sharedvar import SharedVariable

__all__ = ["Observer", "WatchedProgram", "describe_input", "describe_node", "describe_value",
           "describe_variable", "same_bits"]


class Observer:
    """Watches one run of a graph; the defaults change nothing.

    ``start`` sees the run's input values; ``before`` and ``after`` are called around each
    node (see :meth:`ReferenceProgram.__call__ <exprc.link.reference.ReferenceProgram>`).
    """

    def start(self, inputs: Sequence[Variable], values: Sequence[np.ndarray]) -> None:
        pass

    def before(self, k: int, node: Apply, args: list) -> list:
        return args

    def after(self, k: int, node: Apply, args: list, results: list) -> list:
        return results


class WatchedProgram:
    """A rewritten graph evaluated node by node with the NumPy reference rules, each call
    watched by a new observer from ``make_observer()``."""

    #: Where the nodes run, as ``Function.placement`` reports it.
    backend = "numpy"

    def __init__(self, fgraph: FunctionGraph, make_observer: Callable[[], Observer],
                 profile: bool = False):
        self.reference = ReferenceProgram(fgraph.inputs, fgraph.outputs, profile=profile)
        self.inputs = self.reference.inputs
        self.outputs = self.reference.outputs
        self.nodes = self.reference.nodes
        self._make_observer = make_observer

    def __call__(self, values: Sequence[np.ndarray]) -> list[np.ndarray]:
        observer = self._make_observer()
        observer.start(self.inputs, values)
        return self.reference(values, observer=observer)

    def node_seconds(self) -> list[float]:
        """Seconds spent in each node over all calls so far (with ``profile=True``)."""
        return self.reference.node_seconds()

    def placement(self) -> list[tuple[str, str]]:
        return self.reference.placement()


def describe_variable(var: Variable) -> str:
    """``var`` by name (or by the op computing it) and the user's line that created it."""
    trace = getattr(var.tag, "trace", None)
    where = (f" (created at {trace})" if trace and trace not in ("<rewritten>", "<unknown>")
             else "")
    return f"{var}{where}"


def describe_input(var: Variable) -> str:
    """A graph input as messages name it: a shared variable or an argument."""
    if isinstance(var, SharedVariable):
        return f"shared variable {var}"
    return f"input {var}"


def describe_node(k: int, node: Apply) -> str:
    return f"node {k}, {node.op}"


def describe_value(value: object) -> str:
    """Dtype, shape and, for a numeric array, its range and count of NaN and Inf."""
    if not isinstance(value, np.ndarray):
        return type(value).__name__
    text = f"{value.dtype}{list(value.shape)}"
    if value.size and value.dtype.kind in "fc":
        nan, inf = int(np.isnan(value).sum()), int(np.isinf(value).sum())
        finite = value[np.isfinite(value)]
        if finite.size and value.dtype.kind == "f":
            text += f" in [{finite.min():.6g}, {finite.max():.6g}]"
        if nan or inf:
            text += f" with {nan} NaN and {inf} Inf"
    elif value.size and value.dtype.kind in "iub":
        text += f" in [{value.min()}, {value.max()}]"
    return text


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays hold exactly the same data (NaN included)."""
    return (a.shape == b.shape and a.dtype == b.dtype
            and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes())
