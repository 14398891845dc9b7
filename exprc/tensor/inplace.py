"""In-place variants of elementwise ops.

An op that overwrites one of its inputs with its result declares it with ``destroy_map``:
``{output_index: [input_index]}``. An op whose output aliases an input without copying (a
view) declares ``view_map`` in the same form; for the core ops that return views the table
``exprc.rewriting.destroy.VIEW_OPS`` says so. Only the ``inplace`` rewrite pass creates
destroying ops, after :mod:`exprc.rewriting.destroy` has checked that no other reader of the
overwritten value can run afterwards; executors must write the result into that input's
memory (the reference executor falls back to a fresh array when the run-time shape or
dtype make that impossible, and never overwrites a function's inputs or constants).
"""

from __future__ import annotations

from typing import Any

from exprc.errors import ExprcTypeError, build_error
from exprc.graph.basic import Apply
from exprc.tensor.elemwise import Elemwise
from exprc.tensor.scalar import ScalarOp

__all__ = ["InplaceElemwise"]


class InplaceElemwise(Elemwise):
    """``Elemwise(scalar_op)`` whose result overwrites input ``destroyed``.

    Same values, types and gradients as the ``Elemwise`` it replaces; the destroyed input must
    already have the output's dtype.
    """

    __props__ = ("scalar_op", "destroyed")

    def __init__(self, scalar_op: ScalarOp, destroyed: int):
        super().__init__(scalar_op)
        self.destroyed = int(destroyed)
        self.destroy_map = {0: [self.destroyed]}

    def make_node(self, *inputs: Any) -> Apply:
        if not 0 <= self.destroyed < self.scalar_op.nin:
            raise build_error(ExprcTypeError, self, f"cannot destroy input {self.destroyed} of "
                              f"an op with {self.scalar_op.nin} input(s)")
        node = super().make_node(*inputs)
        target, out = node.inputs[self.destroyed], node.outputs[0]
        if target.dtype != out.dtype:
            raise build_error(ExprcTypeError, self, f"input {self.destroyed} ({target}) has "
                              f"dtype {target.dtype}; it cannot hold the {out.dtype} result")
        return node

    def __str__(self) -> str:
        return f"Elemwise{{{self.scalar_op}}}[destroys {self.destroyed}]"

    __repr__ = __str__
