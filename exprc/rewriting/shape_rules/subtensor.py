"""Shape rules of indexing: the basic and advanced reads, and the writes (which keep the
shape of the tensor written into)."""

import numpy as np

from exprc.graph.ir import Constant
from exprc.rewriting.shape_rules import SHAPE
from exprc.rewriting.shape_rules.sizes import broadcast, const, slice_length
from exprc.tensor.subtensor import (
    ARRAY,
    MASK,
    SCALAR,
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    IncSubtensor,
    SliceSpec,
    Subtensor,
)


def _entries(node) -> list[tuple]:
    """``(entry, position of its first index input)`` for each entry of the index."""
    pairs, at = [], 1
    for entry in node.op.idx_list:
        pairs.append((entry, at))
        parts = entry if isinstance(entry, SliceSpec) else (entry,)
        at += sum(isinstance(p, str) for p in parts)
    return pairs


def _width(node, entry, at: int) -> int:
    """How many axes of the indexed tensor an entry other than Ellipsis uses up."""
    if entry is None or entry is Ellipsis:
        return 0
    return node.inputs[at].ndim if entry == MASK else 1


def _slice_size(node, input_shapes, spec: SliceSpec, at: int, size):
    parts = []
    for part in spec:
        if part == SCALAR:
            parts.append(input_shapes.values(node.inputs[at])[0])
            at += 1
        else:
            parts.append(None if part is None else const(part))
    return slice_length(*parts, size)


def _advanced_shape(node, input_shapes, entry, at: int) -> list:
    """The shape of one advanced index: an array's, a mask's selection, () for an integer."""
    if entry == ARRAY:
        return list(input_shapes[at])
    if entry == MASK:
        mask = node.inputs[at]
        # How many elements a mask selects is data, unless the mask is a constant.
        return [const(np.count_nonzero(mask.data)) if isinstance(mask, Constant) else None]
    return []


def _layout(node, input_shapes):
    """The sizes the basic entries give, in order, the shapes of the advanced entries (with
    their index in ``idx_list``), and how many basic sizes precede the first advanced one."""
    pairs = _entries(node)
    x = input_shapes[0]
    spare = node.inputs[0].ndim - sum(_width(node, e, at) for e, at in pairs)
    out, advanced, block_at, axis = [], [], None, 0
    for k, (entry, at) in enumerate(pairs):
        if entry is None:
            out.append(const(1))
        elif entry is Ellipsis:
            out += x[axis:axis + spare]
            axis += spare
        elif isinstance(entry, SliceSpec):
            out.append(_slice_size(node, input_shapes, entry, at, x[axis]))
            axis += 1
        else:
            advanced.append((k, _advanced_shape(node, input_shapes, entry, at)))
            block_at = len(out) if block_at is None else block_at
            axis += _width(node, entry, at)
    return out + list(x[axis:]), advanced, block_at


@SHAPE.register(Subtensor)
def subtensor(node, input_shapes):
    # Integer entries only drop their axis; everything else is in place.
    out, _, _ = _layout(node, input_shapes)
    return [tuple(out)]


@SHAPE.register(AdvancedSubtensor)
def advanced_subtensor(node, input_shapes):
    out, advanced, block_at = _layout(node, input_shapes)
    positions = [k for k, _ in advanced]
    block = _broadcast_block([shape for _, shape in advanced])
    # NumPy puts the advanced axes where the advanced entries are when these are adjacent in
    # the index, and first otherwise.
    adjacent = positions == list(range(positions[0], positions[-1] + 1))
    at = block_at if adjacent else 0
    return [tuple(out[:at] + block + out[at:])]


def _broadcast_block(shapes: list) -> list:
    rank = max(len(s) for s in shapes)
    padded = [[const(1)] * (rank - len(s)) + s for s in shapes]
    return [None if any(s is None for s in sizes) else broadcast(sizes)
            for sizes in zip(*padded)]


@SHAPE.register(IncSubtensor, AdvancedIncSubtensor)
def inc_subtensor(node, input_shapes):
    return [input_shapes[0]]
