"""Identity ops that change only how gradients flow through them.

Forward, each returns its input unchanged; the rewrite pipeline removes them once gradients
have been taken. Backward, they stop, zero, clip, scale or forbid the gradient.
"""

from __future__ import annotations

from typing import Any, ClassVar

from exprc.errors import ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor.params import choice_param, float_param
from exprc.tensor.variable import as_tensor_variable


class GradientFilter(Op):
    """Identity forward; backward, the gradient is treated according to ``kind``.

    kind : 'zero' (gradient zero), 'disconnected' (no gradient path), 'clip' (clipped to
    ``[low, high]``), 'scale' (multiplied by ``low``), 'undefined' (asking is an error).
    """

    __props__ = ("kind", "low", "high")
    KINDS = ("zero", "disconnected", "clip", "scale", "undefined")
    view_map: ClassVar = {0: [0]}
    unconditional_shape = True

    def __init__(self, kind: str, low: float | None = None, high: float | None = None):
        if kind not in self.KINDS:
            raise ExprcTypeError(f"GradientFilter kind must be one of {self.KINDS}, got {kind!r}")
        self.kind = choice_param("GradientFilter", "kind", kind, self.KINDS)
        self.low = float_param("GradientFilter", "low", low, optional=True)
        self.high = float_param("GradientFilter", "high", high, optional=True)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])


def zero_grad(x: Any):
    """``x`` forward; its gradient is zero (the input stays connected)."""
    return GradientFilter("zero")(x)


def consider_constant(x: Any):
    """``x`` forward, treated as a constant by ``grad`` (gradient zero)."""
    return GradientFilter("zero")(x)


def disconnected_grad(x: Any):
    """``x`` forward; ``grad`` sees no path through it (disconnected, not zero)."""
    return GradientFilter("disconnected")(x)


def grad_clip(x: Any, lower_bound: float, upper_bound: float):
    """``x`` forward; the gradient flowing back through it is clipped elementwise.

    Examples
    --------
    >>> import exprc, exprc.tensor as T
    >>> x = T.dscalar('x')
    >>> g = exprc.grad(exprc.gradient.grad_clip(x, -1.0, 1.0) * 5, x)
    >>> float(g.eval({x: 0.3}))
    1.0
    """
    if not lower_bound <= upper_bound:
        raise build_error(ExprcTypeError, "grad_clip",
                          f"lower_bound {lower_bound} exceeds upper_bound {upper_bound}")
    return GradientFilter("clip", float(lower_bound), float(upper_bound))(x)


def grad_scale(x: Any, multiplier: float):
    """``x`` forward; the gradient flowing back through it is multiplied by ``multiplier``."""
    return GradientFilter("scale", float(multiplier))(x)


def undefined_grad(x: Any):
    """``x`` forward; asking for a gradient through it raises ``NullGradError``."""
    return GradientFilter("undefined")(x)
