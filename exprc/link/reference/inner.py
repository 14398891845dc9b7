"""Running an op's inner graph on the reference executor (a branch, a graph made an op).

Each inner graph's :class:`~exprc.link.reference.ReferenceProgram` is built once and kept while
the graph lives. Results come back as fresh arrays: a result that is (a view of) one of the
arguments or of a constant of the inner graph is copied, since the node's outputs are new
values to whoever reads them (an in-place op after the node may overwrite them), and two
results never share memory.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from exprc.graph.inner import InnerGraph
from exprc.graph.ir import Constant
from exprc.graph.traversal import ancestors

_PROGRAMS: dict[int, tuple] = {}


def _owner(array: object) -> object:
    while isinstance(array, np.ndarray) and array.base is not None:
        array = array.base
    return array


def _entry(graph: InnerGraph) -> tuple:
    """(weak reference to ``graph``, its program, the ids of its constants' memory)."""
    from exprc.link.reference import ReferenceProgram

    key = id(graph)
    entry = _PROGRAMS.get(key)
    if entry is None or entry[0]() is not graph:
        constants = {id(_owner(v.data)) for v in ancestors(graph.outputs, graph.inputs)
                     if isinstance(v, Constant)}
        ref = weakref.ref(graph, lambda _, key=key: _PROGRAMS.pop(key, None))
        entry = _PROGRAMS[key] = (ref, ReferenceProgram(graph.inputs, graph.outputs), constants)
    return entry


def run_inner(graph: InnerGraph, args: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The outputs of ``graph`` for ``args`` (one per input), as fresh arrays."""
    _, program, constants = _entry(graph)
    results = program(list(args))
    borrowed = constants | {id(_owner(a)) for a in args}
    fresh = []
    for value in results:
        if id(_owner(value)) in borrowed:
            value = np.array(value, copy=True)
        borrowed.add(id(_owner(value)))  # two outputs never share memory either
        fresh.append(value)
    return fresh
