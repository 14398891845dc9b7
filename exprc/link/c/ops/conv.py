"""C rules of convolution (conv2d and its gradients).

Each node is one call into ``csrc/exprc_conv.c`` (im2col, one BLAS product per chunk of
images and group, col2im; the chunks shared among OpenMP threads, see ``exprc_conv.h``), with
the op's parameters passed as an ``exprc_conv_params`` constant; the run-time library checks
the shapes and reports errors naming the node.
"""

from __future__ import annotations

from exprc.link.c.ops.blas import BLAS_DTYPES
from exprc.link.c.program import C_CODE, CUnsupportedError, NodeContext, index_code, typed_name
from exprc.tensor.nnet.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights

# Border modes as csrc/exprc_conv.h codes them (a non-negative count is explicit padding).
_PAD_CODES = {"valid": "0", "half": "EXPRC_CONV_PAD_HALF", "full": "EXPRC_CONV_PAD_FULL"}


def _params(op) -> str:
    """The op's parameters as an ``exprc_conv_params`` initializer."""
    pads = [_PAD_CODES[op.axis_pad(a)] if isinstance(op.axis_pad(a), str)
            else str(op.axis_pad(a)) for a in range(2)]
    (sh, sw), (dh, dw) = op.subsample, op.filter_dilation
    return (f"{{{{{pads[0]}, {pads[1]}}}, {{{sh}, {sw}}}, {{{dh}, {dw}}}, {op.num_groups}, "
            f"{int(op.filter_flip)}}}")


def _call(node, ctx: NodeContext, function: str, operands: str) -> str:
    dtype = node.outputs[0].dtype
    if dtype not in BLAS_DTYPES:
        raise CUnsupportedError(f"{type(node.op).__name__} of dtype {dtype}")
    ctx.include("exprc_conv.h")
    return (f"{{ static const exprc_conv_params cp = {_params(node.op)};\n"
            f"  if ({typed_name(f'exprc_{function}', dtype)}(&pool, &{ctx.outputs[0]}, {operands}, "
            f"&cp, {ctx.label}, error, {ctx.index})) goto fail; }}")


@C_CODE.register(Conv2d)
def conv2d(node, ctx: NodeContext) -> str:
    x, w = ctx.inputs
    return _call(node, ctx, "conv2d", f"&{x}, &{w}")


def _with_size(node, ctx: NodeContext, function: str) -> str:
    a, b, size = ctx.inputs
    code = index_code(node.inputs[2].dtype)
    return _call(node, ctx, function, f"&{a}, &{b}, &{size}, {code}")


@C_CODE.register(Conv2dGradInputs)
def conv2d_grad_inputs(node, ctx: NodeContext) -> str:
    return _with_size(node, ctx, "conv2d_grad_inputs")


@C_CODE.register(Conv2dGradWeights)
def conv2d_grad_weights(node, ctx: NodeContext) -> str:
    return _with_size(node, ctx, "conv2d_grad_weights")


__all__ = ["conv2d", "conv2d_grad_inputs", "conv2d_grad_weights"]
