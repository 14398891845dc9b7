"""ONNX rules of the subtensor family: reading (``Subtensor``, ``AdvancedSubtensor``) and
writing (``IncSubtensor``, ``AdvancedIncSubtensor``) with NumPy's indexing semantics.

Reading:

- slices (bounds known when the model is written) are one ``Slice``; integers, constant or
  computed when the function runs, are a ``Gather`` each (negative ones count from the end,
  as in NumPy); new axes an ``Unsqueeze``;
- one integer index array (or a constant boolean mask of one axis) is a ``Gather`` too; where
  NumPy moves the indexed block to the front (advanced entries that are not adjacent), a
  ``Transpose`` follows;
- any other advanced index whose arrays and masks are constants is one ``GatherND`` of
  positions computed when the model is written.

Writing works on those positions as well (every index constant): ``ScatterND`` writes the new
values. Setting keeps the last of repeated positions, as NumPy; ``x[i] += y`` (basic, or with
``ignore_duplicates``) adds to the value read before; ``np.add.at``'s accumulation over
repeated positions uses ``ScatterND``'s ``add`` reduction (opset 16). An index array computed
when the function runs can only accumulate, along one axis, with every other entry a full
slice: ``ScatterND`` leaves repeated positions undefined otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from exprc.export.onnx.rules import INT64_MIN, ONNX
from exprc.export.onnx.rules.elemwise import numpy_cast
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


@dataclass
class _Entry:
    """One entry of an index, its Ellipsis expanded: ``kind`` is ``slice``, ``int``, ``new``,
    ``array`` or ``mask``; ``position`` its place in the op's ``idx_list``."""

    kind: str
    position: int
    axis: int = -1
    value: Any = None  # a slice, an int, an index array's name, or a mask's value
    name: str | None = None  # the name of a run-time integer


def _parse(b, idx_list: tuple, names: list[str], shape: tuple) -> list[_Entry]:
    names = iter(names)
    entries, used_axes = [], 0
    for position, entry in enumerate(idx_list):
        if isinstance(entry, SliceSpec):
            parts = []
            for part in entry:
                if part == SCALAR:
                    value = b.known(next(names))
                    if value is None:
                        raise b.fail("a slice bound computed when the function runs gives "
                                     "sizes the model cannot fix; use constant bounds")
                    part = int(value)
                parts.append(part)
            entries.append(_Entry("slice", position, value=slice(*parts)))
            used_axes += 1
        elif entry is None:
            entries.append(_Entry("new", position))
        elif entry is Ellipsis:
            entries.append(_Entry("ellipsis", position))
        elif entry == SCALAR:
            name = next(names)
            value = b.known(name)
            entries.append(_Entry("int", position, value=None if value is None else int(value),
                                  name=name if value is None else None))
            used_axes += 1
        elif entry == ARRAY:
            entries.append(_Entry("array", position, name=next(names)))
            used_axes += 1
        elif entry == MASK:
            value = b.known(next(names))
            if value is None:
                raise b.fail("a boolean mask computed when the function runs selects a number "
                             "of elements the model cannot fix")
            entries.append(_Entry("mask", position, value=value.astype(bool)))
            used_axes += value.ndim
        else:
            entries.append(_Entry("int", position, value=int(entry)))
            used_axes += 1
    rest = [_Entry("slice", len(idx_list), value=slice(None))
            for _ in range(len(shape) - used_axes)]
    expanded = []
    for entry in entries:
        if entry.kind == "ellipsis":
            expanded += [_Entry("slice", entry.position, value=slice(None)) for _ in rest]
            rest = []
        else:
            expanded.append(entry)
    expanded += rest
    axis = 0
    for entry in expanded:
        if entry.kind == "new":
            continue
        entry.axis = axis
        if entry.kind == "int" and entry.value is not None:
            size = shape[axis]
            if not -size <= entry.value < size:
                raise b.fail(f"index {entry.value} is out of range for axis {axis} of size "
                             f"{size}")
            entry.value %= size
        axis += entry.value.ndim if entry.kind == "mask" else 1
    return expanded


def _numpy_index(b, entries: list[_Entry]) -> tuple | None:
    """The NumPy index of ``entries`` when every part is known now, else None."""
    index = []
    for entry in entries:
        if entry.kind == "slice":
            index.append(entry.value)
        elif entry.kind == "new":
            index.append(None)
        elif entry.kind == "mask":
            index.append(entry.value)
        elif entry.kind == "int":
            if entry.value is None:
                return None
            index.append(entry.value)
        else:
            known = b.known(entry.name)
            if known is None:
                return None
            index.append(known.astype("int64"))
    return tuple(index)


def _positions(b, shape: tuple, index: tuple) -> np.ndarray:
    """The coordinates (last axis) of every element ``x[index]`` reads, for ``x`` of
    ``shape``."""
    grid = np.moveaxis(np.indices(shape, dtype="int64"), 0, -1)
    try:
        return np.asarray(grid[index])
    except IndexError as exc:  # exprc raises it when the function runs
        raise b.fail(f"its constant index is out of range: {exc}") from None


def _slice_bounds(piece: slice, size: int) -> tuple[int, int, int] | None:
    """ONNX ``Slice`` bounds selecting what ``piece`` selects (None: the whole axis)."""
    chosen = range(*piece.indices(size))
    if chosen == range(size):
        return None
    if not chosen:
        return 0, 0, 1
    end = chosen.start + len(chosen) * chosen.step
    return chosen.start, (INT64_MIN if end < 0 else end), chosen.step


# --------------------------------------------------------------------------- reading
@ONNX.register(Subtensor, AdvancedSubtensor)
def subtensor(b, node, inputs):
    x, names = inputs[0], inputs[1:]
    out_shape = tuple(b.graph.shapes[node.outputs[0]])
    entries = _parse(b, node.op.idx_list, names, b.shape(x))
    for entry in entries:  # a constant mask of one axis is the index array of its Trues
        if entry.kind == "mask" and entry.value.ndim == 1:
            entry.kind, entry.name = "array", b.const(np.flatnonzero(entry.value),
                                                      share=False)
    advanced = [e for e in entries if e.kind in ("array", "mask")]
    if len(advanced) <= 1 and all(e.kind != "mask" for e in advanced):
        return [_gathered(b, x, entries, bool(advanced), out_shape)]
    index = _numpy_index(b, entries)
    if index is None:
        raise b.fail("several index arrays, of which one is computed when the function "
                     "runs, are not exported (one index array is, or constant ones)")
    positions = _positions(b, b.shape(x), index)
    return [b.op("GatherND", [x, b.const(positions, share=False)], b.dtype(x), out_shape)]


def _gathered(b, x: str, entries: list[_Entry], advanced: bool, out_shape: tuple) -> str:
    shape = b.shape(x)
    axes, starts, ends, steps = [], [], [], []
    for entry in entries:
        if entry.kind == "slice":
            bounds = _slice_bounds(entry.value, shape[entry.axis])
            if bounds is not None:
                axes.append(entry.axis)
                for target, value in zip((starts, ends, steps), bounds):
                    target.append(value)
    y = b.slice(x, axes, starts, ends, steps)
    for entry in sorted((e for e in entries if e.kind in ("int", "array")),
                        key=lambda e: -e.axis):
        if entry.kind == "int":
            index = entry.name if entry.value is None else b.const(entry.value, dtype="int64")
        else:
            index = entry.name
            known, size = b.known(index), b.shape(y)[entry.axis]
            if known is not None and known.size and not (
                    -size <= known.min() and known.max() < size):
                raise b.fail(f"its constant index array holds a position out of range for "
                             f"axis {entry.axis} of size {size}")
        y = b.gather(y, index, entry.axis)
    basic = [e for e in entries if e.kind in ("slice", "new")]
    news = [k for k, e in enumerate(basic) if e.kind == "new"]
    if not advanced:
        return b.reshape(b.unsqueeze(y, news), out_shape)
    return _numpy_layout(b, y, entries, out_shape)


def _numpy_layout(b, y: str, entries: list[_Entry], out_shape: tuple) -> str:
    """``y`` (slices and the gathered block in index order, new axes missing) laid out as
    NumPy lays out ``x[index]``: new axes in place, the block moved to the front when the
    advanced entries are not adjacent in the index."""
    basic = [e for e in entries if e.kind in ("slice", "new")]
    label = {id(e): k for k, e in enumerate(basic)}
    block_rank = next(len(b.shape(e.name)) for e in entries if e.kind == "array")
    current: list[Any] = []
    block_at = None
    for entry in entries:
        if entry.kind == "slice":
            current.append(label[id(entry)])
        elif entry.kind in ("int", "array"):
            if block_at is None:
                block_at = sum(1 for e in basic if e.position < entry.position)
            if entry.kind == "array":
                current += [("block", r) for r in range(block_rank)]
    news = [label[id(e)] for e in basic if e.kind == "new"]
    y = b.unsqueeze(y, range(len(current), len(current) + len(news)))
    current += news
    positions = sorted({e.position for e in entries if e.kind in ("int", "array")})
    adjacent = positions == list(range(positions[0], positions[-1] + 1))
    at = block_at if adjacent else 0
    order = list(range(len(basic)))
    target = order[:at] + [("block", r) for r in range(block_rank)] + order[at:]
    perm = [current.index(t) for t in target]
    return b.reshape(b.transpose(y, perm), out_shape)


# --------------------------------------------------------------------------- writing
@ONNX.register(IncSubtensor, AdvancedIncSubtensor)
def inc_subtensor(b, node, inputs):
    x, y, names = inputs[0], inputs[1], inputs[2:]
    op = node.op
    accumulate = isinstance(op, AdvancedIncSubtensor) and not op.set_instead_of_inc \
        and not op.ignore_duplicates
    entries = _parse(b, op.idx_list, names, b.shape(x))
    index = _numpy_index(b, entries)
    values = numpy_cast(b, y, b.dtype(x))
    if not b.shape(x):  # a 0-d x: the index (new axes, ...) selects x itself, one element
        values = b.reshape(values, ())
        return [values if op.set_instead_of_inc else b.binary("Add", x, values)]
    if index is None:
        return [_scatter_runtime(b, x, values, entries, accumulate, op)]
    positions = _positions(b, b.shape(x), index)
    region = positions.shape[:-1]
    count = int(np.prod(region, dtype="int64"))
    if count == 0:
        return [x]
    flat_positions = positions.reshape(count, -1)
    flat_values = b.reshape(b.expand(values, region), (count,))
    keys = np.ravel_multi_index(flat_positions.T, b.shape(x)) if len(b.shape(x)) else \
        np.zeros(count, dtype="int64")
    repeated = len(np.unique(keys)) < count
    if repeated and accumulate:
        b.require_opset(16, "adding at repeated index positions (np.add.at)")
        return [b.op("ScatterND", [x, b.const(flat_positions, share=False), flat_values],
                     b.dtype(x), b.shape(x), reduction="add")]
    if repeated:  # the last write to each position wins, as in NumPy
        last = count - 1 - np.unique(keys[::-1], return_index=True)[1]
        flat_positions = flat_positions[np.sort(last)]
        flat_values = b.gather(flat_values, b.const(np.sort(last).astype("int64"),
                                                    share=False), 0)
    where = b.const(flat_positions, share=False)
    if not op.set_instead_of_inc:
        read = b.op("GatherND", [x, where], b.dtype(x), b.shape(flat_values))
        flat_values = b.binary("Add", read, flat_values)
    return [b.op("ScatterND", [x, where, flat_values], b.dtype(x), b.shape(x))]


def _scatter_runtime(b, x: str, values: str, entries: list[_Entry], accumulate: bool,
                     op) -> str:
    """``np.add.at(x, (slice(None),) * k + (idx,), values)`` for a run-time ``idx``."""
    arrays = [e for e in entries if e.kind == "array"]
    full = all(e.kind == "array" or (e.kind == "slice" and e.value == slice(None))
               for e in entries)
    if not (accumulate and len(arrays) == 1 and full):
        raise b.fail("writing at positions computed when the function runs is only exported "
                     "for inc_subtensor(x[..., idx], y) with one index array (ONNX leaves "
                     "repeated positions undefined when setting)")
    b.require_opset(16, "adding at index positions computed when the function runs")
    (array,) = arrays
    axis, shape = array.axis, b.shape(x)
    index = b.cast(array.name, "int64")
    wrapped = b.binary("Add", index, b.const(shape[axis], dtype="int64"))
    index = b.where(b.binary("Less", index, b.const(0, dtype="int64"), "bool"), wrapped, index)
    rank, block = len(shape), len(b.shape(array.name))
    region = shape[:axis] + b.shape(array.name) + shape[axis + 1:]
    moved = b.transpose(x, [axis] + [a for a in range(rank) if a != axis])
    spread = b.expand(values, region)
    spread = b.transpose(spread, list(range(axis, axis + block)) + list(range(axis)) +
                         list(range(axis + block, len(region))))
    scattered = b.op("ScatterND", [moved, b.unsqueeze(index, [block]), spread], b.dtype(x),
                     b.shape(moved), reduction="add")
    back = [0] * rank
    for k, a in enumerate([axis] + [a for a in range(rank) if a != axis]):
        back[a] = k
    return b.transpose(scattered, back)
