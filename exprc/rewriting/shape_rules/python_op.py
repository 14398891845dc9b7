"""Shape inference of ops written in Python, from their ``infer_shape`` method.

The fallback of the ``SHAPE`` table: an op class without a registered rule that defines
``infer_shape(node, input_shapes)`` (Theano 1.0's signature) or ``infer_shape(fgraph, node,
input_shapes)`` (the later one; ``fgraph`` is then None) has it called with each input's
shape as a tuple of int64 scalars. It returns one tuple per output whose entries are ints or
0-d integer tensors (None for a size only known at run time), or None for an output whose
shape is data. An op without ``infer_shape`` has no rule: its outputs' sizes are measured
when they are computed, as any size :func:`~exprc.rewriting.shape_rules.shape_of` cannot
infer.
"""

from __future__ import annotations

import inspect

from exprc.errors import ExprcTypeError, ExprcValueError
from exprc.graph.ir import Constant, Variable
from exprc.graph.python_op import python_method
from exprc.graph.traversal import graph_inputs
from exprc.rewriting.shape_rules import SHAPE
from exprc.rewriting.shape_rules.sizes import as_size
from exprc.tensor.type import INTEGER_DTYPES
from exprc.tensor.variable import TensorVariable


@SHAPE.register_fallback
def infer_shape_rule(op_class: type):
    """The shape rule of an op class defining ``infer_shape``, else None."""
    method = python_method(op_class, "infer_shape")
    if method is None:
        return None
    takes_fgraph = len(inspect.signature(method).parameters) >= 4  # self, fgraph, node, shapes
    return _with_fgraph if takes_fgraph else _without_fgraph


def _without_fgraph(node, input_shapes):
    shapes = [tuple(s) for s in input_shapes]
    return _checked(node, node.op.infer_shape(node, shapes), shapes)


def _with_fgraph(node, input_shapes):
    shapes = [tuple(s) for s in input_shapes]
    return _checked(node, node.op.infer_shape(None, node, shapes), shapes)


def _checked(node, shapes, input_shapes) -> list | None:
    name = f"{type(node.op).__name__}.infer_shape"
    if shapes is None:
        return None
    if not isinstance(shapes, (list, tuple)) or len(shapes) != len(node.outputs):
        raise ExprcTypeError(f"{name} must return one shape per output ({len(node.outputs)}), "
                             f"got {shapes!r}")
    result = []
    for j, (out, shape) in enumerate(zip(node.outputs, shapes)):
        if shape is None:
            result.append(None)
            continue
        if not isinstance(shape, (list, tuple)) or len(shape) != out.ndim:
            raise ExprcTypeError(f"{name}: the shape of output {j} must be a tuple of "
                                 f"{out.ndim} size(s), got {shape!r}")
        result.append(tuple(_size(name, j, s) for s in shape))
    _check_sources(name, result, input_shapes, node.inputs)
    return result


def _check_sources(name: str, shapes: list, input_shapes: list, inputs: list) -> None:
    """Sizes must be computed from the input sizes, the node's inputs (an op whose size is
    data, as ``alloc``'s) and constants: a size reading another variable of the user's could
    not be computed where the shape is needed."""
    given = [s for shape in input_shapes for s in shape if isinstance(s, Variable)]
    given += list(inputs)
    allowed = set(graph_inputs(given)) | set(given)
    for j, shape in enumerate(shapes):
        sizes = [s for s in (shape or ()) if isinstance(s, Variable)]
        for root in graph_inputs(sizes, blockers=given):
            if root not in allowed and not isinstance(root, Constant):
                raise ExprcValueError(
                    f"{name}: a size of output {j} reads {root}, which is neither an input of "
                    "the node nor one of the input sizes it was given; sizes must be computed "
                    "from those (and constants)")


def _size(name: str, j: int, size):
    if size is None:
        return None
    if isinstance(size, TensorVariable):
        if size.ndim != 0 or size.dtype not in INTEGER_DTYPES:
            raise ExprcTypeError(f"{name}: a size of output {j} is {size} of type {size.type}; "
                                 "sizes are ints or 0-d integer tensors")
        data = getattr(size, "data", None)
        if data is not None and int(data) < 0:
            raise ExprcValueError(f"{name}: a size of output {j} is the constant {int(data)}; "
                                  "sizes are >= 0")
        return as_size(size)
    if isinstance(size, bool) or not hasattr(size, "__index__"):
        raise ExprcTypeError(f"{name}: a size of output {j} is {size!r}; sizes are ints or 0-d "
                             "integer tensors")
    if int(size) < 0:
        raise ExprcValueError(f"{name}: a size of output {j} is {int(size)}; sizes are >= 0")
    return as_size(int(size))
