"""C rules of random number generation (RandomStreams' counter-based generator).

Each node is one call into the runtime library (``csrc/exprc_random.c``), which reads the
same Philox stream words as the NumPy reference and turns them into samples with the same
floating-point operations, so compiled functions give the reference's bits.
"""

from __future__ import annotations

from exprc.link.c.ops.shape import read_shape
from exprc.link.c.program import C_CODE, NodeContext, index_code, typed_name
from exprc.tensor.random import (
    RandomBinomial,
    RandomChoice,
    RandomIntegers,
    RandomNormal,
    RandomPermutation,
    RandomUniform,
)

_FLOAT_CODES = {"float32": "EXPRC_RANDOM_FLOAT32", "float64": "EXPRC_RANDOM_FLOAT64"}


def store_code(dtype: str) -> str:
    """How the integer samplers of ``csrc/exprc_random.h`` store a count into ``dtype``: the
    integer reading code of :func:`~exprc.link.c.program.index_code`, or a float constant."""
    if dtype in _FLOAT_CODES:
        return _FLOAT_CODES[dtype]
    return str(index_code(dtype))


def _call(node, ctx: NodeContext, function: str, params: list[str], flags: tuple = ()) -> str:
    """``function(pool, new_state, out, state, ndim, size, &params..., flags..., label, error,
    node)``; a parameter "NULL" is passed as it is."""
    ctx.include("exprc_random.h")
    ndim = node.inputs[1].type.shape[0]
    state, out = ctx.outputs
    args = ", ".join([f"&{p}" if p != "NULL" else p for p in params] + list(flags))
    return "\n".join(read_shape(ctx, 1, ndim, "size") + [
        (f"if ({function}(&pool, &{state}, &{out}, &{ctx.inputs[0]}, {ndim}, size, {args}, "
         f"{ctx.label}, error, {ctx.index})) goto fail;")])


@C_CODE.register(RandomUniform)
def uniform(node, ctx: NodeContext) -> str:
    return _call(node, ctx, typed_name("exprc_random_uniform", node.op.dtype), ctx.inputs[2:4])


@C_CODE.register(RandomNormal)
def normal(node, ctx: NodeContext) -> str:
    return _call(node, ctx, typed_name("exprc_random_normal", node.op.dtype), ctx.inputs[2:4])


@C_CODE.register(RandomIntegers)
def integers(node, ctx: NodeContext) -> str:
    return _call(node, ctx, "exprc_random_integers", ctx.inputs[2:4])


@C_CODE.register(RandomBinomial)
def binomial(node, ctx: NodeContext) -> str:
    return _call(node, ctx, "exprc_random_binomial", ctx.inputs[2:4],
                 flags=(store_code(node.op.dtype),))


@C_CODE.register(RandomChoice)
def choice(node, ctx: NodeContext) -> str:
    p = ctx.inputs[3] if node.op.weighted else "NULL"
    return _call(node, ctx, "exprc_random_choice", [ctx.inputs[2], p],
                 flags=(str(int(node.op.replace)), store_code(node.op.dtype)))


@C_CODE.register(RandomPermutation)
def permutation(node, ctx: NodeContext) -> str:
    return _call(node, ctx, "exprc_random_permutation", ctx.inputs[2:3],
                 flags=(store_code(node.op.dtype),))


__all__ = ["binomial", "choice", "integers", "normal", "permutation", "store_code",
           "uniform"]
