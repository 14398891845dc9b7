"""The generic loop emitter: one C function (or CUDA kernel) per fused elementwise program.

A :class:`ScalarProgram` is what an ``Elemwise`` node (one scalar op) or a ``Composite`` node
(several) computes per element. :func:`elemwise_source` turns programs into one C source whose
entry points all have the signature::

    int NAME(int64_t ndim, const int64_t *shape, char **data, const int64_t *strides);

``data`` holds one pointer per operand, inputs first, then outputs; ``strides[k * ndim + d]``
is operand ``k``'s stride in bytes along axis ``d`` of the loop shape ``shape`` (0 where the
operand is broadcast). Outputs must cover the whole loop shape (no zero strides), since several
threads would otherwise write the same element; an output may be the very buffer of an input of
its dtype (in place). The function returns 0, or -1 when ``ndim`` or the operand count exceeds
what it supports.

At run time the C function merges axes that are contiguous in every operand, then walks the
outer axes and calls an inner loop over the last one: a plain ``for`` over typed pointers
(``#pragma omp simd``) when every operand is contiguous there, a loop over byte strides
otherwise. Above a size threshold OpenMP shares the walk among threads, splitting the inner
axis into blocks when the outer axes are too few to keep every thread busy.

The CUDA dialect emits the same scalar body in a ``__global__`` kernel with a grid-stride loop;
``shape``, ``data`` and ``strides`` then point to device memory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from exprc.errors import ExprcTypeError
from exprc.link.codegen.render import C, Dialect, Renderer, c_comment
from exprc.tensor.composite import Composite, constant_value
from exprc.tensor.elemwise import Elemwise
from exprc.tensor.scalar import ScalarOp

__all__ = ["CUDA_MAXDIM", "DEFAULT_PARALLEL_THRESHOLD", "ScalarProgram", "cuda_elemwise_kernels",
           "cuda_loop_struct", "elemwise_declarations", "elemwise_source"]

#: Elements below which a kernel runs on one thread (starting threads costs microseconds).
DEFAULT_PARALLEL_THRESHOLD = 1 << 16

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ScalarProgram:
    """What one elementwise node computes for each element.

    Attributes
    ----------
    input_dtypes : tuple of str
    steps : tuple of (ScalarOp, tuple of refs)
        As in :class:`~exprc.tensor.composite.Composite`: each ref is ``("i", k)``,
        ``("t", j)`` or ``("c", dtype, text)``.
    outputs : tuple of int
        The steps whose results are the outputs.
    label : str
        What the node is, for a comment in the generated source.
    """

    input_dtypes: tuple[str, ...]
    steps: tuple[tuple[ScalarOp, tuple], ...]
    outputs: tuple[int, ...]
    label: str = ""

    @classmethod
    def from_op(cls, op: Elemwise | Composite, input_dtypes: Sequence[str]) -> ScalarProgram:
        """The program of an ``Elemwise`` or ``Composite`` op over inputs of ``input_dtypes``.

        Examples
        --------
        >>> from exprc.tensor.scalar import SCALAR_OPS
        >>> p = ScalarProgram.from_op(Elemwise(SCALAR_OPS["add"]), ["int32", "float32"])
        >>> p.output_dtypes
        ['float64']
        """
        if isinstance(op, Composite):
            return cls(tuple(input_dtypes), op.steps, op.outputs, str(op))
        if isinstance(op, Elemwise):
            sop = op.scalar_op
            refs = tuple(("i", k) for k in range(sop.nin))
            return cls(tuple(input_dtypes), ((sop, refs),), (0,), str(op))
        raise ExprcTypeError(f"{op} is not an Elemwise or Composite op")

    @property
    def step_dtypes(self) -> list[str]:
        """The dtype of each step's result."""
        return Composite(len(self.input_dtypes), self.steps, self.outputs).step_dtypes(
            list(self.input_dtypes))

    @property
    def output_dtypes(self) -> list[str]:
        dtypes = self.step_dtypes
        return [dtypes[o] for o in self.outputs]

    def output_inputs(self) -> list[tuple[int, ...]]:
        """For each output, the inputs it depends on (it has their broadcast shape)."""
        return Composite(len(self.input_dtypes), self.steps, self.outputs).output_inputs()


def elemwise_declarations(names: Sequence[str]) -> str:
    """The cffi declarations of the C entry points ``names``."""
    return "\n".join(f"int {_checked(name)}(int64_t ndim, const int64_t *shape, char **data, "
                     "const int64_t *strides);" for name in names)


def elemwise_source(kernels: Mapping[str, ScalarProgram], dialect: Dialect = C,
                    parallel_threshold: int = DEFAULT_PARALLEL_THRESHOLD,
                    scalar_only: frozenset = frozenset()) -> str:
    """One source defining an entry point per program.

    Parameters
    ----------
    kernels : mapping of str to ScalarProgram
        Entry point name (an identifier the caller generates) -> program.
    dialect : Dialect
        :data:`~exprc.link.codegen.render.C` or :data:`~exprc.link.codegen.render.CUDA`.
    parallel_threshold : int
        Loops of at least this many elements run on all OpenMP threads (C only).
    scalar_only : frozenset of str
        Names of entry points only ever called on 0-d operands (C only): they compute one
        element, with no loop to compile.

    Returns
    -------
    str
    """
    renderer = Renderer(dialect)
    emit = _c_kernel if dialect.name == "c" else _cuda_kernel
    bodies = [_c_scalar_kernel(_checked(name), program, renderer) if name in scalar_only
              else emit(_checked(name), program, renderer, parallel_threshold)
              for name, program in kernels.items()]
    parts = ["\n".join(dialect.includes)]
    if dialect.name == "c":
        parts.append('#include "exprc_elemwise.h"')  # the loop driver, in the runtime library
    helpers = renderer.helper_definitions()
    if helpers:
        parts.append(helpers)
    return "\n\n".join(parts + bodies) + "\n"


def _checked(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"kernel name {name!r} is not a C identifier")
    return name


# --------------------------------------------------------------------------- scalar body
def scalar_body(program: ScalarProgram, renderer: Renderer, loads: Sequence[str],
          stores: Sequence[str], indent: str) -> list[str]:
    """Lines computing ``program`` for one element.

    ``loads[k]`` reads input ``k``; ``stores[j]`` is a ``str.format`` pattern writing ``{}``
    to output ``j``.
    """
    ctype = renderer.dialect.ctype
    dtypes = program.step_dtypes
    used = {r[1] for _, args in program.steps for r in args if r[0] == "i"}
    lines = [f"const {ctype(program.input_dtypes[k])} i{k} = {loads[k]};"
             for k in sorted(used)]
    for j, ((sop, args), dtype) in enumerate(zip(program.steps, dtypes)):
        operands, operand_dtypes = [], []
        for ref in args:
            if ref[0] == "c":
                operands.append(renderer.literal(constant_value(ref)))
                operand_dtypes.append(ref[1])
            else:
                operands.append(f"{ref[0]}{ref[1]}")
                operand_dtypes.append(program.input_dtypes[ref[1]] if ref[0] == "i"
                                      else dtypes[ref[1]])
        expr = renderer.expression(sop, operands, operand_dtypes, dtype)
        lines.append(f"const {ctype(dtype)} t{j} = {expr};")
    lines += [stores[j].format(f"t{step}") for j, step in enumerate(program.outputs)]
    return [indent + line for line in lines]


def _comment(program: ScalarProgram) -> str:
    signature = (f"({', '.join(program.input_dtypes)}) -> "
                 f"({', '.join(program.output_dtypes)})")
    return c_comment(f"{program.label}: {signature}")


# --------------------------------------------------------------------------- C
def _c_scalar_kernel(name: str, program: ScalarProgram, renderer: Renderer) -> str:
    """An entry point with the loops' signature computing one element (0-d operands), so that
    the many scalar shape computations of a graph cost no loop code to compile."""
    ctype = renderer.dialect.ctype
    nin = len(program.input_dtypes)
    body = scalar_body(program, renderer,
                 [f"*(const {ctype(d)} *)data[{k}]" for k, d in enumerate(program.input_dtypes)],
                 [f"*({ctype(d)} *)data[{nin + j}] = {{}};"
                  for j, d in enumerate(program.output_dtypes)], " " * 4)
    return "\n".join([
        _comment(program),
        (f"{renderer.dialect.entry_qualifier} {name}(int64_t ndim, const int64_t *shape, "
         "char **data, const int64_t *strides)"),
        "{",
        "    (void)ndim; (void)shape; (void)strides;",
        *body,
        "    return 0;",
        "}",
    ])


def _c_kernel(name: str, program: ScalarProgram, renderer: Renderer, threshold: int) -> str:
    ctype = renderer.dialect.ctype
    nin = len(program.input_dtypes)
    dtypes = list(program.input_dtypes) + program.output_dtypes
    # A bool input is read as bytes compared with zero: GCC does not vectorize a loop that
    # loads a C `bool` from memory (a ReLU gradient's `switch(mask, g, 0)` ran as a scalar
    # loop); NumPy's bools are the bytes 0 and 1, so the value is the same.
    pointee = [("unsigned char" if k < nin and d == "bool" else ctype(d))
               for k, d in enumerate(dtypes)]
    typed = [f"    {'const ' if k < nin else ''}{pointee[k]} *p{k} = "
             f"({'const ' if k < nin else ''}{pointee[k]} *)data[{k}];"
             for k in range(len(dtypes))]
    loads = [f"(p{k}[i] != 0)" if pointee[k] != ctype(d) else f"p{k}[i]"
             for k, d in enumerate(program.input_dtypes)]
    contiguous = scalar_body(program, renderer, loads,
                       [f"p{nin + j}[i] = {{}};" for j in range(len(program.outputs))],
                       " " * 8)
    strided = scalar_body(program, renderer,
                    [f"*(const {ctype(d)} *)(data[{k}] + i * strides[{k}])"
                     for k, d in enumerate(program.input_dtypes)],
                    [f"*({ctype(dtypes[nin + j])} *)(data[{nin + j}] + i * strides[{nin + j}])"
                     f" = {{}};" for j in range(len(program.outputs))],
                    " " * 8)
    sizes = ", ".join(str(np.dtype(d).itemsize) for d in dtypes)
    return "\n".join([
        _comment(program),
        (f"static void {name}_contiguous(exprc_int n, char *const *data, "
         "const exprc_int *strides)"),
        "{",
        "    (void)strides;",
        *typed,
        "#pragma omp simd",
        "    for (exprc_int i = 0; i < n; ++i) {",
        *contiguous,
        "    }",
        "}",
        "",
        f"static void {name}_strided(exprc_int n, char *const *data, const exprc_int *strides)",
        "{",
        "    for (exprc_int i = 0; i < n; ++i) {",
        *strided,
        "    }",
        "}",
        "",
        (f"{renderer.dialect.entry_qualifier} {name}(int64_t ndim, const int64_t *shape, "
         "char **data, const int64_t *strides)"),
        "{",
        f"    static const exprc_int itemsize[{len(dtypes)}] = {{{sizes}}};",
        f"    return exprc_elemwise_run({len(dtypes)}, itemsize, ndim, shape, data, strides,",
        f"                              {name}_contiguous, {name}_strided, {threshold});",
        "}",
    ])


# --------------------------------------------------------------------------- CUDA
#: The by-value parameter of the strided CUDA kernels, per operand count: the loop's rank and
#: element count, its sizes and each operand's strides in elements, innermost axis first (see
#: :func:`cuda_loop_struct`).
CUDA_MAXDIM = 8


def cuda_loop_struct(operands: int) -> tuple[str, str, int]:
    """``(name, definition, size in bytes)`` of the struct a strided CUDA kernel over
    ``operands`` operands takes by value: ``int64_t ndim, total, shape[8],
    strides[operands][8]``, axes innermost first (a guard lets several kernels define it)."""
    name = f"exprc_loop{operands}"
    guard = f"EXPRC_LOOP{operands}_DEFINED"
    text = "\n".join([
        f"#ifndef {guard}",
        f"#define {guard}",
        f"struct {name} {{",
        "    int64_t ndim, total;",
        f"    int64_t shape[{CUDA_MAXDIM}];",
        f"    int64_t strides[{operands}][{CUDA_MAXDIM}];",
        "};",
        "#endif",
    ])
    return name, text, 8 * (2 + CUDA_MAXDIM + operands * CUDA_MAXDIM)


def _cuda_kernel(name: str, program: ScalarProgram, renderer: Renderer, threshold: int) -> str:
    return cuda_elemwise_kernels(name, program, renderer)


def cuda_elemwise_kernels(name: str, program: ScalarProgram, renderer: Renderer) -> str:
    """Three kernels per program, all grid-stride loops over the elements:

    - ``NAME_flat(int64_t n, int32_t repeated, p0, ..., pK)``: every operand is contiguous
      with the loop's shape, except the inputs whose bit is set in ``repeated``, which hold one
      element read for all (a broadcast scalar);
    - ``NAME_strided32`` / ``NAME_strided64(struct exprc_loopK loop, p0, ..., pK)``: any
      strides (in elements, 0 where broadcast), the element index split into coordinates with
      32-bit arithmetic when every offset fits (much faster on a GPU) or 64-bit otherwise.

    The struct's definition (:func:`cuda_loop_struct`) comes first, under a guard. Scalar
    helpers are rendered through ``renderer``, whose ``helper_definitions()`` the caller places
    before the kernels.
    """
    dialect = renderer.dialect
    nin = len(program.input_dtypes)
    dtypes = list(program.input_dtypes) + program.output_dtypes
    nops = len(dtypes)
    pointers = ", ".join(
        f"{'const ' if k < nin else ''}{dialect.ctype(d)} *__restrict__ p{k}"
        for k, d in enumerate(dtypes))
    struct, definition, _ = cuda_loop_struct(nops)
    thread = f"{dialect.thread_index}"
    threads = f"{dialect.thread_count}"
    flat = scalar_body(program, renderer,
                       [f"p{k}[r{k} ? 0 : e]" for k in range(nin)],
                       [f"p{nin + j}[e] = {{}};" for j in range(len(program.outputs))],
                       " " * 8)
    strided = scalar_body(program, renderer,
                          [f"p{k}[o{k}]" for k in range(nin)],
                          [f"p{nin + j}[o{nin + j}] = {{}};"
                           for j in range(len(program.outputs))],
                          " " * 8)
    parts = [definition, _comment(program),
             f"{dialect.entry_qualifier} {name}_flat(int64_t n, int32_t repeated, {pointers})",
             "{",
             *[f"    const bool r{k} = (repeated >> {k}) & 1;" for k in range(nin)],
             f"    for (exprc_int e = {thread}; e < n; e += {threads}) {{",
             *flat,
             "    }",
             "}"]
    for bits, index in ((32, "int32_t"), (64, "int64_t")):
        parts += [
            f"{dialect.entry_qualifier} {name}_strided{bits}(struct {struct} loop, {pointers})",
            "{",
            "    const int ndim = (int)loop.ndim;",
            f"    const {index} total = ({index})loop.total;",
            f"    for ({index} e = ({index})({thread}); e < total; e += ({index})({threads})) {{",
            f"        {index} rest = e;",
            f"        {index} {', '.join(f'o{k} = 0' for k in range(nops))};",
            "#pragma unroll",
            f"        for (int d = 0; d < {CUDA_MAXDIM}; ++d) {{",
            "            if (d == ndim) break;",
            f"            const {index} size = ({index})loop.shape[d];",
            f"            const {index} i = rest % size;",
            "            rest /= size;",
            *[f"            o{k} += i * ({index})loop.strides[{k}][d];" for k in range(nops)],
            "        }",
            *strided,
            "    }",
            "}",
        ]
    return "\n".join(parts)
