"""Running an op written in Python: its ``perform`` method is its reference implementation.

:func:`perform_rule` is the fallback of the ``REFERENCE`` table (see
:meth:`~exprc.graph.optable.OpTable.register_fallback`): an op class with no registered rule
that defines ``perform(node, inputs, output_storage)`` is run by :func:`run_perform`, which the
C backend calls too for such a node (:mod:`exprc.link.c.python_bridge`), so that both
executors hand ``perform`` the same arguments and check its results the same way.

``perform`` receives its inputs as read-only arrays, except the inputs its op declares it
overwrites (``destroy_map``), and stores each result in ``output_storage[i][0]``. Each result
must have exactly its output variable's dtype and rank, and every static size of its type;
a result sharing memory with an input is copied unless the op declares it a view
(``view_map``) or an overwrite (``destroy_map``).
"""

from __future__ import annotations

import numpy as np

from exprc.errors import ExprcError, ExprcTypeError
from exprc.graph.ir import Apply
from exprc.graph.python_op import python_method
from exprc.link.reference.table import REFERENCE


class PerformError(ExprcError, TypeError):
    """A Python op's ``perform`` stored no result, or one that is not of its output's type."""


@REFERENCE.register_fallback
def perform_rule(op_class: type):
    """The reference rule of an op class defining ``perform``, else None."""
    return _perform if python_method(op_class, "perform") else None


perform_rule.hint = "an op written in Python defines perform(node, inputs, output_storage)"


def _perform(node: Apply, *args: np.ndarray) -> list[np.ndarray]:
    return run_perform(node, args)


def run_perform(node: Apply, args) -> list[np.ndarray]:
    """``node.op.perform`` on ``args`` (one array per input): its results, checked.

    Raises
    ------
    PerformError
        When an output is not stored, or not an array of its variable's dtype, rank and static
        sizes. Errors that ``perform`` raises propagate unchanged.
    """
    op = node.op
    writable = {i for ins in getattr(op, "destroy_map", {}).values() for i in ins}
    inputs = [a if k in writable else _read_only(a) for k, a in enumerate(args)]
    storage = [[None] for _ in node.outputs]
    op.perform(node, inputs, storage)
    aliases = {i for ins in [*op.view_map.values(), *op.destroy_map.values()] for i in ins}
    results = []
    for j, (var, cell) in enumerate(zip(node.outputs, storage)):
        value = _checked(node, j, var, cell[0])
        if any(np.may_share_memory(value, a) for k, a in enumerate(args) if k not in aliases):
            value = value.copy()  # an undeclared alias: later in-place ops must not reach it
        results.append(value)
    return results


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def _checked(node: Apply, j: int, var, value) -> np.ndarray:
    where = f"{_name(node.op)}.perform, output {j}"
    if value is None:
        raise PerformError(f"{where}: nothing was stored (set output_storage[{j}][0])")
    array = np.asarray(value) if not isinstance(value, np.ndarray) else value
    t = var.type
    dtype = getattr(t, "dtype", None)
    shape = getattr(t, "shape", None)
    if dtype is None or shape is None:
        raise ExprcTypeError(f"{where}: the output's type {t} is not a tensor type; exprc runs "
                             "Python ops on tensors only")
    if array.dtype.name != dtype or array.ndim != len(shape) or any(
            s is not None and s != n for s, n in zip(shape, array.shape)):
        raise PerformError(
            f"{where}: got {_describe(value, array)}, but make_node declared {t}; store an "
            f"array of exactly that dtype and rank (e.g. np.asarray(z, dtype='{dtype}'))")
    return array


def _describe(value, array: np.ndarray) -> str:
    kind = "an ndarray" if isinstance(value, np.ndarray) else f"a {type(value).__name__}"
    return f"{kind} of dtype {array.dtype.name} and shape {array.shape}"


def _name(op) -> str:
    return type(op).__name__
