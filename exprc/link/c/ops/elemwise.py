"""C rules of the elementwise ops: ``Elemwise``, ``InplaceElemwise`` and ``Composite``.

Each node calls a loop emitted by :mod:`exprc.link.c.elemwise` (one per distinct scalar program,
embedded in the source) through the run-time helper ``exprc_elemwise_node``, which works out
the broadcast loop shape, allocates the outputs (or, for an in-place op, reuses the destroyed
input's buffer when nothing else holds it and it has the output's shape) and passes every
operand's byte strides over the loop.
"""

from __future__ import annotations

from exprc.link.c.elemwise import ScalarProgram
from exprc.link.c.program import C_CODE, CUnsupportedError, NodeContext, itemsize
from exprc.tensor.composite import Composite
from exprc.tensor.elemwise import Elemwise
from exprc.tensor.inplace import InplaceElemwise

#: Operands (inputs and outputs) one elementwise node may have: the run-time loop driver's
#: ``EXPRC_MAX_OPERANDS``.
MAX_OPERANDS = 64


@C_CODE.register(Elemwise, Composite)
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

