"""Standalone C of indexing: ``Subtensor``, ``IncSubtensor``, ``AdvancedSubtensor`` and
``AdvancedIncSubtensor``, with NumPy's semantics.

:class:`_Index` reads an ``idx_list`` against the indexed tensor's static shape. Each entry
becomes what it is at export: a position on an axis (an integer; read at run time for a
symbolic one, bounds-checked, negative counting from the end), a walked axis (a slice, whose
bounds read at run time go through ``exprc_portable_slice``; a new axis; the axes an Ellipsis
stands for), or an index array of the advanced block (a constant boolean mask becomes the
arrays of its true positions). The indexed region is then walked in C order: the basic axes,
with the advanced block where NumPy puts it (in place of adjacent advanced entries, else
first). A basic index known entirely at export is a view and costs no code.

Index arrays are checked element by element as they are read (``EXPRC_ERROR_INDEX``); a
write visits repeated positions in order, so setting keeps the last value and incrementing
accumulates (``np.add.at``), unless ``ignore_duplicates`` asks for ``x[index] += y``, which
adds each position's last value to its original. A boolean mask read at run time can only
select what it writes (its count is data): ``set_subtensor(x[x > 0], y)`` is a walk over the
mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exprc.export.c.layout import Buffer, Layout
from exprc.export.c.program import EXPORT_C, NodeContext, copy_lines
from exprc.export.c.rules.extra_ops import as_int64, nest, operand, wrapping
from exprc.export.graph import ExportError
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
class _Axis:
    """An axis of the indexed region walked along an axis of the tensor."""

    size: int | str  # a C variable when a slice's bounds are read at run time
    x_axis: int | None  # None: a new axis (size 1)
    step: int | str = 1  # positions of x_axis per step


@dataclass
class _Array:
    """An integer index array of the advanced block."""

    layout: Layout
    x_axis: int
    known: np.ndarray | None  # its value, when known at export


class _Index:
    """An ``idx_list`` applied to input 0 of ``ctx``, whose index inputs start at ``first``.

    Attributes
    ----------
    lines : list of str
        C computing the run-time positions, slice sizes and checks (inside the node's block).
    axes : list of _Axis
        The basic axes of the region, in order.
    positions : list of (int, int or str)
        Fixed positions: (axis of x, position as an int or a C expression).
    arrays : list of _Array
    block : tuple of int
        The shape of the advanced block.
    block_at : int
        How many basic axes come before the block.
    mask : tuple or None
        (layout, first axis of x) of a boolean mask read at run time.
    """

    def __init__(self, ctx: NodeContext, first: int, advanced: bool):
        self.ctx = ctx
        self.lines: list[str] = []
        self.axes: list[_Axis] = []
        self.positions: list[tuple[int, int | str]] = []
        self.arrays: list[_Array] = []
        self.mask: tuple | None = None
        self.shape = ctx.inputs[0].shape
        self.label = str(ctx.op)
        entries = []
        j = first
        for entry in ctx.op.idx_list:
            if isinstance(entry, SliceSpec):
                parts = []
                for part in entry:
                    parts.append(("input", j) if part == SCALAR else part)
                    j += part == SCALAR
                entries.append((entry, parts))
            elif isinstance(entry, str):
                entries.append((entry, j))
                j += 1
            else:
                entries.append((entry, None))
        used = sum(0 if e is None or e is Ellipsis else
                   ctx.inputs[d].ndim if e == MASK else 1 for e, d in entries)
        fill = len(self.shape) - used
        axis, block_shapes, adv_entries, block_at = 0, [], [], None
        for k, (entry, detail) in enumerate(entries):
            if entry is Ellipsis:
                self.axes += [_Axis(self.shape[a], a) for a in range(axis, axis + fill)]
                axis += fill
            elif entry is None:
                self.axes.append(_Axis(1, None, 0))
            elif isinstance(entry, SliceSpec):
                self._slice(axis, detail)
                axis += 1
            else:
                if advanced:
                    adv_entries.append(k)
                    block_at = len(self.axes) if block_at is None else block_at
                if entry == ARRAY:
                    self._array(ctx.inputs[detail], axis, ctx.values[detail])
                    block_shapes.append(ctx.inputs[detail].shape)
                    axis += 1
                elif entry == MASK:
                    block_shapes.append(self._mask(detail, axis))
                    axis += ctx.inputs[detail].ndim
                else:
                    self.positions.append((axis, self._position(axis, entry, detail)))
                    block_shapes.append(())
                    axis += 1
        self.axes += [_Axis(self.shape[a], a) for a in range(axis, len(self.shape))]
        if self.mask is not None:
            if self.arrays:
                raise self._error("a boolean mask read at run time can only be combined with "
                                  "slices and integers, not with index arrays")
            self.block: tuple = (-1,)  # one axis, of as many positions as the mask selects
        else:
            try:
                self.block = tuple(np.broadcast_shapes(*block_shapes)) if block_shapes else ()
            except ValueError:
                raise self._error(f"index arrays of shapes {block_shapes} cannot be broadcast "
                                  "together") from None
        adjacent = adv_entries == list(range(adv_entries[0], adv_entries[-1] + 1)) \
            if adv_entries else True
        self.block_at = (block_at or 0) if adjacent else 0

    # ------------------------------------------------------------------ entries
    def _error(self, why: str) -> ExportError:
        return ExportError(f"cannot export {self.ctx.describe()} to C: {why}")

    def _fail(self, code: str, why: str) -> str:
        return self.ctx.fail(code, f"{self.label}: {why}")

    def _read(self, j: int) -> tuple[int | None, str]:
        """Index input ``j``: its value if known at export, and a C int64 expression."""
        layout = self.ctx.inputs[j]
        value = self.ctx.values[j]
        known = None if value is None else int(np.asarray(value).reshape(()))
        if known is not None:  # a bound past the int64 range means that end of it
            known = min(max(known, -2**63), 2**63 - 1)
        return known, as_int64(layout.element("0"), layout.dtype)

    def _position(self, axis: int, entry, detail) -> int | str:
        """The position an integer entry fixes on ``axis``: an int, or a C expression of a
        variable checked and made non-negative at run time."""
        size = self.shape[axis]
        known, expression = (entry, "") if detail is None else self._read(detail)
        if known is not None:
            if not -size <= known < size:
                raise self._error(f"index {known} is out of range for axis {axis} of size "
                                  f"{size}")
            return known % size
        name = f"p{len(self.lines)}"
        self.lines += [
            f"int64_t {name} = {expression};",
            f"if ({name} < -{size} || {name} >= {size}) "
            + self._fail("EXPRC_ERROR_INDEX", f"index out of range for axis {axis} of size "
                         f"{size}"),
            f"if ({name} < 0) {name} += {size};",
        ]
        return f"(ptrdiff_t){name}"

    def _slice(self, axis: int, parts: list) -> None:
        """The axis a slice walks: static when its bounds are known at export, else its first
        position, size and step computed at run time by ``exprc_portable_slice``."""
        size = self.shape[axis]
        bounds = []  # (value known at export or None, C expression)
        for part in parts:
            if isinstance(part, tuple):
                bounds.append(self._read(part[1]))
            else:
                bounds.append((part, "" if part is None else _literal(part)))
        if all(known is not None or not expression for known, expression in bounds):
            start, stop, step = (known for known, _ in bounds)
            if step == 0:
                raise self._error(f"slice step 0 on axis {axis}")
            walked = range(*slice(start, stop, step).indices(size))
            if len(walked):
                self.positions.append((axis, walked.start))
            self.axes.append(_Axis(len(walked), axis, walked.step))
            return
        self.ctx.need("index")
        k = len(self.lines)
        (start, start_c), (stop, stop_c), (step, step_c) = bounds
        if step is not None:
            if step == 0:
                raise self._error(f"slice step 0 on axis {axis}")
            step_c = _literal(step)
        elif step_c:
            self.lines += [f"const int64_t t{k} = {step_c};",
                           f"if (t{k} == 0) " + self._fail("EXPRC_ERROR_VALUE",
                                                           "slice step cannot be zero")]
            step_c = f"t{k}"
        else:
            step, step_c = 1, "1"

        def bound(known, expression):
            if known is not None:
                return "1", _literal(known)
            return ("1", expression) if expression else ("0", "0")

        self.lines += [
            f"int64_t f{k}, n{k};",
            f"exprc_portable_slice({size}, {', '.join(bound(start, start_c))}, "
            f"{', '.join(bound(stop, stop_c))}, {step_c}, &f{k}, &n{k});",
        ]
        self.positions.append((axis, f"(ptrdiff_t)f{k}"))
        self.axes.append(_Axis(f"(ptrdiff_t)n{k}", axis,
                               step if step is not None else f"(ptrdiff_t)t{k}"))

    def _array(self, layout: Layout, axis: int, value) -> None:
        """An index array on ``axis``, checked now when its value is known."""
        size = self.shape[axis]
        known = None if value is None else np.asarray(value).astype("int64")
        if known is not None and known.size and (known.min() < -size or known.max() >= size):
            raise self._error(f"an index is out of range for axis {axis} of size {size}")
        self.arrays.append(_Array(layout, axis, known))

    def _mask(self, j: int, axis: int) -> tuple:
        """A boolean mask from ``axis`` on: the arrays of its true positions when known at
        export (as constant arrays local to the node), else walked at run time; returns its
        shape in the advanced block."""
        mask = self.ctx.inputs[j]
        covered = self.shape[axis:axis + mask.ndim]
        if tuple(mask.shape) != tuple(covered):
            raise self._error(f"the boolean mask of shape {mask.shape} does not match the "
                              f"axes {tuple(covered)} it indexes")
        value = self.ctx.values[j]
        if value is None:
            self.mask = (mask, axis)
            return (-1,)  # a placeholder: the count is data
        where = np.nonzero(np.asarray(value))
        for t, positions in enumerate(where):
            name = f"mask{self.ctx.index}_{t}"
            data = ", ".join(f"INT64_C({int(p)})" for p in positions) or "0"
            self.lines += [f"static const int64_t {name}[{max(positions.size, 1)}] = "
                           f"{{{data}}};",
                           f"(void){name};"]  # unread when nothing is selected
            buffer = Buffer(name, "int64", max(positions.size, 1), "constant")
            self._array(Layout.whole(buffer, positions.shape), axis + t, positions)
        return (where[0].size,)

    # ------------------------------------------------------------------ the region
    def region(self) -> list[int | str]:
        """The sizes of the indexed region, in C order."""
        sizes = [a.size for a in self.axes]
        return sizes[:self.block_at] + list(self.block) + sizes[self.block_at:]

    def strides(self, layout: Layout) -> list[int | str]:
        """Strides over the region of a layout of the indexed tensor's shape (0 on the
        advanced block, which the index arrays walk)."""
        basic: list[int | str] = []
        for a in self.axes:
            if a.x_axis is None:
                basic.append(0)
            elif isinstance(a.step, int):
                basic.append(a.step * layout.strides[a.x_axis])
            else:
                basic.append(f"{a.step} * {layout.strides[a.x_axis]}")
        return basic[:self.block_at] + [0] * len(self.block) + basic[self.block_at:]

    def array_strides(self, array: _Array) -> list[int]:
        """Strides over the region of an index array (broadcast over the block)."""
        shape, strides = array.layout.shape, array.layout.strides
        block = [0] * (len(self.block) - len(shape)) + [0 if size == 1 else stride
                                                         for size, stride in zip(shape, strides)]
        return [0] * self.block_at + block + [0] * (len(self.axes) - self.block_at)

    def base(self, layout: Layout) -> str:
        """C expression of the offset of the region's first element in ``layout``'s buffer
        (before the index arrays' positions)."""
        static = layout.offset + sum(p * layout.strides[a] for a, p in self.positions
                                     if isinstance(p, int))
        terms = [f"{p} * {layout.strides[a]}" for a, p in self.positions if isinstance(p, str)]
        return " + ".join([str(static), *terms])

    def element(self, layout: Layout, offset: str) -> str:
        """The element of ``layout`` at ``offset`` in the region, the index arrays' positions
        (read by :meth:`read_arrays`) added."""
        terms = [self.base(layout), offset] + [
            f"(ptrdiff_t)i{k} * {layout.strides[array.x_axis]}"
            for k, array in enumerate(self.arrays)]
        return f"{layout.buffer.name}[{' + '.join(t for t in terms if t != '0') or '0'}]"

    def read_arrays(self, offsets: list[str]) -> list[str]:
        """Lines reading each index array's entry (at its offset) into ``i<k>``, checked
        against its axis (unless known in range at export) and made non-negative."""
        lines = []
        for k, (array, offset) in enumerate(zip(self.arrays, offsets)):
            size = self.shape[array.x_axis]
            layout = array.layout
            lines.append(f"int64_t i{k} = {as_int64(layout.element(offset), layout.dtype)};")
            if array.known is None:
                lines.append(f"if (i{k} < -{size} || i{k} >= {size}) " + self._fail(
                    "EXPRC_ERROR_INDEX", f"index out of range for axis {array.x_axis} of "
                    f"size {size}"))
            if array.known is None or (array.known < 0).any():
                lines.append(f"if (i{k} < 0) i{k} += {size};")
        return lines

    def view(self, layout: Layout) -> Layout | None:
        """The region as a view of ``layout``, when everything is known at export."""
        if self.lines or self.arrays or self.block or self.mask is not None:
            return None
        strides = self.strides(layout)
        return Layout(layout.buffer, int(self.base(layout)), tuple(self.region()),
                      tuple(strides))


def _literal(value: int) -> str:
    return "INT64_MIN" if value == -2**63 else f"INT64_C({int(value)})"


def _block(lines: list[str]) -> list[str]:
    """``lines`` in a block of their own (their names are local to the node)."""
    return ["    {"] + [f"        {line}" for line in lines] + ["    }"]


# --------------------------------------------------------------------------- reading
@EXPORT_C.register(Subtensor, AdvancedSubtensor)
def subtensor(ctx: NodeContext) -> None:
    """A view when every index is known at export; otherwise the region copied out, its
    positions checked as they are read."""
    index = _Index(ctx, 1, isinstance(ctx.op, AdvancedSubtensor))
    x = ctx.inputs[0]
    view = index.view(x)
    if view is not None:
        ctx.view(0, view)
        return
    if index.mask is not None:
        raise index._error("the number of elements a boolean mask read at run time selects "
                           "is data, so no memory can be planned for the result")
    out = ctx.output(0)
    lines = list(index.lines)
    planned = list(ctx.out_shapes[0])
    for size, want in zip(index.region(), planned):
        if isinstance(size, str):  # the planned size of a slice of run-time bounds
            lines.append(f"if ({size} != {want}) " + index._fail(
                "EXPRC_ERROR_VALUE", "a slice's size differs from the size the export "
                "planned for"))
    operands = [index.strides(x), *(index.array_strides(a) for a in index.arrays),
                list(out.strides)]
    narrays = len(index.arrays)
    lines += nest(planned, operands, lambda ix: [
        *index.read_arrays(ix[1:1 + narrays]),
        f"{out.element(ix[-1])} = {index.element(x, ix[0])};"], "r")
    ctx.emit(*_block(lines))


# --------------------------------------------------------------------------- writing
def _broadcast_value(index: _Index, y: Layout, region: list, lines: list[str]) -> list:
    """Strides of ``y`` over the region (NumPy's broadcasting), checking at run time the sizes
    only known then."""
    if y.ndim > len(region):
        raise index._error(f"values of shape {y.shape} cannot be broadcast to the indexed "
                           f"region of {len(region)} axes")
    strides = [0] * (len(region) - y.ndim)
    for size, want, stride in zip(y.shape, region[len(region) - y.ndim:], y.strides):
        if size == 1:
            strides.append(0)
            continue
        if isinstance(want, str):
            lines.append(f"if ({want} != {size}) " + index._fail(
                "EXPRC_ERROR_VALUE", f"shape mismatch: values of shape {y.shape} cannot be "
                "broadcast to the indexed region"))
        elif want != size:
            raise index._error(f"values of shape {y.shape} cannot be broadcast to the "
                               f"indexed region of shape {tuple(region)}")
        strides.append(stride)
    return strides


@EXPORT_C.register(IncSubtensor, AdvancedIncSubtensor)
def inc_subtensor(ctx: NodeContext) -> None:
    """The result starts as ``x`` (its own buffer when nothing reads ``x`` later, else a
    copy); the region is then set to, or incremented by, ``y`` broadcast to it."""
    op = ctx.op
    advanced = isinstance(op, AdvancedIncSubtensor)
    plain_add = advanced and op.ignore_duplicates and not op.set_instead_of_inc
    x, y = ctx.inputs[0], operand(ctx, 1)
    index = _Index(ctx, 2, advanced)
    # x[index] += y reads every original value before any write: it needs x intact.
    out = ctx.output(0) if plain_add else ctx.output(0, reuse=0)
    if out.buffer is not x.buffer and out.size:
        ctx.emit(*copy_lines(x, out))
    dtype, ctype = out.dtype, out.ctype

    def update(target: str, value: str, original: str | None) -> str:
        value = f"({ctype}){value}"
        if op.set_instead_of_inc:
            return f"{target} = {value};"
        return f"{target} = {wrapping(dtype, original or target, '+', value)};"

    lines = list(index.lines)
    if index.mask is not None:
        lines += _masked(index, out, x if plain_add else None, y, update)
        ctx.emit(*_block(lines))
        return
    region = index.region()
    y_strides = _broadcast_value(index, y, region, lines)
    operands = [index.strides(out), *(index.array_strides(a) for a in index.arrays),
                y_strides]
    if plain_add:
        operands.append(index.strides(x))
    narrays = len(index.arrays)
    lines += nest(region, operands, lambda ix: [
        *index.read_arrays(ix[1:1 + narrays]),
        update(index.element(out, ix[0]), y.element(ix[1 + narrays]),
               index.element(x, ix[-1]) if plain_add else None)], "r")
    ctx.emit(*_block(lines))


def _masked(index: _Index, out: Layout, x: Layout | None, y: Layout, update) -> list[str]:
    """Lines writing ``y`` into the positions a boolean mask read at run time selects: the
    mask's axes are walked in C order, between the basic axes before and after the block, and
    ``c`` counts the selected positions (``y``'s index along the block)."""
    mask, first = index.mask
    before, after = index.axes[:index.block_at], index.axes[index.block_at:]
    region = [a.size for a in before] + ["count"] + [a.size for a in after]
    lines: list[str] = []
    y_strides = _broadcast_value(index, y, region, lines)
    block_stride = y_strides[len(before)]
    if block_stride:  # y has one value per selected position: count them first
        counting = nest(mask.shape, [list(mask.strides)], lambda ix: [
            f"count += {mask.element(ix[0])} ? 1 : 0;"], "k")
        lines = ["ptrdiff_t count = 0;", *counting] + lines
    targets = [out] + ([x] if x is not None else [])
    out_strides = [index.strides(layout) for layout in targets]
    mask_axes = range(first, first + mask.ndim)
    sizes_before = [a.size for a in before]
    sizes_after = [a.size for a in after]
    nb = len(before)

    def inner(o1: list[str], o2: list[str]) -> list[str]:
        def step(o3: list[str]) -> list[str]:
            places = [f"{t.buffer.name}[{index.base(t)} + {o1[k]} + {o2[1 + k]} + {o3[k]}]"
                      for k, t in enumerate(targets)]
            value = y.element(" + ".join([o1[-1], *(["c * " + str(block_stride)]
                                                    if block_stride else []), o3[-1]]))
            return [update(places[0], value, places[1] if x is not None else None)]

        walk = nest(sizes_after, [s[nb + 1:] for s in out_strides] + [y_strides[nb + 1:]],
                    step, "z")
        return [f"if ({mask.element(o2[0])}) {{", *(f"    {line}" for line in walk),
                *(["    ++c;"] if block_stride else []), "}"]

    def outer(o1: list[str]) -> list[str]:
        walk = nest(mask.shape, [list(mask.strides)] + [[t.strides[a] for a in mask_axes]
                                                        for t in targets],
                    lambda o2: inner(o1, o2), "k")
        return (["ptrdiff_t c = 0;"] if block_stride else []) + walk

    return lines + nest(sizes_before, [s[:nb] for s in out_strides] + [y_strides[:nb]],
                        outer, "a")
