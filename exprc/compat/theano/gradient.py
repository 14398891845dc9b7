"""``theano.gradient``: exprc's :mod:`exprc.gradient` under Theano's names."""

from exprc.gradient import (
    DisconnectedInputError,
    GradientError,
    Lop,
    NullGrad,
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
from exprc.gradient import DisconnectedType as _DisconnectedType

#: Theano's name of the error a gradient through an undefined (null) gradient raises.
NullTypeGradError = NullGradError


class DisconnectedType(_DisconnectedType):
    """Theano's type of a disconnected gradient. As in Theano, ``DisconnectedType()()`` is
    what an op's ``grad`` returns for an input the outputs do not depend on."""

    def __call__(self, name=None):
        return self


def grad_undefined(op, x_pos, x, comment=""):
    """What an op's ``grad`` returns for input ``x_pos`` (``x``) when its gradient is
    mathematically undefined: asking for a gradient through it is an error naming ``op``."""
    return NullGrad(op, f"the gradient of its input {x_pos} ({x}) is undefined"
                        + (f": {comment}" if comment else ""))


def grad_not_implemented(op, x_pos, x, comment=""):
    """What an op's ``grad`` returns for input ``x_pos`` (``x``) when its gradient is not
    implemented: asking for a gradient through it is an error naming ``op``."""
    return NullGrad(op, f"the gradient of its input {x_pos} ({x}) is not implemented"
                        + (f": {comment}" if comment else ""))


__all__ = ["DisconnectedInputError", "DisconnectedType", "GradientError", "Lop",
           "NullGradError", "NullTypeGradError", "Rop", "consider_constant",
           "disconnected_grad", "grad", "grad_clip", "grad_not_implemented", "grad_scale",
           "grad_undefined", "hessian", "jacobian", "undefined_grad", "verify_grad",
           "zero_grad"]
