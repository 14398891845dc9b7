"""Standalone C of the elementwise family: loops over static shapes, and views."""

from __future__ import annotations

import re

from exprc.export.c.layout import Layout, loop_nest
from exprc.export.c.program import EXPORT_C, NodeContext
from exprc.link.codegen.loops import ScalarProgram, scalar_body
from exprc.tensor.elemwise import DimShuffle, Elemwise, InplaceElemwise, SumToShape


@EXPORT_C.register(Elemwise, InplaceElemwise)
def elementwise(ctx: NodeContext) -> None:
    """One loop nest computing the node's scalar program per element (also serves
    ``Composite``). Inputs known at export time with one element become literals; an output
    overwrites an input of its shape and dtype when nothing reads that input later."""
    program = ScalarProgram.from_op(ctx.op, [layout.dtype for layout in ctx.inputs])
    shape = ctx.out_shapes[0]
    loads: list = []
    operands: list[Layout] = []
    for layout, value in zip(ctx.inputs, ctx.values):
        if value is not None and value.size == 1:
            loads.append(ctx.renderer.literal(value.reshape(())))
        else:
            loads.append(len(operands))
            operands.append(layout.broadcast_to(shape))
    destroyed = sorted(getattr(ctx.op, "destroy_map", {}).get(0, []))
    preferred = destroyed + [i for i in range(len(ctx.inputs)) if i not in destroyed]
    outputs = []
    for k in range(len(ctx.node.outputs)):
        reuse = next((i for i in preferred if isinstance(loads[i], int)
                      and all(o.buffer is not ctx.inputs[i].buffer for o in outputs)), None)
        outputs.append(ctx.output(k, reuse=reuse))
    operands += outputs
    n_in = len(operands) - len(outputs)

    def step(offsets: list[str]) -> list[str]:
        reads = [load if isinstance(load, str) else operands[load].element(offsets[load])
                 for load in loads]
        writes = [outputs[j].element(offsets[n_in + j]).replace("{", "{{").replace("}", "}}")
                  + " = {};" for j in range(len(outputs))]
        return _without_unused_loads(scalar_body(program, ctx.renderer, reads, writes, ""))

    ctx.emit(*loop_nest(shape, operands, step))


def _without_unused_loads(lines: list[str]) -> list[str]:
    """The body without the loads of inputs that no step reads (an operand a template
    ignores), which -Wall would report as unused variables."""
    kept = []
    for k, line in enumerate(lines):
        match = re.match(r"const \w+ (i\d+) = ", line)
        if match and not any(re.search(rf"\b{match.group(1)}\b", other)
                             for other in lines[k + 1:]):
            continue
        kept.append(line)
    return kept


@EXPORT_C.register(DimShuffle)
def dimshuffle(ctx: NodeContext) -> None:
    """A view: axes reordered, size-1 axes added or dropped."""
    ctx.view(0, ctx.inputs[0].dimshuffle(ctx.op.new_order))


@EXPORT_C.register(SumToShape)
def sum_to_shape(ctx: NodeContext) -> None:
    """The input summed over the axes where the output is broadcast: the output is zeroed, then
    every input element is added to the output element it broadcasts from."""
    source = ctx.inputs[0]
    out = ctx.output(0)
    if out.size:
        ctx.emit(f"    memset({out.pointer()}, 0, {out.size} * sizeof({out.ctype}));")
    target = out.broadcast_to(source.shape)
    ctx.emit(*loop_nest(source.shape, [source, target], lambda ix: [
        f"{target.element(ix[1])} += {source.element(ix[0])};"]))
