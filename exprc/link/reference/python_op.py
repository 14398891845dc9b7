"""Running an op written in Python: its ``perform`` method is its reference implementation.

:func:`perform_rule` is the fallback of the ``REFERENCE`` table (see
:meth:`~exprc.graph.optable.OpTable.register_fallback`): an op class with no registered rule
that defines ``perform(node, inputs, output_storage)`` is run by :func:`run_perform`, which the
C backend calls too for such a node (:mod:`exprc.link.c.python_bridge`), so that both
executors hand ``perform`` the same arguments and check its results the same way.

``perform`` receives its inputs as read-only arrays, except the inputs its op declares it
overwrites (``destroy_map``), and stores each result in ``output_storage[i][0]``. Each result
must have exactly its output variable's dtype and rank, and every static size of its type,
and the shape the op's ``infer_shape`` gives for its inputs' shapes, where that is a number
(the compiled code may take a shape from ``infer_shape`` without running ``perform``). On the
reference executor a result is copied unless it is a view of an input the op declares
(``view_map``, ``destroy_map``): ``perform`` may keep and reuse the array it stored (a buffer
on the op), which must not change a value the graph still holds.
"""

from __future__ import annotations

import inspect
import weakref

import numpy as np

from exprc.errors import ExprcError, ExprcTypeError
from exprc.graph.ir import Apply, Constant
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


def run_perform(node: Apply, args, fresh: bool = True) -> list[np.ndarray]:
    """``node.op.perform`` on ``args`` (one array per input): its results, checked.

    Parameters
    ----------
    node : Apply
    args : sequence of ndarray
        One array per input.
    fresh : bool
        Whether each result must be an array that only the caller holds, in native byte
        order (the reference executor keeps the results as the graph's values): a result is
        then copied unless it is a view of an input the op declares in ``view_map`` or
        ``destroy_map``. The compiled code's callback passes False, as it copies every result
        into a buffer of its own program.

    Raises
    ------
    PerformError
        When an output is not stored, or not an array of its variable's dtype, rank and static
        sizes, or not of the shape the op's ``infer_shape`` gives. Errors that ``perform``
        raises propagate unchanged.
    """
    op = node.op
    writable = {i for ins in getattr(op, "destroy_map", {}).values() for i in ins}
    inputs = [a if k in writable else _read_only(a) for k, a in enumerate(args)]
    storage = [[None] for _ in node.outputs]
    op.perform(node, inputs, storage)
    results = [_checked(node, j, var, cell[0])
               for j, (var, cell) in enumerate(zip(node.outputs, storage))]
    _check_inferred_shapes(node, args, results)
    if not fresh:
        return results
    aliases = {i for ins in [*op.view_map.values(), *op.destroy_map.values()] for i in ins}
    declared = [a for k, a in enumerate(args) if k in aliases]
    # Anything else is copied: an undeclared view of an input (later in-place ops must not
    # reach it), or an array perform keeps, such as a buffer it reuses on the next call or
    # for the op's next node (which would change this value under the graph's feet).
    return [value if any(np.may_share_memory(value, a) for a in declared)
            else np.array(value, dtype=value.dtype.newbyteorder("="), order="C")
            for value in results]


# Shapes of the inputs (per node) for which the results were found to agree with
# infer_shape: the check costs a call of infer_shape (which may build expressions) only the
# first time a node runs on inputs of given shapes.
_agreed_shapes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_AGREED_MAX = 64  # shapes remembered per node (inputs of ever-changing shapes: start over)


def _check_inferred_shapes(node: Apply, args, results: list[np.ndarray]) -> None:
    """Raise PerformError when a result's shape differs from a size ``infer_shape`` gives.

    The compiled code answers ``op(x).shape`` from ``infer_shape`` without running
    ``perform``, so the two disagreeing would give wrong shapes silently (and wrong values
    downstream). ``infer_shape`` is called here with the inputs' actual shapes as ints; a size
    it gives as a number (or constant) is compared with the result's. A size it computes
    symbolically, or an ``infer_shape`` that accepts symbolic sizes only (it raises on ints),
    is not checked here; the shape pass reports a malformed answer (wrong count or rank).
    """
    method = python_method(type(node.op), "infer_shape")
    if method is None:
        return
    shapes = tuple(tuple(int(n) for n in a.shape) for a in args)
    agreed = _agreed_shapes.setdefault(node, set())
    if shapes in agreed:
        return
    try:
        if len(inspect.signature(method).parameters) >= 4:  # self, fgraph, node, shapes
            inferred = node.op.infer_shape(None, node, list(shapes))
        else:
            inferred = node.op.infer_shape(node, list(shapes))
    except Exception:
        return  # written for symbolic sizes only (see above)
    if isinstance(inferred, (list, tuple)) and len(inferred) == len(results):
        for j, (shape, value) in enumerate(zip(inferred, results)):
            if not isinstance(shape, (list, tuple)) or len(shape) != value.ndim:
                continue
            sizes = [_known_size(n) for n in shape]
            if any(n is not None and n != m for n, m in zip(sizes, value.shape)):
                name = _name(node.op)
                shown = tuple("?" if n is None else n for n in sizes)
                raise PerformError(
                    f"{name}.perform, output {j}: the result has shape {value.shape}, but "
                    f"{name}.infer_shape gives {shown} for inputs of shapes "
                    f"{', '.join(map(str, shapes)) or 'none'}; a compiled function takes a "
                    "shape from infer_shape without running perform, so the two must agree")
    if len(agreed) >= _AGREED_MAX:
        agreed.clear()
    agreed.add(shapes)


def _known_size(size) -> int | None:
    """``size`` (an entry of what ``infer_shape`` returned) as an int, or None when it is
    not a number known without evaluating an expression."""
    if isinstance(size, Constant):
        size = size.data
    if isinstance(size, np.ndarray):
        size = size[()] if size.ndim == 0 else None
    if isinstance(size, (bool, np.bool_)) or not hasattr(size, "__index__"):
        return None
    return int(size)


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
