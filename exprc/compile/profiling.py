"""Profiles of compiled functions: where the time of their calls went.

``function(..., profile=True)`` (or ``exprc.config.profile = True``) builds a function whose
program times every node; ``f.profile`` is then a :class:`FunctionProfile`. The C backend's
timing runs inside the generated code, so a profiled function is a separate build (it never
slows down an unprofiled one).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass
from typing import TextIO

__all__ = ["FunctionProfile", "NodeTime"]


@dataclass(frozen=True)
class NodeTime:
    """One node's share of a profile.

    Attributes
    ----------
    index : int
        Position in execution order.
    op : str
        The node's op (``str(node.op)``).
    op_class : str
        The op's class name, under which :meth:`FunctionProfile.by_op` sums.
    backend : str
        ``'c'`` or ``'numpy'``.
    seconds : float
        Time spent in the node over all calls.
    """

    index: int
    op: str
    op_class: str
    backend: str
    seconds: float


class FunctionProfile:
    """Calls of one function and the time spent in each node of its program.

    Attributes
    ----------
    calls : int
        Completed calls since the function was built.
    call_seconds : float
        Their total wall time, argument checks and result handling included.
    """

    def __init__(self, function):
        self._function = function
        self.calls = 0
        self.call_seconds = 0.0

    def nodes(self) -> list[NodeTime]:
        """Every node with its time, in execution order."""
        program = self._function.program
        return [NodeTime(k, str(node.op), type(node.op).__name__, program.backend, seconds)
                for k, (node, seconds) in enumerate(zip(program.nodes,
                                                        program.node_seconds()))]

    def inner_nodes(self) -> list[NodeTime]:
        """The nodes inside loops and branches (compiled programs), each named after the
        node holding it (``Scan{rnn} > Gemm``); ``index`` is the outer node's. Their time is
        part of the outer node's time too."""
        program = self._function.program
        inner = getattr(program, "inner_node_seconds", None)
        if inner is None:
            return []
        return [NodeTime(k, f"{program.nodes[k].op} > {node.op}", type(node.op).__name__,
                         program.backend, seconds) for k, node, seconds in inner()]

    def by_op(self) -> list[tuple[str, int, float]]:
        """``(op class, node count, seconds)``, most time first."""
        totals: dict[str, list] = defaultdict(lambda: [0, 0.0])
        for item in self.nodes():
            totals[item.op_class][0] += 1
            totals[item.op_class][1] += item.seconds
        return sorted(((name, n, s) for name, (n, s) in totals.items()),
                      key=lambda row: -row[2])

    def summary(self, file: TextIO | None = None, n_nodes: int = 15) -> None:
        """Print the calls, the time per op class and the slowest nodes.

        Parameters
        ----------
        file : file-like, optional
            Default ``sys.stdout``.
        n_nodes : int
            How many of the slowest nodes to list.
        """
        out = file or sys.stdout
        nodes = self.nodes()
        in_nodes = sum(item.seconds for item in nodes)
        name = self._function.name or "<unnamed>"
        per_call = self.call_seconds / self.calls if self.calls else 0.0
        print(f"Function {name}: {self.calls} call(s), {self.call_seconds:.6f} s in all, "
              f"{per_call * 1e6:.1f} us per call; {in_nodes:.6f} s inside the nodes", file=out)
        print(f"{'op class':<34}{'nodes':>6}{'seconds':>12}{'share':>8}", file=out)
        for op_class, count, seconds in self.by_op():
            share = seconds / in_nodes if in_nodes else 0.0
            print(f"{op_class:<34}{count:>6}{seconds:>12.6f}{share:>8.1%}", file=out)
        print(f"slowest nodes (of {len(nodes)}):", file=out)
        for item in sorted(nodes, key=lambda n: -n.seconds)[:n_nodes]:
            print(f"  {item.seconds:>10.6f} s  [{item.backend}] {item.index}: {item.op}",
                  file=out)
        inner = self.inner_nodes()
        if inner:
            print(f"slowest nodes inside loops and branches (of {len(inner)}):", file=out)
            for item in sorted(inner, key=lambda n: -n.seconds)[:n_nodes]:
                print(f"  {item.seconds:>10.6f} s  [{item.backend}] {item.index}: {item.op}",
                      file=out)
