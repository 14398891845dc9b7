"""The table of gradient rules, keyed by op class, and the values a rule may return.

A rule has the signature ``rule(node, output_grads) -> list`` with one entry per input of
``node``. ``output_grads[i]`` is the gradient of the cost w.r.t. ``node.outputs[i]``, or None
when no gradient flows into that output (only multi-output ops see None). Each returned entry
is one of:

- a tensor variable: the gradient w.r.t. that input. For ops that declare
  ``gradient_in_output_shape`` (see :class:`exprc.graph.ir.Op`) it may have the (broadcast)
  shape of the output; the reverse walk sums it down to the input's shape, so no rule deals
  with broadcasting itself.
- ``DISCONNECTED``: the output does not depend on this input at all (shape arguments, indices).
- ``ZERO``: the output depends on this input with derivative zero everywhere (comparisons,
  rounding); the input is connected (no DisconnectedInputError) but no graph is built.
- a :class:`NullGrad`: the gradient exists mathematically but is undefined here; asking for a
  gradient through it is an error naming the op and the reason.

Variables of integer or bool dtype carry no gradient: the walk drops what rules return for
them, and never calls a rule on a node whose outputs are all discrete. A cost that depends on
``wrt`` only through such variables (argmax, casts to int) gives zeros, as Theano does.
"""

from __future__ import annotations

from exprc.graph.optable import OpTable

GRAD = OpTable("gradient rule")


class _Disconnected:
    def __repr__(self) -> str:
        return "DISCONNECTED"


DISCONNECTED = _Disconnected()


class NullGrad:
    """An undefined gradient, with the reason it is undefined."""

    def __init__(self, op: object, reason: str):
        self.op = op
        self.reason = reason

    def __repr__(self) -> str:
        return f"NullGrad({self.op}: {self.reason})"


class _Zero:
    def __repr__(self) -> str:
        return "ZERO"


#: A rule's answer for an input the output depends on with derivative zero everywhere
#: (comparisons, rounding): connected, but no graph is built for it.
ZERO = _Zero()


#: Why an in-place op (``destroy_map``) has no gradient.
INPLACE_REASON = ("it overwrites an input that its gradient would read; in-place ops are "
                   "made by the last rewrite pass, so differentiate the graph before compiling")
