"""Buffers and strided views of them, and the loop nests that walk views.

Every value of an exported program lives in a :class:`Buffer` (an input or output the caller
passes, a constant, or a region of the arena) and is seen through a :class:`Layout`: an offset,
a shape and strides in elements, as NumPy sees an array. Views (a transpose, a slice, a
reshape of contiguous data) are new layouts of the same buffer and cost no code; kernels that
need contiguous data ask for it and get a copy only when the layout is not contiguous.

All sizes are known at export time, so loops are emitted with constant bounds and strides,
after merging the axes that are contiguous in every operand (a same-shape elementwise node is
one flat loop; a bias added over rows is two).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from exprc.link.codegen.render import C_TYPES

__all__ = ["Buffer", "Layout", "contiguous_strides", "loop_nest"]


def contiguous_strides(shape: Sequence[int]) -> tuple[int, ...]:
    """Row-major strides in elements of an array of ``shape``."""
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(int(size), 1)
    return tuple(reversed(strides))


@dataclass(eq=False)
class Buffer:
    """Storage of one or more values.

    Attributes
    ----------
    name : str
        The C identifier of the pointer to its first element.
    dtype : str
    size : int
        Elements.
    kind : str
        ``'input'`` (the caller's, read only), ``'output'`` (the caller's), ``'constant'`` (the
        weights) or ``'arena'`` (a region of the work memory, placed by the memory plan).
    first, last : int
        For arena buffers: the first and last node (by index) that uses it; the plan may give
        two buffers the same bytes only when these intervals do not meet.
    offset : int
        For arena buffers: where it starts, in bytes from the arena's start (set by the plan).
    """

    name: str
    dtype: str
    size: int
    kind: str
    first: int = -1
    last: int = -1
    offset: int = -1
    variables: list = field(default_factory=list)

    @property
    def ctype(self) -> str:
        return C_TYPES[self.dtype]

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    def touch(self, index: int) -> None:
        """Record that node ``index`` uses this buffer."""
        if self.first < 0 or index < self.first:
            self.first = index
        self.last = max(self.last, index)


@dataclass(frozen=True, eq=False)
class Layout:
    """A strided view of a buffer: element ``(i0, i1, ...)`` is
    ``buffer[offset + i0*strides[0] + i1*strides[1] + ...]``."""

    buffer: Buffer
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]

    @classmethod
    def whole(cls, buffer: Buffer, shape: Sequence[int]) -> Layout:
        """The contiguous view of all of ``buffer`` as ``shape``."""
        shape = tuple(int(s) for s in shape)
        return cls(buffer, 0, shape, contiguous_strides(shape))

    @property
    def dtype(self) -> str:
        return self.buffer.dtype

    @property
    def ctype(self) -> str:
        return self.buffer.ctype

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def is_contiguous(self) -> bool:
        """Whether the elements are consecutive in row-major order (sizes-1 axes ignored)."""
        expected = contiguous_strides(self.shape)
        return all(size <= 1 or s == e for size, s, e in zip(self.shape, self.strides, expected))

    def is_whole(self) -> bool:
        """Whether this is a contiguous view of all of its buffer."""
        return self.offset == 0 and self.size == self.buffer.size and self.is_contiguous()

    def pointer(self) -> str:
        """A C expression for the address of the first element."""
        return self.buffer.name if self.offset == 0 else f"({self.buffer.name} + {self.offset})"

    def element(self, index: str) -> str:
        """A C expression for the element at flat offset ``index`` from :meth:`pointer`."""
        if self.offset:
            return f"{self.buffer.name}[{self.offset} + {index}]"
        return f"{self.buffer.name}[{index}]"

    # ------------------------------------------------------------------ views
    def dimshuffle(self, new_order: Sequence) -> Layout:
        """The view ``DimShuffle(new_order)`` gives: axes reordered, ``'x'`` inserts a size-1
        axis, an axis left out must have size 1."""
        shape = [1 if k == "x" else self.shape[k] for k in new_order]
        strides = [0 if k == "x" else self.strides[k] for k in new_order]
        return Layout(self.buffer, self.offset, tuple(shape), tuple(strides))

    def reshaped(self, shape: Sequence[int]) -> Layout | None:
        """The same elements as ``shape``, or None when that needs a copy (not contiguous)."""
        if not self.is_contiguous():
            return None
        return Layout(self.buffer, self.offset, tuple(int(s) for s in shape),
                      contiguous_strides(shape))

    def broadcast_to(self, shape: Sequence[int]) -> Layout:
        """This view broadcast to ``shape`` (leading axes added; size-1 axes get stride 0)."""
        pad = len(shape) - self.ndim
        own_shape = (1,) * pad + self.shape
        own_strides = (0,) * pad + self.strides
        strides = tuple(0 if s == 1 and n != 1 else st
                        for s, n, st in zip(own_shape, shape, own_strides))
        return Layout(self.buffer, self.offset, tuple(shape), strides)

    def sliced(self, axis: int, start: int, stop: int, step: int) -> Layout:
        """Elements ``start:stop:step`` along ``axis`` (bounds already normalised)."""
        size = max(0, -(-(stop - start) // step)) if step > 0 else \
            max(0, -(-(start - stop) // -step))
        shape = list(self.shape)
        strides = list(self.strides)
        offset = self.offset + (start * strides[axis] if size else 0)
        shape[axis] = size
        strides[axis] = strides[axis] * step
        return Layout(self.buffer, offset, tuple(shape), tuple(strides))

    def indexed(self, axis: int, index: int) -> Layout:
        """The view with ``axis`` fixed at ``index`` (dropped)."""
        shape = self.shape[:axis] + self.shape[axis + 1:]
        strides = self.strides[:axis] + self.strides[axis + 1:]
        return Layout(self.buffer, self.offset + index * self.strides[axis], shape, strides)


# --------------------------------------------------------------------------- loops
def merged_axes(shape: Sequence[int], operand_strides: Sequence[Sequence[int]]
                ) -> tuple[list[int], list[list[int]]]:
    """``shape`` and the operands' strides with size-1 axes dropped and neighbouring axes
    merged where every operand steps through them as one."""
    axes = [d for d, s in enumerate(shape) if s != 1]
    sizes = [int(shape[d]) for d in axes]
    strides = [[int(st[d]) for d in axes] for st in operand_strides]
    d = len(sizes) - 1
    while d > 0:
        if all(st[d - 1] == st[d] * sizes[d] for st in strides):
            sizes[d - 1] *= sizes[d]
            del sizes[d]
            for st in strides:
                st[d - 1] = st[d]
                del st[d]
        d -= 1
    return sizes, strides


def loop_nest(shape: Sequence[int], operands: Sequence[Layout],
              body: Callable[[list[str]], list[str]], indent: str = "    ") -> list[str]:
    """C lines running ``body`` once per element of ``shape``.

    ``operands`` are views of that shape (broadcast already, stride 0 where repeated);
    ``body(indices)`` gets, for each operand, a C expression of its element's offset from the
    operand's first element, and returns the lines of one step.
    """
    if math.prod(shape) == 0:
        return []
    sizes, strides = merged_axes(shape, [o.strides for o in operands])
    names = [f"e{d}" for d in range(len(sizes))]
    offsets = []
    for st in strides:
        terms = [name if s == 1 else f"{name} * {s}" for name, s in zip(names, st) if s]
        offsets.append(" + ".join(terms) if terms else "0")
    lines = []
    for depth, (name, size) in enumerate(zip(names, sizes)):
        lines.append(f"{indent}{'    ' * depth}for (ptrdiff_t {name} = 0; {name} < {size}; "
                     f"++{name}) {{")
    inner = indent + "    " * len(sizes)
    lines += [inner + line for line in body(offsets)]
    for depth in reversed(range(len(sizes))):
        lines.append(f"{indent}{'    ' * depth}}}")
    if not sizes:  # 0-d: one element, no loop
        lines = [indent + "{"] + [indent + "    " + line for line in body(["0"] * len(operands))] \
            + [indent + "}"]
    return lines
