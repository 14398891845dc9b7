"""C rules of the slinalg family: one call per node into the LAPACK-based matrix functions of
the runtime library (``csrc/exprc_lapack.h``)."""

from __future__ import annotations

from exprc.link.c.ops.nlinalg import lapack_call, ref
from exprc.link.c.program import C_CODE, NodeContext
from exprc.tensor.slinalg import Cholesky, CholeskySolve, Eigvalsh, Expm, Solve, SolveTriangular

#: ``A_structure`` as ``exprc_solve``'s structure code and triangle.
_STRUCTURES = {"general": (0, None), "symmetric": (1, None), "lower_triangular": (2, True),
               "upper_triangular": (2, False)}


@C_CODE.register(Cholesky)
def cholesky(node, ctx: NodeContext) -> str:
    return lapack_call(ctx, "exprc_cholesky", ref(ctx.outputs[0]), ref(ctx.inputs[0]),
                       str(int(node.op.lower)), str(int(node.op.on_error == "nan")))


@C_CODE.register(Solve)
def solve(node, ctx: NodeContext) -> str:
    code, lower = _STRUCTURES[node.op.A_structure]
    lower = node.op.lower if lower is None else lower
    a, b = ctx.inputs
    return lapack_call(ctx, "exprc_solve", ref(ctx.outputs[0]), ref(a), ref(b), str(code),
                       str(int(lower)), "0", "0")


@C_CODE.register(SolveTriangular)
def solve_triangular(node, ctx: NodeContext) -> str:
    op, (a, b) = node.op, ctx.inputs
    return lapack_call(ctx, "exprc_solve", ref(ctx.outputs[0]), ref(a), ref(b), "2",
                       str(int(op.lower)), str(int(op.trans == "T")),
                       str(int(op.unit_diagonal)))


@C_CODE.register(CholeskySolve)
def cho_solve(node, ctx: NodeContext) -> str:
    c, b = ctx.inputs
    return lapack_call(ctx, "exprc_cho_solve", ref(ctx.outputs[0]), ref(c), ref(b),
                       str(int(node.op.lower)))


@C_CODE.register(Eigvalsh)
def eigvalsh(node, ctx: NodeContext) -> str:
    b = ctx.inputs[1] if len(ctx.inputs) == 2 else None
    return lapack_call(ctx, "exprc_eigh", ref(ctx.outputs[0]), "NULL", ref(ctx.inputs[0]),
                       ref(b), str(int(node.op.lower)))


@C_CODE.register(Expm)
def expm(node, ctx: NodeContext) -> str:
    return lapack_call(ctx, "exprc_expm", ref(ctx.outputs[0]), ref(ctx.inputs[0]))
