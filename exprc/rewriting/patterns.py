"""A small pattern language for rewrite rules.

A pattern describes the shape of a subgraph ending at one variable::

    x = Var("x")
    Elem("log", Elem("add", Const(1), x))        # log(1 + x), either operand order

``Elem(name, ...)`` matches an ``Elemwise`` node by scalar-op name (the operands of a scalar op
declared ``commutative`` in either order), ``Node(OpClass, ..., prop=value)`` any op by class
and properties, ``Var`` binds any variable (the same name must bind the same variable
everywhere it appears), and ``Const`` matches a constant whose every element equals a value.
Matching returns the bindings, which a rule's replacement receives as keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import permutations
from typing import Any

import numpy as np

from exprc.graph.ir import Constant, Variable
from exprc.tensor.elemwise import DimShuffle, Elemwise


class Pattern:
    def match(self, var: Variable, bound: dict) -> dict | None:
        raise NotImplementedError

    def root_key(self) -> Any:
        """The index key of the node this pattern's root matches (None: any node)."""
        return None


class Var(Pattern):
    """Binds any variable (satisfying ``when``, if given) to ``name``."""

    def __init__(self, name: str, when: Callable[[Variable], bool] | None = None):
        self.name, self.when = name, when

    def match(self, var, bound):
        if self.name in bound:
            return bound if bound[self.name] is var else None
        if self.when is not None and not self.when(var):
            return None
        return {**bound, self.name: var}


class Const(Pattern):
    """A constant whose elements all equal ``value`` (any shape); binds it to ``name``."""

    def __init__(self, value: float, name: str | None = None):
        self.value, self.name = value, name

    def match(self, var, bound):
        data = constant_value(var)
        if data is None or data.size == 0 or not np.all(data == self.value):
            return None
        return {**bound, self.name: var} if self.name else bound


class Elem(Pattern):
    """An Elemwise node applying scalar op ``name`` to inputs matching ``args`` (in any order
    when the scalar op is commutative)."""

    def __init__(self, name: str, *args: Pattern, out: str | None = None):
        self.name, self.args, self.out = name, args, out

    def root_key(self):
        return ("elemwise", self.name)

    def match(self, var, bound):
        node = var.owner
        if node is None or not isinstance(node.op, Elemwise) or \
                node.op.scalar_op.name != self.name or len(node.inputs) != len(self.args):
            return None
        orders = permutations(range(len(self.args))) if node.op.scalar_op.commutative else [
            range(len(self.args))]
        for order in orders:
            result = _match_all(self.args, [node.inputs[i] for i in order], bound)
            if result is not None:
                return {**result, self.out: var} if self.out else result
        return None


class Node(Pattern):
    """A node of ``op_class`` whose props equal ``props`` and inputs match ``args``.

    A prop given as a callable is a predicate on the prop's value.
    """

    def __init__(self, op_class: type, *args: Pattern, out: str | None = None, **props: Any):
        self.op_class, self.args, self.props, self.out = op_class, args, props, out

    def root_key(self):
        return self.op_class

    def match(self, var, bound):
        node = var.owner
        if node is None or type(node.op) is not self.op_class:
            return None
        for prop, want in self.props.items():
            have = getattr(node.op, prop)
            if not (want(have) if callable(want) else have == want):
                return None
        if self.args and len(self.args) != len(node.inputs):
            return None
        result = _match_all(self.args, node.inputs[: len(self.args)], bound)
        if result is not None and self.out:
            result = {**result, self.out: var}
        return result


def _match_all(patterns, variables, bound):
    for pattern, var in zip(patterns, variables):
        bound = pattern.match(var, bound)
        if bound is None:
            return None
    return bound


def constant_value(var: Variable) -> np.ndarray | None:
    """The value of ``var`` if it is a constant, possibly behind DimShuffles; else None."""
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    if isinstance(var, Constant):
        return var.data
    return None
