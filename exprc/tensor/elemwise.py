"""``Elemwise`` (a scalar op lifted to tensors with NumPy broadcasting) and ``DimShuffle``.

Broadcasting follows NumPy: ranks are aligned on the right (lower-rank inputs get new leading
axes through an explicit ``DimShuffle``, so every Elemwise node sees inputs of equal rank), and
a dimension of size 1 stretches to match, whether that size is known statically or only at
run time. Python scalars are "weak" as in NumPy 2: ``float32_tensor * 2.5`` stays float32.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor.params import choice_param, int_param, int_tuple
from exprc.tensor.scalar import ScalarOp
from exprc.tensor.type import TensorType
from exprc.tensor.variable import TensorVariable, as_tensor_variable, constant


class Elemwise(Op):
    """Apply ``scalar_op`` element by element, broadcasting the inputs against each other."""

    __props__ = ("scalar_op",)
    # Derivatives are written in the output's shape; the gradient walk undoes broadcasting.
    gradient_in_output_shape = True

    def __init__(self, scalar_op: ScalarOp):
        self.scalar_op = scalar_op

    def make_node(self, *inputs: Any) -> Apply:
        sop = self.scalar_op
        if len(inputs) != sop.nin:
            raise build_error(ExprcTypeError, self,
                              f"takes {sop.nin} input(s), got {len(inputs)}")
        originals = _convert_weak_scalars(sop, inputs)
        ndim = max(v.ndim for v in originals)
        variables = [pad_left(v, ndim) for v in originals]
        out_shape = broadcast_static_shapes([v.type.shape for v in variables], self, originals)
        try:
            out_dtype = sop.output_dtype([v.dtype for v in variables])
        except ExprcTypeError as exc:
            raise build_error(ExprcTypeError, self, str(exc)) from None
        return Apply(self, variables, [TensorType(out_dtype, shape=out_shape)()])

    def __str__(self) -> str:
        return f"Elemwise{{{self.scalar_op}}}"

    __repr__ = __str__


def _convert_weak_scalars(sop: ScalarOp, inputs: Sequence[Any]) -> list[TensorVariable]:
    """Turn Python numbers into constants of the dtype NumPy 2 would give them here."""
    value_positions = range(1, sop.nin) if sop.rule == "switch" else range(sop.nin)
    strong = [inputs[i].dtype for i in value_positions if isinstance(inputs[i], TensorVariable)]
    converted = []
    for i, value in enumerate(inputs):
        if isinstance(value, numbers.Number) and not isinstance(value, np.generic) and strong \
                and i in value_positions:
            try:
                dtype = np.result_type(*strong, value).name
            except (OverflowError, TypeError) as exc:
                raise build_error(ExprcTypeError, sop.name, f"input {i}: {exc}") from None
            try:
                converted.append(constant(value, dtype=dtype))
            except ExprcTypeError as exc:
                raise build_error(ExprcTypeError, sop.name, f"input {i}: {exc}") from None
        else:
            try:
                converted.append(as_tensor_variable(value))
            except ExprcTypeError as exc:
                raise build_error(ExprcTypeError, sop.name, f"input {i}: {exc}") from None
    return converted


def broadcast_static_shapes(shapes: Sequence[tuple], op: Any = None,
                            variables: Sequence[Any] = ()) -> tuple:
    """The static shape of the broadcast of equal-rank static ``shapes``.

    A known size other than 1 wins; all-1 gives 1; anything else is unknown. Two different
    known sizes other than 1 cannot broadcast, and the error names the inputs and shapes.
    """
    out = []
    for axis, sizes in enumerate(zip(*shapes)):
        known = {s for s in sizes if s is not None and s != 1}
        if len(known) > 1:
            # Name the shapes as the user wrote them (before rank alignment) where known.
            given = [v.type.shape for v in variables] if variables else shapes
            described = ", ".join(
                f"input {i}{_named(variables, i)} of shape {_fmt(shape)}"
                for i, shape in enumerate(given))
            raise build_error(ExprcShapeError, op,
                              f"cannot broadcast {described}: sizes {sorted(known)} differ "
                              f"on axis {axis - len(shapes[0])} (counted from the end) and "
                              "none is 1")
        if known:
            out.append(known.pop())
        elif all(s == 1 for s in sizes):
            out.append(1)
        else:
            out.append(None)
    return tuple(out)


def _named(variables: Sequence[Any], i: int) -> str:
    if i < len(variables) and getattr(variables[i], "name", None):
        return f" ({variables[i].name!r})"
    return ""


def _fmt(shape: tuple) -> str:
    inner = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


def pad_left(var: TensorVariable, ndim: int) -> TensorVariable:
    """``var`` with new leading axes of size 1 up to rank ``ndim`` (NumPy's alignment)."""
    if var.ndim == ndim:
        return var
    return DimShuffle(("x",) * (ndim - var.ndim) + tuple(range(var.ndim)))(var)


class DimShuffle(Op):
    """Reorder axes, insert new axes of size 1 (``'x'``) and drop axes of size 1.

    ``new_order`` lists, for each output axis, the input axis it takes or ``'x'``. Input axes
    not listed are dropped; they must have size 1 (checked statically when the size is known,
    at run time otherwise).
    """

    __props__ = ("new_order",)
    view_map: ClassVar = {0: [0]}

    def __init__(self, new_order: Sequence[int | str]):
        self.new_order = tuple(
            choice_param("DimShuffle", "new_order entry", d, ("x",)) if isinstance(d, str)
            else int_param("DimShuffle", "new_order entry", d) for d in new_order)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        kept = [d for d in self.new_order if d != "x"]
        if len(set(kept)) != len(kept) or any(d < 0 or d >= x.ndim for d in kept):
            raise build_error(ExprcShapeError, self,
                              f"invalid pattern for a {x.ndim}-d input {x} of type {x.type}: "
                              "each input axis may appear once, in range(ndim)")
        for axis in self.dropped(x.ndim):
            if x.type.shape[axis] not in (None, 1):
                raise build_error(ExprcShapeError, self,
                                  f"cannot drop axis {axis} of {x} (type {x.type}): its size "
                                  f"is {x.type.shape[axis]}, not 1")
        shape = tuple(1 if d == "x" else x.type.shape[d] for d in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def dropped(self, ndim: int) -> list[int]:
        """The input axes that this shuffle removes."""
        return [d for d in range(ndim) if d not in self.new_order]

    def __str__(self) -> str:
        return "DimShuffle{" + ",".join(map(str, self.new_order)) + "}"

    __repr__ = __str__


class SumToShape(Op):
    """Sum a broadcast result back down to the shape of one of the operands.

    ``SumToShape(static_shape)(g, target_shape)`` sums ``g`` over every axis where the run-time
    ``target_shape`` is 1 and ``g`` is not, keeping the axis. It is how the gradient walk undoes
    NumPy broadcasting when sizes are only known at run time; ``static_shape`` is the target's
    static shape, which becomes the result's.
    """

    __props__ = ("static_shape",)
    view_map: ClassVar = {0: [0]}  # the input itself when no axis needs summing

    def __init__(self, static_shape: Sequence[int | None]):
        self.static_shape = int_tuple("SumToShape", "static_shape", static_shape, optional=True)

    def make_node(self, g: Any, target_shape: Any) -> Apply:
        g = as_tensor_variable(g)
        target_shape = as_tensor_variable(target_shape)
        if g.ndim != len(self.static_shape):
            raise build_error(ExprcShapeError, self, f"input {g} of type {g.type} does not "
                              f"have rank {len(self.static_shape)}")
        if target_shape.ndim != 1 or not target_shape.dtype.startswith(("int", "uint")):
            raise build_error(ExprcTypeError, self, f"target shape {target_shape} must be an "
                              f"integer vector, got {target_shape.type}")
        return Apply(self, [g, target_shape], [TensorType(g.dtype, shape=self.static_shape)()])


def sum_to(g: TensorVariable, like: TensorVariable) -> TensorVariable:
    """``g`` (broadcast against ``like``) summed down to ``like``'s shape.

    Nothing is added when static shapes prove no axis was stretched.
    """
    needed = any(not ((ls is not None and gs == ls) or gs == 1)
                 for gs, ls in zip(g.type.shape, like.type.shape))
    if not needed:
        return g
    from exprc.tensor.shape import shape

    return SumToShape(like.type.shape)(g, shape(like))


class InplaceElemwise(Elemwise):
    """``Elemwise(scalar_op)`` whose result overwrites input ``destroyed``.

    Same values, types and gradients as the ``Elemwise`` it replaces; the destroyed input must
    already have the output's dtype. An op that overwrites an input declares it with
    ``destroy_map`` (``{output_index: [input_index]}``); only the ``inplace`` rewrite pass
    creates such ops, after :mod:`exprc.rewriting.destroy` has checked that no other reader of
    the overwritten value runs afterwards. Executors write the result into that input's memory
    (the reference executor falls back to a fresh array when the run-time shape or dtype make
    that impossible, and never overwrites a function's inputs or constants).
    """

    __props__ = ("scalar_op", "destroyed")

    def __init__(self, scalar_op: ScalarOp, destroyed: int):
        super().__init__(scalar_op)
        self.destroyed = int_param("InplaceElemwise", "destroyed", destroyed)
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
