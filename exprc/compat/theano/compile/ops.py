"""``theano.compile.ops``: :func:`as_op`, a Python function on NumPy arrays made an op
(exprc's :func:`exprc.compile.ops.as_op`)."""

from exprc.compile.ops import FromFunctionOp, as_op

__all__ = ["FromFunctionOp", "as_op"]
