"""Symbolic differentiation: ``grad``, ``Lop``, ``Rop``, ``jacobian``, ``hessian``,
``verify_grad``, and the gradient filters (``zero_grad``, ``disconnected_grad``, ``grad_clip``,
``grad_scale``, ``undefined_grad``, ``consider_constant``).

Each op's derivative is one rule in the ``GRAD`` table (:mod:`exprc.gradient.rules`); the
reverse walk in :mod:`exprc.gradient.walk` is the only code that combines them.
"""

from exprc.errors import DisconnectedInputError, NullGradError
from exprc.gradient import rules  # noqa: F401  (fills GRAD)
from exprc.gradient.derived import Lop, Rop, hessian, jacobian
from exprc.gradient.table import DISCONNECTED, GRAD, ZERO, NullGrad
from exprc.gradient.verify import GradientError, verify_grad
from exprc.gradient.walk import DisconnectedType, grad
from exprc.tensor.gradient_filters import (
    GradientFilter,
    consider_constant,
    disconnected_grad,
    grad_clip,
    grad_scale,
    undefined_grad,
    zero_grad,
)

__all__ = [
    "grad", "Lop", "Rop", "jacobian", "hessian", "verify_grad", "GradientError",
    "zero_grad", "disconnected_grad", "grad_clip", "grad_scale", "undefined_grad",
    "consider_constant", "GradientFilter", "DisconnectedType", "DisconnectedInputError",
    "NullGradError", "GRAD", "DISCONNECTED", "ZERO", "NullGrad",
]
