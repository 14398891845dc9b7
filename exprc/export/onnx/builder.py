"""The :class:`OnnxBuilder` the ONNX rules write nodes with (it never imports ``onnx``).

It records the dtype and shape of every value it hands out, so each rule's result is checked
against the shape exprc computed, and it knows the opset's signatures and ONNX Runtime's kernel
gaps (the dtype tables at the end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exprc.export.graph import ExportError, ExportGraph, c_identifier, describe
from exprc.export.onnx.rules import INT64_MIN
from exprc.graph.ir import Apply, Variable

__all__ = ["NARROW_ARITHMETIC", "REDUCE_EXTREMES", "WHAT", "WHERE_DTYPES", "NodeSpec",
           "OnnxBuilder"]

#: What the exporter does, as its errors say it.
WHAT = "export to ONNX"


# --------------------------------------------------------------------------- the builder
@dataclass
class NodeSpec:
    """One ONNX node as a rule describes it: operator, value names and attributes."""

    op_type: str
    inputs: list[str]
    outputs: list[str]
    attributes: dict[str, Any] = field(default_factory=dict)


class OnnxBuilder:
    """What a rule writes ONNX nodes with; it never imports ``onnx``.

    Every value is a name with a known dtype (a NumPy dtype name) and shape. A rule receives
    the names of its node's inputs, emits nodes with :meth:`op` (and the helpers built on it)
    and returns one name per output of the node.

    Attributes
    ----------
    graph : ExportGraph
        The graph being exported (its ``shapes`` and ``values``).
    opset : int
        The opset of the default domain the model is written for.
    """

    def __init__(self, graph: ExportGraph, opset: int):
        self.graph = graph
        self.opset = opset
        self.nodes: list[NodeSpec] = []
        self.initializers: dict[str, np.ndarray] = {}
        self.info: dict[str, tuple[str, tuple[int, ...]]] = {}
        self.names: dict[Variable, str] = {}
        self.node: Apply | None = None
        self._count = 0
        self._small: dict[tuple, str] = {}
        for var, name in zip(graph.inputs, graph.input_names):
            self.names[var] = name
            self.info[name] = (var.type.dtype, tuple(graph.shapes[var]))

    # ------------------------------------------------------------------ values
    def fresh(self, hint: str = "t") -> str:
        """A new value name. Internal names start with an underscore, which the names of
        inputs and outputs (C identifiers, see :func:`c_identifier`) never do, and end with
        a count of their own, which keeps them distinct whatever ``hint`` holds."""
        self._count += 1
        return f"_{hint}_{self._count}"

    def dtype(self, name: str) -> str:
        """The dtype of value ``name``."""
        return self.info[name][0]

    def shape(self, name: str) -> tuple[int, ...]:
        """The shape of value ``name``."""
        return self.info[name][1]

    def value(self, var: Variable) -> str:
        """The name of the value of ``var``: an input, a node's result or an initializer."""
        if var in self.names:
            return self.names[var]
        if var in self.graph.values:
            label = c_identifier(getattr(var, "name", None), "")
            name = self.const(self.graph.values[var], "c" + (f"_{label}" if label else ""),
                              share=False)
            self.names[var] = name
            return name
        raise ExportError(f"internal error: {var} is read before it is computed")

    def const(self, array: Any, hint: str = "c", *, dtype: Any = None,
              share: bool = True) -> str:
        """An initializer holding ``array`` (as ``dtype`` when given). Small ones are shared
        between the nodes that need the same value."""
        array = np.asarray(array, dtype=dtype)
        if array.dtype.kind not in "biuf":
            raise ExportError(f"internal error: a constant of dtype {array.dtype}")
        key = None
        if share and array.size <= 64:
            key = (array.dtype.str, array.shape, array.tobytes())
            if key in self._small:
                return self._small[key]
        name = self.fresh(hint)
        self.initializers[name] = array.copy(order="C")
        self.info[name] = (array.dtype.name, array.shape)
        if key is not None:
            self._small[key] = name
        return name

    def known(self, name: str) -> np.ndarray | None:
        """The value of ``name`` when it is an initializer, else None."""
        return self.initializers.get(name)

    def ints(self, values: Sequence[int]) -> str:
        """An int64 vector initializer (axes, shapes, pads, ...)."""
        return self.const(np.asarray(list(values), dtype="int64").reshape(-1))

    # ------------------------------------------------------------------ nodes
    def op(self, op_type: str, inputs: Sequence[str], dtype: str, shape: Sequence[int],
           **attributes: Any) -> str:
        """Emit one node with one output of ``dtype`` and ``shape``; its name."""
        return self.op_multi(op_type, inputs, [(dtype, shape)], **attributes)[0]

    def op_multi(self, op_type: str, inputs: Sequence[str],
                 outputs: Sequence[tuple[str, Sequence[int]]], **attributes: Any) -> list[str]:
        """Emit one node with several outputs, each given as ``(dtype, shape)``."""
        names = []
        for dtype, shape in outputs:
            name = self.fresh("t")
            self.info[name] = (np.dtype(dtype).name, tuple(int(s) for s in shape))
            names.append(name)
        self.nodes.append(NodeSpec(op_type, list(inputs), names,
                                   {k: v for k, v in attributes.items() if v is not None}))
        return names

    def fail(self, why: str) -> ExportError:
        """The error for the node being translated: names it and says ``why``."""
        where = describe(self.node) if self.node is not None else "the graph"
        return ExportError(f"cannot {WHAT} {where}: {why}")

    def require_opset(self, minimum: int, what: str) -> None:
        """Refuse ``what`` below opset ``minimum``."""
        if self.opset < minimum:
            raise self.fail(f"{what} needs ONNX opset {minimum} or later (this model is "
                            f"written for opset {self.opset})")

    # ------------------------------------------------------------------ common shapes of nodes
    def identity(self, x: str) -> str:
        return self.op("Identity", [x], self.dtype(x), self.shape(x))

    def cast(self, x: str, dtype: str) -> str:
        """``x`` converted to ``dtype`` by ONNX ``Cast`` (no node when it has that dtype).

        Only for conversions ONNX defines as NumPy does: to float, between integers, and from
        bool; see :func:`exprc.export.onnx.rules.elemwise.numpy_cast` for the others."""
        dtype = np.dtype(dtype).name
        if self.dtype(x) == dtype:
            return x
        if self.known(x) is not None:  # a constant is converted now (by NumPy, the same way)
            return self.const(self.known(x).astype(dtype))
        return self.op("Cast", [x], dtype, self.shape(x), to=("dtype", dtype))

    def reshape(self, x: str, shape: Sequence[int]) -> str:
        shape = tuple(int(s) for s in shape)
        if self.shape(x) == shape:
            return x
        if 0 in shape:  # empty: nothing to move (and ONNX reads a 0 in a shape as "keep")
            return self.const(np.zeros(shape, dtype=self.dtype(x)))
        return self.op("Reshape", [x, self.ints(shape)], self.dtype(x), shape)

    def transpose(self, x: str, perm: Sequence[int]) -> str:
        perm = [int(p) for p in perm]
        if perm == list(range(len(perm))):
            return x
        shape = self.shape(x)
        return self.op("Transpose", [x], self.dtype(x), [shape[p] for p in perm], perm=perm)

    def expand(self, x: str, shape: Sequence[int]) -> str:
        """``x`` broadcast to ``shape`` (NumPy's rules, ranks aligned on the right)."""
        shape = tuple(int(s) for s in shape)
        if self.shape(x) == shape:
            return x
        if int(np.prod(self.shape(x))) == int(np.prod(shape)) and \
                np.broadcast_shapes(self.shape(x), shape) == shape:
            return self.reshape(x, shape)
        return self.op("Expand", [x, self.ints(shape)], self.dtype(x), shape)

    def unsqueeze(self, x: str, axes: Sequence[int]) -> str:
        axes = sorted(int(a) for a in axes)
        if not axes:
            return x
        shape = list(self.shape(x))
        for a in axes:
            shape.insert(a, 1)
        return self.op("Unsqueeze", [x, self.ints(axes)], self.dtype(x), shape)

    def squeeze(self, x: str, axes: Sequence[int]) -> str:
        axes = sorted(int(a) for a in axes)
        if not axes:
            return x
        shape = [s for a, s in enumerate(self.shape(x)) if a not in axes]
        return self.op("Squeeze", [x, self.ints(axes)], self.dtype(x), shape)

    def slice(self, x: str, axes: Sequence[int], starts: Sequence[int], ends: Sequence[int],
              steps: Sequence[int]) -> str:
        """``x`` sliced along ``axes``; bounds are Python's, already normalised (see
        :func:`slice_bounds`)."""
        if not axes:
            return x
        shape = list(self.shape(x))
        for a, start, end, step in zip(axes, starts, ends, steps):
            stop = None if end == INT64_MIN else end
            shape[a] = len(range(*slice(start, stop, step).indices(shape[a])))
        return self.op("Slice", [x, self.ints(starts), self.ints(ends), self.ints(axes),
                                 self.ints(steps)], self.dtype(x), shape)

    def gather(self, x: str, indices: str, axis: int) -> str:
        shape = self.shape(x)
        out = shape[:axis] + self.shape(indices) + shape[axis + 1:]
        return self.op("Gather", [x, self.cast_index(indices)], self.dtype(x), out, axis=axis)

    def cast_index(self, indices: str) -> str:
        """Indices as ONNX takes them: int32 or int64."""
        return indices if self.dtype(indices) in ("int32", "int64") else \
            self.cast(indices, "int64")

    def where(self, condition: str, a: str, b: str) -> str:
        """``np.where(condition, a, b)`` for a bool ``condition`` and ``a``, ``b`` of one
        dtype. ``Where`` is used in a dtype ONNX Runtime computes it in; the values are
        converted back without loss."""
        dtype = self.dtype(a)
        shape = np.broadcast_shapes(self.shape(condition), self.shape(a), self.shape(b))
        if dtype == "bool":
            keep = self.op("And", [condition, a], "bool", np.broadcast_shapes(
                self.shape(condition), self.shape(a)))
            other = self.op("And", [self.op("Not", [condition], "bool", self.shape(condition)),
                                    b], "bool", np.broadcast_shapes(self.shape(condition),
                                                                    self.shape(b)))
            return self.expand(self.op("Or", [keep, other], "bool", np.broadcast_shapes(
                self.shape(keep), self.shape(other))), shape)
        wide = WHERE_DTYPES.get(dtype, dtype)
        result = self.op("Where", [condition, self.cast(a, wide), self.cast(b, wide)], wide,
                         shape)
        return self.cast(result, dtype)

    def binary(self, op_type: str, a: str, b: str, dtype: str | None = None,
               **attributes: Any) -> str:
        """A broadcasting binary node whose result has ``dtype`` (default: ``a``'s)."""
        shape = np.broadcast_shapes(self.shape(a), self.shape(b))
        dtype = dtype or self.dtype(a)
        wide = NARROW_ARITHMETIC.get(dtype)
        if op_type in ("Add", "Sub", "Mul", "Div") and self.opset < 14 and wide:
            # Before opset 14 these take no 8- and 16-bit integers; int32 wraps back exactly.
            result = self.op(op_type, [self.cast(a, wide), self.cast(b, wide)], wide, shape)
            return self.cast(result, dtype)
        return self.op(op_type, [a, b], dtype, shape, **attributes)

    def unary(self, op_type: str, x: str, dtype: str | None = None, **attributes) -> str:
        return self.op(op_type, [x], dtype or self.dtype(x), self.shape(x), **attributes)

    def reduce(self, kind: str, x: str, axes: Sequence[int], keepdims: bool = False) -> str:
        """``x`` reduced over ``axes`` (not empty, none of size 0) by ``kind`` (``sum``,
        ``prod``, ``max`` or ``min``), in ``x``'s dtype with NumPy's results: integers wrap
        around as NumPy's do, and ``max``/``min`` of floats propagate NaN."""
        dtype = self.dtype(x)
        axes = sorted(int(a) for a in axes)
        if dtype == "bool":  # sum is any, prod is all, as NumPy's add/multiply of bools
            logical = {"sum": "max", "prod": "min"}.get(kind, kind)
            as_int = self.reduce(logical, self.cast(x, "int8"), axes, keepdims)
            return self.op("Not", [self.binary("Equal", as_int, self.const(0, dtype="int8"),
                                               "bool")], "bool", self.shape(as_int))
        if kind in ("sum", "prod") and dtype not in ("float32", "float64"):
            return self._integer_fold(kind, x, axes, keepdims)
        if kind in ("max", "min") and dtype not in REDUCE_EXTREMES:
            ordered, restore = self.ordered(x)
            return restore(self.reduce(kind, ordered, axes, keepdims))
        op_type = {"sum": "ReduceSum", "prod": "ReduceProd", "max": "ReduceMax",
                   "min": "ReduceMin"}[kind]
        shape = list(self.shape(x))
        out_shape = [1 if a in axes else s for a, s in enumerate(shape)] if keepdims else \
            [s for a, s in enumerate(shape) if a not in axes]
        if op_type == "ReduceSum" or self.opset >= 18:
            result = self.op(op_type, [x, self.ints(axes)], dtype, out_shape,
                             keepdims=int(keepdims))
        else:
            result = self.op(op_type, [x], dtype, out_shape, axes=axes, keepdims=int(keepdims))
        if kind in ("max", "min") and dtype in ("float32", "float64"):
            nan = self.reduce("max", self.unary("IsNaN", x, "bool"), axes, keepdims)
            result = self.where(nan, self.const(np.nan, dtype=dtype), result)
        return result

    def axes_last(self, x: str, axes: Sequence[int]) -> str:
        """``x`` with ``axes`` moved last and merged into one (C order)."""
        shape = self.shape(x)
        kept = [a for a in range(len(shape)) if a not in axes]
        merged = int(np.prod([shape[a] for a in axes], dtype="int64"))
        return self.reshape(self.transpose(x, kept + list(axes)),
                            [shape[a] for a in kept] + [merged])

    def _integer_fold(self, kind: str, x: str, axes: list[int], keepdims: bool) -> str:
        """An integer sum or product, wrapping around as NumPy's (ONNX Runtime's integer
        ReduceSum and ReduceProd go through floating point): sums are the last entry of a
        ``CumSum``, products a tree of ``Mul`` over halves, both in int64, whose wrapping
        agrees with every narrower integer dtype's."""
        dtype, shape = self.dtype(x), self.shape(x)
        out_shape = [1 if a in axes else s for a, s in enumerate(shape)] if keepdims else \
            [s for a, s in enumerate(shape) if a not in axes]
        flat = self.cast(self.axes_last(x, axes), "int64")
        n, last = self.shape(flat)[-1], len(self.shape(flat)) - 1
        if n == 0:
            return self.expand(self.const(0 if kind == "sum" else 1, dtype=dtype), out_shape)
        if kind == "sum":
            flat = self.op("CumSum", [flat, self.const(last, dtype="int64")], "int64",
                           self.shape(flat))
            flat = self.slice(flat, [last], [n - 1], [n], [1])
        while self.shape(flat)[-1] > 1:
            n = self.shape(flat)[-1]
            half = n // 2
            folded = self.binary("Mul", self.slice(flat, [last], [0], [half], [1]),
                                 self.slice(flat, [last], [half], [2 * half], [1]))
            if n % 2:
                odd = self.slice(flat, [last], [n - 1], [n], [1])
                folded = self.op("Concat", [folded, odd], "int64",
                                 self.shape(folded)[:-1] + (half + 1,), axis=last)
            flat = folded
        return self.cast(self.reshape(flat, out_shape), dtype)

    def ordered(self, x: str) -> tuple[str, Any]:
        """``x`` in a dtype ONNX Runtime compares and reduces in, with the same order, and the
        function taking such values back to ``x``'s dtype."""
        dtype = self.dtype(x)
        if dtype == "uint64":
            # x - 2**63, read as int64: an order-preserving bijection onto int64.
            offset = self.const(2 ** 63, dtype="uint64")
            moved = self.cast(self.binary("Sub", x, offset), "int64")
            return moved, lambda y: self.binary("Add", self.cast(y, "uint64"), offset)
        wide = {"bool": "int8", "int16": "int32", "uint16": "int32", "uint32": "int64"}[dtype]
        return self.cast(x, wide), lambda y: self.cast(y, dtype)


#: Integer dtypes ``Add``, ``Sub``, ``Mul`` and ``Div`` take from opset 14 only, and the
#: dtype computed in before.
NARROW_ARITHMETIC = {"int8": "int32", "int16": "int32", "uint8": "int32", "uint16": "int32"}
#: Dtypes ONNX Runtime lacks a ``Where`` kernel for, and the one used instead (the values
#: convert back exactly).
WHERE_DTYPES = {"int16": "int32", "uint16": "int32", "uint64": "int64"}
#: Dtypes ONNX Runtime reduces with ``ReduceMax``/``ReduceMin`` and compares with ``ArgMax``.
REDUCE_EXTREMES = ("int8", "uint8", "int32", "int64", "float32", "float64")
