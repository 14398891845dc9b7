"""The NumPy reference executor: evaluates a graph node by node with NumPy.

It is the living specification of every op: compiled backends and rewrites are tested against
it, and ``mode='REFERENCE'`` runs user functions on it for debugging. It checks that each op's
result has exactly the dtype, rank and known static sizes that the op's type inference
promised, so a disagreement between the two is caught where it happens.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from exprc import hooks
from exprc.errors import ExprcError
from exprc.graph.ir import Apply, Constant, Variable
from exprc.graph.traversal import toposort
from exprc.link.reference import python_op  # noqa: F401  (the fallback: ops written in Python)
from exprc.link.reference.table import REFERENCE
from exprc.tensor.families import load_rules
from exprc.tensor.type import TensorType

# Importing the rule modules fills the table (they import REFERENCE from table.py).
load_rules(__name__)

__all__ = ["REFERENCE", "ReferenceProgram", "annotate_error", "run_node"]


class ReferenceProgram:
    """A graph from ``inputs`` to ``outputs``, ready to run on NumPy arrays.

    Ops with a ``destroy_map`` overwrite the inputs it names. The program never lets them
    overwrite the caller's arrays (inputs and shared values) or constants, even in a graph
    built by hand: such an argument is copied first. A value that was overwritten cannot be
    read afterwards, so a graph that reads it again fails loudly instead of computing with
    garbage.
    """

    #: Where the nodes run, as ``Function.placement`` reports it.
    backend = "numpy"

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable],
                 profile: bool = False):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.nodes = toposort(self.outputs, self.inputs)
        self.profile = profile
        self._seconds = [0.0] * len(self.nodes)
        self.rules = [REFERENCE[node.op] for node in self.nodes]
        self.destroyed = [sorted({i for ins in getattr(node.op, "destroy_map", {}).values()
                                  for i in ins}) for node in self.nodes]
        self.constant_memory = {id(_owner(v.data)) for node in self.nodes for v in node.inputs
                                if isinstance(v, Constant)}

    def __call__(self, values: Sequence[np.ndarray], observer=None) -> list[np.ndarray]:
        """The outputs for ``values`` (one array per input).

        ``observer``, when given, watches every node (the debugging modes of
        :mod:`exprc.compile` do): ``observer.before(k, node, args)`` returns the arguments to
        run the ``k``-th node on, and ``observer.after(k, node, args, results)`` the results
        to keep.
        """
        storage: dict[int, np.ndarray] = {id(v): x for v, x in zip(self.inputs, values)}
        protected = self.constant_memory | {id(_owner(x)) for x in values}
        for k, (node, rule, destroyed) in enumerate(zip(self.nodes, self.rules,
                                                        self.destroyed)):
            started = time.perf_counter() if self.profile else 0.0
            args = [_value(storage, v, node.op) for v in node.inputs]
            overwritten = [i for i in destroyed if id(_owner(args[i])) not in protected]
            for i in set(destroyed) - set(overwritten):
                args[i] = args[i].copy()
            if observer is None:
                results = run_node(node, rule, args)
            else:
                args = observer.before(k, node, args)
                results = observer.after(k, node, args, run_node(node, rule, args))
            for var, result in zip(node.outputs, results):
                storage[id(var)] = result
            if self.profile:
                self._seconds[k] += time.perf_counter() - started
            for i in overwritten:
                storage[id(node.inputs[i])] = _Overwritten(node.op)
        return [_value(storage, v, "the graph outputs") for v in self.outputs]


    def placement(self) -> list[tuple[str, str]]:
        """``(description, where)`` for each node: every node runs in Python, each by its
        reference rule (NumPy, or the op's ``perform``)."""
        return [(f"{k}: {node.op}", "python (reference)") for k, node in enumerate(self.nodes)]

    def node_seconds(self) -> list[float]:
        """Seconds spent in each node over all calls so far (with ``profile=True``)."""
        if not self.profile:
            raise ExprcError("this program was not built for profiling (profile=True)")
        return list(self._seconds)


def _owner(array: np.ndarray) -> object:
    """The object owning ``array``'s memory (the end of its chain of views)."""
    while isinstance(array, np.ndarray) and array.base is not None:
        array = array.base
    return array


class _Overwritten:
    """Marks a value that an in-place op has overwritten."""

    def __init__(self, op):
        self.op = op


def _value(storage: dict, var: Variable, reader) -> np.ndarray:
    if isinstance(var, Constant):
        return var.data
    value = storage[id(var)]
    if isinstance(value, _Overwritten):
        raise ExprcError(f"internal error: {var} is read by {reader} after {value.op} "
                         "overwrote it in place")
    return value


def run_node(node: Apply, rule, args: list[np.ndarray]) -> list[np.ndarray]:
    """Run one node's reference rule and check its results against the node's types."""
    try:
        results = rule(node, *args)
    except Exception as exc:
        raise annotate_error(exc, node, args) from exc
    if len(results) != len(node.outputs):
        raise ExprcError(f"internal error: {node.op} returned {len(results)} results for "
                         f"{len(node.outputs)} outputs")
    return [_check(node, var, r) for var, r in zip(node.outputs, results)]


def _check(node: Apply, var: Variable, value: np.ndarray) -> np.ndarray:
    t = var.type
    if not isinstance(t, TensorType):
        # A value of another type (a scipy.sparse matrix) is checked by its type.
        if not t.is_valid_value(value):
            raise ExprcError(f"internal error: {node.op} produced a {type(value).__name__} of "
                             f"dtype {getattr(value, 'dtype', None)}, but its type inference "
                             f"promised {t}")
        return value
    value = np.asarray(value)
    ok = value.dtype.name == t.dtype and value.ndim == t.ndim and all(
        s is None or s == v for s, v in zip(t.shape, value.shape))
    if not ok:
        raise ExprcError(f"internal error: {node.op} produced dtype {value.dtype} shape "
                         f"{value.shape}, but its type inference promised {t}")
    return value


def annotate_error(exc: Exception, node: Apply, args: list[np.ndarray]) -> Exception:
    """The same kind of exception, with the node, input shapes and user line added."""
    shapes = ", ".join(f"{a.dtype}{list(a.shape)}" if hasattr(a, "shape") else type(a).__name__
                       for a in args)
    where = getattr(node.outputs[0].tag, "trace", "<unknown>")
    try:
        text = str(exc.args[0]) if isinstance(exc, KeyError) and len(exc.args) == 1 \
            else str(exc)
    except Exception as broken:  # an exception whose __str__ raises: report it, not that
        return ExprcError(f"{type(exc).__name__} (its str() raised {type(broken).__name__})"
                          f"\n    while computing {node.op} on inputs {shapes}"
                          f"\n    (graph built at {where})")
    message = (f"{text}\n    while computing {node.op} on inputs {shapes}"
               f"\n    (graph built at {where})")
    return same_kind(exc, message)


def same_kind(exc: Exception, message: str) -> Exception:
    """An exception of ``exc``'s kind (or its nearest base class taking one message) with
    ``message``, for an error reported with more context than it was raised with."""
    # Exception classes with unusual constructors (NumPy's _ArrayMemoryError takes a shape and
    # a dtype) become their nearest base class that takes a message, so that the kind stays
    # catchable: ``except MemoryError`` still sees an out-of-memory error.
    mro = type(exc).__mro__
    for cls in mro[:mro.index(Exception)]:
        try:
            made = cls(message)
        except Exception:  # a constructor that does not take one message
            continue
        if cls is not type(exc) and cls is not mro[0]:
            # A base class stands in: the message names the class that was raised.
            made = cls(f"{type(exc).__name__}: {message}")
        return made
    return ExprcError(f"{type(exc).__name__}: {message}")


@hooks.NODE_EVALUATOR.install
def evaluate_node(node: Apply, input_values: list) -> list[np.ndarray]:
    """The values of ``node``'s outputs for ``input_values``, by its reference rule."""
    return run_node(node, REFERENCE[node.op], input_values)
