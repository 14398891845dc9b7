"""C rules of the nlinalg family: one call per node into the LAPACK-based matrix functions of
the runtime library (``csrc/exprc_lapack.h``), float32 or float64 (``make_node`` has
converted every operand to the output's dtype)."""

from __future__ import annotations

from exprc.link.c.program import C_CODE, NodeContext, typed_name
from exprc.tensor.nlinalg import (
    PINV_RCOND,
    QR,
    QR_MODES,
    SVD,
    Det,
    Eig,
    Eigh,
    Lstsq,
    MatrixInverse,
    MatrixPinv,
)


def lapack_call(ctx: NodeContext, stem: str, *args: str) -> str:
    """The statement calling ``<stem>_<dtype>(&pool, args..., label, error, node)``, which
    allocates the node's outputs and reports its own errors."""
    ctx.include("exprc_lapack.h")
    name = typed_name(stem, ctx.node.inputs[0].dtype)
    joined = "".join(f"{a}, " for a in args)
    return f"if ({name}(&pool, {joined}{ctx.label}, error, {ctx.index})) goto fail;"


def double(value: float) -> str:
    """The finite float ``value`` as an exact C literal of type double."""
    return float(value).hex()


def ref(name: str | None) -> str:
    """The address of the local ``name``, or NULL."""
    return "NULL" if name is None else f"&{name}"


@C_CODE.register(MatrixInverse)
def matrix_inverse(node, ctx: NodeContext) -> str:
    return lapack_call(ctx, "exprc_inverse", ref(ctx.outputs[0]), ref(ctx.inputs[0]))


@C_CODE.register(Det)
def det(node, ctx: NodeContext) -> str:
    return lapack_call(ctx, "exprc_det", ref(ctx.outputs[0]), ref(ctx.inputs[0]))


@C_CODE.register(MatrixPinv)
def matrix_pinv(node, ctx: NodeContext) -> str:
    return lapack_call(ctx, "exprc_pinv", ref(ctx.outputs[0]), ref(ctx.inputs[0]),
                       double(PINV_RCOND))


@C_CODE.register(Eigh)
def eigh(node, ctx: NodeContext) -> str:
    w, v = ctx.outputs
    return lapack_call(ctx, "exprc_eigh", ref(w), ref(v), ref(ctx.inputs[0]), "NULL",
                       str(int(node.op.UPLO == "L")))


@C_CODE.register(Eig)
def eig(node, ctx: NodeContext) -> str:
    w, v = ctx.outputs
    return lapack_call(ctx, "exprc_eig", ref(w), ref(v), ref(ctx.inputs[0]))


@C_CODE.register(SVD)
def svd(node, ctx: NodeContext) -> str:
    if node.op.compute_uv:
        u, s, vt = ctx.outputs
    else:
        u, (s,), vt = None, ctx.outputs, None
    return lapack_call(ctx, "exprc_svd", ref(u), ref(s), ref(vt), ref(ctx.inputs[0]),
                       str(int(node.op.full_matrices)))


@C_CODE.register(QR)
def qr(node, ctx: NodeContext) -> str:
    q, r = (None, ctx.outputs[0]) if node.op.mode == "r" else ctx.outputs
    return lapack_call(ctx, "exprc_qr", ref(q), ref(r), ref(ctx.inputs[0]),
                       str(QR_MODES.index(node.op.mode)))


@C_CODE.register(Lstsq)
def lstsq(node, ctx: NodeContext) -> str:
    x, residuals, rank, s = ctx.outputs
    a, b = ctx.inputs
    # NaN asks for NumPy's default cutoff, which depends on the sizes.
    rcond = "NAN" if node.op.rcond is None else double(node.op.rcond)
    return lapack_call(ctx, "exprc_lstsq", ref(x), ref(residuals), ref(rank), ref(s), ref(a),
                       ref(b), rcond)
