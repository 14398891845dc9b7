"""C rules of the elementwise ops: ``Elemwise``, ``InplaceElemwise``, ``DimShuffle`` and
``SumToShape``.

Each elementwise node calls a loop emitted by :mod:`exprc.link.codegen.loops` (one per distinct
scalar program, embedded in the source) through the run-time helper ``exprc_elemwise_node``,
which works out the broadcast loop shape, allocates the outputs (or, for an in-place op, reuses
the destroyed input's buffer when nothing else holds it and it has the output's shape) and
passes every operand's byte strides over the loop. ``DimShuffle`` is a view: it rewrites the
shape and strides and takes a reference to its input's buffer. ``SumToShape`` is a reduction
(see :mod:`exprc.link.c.ops.reduction`).
"""

from __future__ import annotations

from exprc.link.c.ops.reduction import reduction_loop
from exprc.link.c.program import (
    C_CODE,
    CUnsupportedError,
    NodeContext,
    format_text,
    index_code,
    itemsize,
)
from exprc.link.codegen.loops import DEFAULT_PARALLEL_THRESHOLD, ScalarProgram
from exprc.tensor.composite import Composite
from exprc.tensor.elemwise import DimShuffle, Elemwise, InplaceElemwise, SumToShape

#: Operands (inputs and outputs) one elementwise node may have: the run-time loop driver's
#: ``EXPRC_MAX_OPERANDS``.
MAX_OPERANDS = 64


@C_CODE.register(Elemwise)
def elemwise(node, ctx: NodeContext) -> str:
    program = ScalarProgram.from_op(node.op, [v.dtype for v in node.inputs])
    if program.output_dtypes != [v.dtype for v in node.outputs]:
        raise CUnsupportedError(f"the loop computes {program.output_dtypes}, the node "
                                f"promises {[v.dtype for v in node.outputs]}")
    ndim = node.outputs[0].ndim
    ins, outs = ctx.inputs, ctx.outputs
    if len(ins) + len(outs) > MAX_OPERANDS:
        raise CUnsupportedError(f"an elementwise node with {len(ins) + len(outs)} operands "
                                f"(the loops take at most {MAX_OPERANDS})")
    destroyed = getattr(node.op, "destroyed", None) if isinstance(node.op, InplaceElemwise) \
        else None
    if destroyed is not None and node.inputs[destroyed].dtype != node.outputs[0].dtype:
        destroyed = None
    kernel = ctx.kernel(program, scalar_only=ndim == 0)
    sizes = ", ".join(str(itemsize(v.dtype)) for v in node.outputs)
    return "\n".join([
        "{",
        f"    const exprc_array *ins[] = {{{', '.join('&' + v for v in ins)}}};",
        f"    exprc_array *outs[] = {{{', '.join('&' + v for v in outs)}}};",
        f"    static const int64_t sizes[] = {{{sizes}}};",
        (f"    if (exprc_elemwise_node(&pool, {len(ins)}, ins, {len(outs)}, outs, sizes, "
         f"{ndim}, {-1 if destroyed is None else destroyed}, {kernel}, error, "
         f"{ctx.index})) goto fail;"),
        "}",
        *_narrowed(node, ctx)])


def _narrowed(node, ctx: NodeContext) -> list[str]:
    """A Composite output that depends on only some inputs has their broadcast shape: the
    loop filled a buffer of the full shape, and the output keeps a corner of it."""
    if not isinstance(node.op, Composite) or len(node.inputs) < 2:
        return []
    lines = []
    for out, deps in zip(ctx.outputs, node.op.output_inputs()):
        if len(deps) == len(node.inputs):
            continue
        own = ", ".join("&" + ctx.inputs[k] for k in deps)
        lines += [f"{{ const exprc_array *dep[] = {{{own}}};",
                  f"  int64_t dsh[{max(node.outputs[0].ndim, 1)}] = {{1}};",
                  f"  exprc_broadcast_shape({len(deps)}, dep, {node.outputs[0].ndim}, dsh);",
                  (f"  for (int d = 0; d < {node.outputs[0].ndim}; ++d) "
                  f"{out}.shape[d] = dsh[d]; }}")]
    return lines


@C_CODE.register(DimShuffle)
def dimshuffle(node, ctx: NodeContext) -> str:
    x, out = ctx.inputs[0], ctx.outputs[0]
    lines = [f"if ({x}.shape[{a}] != 1) " + ctx.fail(
        "ValueError", f"{format_text(node.op)}: cannot drop axis {a} of an input of shape %s: its "
        "size is not 1", f"exprc_shape_str(&{x})") for a in node.op.dropped(node.inputs[0].ndim)]
    order = [-1 if axis == "x" else axis for axis in node.op.new_order]
    lines += [f"static const int8_t order[] = {{{', '.join(map(str, order)) or '0'}}};",
              f"exprc_dimshuffle(&{out}, &{x}, {len(order)}, order);"]
    return "\n".join(lines)


@C_CODE.register(SumToShape)
def sum_to_shape(node, ctx: NodeContext) -> str:
    g, target = ctx.inputs
    dtype = node.inputs[0].dtype
    reduce_fn = reduction_loop(ctx, "or_" if dtype == "bool" else "add", dtype, dtype)
    ctx.include("exprc_reduce.h")
    return (f"if (exprc_sum_to_shape(&pool, &{ctx.outputs[0]}, &{g}, &{target}, "
            f"{index_code(node.inputs[1].dtype)}, {itemsize(dtype)}, {reduce_fn}, "
            f"{DEFAULT_PARALLEL_THRESHOLD}, {ctx.label}, error, {ctx.index})) goto fail;")
