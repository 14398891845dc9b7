"""The standalone C program of an :class:`~exprc.export.graph.ExportGraph`.

:class:`ExportProgram` walks the graph's nodes in order and asks each op's rule in
:data:`EXPORT_C` for its C. A rule works on a :class:`NodeContext`: it reads its inputs as
:class:`~exprc.export.c.layout.Layout`\\ s, asks for its outputs (fresh buffers, the caller's
output array when the value is an output of the function, or an input's buffer reused in place
when nothing reads that input later), for scratch memory, and for functions of the portable
kernel library (``csrc/exprc_portable_*.h``), and emits lines. A view op (a transpose, a
slice) only declares its output as a view of its input and emits nothing.

When every node is done, the memory plan places each arena buffer: two buffers may share bytes
only when no node uses both, and the arena's size is the end of the highest one. The plan is
first fit, largest buffer first, every buffer aligned to 64 bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from exprc.export.c.layout import Buffer, Layout, loop_nest
from exprc.export.graph import ExportError, ExportGraph, describe
from exprc.graph.ir import Apply, Variable
from exprc.graph.optable import OpTable
from exprc.link.codegen.render import C, Renderer, c_comment, c_literal
from exprc.link.sources import source_dir

__all__ = ["ALIGNMENT", "EXPORT_C", "ExportProgram", "NodeContext", "library_text"]

#: The standalone-C rules: ``rule(ctx: NodeContext) -> None``, one module per op family in
#: :mod:`exprc.export.c.rules`.
EXPORT_C = OpTable("standalone C export")

#: Every arena buffer starts at a multiple of this many bytes (a cache line; enough for any
#: vector load).
ALIGNMENT = 64

#: Error codes a generated ``<name>_run`` returns (also written in the header).
ERROR_CODES = {
    "EXPRC_OK": (0, "success"),
    "EXPRC_ERROR_ARENA": (1, "the arena pointer is NULL or not aligned to 8 bytes"),
    "EXPRC_ERROR_WEIGHTS": (2, "the weights are not loaded, or the file is damaged"),
    "EXPRC_ERROR_INDEX": (3, "an index read from an input is out of range"),
    "EXPRC_ERROR_VALUE": (4, "an input value fails a check of the graph"),
    "EXPRC_ERROR_MEMORY": (5, "no memory for the arena (only without static memory)"),
}


def library_text(section: str) -> str:
    """The text of the portable kernel library file ``csrc/exprc_portable_<section>.h``."""
    path = source_dir("csrc") / f"exprc_portable_{section}.h"
    if not path.is_file():
        raise ExportError(f"the portable C library has no section {section!r} ({path})")
    return path.read_text()


@dataclass
class _Section:
    name: str
    dtype: str | None


class ExportProgram:
    """Builds the body of ``<name>_run`` and the memory plan for ``graph``.

    Attributes
    ----------
    graph : ExportGraph
    prefix : str
        The C name prefix of every global the program defines (the export's name).
    buffers : list of Buffer
    lines : list of str
        The body of the run function, before the arena pointers are declared.
    sections : list of (str, str or None)
        The portable library sections (and their dtypes) the rules asked for, in order.
    arena_bytes : int
        The size of the work memory (after :meth:`build`).
    """

    def __init__(self, graph: ExportGraph, prefix: str):
        self.graph = graph
        self.prefix = prefix
        self.renderer = Renderer(C)
        self.buffers: list[Buffer] = []
        self.lines: list[str] = []
        self.sections: list[tuple[str, str | None]] = []
        self.layouts: dict[Variable, Layout] = {}
        self.arena_bytes = 0
        self._counter = 0
        self._readers = graph.readers()
        self._output_buffers: list[Buffer] = []
        self._output_taken: set[int] = set()
        self.constant_buffers: list[tuple[Buffer, np.ndarray]] = []

    # ------------------------------------------------------------------ building
    def build(self) -> ExportProgram:
        graph = self.graph
        for var, name in zip(graph.inputs, graph.input_names):
            buffer = Buffer(f"in_{name}", var.type.dtype, math.prod(graph.shapes[var]), "input")
            self.buffers.append(buffer)
            self._bind(var, Layout.whole(buffer, graph.shapes[var]))
        for var, value in graph.values.items():
            value = np.ascontiguousarray(value).reshape(np.shape(value))  # keeps 0-d
            buffer = Buffer(self._fresh_name("w"), value.dtype.name, value.size, "constant")
            self.buffers.append(buffer)
            self.constant_buffers.append((buffer, value))
            self._bind(var, Layout.whole(buffer, value.shape))
        for var, name in zip(graph.outputs, graph.output_names):
            buffer = Buffer(f"out_{name}", var.type.dtype, math.prod(graph.shapes[var]),
                            "output")
            self.buffers.append(buffer)
            self._output_buffers.append(buffer)
        for index, node in enumerate(graph.nodes):
            rule = EXPORT_C.find(node.op)
            if rule is None:
                reason = EXPORT_C.reason(node.op)
                raise ExportError(f"cannot export {describe(node)} to C: "
                                  f"{reason or 'it has no standalone C rule'}")
            self.lines.append("    " + c_comment(str(node.op)))
            ctx = NodeContext(self, index, node)
            rule(ctx)
            missing = [k for k, out in enumerate(node.outputs) if out not in self.layouts]
            if missing:
                raise AssertionError(f"the C export rule of {node.op} gave no output {missing}")
        self._deliver_outputs(len(graph.nodes))
        self._plan()
        return self

    def _fresh_name(self, stem: str) -> str:
        self._counter += 1
        return f"{stem}{self._counter}"

    def _bind(self, var: Variable, layout: Layout) -> None:
        self.layouts[var] = layout
        layout.buffer.variables.append(var)

    def _deliver_outputs(self, index: int) -> None:
        """Copy each output not already computed in place into the caller's array."""
        for k, (var, buffer) in enumerate(zip(self.graph.outputs, self._output_buffers)):
            layout = self.layouts[var]
            if layout.buffer is buffer and layout.is_whole():
                continue
            layout.buffer.touch(index)
            target = Layout.whole(buffer, self.graph.shapes[var])
            self.lines.append("    " + c_comment(f"output {k}"))
            self.lines += copy_lines(layout, target)

    def _plan(self) -> None:
        """Place the arena buffers (first fit, largest first)."""
        arena = [b for b in self.buffers if b.kind == "arena" and b.size > 0]
        placed: list[Buffer] = []
        for buffer in sorted(arena, key=lambda b: (-b.nbytes, b.first)):
            offset = 0
            clashes = sorted((p for p in placed if p.first <= buffer.last
                              and buffer.first <= p.last), key=lambda p: p.offset)
            for other in clashes:
                if offset + buffer.nbytes <= other.offset:
                    break
                offset = max(offset, _aligned(other.offset + other.nbytes))
            buffer.offset = offset
            placed.append(buffer)
        self.arena_bytes = max((_aligned(b.offset + b.nbytes) for b in placed), default=0)

    # ------------------------------------------------------------------ for rules
    def new_buffer(self, dtype: str, size: int, index: int) -> Buffer:
        buffer = Buffer(self._fresh_name("b"), dtype, int(size), "arena")
        buffer.touch(index)
        self.buffers.append(buffer)
        return buffer

    def need(self, section: str, dtype: str | None = None) -> None:
        if (section, dtype) not in self.sections:
            for dependency in _requires(library_text(section)):
                self.need(dependency, dtype if _is_typed(library_text(dependency)) else None)
            self.sections.append((section, dtype))

    def readers_after(self, var: Variable, index: int) -> bool:
        """Whether a node after ``index`` reads ``var`` (or the function outputs it)."""
        return (any(r > index for r in self._readers.get(var, ()))
                or any(var is o for o in self.graph.outputs))


def _aligned(n: int) -> int:
    return -(-n // ALIGNMENT) * ALIGNMENT


def _requires(text: str) -> list[str]:
    """The sections a library file names on a ``requires:`` line of its opening comment."""
    for line in text.splitlines()[:40]:
        marker = line.find("requires:")
        if marker >= 0:
            return line[marker + len("requires:"):].replace("*/", "").split()
    return []


def _is_typed(text: str) -> bool:
    return "EXPRC_TYPED(" in text


class NodeContext:
    """What a rule of :data:`EXPORT_C` sees of the program while it emits one node.

    Attributes
    ----------
    node : Apply
    index : int
        The node's position in the run order.
    inputs : list of Layout
        How the node's inputs are stored (views of buffers).
    values : list of numpy.ndarray or None
        The value of each input known at export time (constants), else None.
    out_shapes : list of tuple of int
    out_dtypes : list of str
    """

    def __init__(self, program: ExportProgram, index: int, node: Apply):
        self.program = program
        self.index = index
        self.node = node
        graph = program.graph
        self.inputs = [program.layouts[v] for v in node.inputs]
        for layout in self.inputs:
            layout.buffer.touch(index)
        self.values = [graph.values.get(v) for v in node.inputs]
        self.out_shapes = [tuple(graph.shapes[o]) for o in node.outputs]
        self.out_dtypes = [o.type.dtype for o in node.outputs]
        self.renderer = program.renderer

    @property
    def op(self):
        return self.node.op

    def describe(self) -> str:
        return describe(self.node)

    # ------------------------------------------------------------------ outputs
    def output(self, k: int, reuse: int | None = None) -> Layout:
        """A contiguous place to write output ``k``.

        The caller's array when the value is an output of the function (the first time);
        otherwise input ``reuse``'s buffer when the rule can compute in place (the same shape
        and dtype, elementwise) and nothing reads that buffer later; otherwise a fresh buffer.
        """
        var = self.node.outputs[k]
        shape = self.out_shapes[k]
        program = self.program
        for j, out in enumerate(program.graph.outputs):
            if out is var and j not in program._output_taken:
                program._output_taken.add(j)
                layout = Layout.whole(program._output_buffers[j], shape)
                program._bind(var, layout)
                return layout
        if reuse is not None and self._reusable(reuse, k):
            layout = self.inputs[reuse]
            program._bind(var, layout)
            return layout
        buffer = program.new_buffer(self.out_dtypes[k], math.prod(shape), self.index)
        layout = Layout.whole(buffer, shape)
        program._bind(var, layout)
        return layout

    def _reusable(self, i: int, k: int) -> bool:
        layout = self.inputs[i]
        buffer = layout.buffer
        if (buffer.kind != "arena" or not layout.is_whole() or layout.dtype != self.out_dtypes[k]
                or layout.shape != self.out_shapes[k]):
            return False
        # Nothing else may read the bytes later: no variable stored in the buffer (the input
        # itself or a view of it) is read after this node, and no other input of the node
        # shares the buffer (it would be read while being overwritten).
        if any(self.program.readers_after(v, self.index) for v in buffer.variables):
            return False
        return sum(other.buffer is buffer for other in self.inputs) == 1

    def view(self, k: int, layout: Layout) -> None:
        """Declare output ``k`` a view of existing storage (no code)."""
        if layout.shape != self.out_shapes[k]:
            raise AssertionError(f"view of shape {layout.shape} for output {k} of "
                                 f"{self.node.op}, whose shape is {self.out_shapes[k]}")
        self.program._bind(self.node.outputs[k], layout)

    # ------------------------------------------------------------------ memory and code
    def scratch(self, dtype: str, size: int) -> Layout:
        """Work memory of ``size`` elements of ``dtype``, valid during this node only."""
        buffer = self.program.new_buffer(dtype, max(int(size), 1), self.index)
        return Layout.whole(buffer, (int(size),))

    def contiguous(self, i: int) -> Layout:
        """Input ``i`` as a contiguous view, copied to scratch memory when it is not one."""
        layout = self.inputs[i]
        if layout.is_contiguous():
            return layout
        target = self.scratch(layout.dtype, layout.size)
        target = Layout.whole(target.buffer, layout.shape)
        self.emit(*copy_lines(layout, target))
        return target

    def emit(self, *lines: str) -> None:
        """Append C lines (indented by the caller, or given at four spaces)."""
        self.program.lines.extend(lines)

    def need(self, section: str, dtype: str | None = None) -> str:
        """Include ``csrc/exprc_portable_<section>.h`` (for ``dtype`` when it is a typed
        kernel file); returns the suffix its typed functions carry (``_float32``)."""
        self.program.need(section, dtype)
        return f"_{dtype}" if dtype else ""

    def fail(self, code: str, message: str) -> str:
        """A C statement leaving the run with error ``code`` and ``message`` (escaped)."""
        if code not in ERROR_CODES:
            raise AssertionError(f"unknown error code {code}")
        return (f"{{ {self.program.prefix}_error = {c_literal(message)}; "
                f"return {code}; }}")


def copy_lines(source: Layout, target: Layout, indent: str = "    ") -> list[str]:
    """C lines copying the view ``source`` into the view ``target`` of the same shape (with a
    conversion when the dtypes differ)."""
    cast = "" if source.dtype == target.dtype else f"({target.ctype})"
    if source.is_contiguous() and target.is_contiguous() and not cast and source.size:
        return [f"{indent}memcpy({target.pointer()}, {source.pointer()}, "
                f"{source.size} * sizeof({target.ctype}));"]
    src = Layout(source.buffer, 0, source.shape, source.strides)
    dst = Layout(target.buffer, 0, target.shape, target.strides)
    return loop_nest(target.shape, [src, dst], lambda ix: [
        f"{dst.element(f'{target.offset} + {ix[1]}' if target.offset else ix[1])} = "
        f"{cast}{src.element(f'{source.offset} + {ix[0]}' if source.offset else ix[0])};"],
        indent)


@dataclass
class ExportedFiles:
    """What :func:`exprc.export.to_c` wrote.

    Attributes
    ----------
    header, source : pathlib.Path
        ``<name>.h`` and ``<name>.c``.
    weights : pathlib.Path or None
        ``<name>.weights`` when the weights are in a file.
    readme : pathlib.Path
    arena_bytes : int
        The work memory one call needs.
    weight_bytes : int
        The size of the weights.
    input_shapes, output_shapes : list of tuple of int
    input_dtypes, output_dtypes : list of str
    files : list of pathlib.Path
    """

    header: object
    source: object
    weights: object
    readme: object
    arena_bytes: int
    weight_bytes: int
    input_shapes: list
    output_shapes: list
    input_dtypes: list = field(default_factory=list)
    output_dtypes: list = field(default_factory=list)
    files: list = field(default_factory=list)


def render_typed_section(section: str, dtype: str | None) -> str:
    """One library section as text to paste into a source, its type macros defined."""
    text = library_text(section)
    if dtype is None:
        return text
    from exprc.link.codegen.render import C_TYPES

    return (f"#define EXPRC_T {C_TYPES[dtype]}\n#define EXPRC_TYPED(stem) stem##_{dtype}\n"
            f"{text}\n#undef EXPRC_T\n#undef EXPRC_TYPED\n")


def signature_types(program: ExportProgram) -> tuple[list[str], list[str]]:
    """The C parameter declarations of the inputs and of the outputs."""
    graph = program.graph
    ins = [f"const {C.ctype(v.type.dtype)} *in_{n}"
           for v, n in zip(graph.inputs, graph.input_names)]
    outs = [f"{C.ctype(v.type.dtype)} *out_{n}"
            for v, n in zip(graph.outputs, graph.output_names)]
    return ins, outs


def shapes_text(shapes: Sequence[Sequence[int]]) -> list[str]:
    return ["x".join(str(s) for s in shape) if shape else "scalar" for shape in shapes]
