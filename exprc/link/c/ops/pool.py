"""C rules of pooling: one call per node into the kernels of ``csrc/exprc_pool.c`` (the entry
point of the node's dtype), which loop over the leading axes (OpenMP when large), read inputs
of any strides and check that the gradients' shapes fit."""

from __future__ import annotations

from exprc.link.c.program import C_CODE, CUnsupportedError, NodeContext, typed_name
from exprc.tensor.signal.pool import MODES, AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool

#: The kernel of each op (its entry points add the dtype to this stem).
_KERNELS = {Pool: "exprc_pool_2d", MaxPoolGrad: "exprc_max_pool_grad",
            MaxPoolGradGrad: "exprc_max_pool_grad_grad",
            AveragePoolGrad: "exprc_average_pool_grad"}


def _params(op) -> str:
    """The ``exprc_pool2d_params`` of ``op`` as a C compound literal (the mode's code is its
    position in ``MODES``, as ``EXPRC_POOL2D_*`` numbers them)."""
    mode = MODES.index(getattr(op, "mode", "max"))
    ints = [*op.ws, *op.stride, *op.pad, int(op.ignore_border), mode]
    return f"&(const exprc_pool2d_params){{{{{ints[0]}, {ints[1]}}}, {{{ints[2]}, {ints[3]}}}, " \
           f"{{{ints[4]}, {ints[5]}}}, {ints[6]}, {ints[7]}}}"


@C_CODE.register(Pool, MaxPoolGrad, MaxPoolGradGrad, AveragePoolGrad)
def pool(node, ctx: NodeContext) -> str:
    dtype = node.outputs[0].dtype
    if dtype not in ("float32", "float64"):
        raise CUnsupportedError(f"inputs of dtype {dtype}")
    ctx.include("exprc_pool.h")
    inputs = ", ".join(f"&{name}" for name in ctx.inputs)
    # Through the class hierarchy, as C_CODE finds the rule: a subclass runs its base's kernel.
    stem = next(_KERNELS[k] for k in type(node.op).__mro__ if k in _KERNELS)
    kernel = typed_name(stem, dtype)
    return (f"if ({kernel}(&pool, &{ctx.outputs[0]}, {inputs}, {_params(node.op)}, "
            f"{ctx.label}, error, {ctx.index})) goto fail;")


__all__ = ["pool"]
