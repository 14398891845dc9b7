"""Shape inference: the run-time shape of any variable, as expressions over the graph inputs.

Shape inference is one more per-op concern (see :mod:`exprc.graph.optable`): :data:`SHAPE`
maps each op class to a rule ``rule(node, input_shapes)`` that returns, for each output of
``node``, a tuple of int64 0-d tensor variables (one per output axis), or None for an output
whose shape depends on the data (a boolean-mask selection, say). An entry of a tuple may also
be None when only that axis depends on the data. ``input_shapes[i]`` is the shape of input
``i`` in the same form; ``input_shapes.values(var)`` reads the entries of a small integer
input of the node (a shape vector, a size, a slice bound) looking through the graphs shape
arguments are made of.

:func:`shape_of` applies the rules from the graph inputs down, so the shape of a computed
variable is known without computing it; the ``shape`` pass
(:mod:`exprc.rewriting.rules.shape_pass`) uses it to make ``x.shape`` independent of ``x``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from exprc.graph.ir import Constant, Variable
from exprc.graph.optable import OpTable
from exprc.rewriting.shape_rules.sizes import as_size, const
from exprc.tensor.basic import Join, Split
from exprc.tensor.elemwise import DimShuffle, Elemwise
from exprc.tensor.families import load_rules
from exprc.tensor.shape import Shape
from exprc.tensor.subtensor import Subtensor
from exprc.tensor.type import INTEGER_DTYPES, TensorType

__all__ = ["SHAPE", "InputShapes", "reads_shape_of", "shape_of"]

SHAPE = OpTable("shape inference")


class InputShapes(tuple):
    """The shapes of a node's inputs (``input_shapes[i]``: a tuple of int64 scalars), with
    :meth:`values` to read the entries of its small integer inputs."""

    def __new__(cls, shapes: Sequence[tuple], memo: dict):
        obj = super().__new__(cls, shapes)
        obj.memo = memo
        return obj

    def values(self, var: Variable) -> list:
        """The entries of the 0-d or 1-d (static length) integer ``var`` as int64 scalars."""
        return int_entries(var, self.memo)


def shape_of(var: Variable, memo: dict | None = None) -> tuple:
    """The shape of ``var`` as a tuple of int64 0-d tensor variables, one per axis.

    Statically known sizes (and the sizes of constants) are constants. The shapes of graph
    inputs are read from them (``var.shape[i]``); those of computed variables come from the
    :data:`SHAPE` rule of their producer, falling back to ``var.shape[i]`` where the rule is
    missing or the size depends on the data.

    Parameters
    ----------
    var : Variable
    memo : dict, optional
        Shapes already inferred, updated in place. Pass one dict for every variable of a graph
        so that inferring all of them costs time linear in the graph's size.

    Returns
    -------
    tuple of TensorVariable
    """
    memo = {} if memo is None else memo
    stack = [var]
    while stack:  # post-order walk, so that deep graphs do not exhaust the Python stack
        top = stack[-1]
        if top in memo:
            stack.pop()
            continue
        node = top.owner
        if node is None or isinstance(top, Constant):
            memo[top] = _finish(top, None)
            stack.pop()
            continue
        pending = [i for i in node.inputs if i not in memo]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        _infer(node, memo)
    return memo[var]


def _infer(node, memo: dict) -> None:
    rule = SHAPE.find(node.op)
    results = None
    if rule is not None:
        results = rule(node, InputShapes([memo[i] for i in node.inputs], memo))
    if results is None:
        results = [None] * len(node.outputs)
    for out, entries in zip(node.outputs, results):
        memo[out] = _finish(out, entries)


def _finish(var: Variable, entries: Sequence | None) -> tuple:
    """Constants for static sizes, ``var.shape[i]`` where ``entries`` gives nothing."""
    static = var.type.shape
    if entries is None:
        entries = [None] * len(static)
    if len(entries) != len(static):
        raise AssertionError(f"shape rule of {var.owner.op} gave {len(entries)} sizes for "
                             f"{var} of rank {len(static)}")
    measured = None
    result = []
    for axis, (size, entry) in enumerate(zip(static, entries)):
        if size is not None:
            result.append(const(size))
        elif entry is not None:
            result.append(entry)
        else:
            if measured is None:
                # A sparse matrix has no Shape op but a shape of its own (csm_shape).
                measured = Shape()(var) if isinstance(var.type, TensorType) else var.shape
            result.append(measured[axis])
    return tuple(result)


def reads_shape_of(entry: Variable, var: Variable) -> bool:
    """Whether ``entry`` is ``var.shape[i]`` itself (what :func:`shape_of` falls back to)."""
    node = entry.owner
    if node is None or not isinstance(node.op, Subtensor):
        return False
    source = node.inputs[0].owner
    return source is not None and isinstance(source.op, Shape) and source.inputs[0] is var


# --------------------------------------------------------------------------- integer values
def int_entries(var: Variable, memo: dict) -> list:
    """The entries of a 0-d or 1-d integer ``var`` (of static length) as int64 scalars.

    Looks through constants, ``Shape``, stacks, joins, splits and int64 casts, so that a
    shape argument built from other tensors' shapes gives those shapes' inferred sizes; any
    other vector is indexed (``var[i]``).
    """
    if var.ndim == 0:
        return [int_scalar(var, memo)]
    if isinstance(var, Constant):
        return [const(v) for v in var.data.reshape(-1)]
    node, length = var.owner, var.type.shape[0]
    op = node.op if node is not None else None
    if isinstance(op, Shape):
        return list(shape_of(node.inputs[0], memo))
    if isinstance(op, DimShuffle) and node.inputs[0].type.shape in ((), (1,)):
        return int_entries(node.inputs[0], memo)  # one value, with its axes changed
    if isinstance(op, Join) and all(p.type.shape[0] is not None for p in node.inputs):
        return [e for part in node.inputs for e in int_entries(part, memo)]
    if isinstance(op, Split) and isinstance(node.inputs[1], Constant) \
            and node.inputs[0].type.shape[0] is not None:
        sizes = [int(s) for s in node.inputs[1].data]
        start = sum(sizes[:var.index])
        return int_entries(node.inputs[0], memo)[start:start + sizes[var.index]]
    if _is_int64_cast(node):
        return int_entries(node.inputs[0], memo)
    if length is None:
        raise AssertionError(f"int_entries needs a vector of static length, got {var.type}")
    return [as_size(var[i]) for i in range(length)]


def int_scalar(var: Variable, memo: dict) -> Variable:
    """A 0-d integer ``var`` as an int64 scalar, looking through what :func:`int_entries`
    looks through (``vector[i]`` with a constant ``i``, ``DimShuffle`` of length-1 vectors)."""
    if isinstance(var, Constant):
        return const(var.data.item())
    node = var.owner
    op = node.op if node is not None else None
    if isinstance(op, DimShuffle) and node.inputs[0].type.shape == (1,):
        return int_entries(node.inputs[0], memo)[0]
    if isinstance(op, Subtensor) and len(op.idx_list) == 1 and isinstance(op.idx_list[0], int):
        vector = node.inputs[0]
        if vector.ndim == 1 and _entries_known(vector):
            entries = int_entries(vector, memo)
            return entries[op.idx_list[0] % len(entries)]
    if _is_int64_cast(node):
        return int_scalar(node.inputs[0], memo)
    return as_size(var)


def _entries_known(vector: Variable) -> bool:
    """Whether :func:`int_entries` can resolve ``vector`` (without indexing it)."""
    node = vector.owner
    if isinstance(vector, Constant) or (node is not None and isinstance(node.op, Shape)):
        return True
    return node is not None and isinstance(node.op, Join) and vector.type.shape[0] is not None


def _is_int64_cast(node) -> bool:
    """Whether ``node`` converts integers to int64 (which keeps their values)."""
    if node is None or not isinstance(node.op, Elemwise):
        return False
    sop = node.op.scalar_op
    return sop.rule == "cast" and sop.out_dtype == "int64" \
        and node.inputs[0].dtype in INTEGER_DTYPES


# Importing the family modules registers their rules (they import SHAPE from here), and
# importing python_op the table's fallback (ops written in Python, with infer_shape).
load_rules(__name__)
importlib.import_module(f"{__name__}.python_op")
