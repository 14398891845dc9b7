"""``theano.gradient``: exprc's :mod:`exprc.gradient` under Theano's names."""

from exprc.gradient import (
    DisconnectedInputError,
    DisconnectedType,
    GradientError,
    Lop,
    NullGradError,
    Rop,
    consider_constant,
    disconnected_grad,
    grad,
    grad_clip,
    grad_scale,
    hessian,
    jacobian,
    undefined_grad,
    verify_grad,
    zero_grad,
)

#: Theano's name of the error a gradient through an undefined (null) gradient raises.
NullTypeGradError = NullGradError

__all__ = ["DisconnectedInputError", "DisconnectedType", "GradientError", "Lop",
           "NullGradError", "NullTypeGradError", "Rop", "consider_constant",
           "disconnected_grad", "grad", "grad_clip", "grad_scale", "hessian", "jacobian",
           "undefined_grad", "verify_grad", "zero_grad"]
