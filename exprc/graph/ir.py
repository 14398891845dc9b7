"""The graph IR: types, variables, constants, apply nodes and ops.

A graph is a bipartite DAG: each :class:`Variable` is produced by at most one :class:`Apply`
node (its ``owner``), and each ``Apply`` is one application of an :class:`Op` to input
variables, producing output variables. Variables without an owner are graph inputs (or
constants). Ops are immutable values: two ops with equal ``__props__`` are interchangeable,
which is what common-subexpression merging relies on.

An op class holds what defines it: its parameters, its type inference (``make_node``), which
validates inputs and raises errors that name the culprit, and a few declared facts that several
concerns read (the attributes documented on :class:`Op`, each with a default there). Everything
else about an op (NumPy reference, gradient, shape inference, C code, CUDA code) lives in one
table per concern, see :mod:`exprc.graph.optable`.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

from exprc import hooks
from exprc.errors import ExprcError, user_frame
from exprc.graph.testvalues import compute_test_values, get_test_value

_ids = itertools.count()


class Type:
    """The static type of a variable: what values it may hold at run time.

    Subclasses implement :meth:`filter` (validate and convert a run-time value) and equality.
    """

    def filter(self, value: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        raise NotImplementedError

    def make_variable(self, name: str | None = None) -> Variable:
        return Variable(self, name=name)

    def __call__(self, name: str | None = None) -> Variable:
        """Create a fresh graph input of this type (``TensorType('float32', (None,))('x')``)."""
        return self.make_variable(name)


class Tag:
    """Free-form annotations of a variable; ``trace`` is the user line that created it."""

    def __init__(self, **kwargs: Any):
        self.__dict__.update(kwargs)

    def __repr__(self) -> str:
        return f"Tag({self.__dict__})"


class Variable:
    """A value in a graph: a graph input, a constant, or an output of an :class:`Apply`.

    Variables compare and hash by identity, so they can key dictionaries (``givens``,
    ``updates``); elementwise equality of tensors is ``exprc.tensor.eq``.
    """

    def __init__(self, type: Type, owner: Apply | None = None, index: int | None = None,
                 name: str | None = None):
        if name is not None and not isinstance(name, str):
            raise ExprcError(f"a variable name must be a str, got {type_name(name)}")
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = Tag(trace=user_frame())
        self.auto_name = f"{type_prefix(self)}{next(_ids)}"

    def clone(self) -> Variable:
        """A new input variable of the same type, name and tag (no owner)."""
        cp = self.__class__.__new__(self.__class__)
        cp.__dict__.update(self.__dict__)
        cp.owner, cp.index = None, None
        cp.tag = Tag(**vars(self.tag))
        cp.auto_name = f"{type_prefix(self)}{next(_ids)}"
        return cp

    def __repr__(self) -> str:
        return self.name or self.auto_name

    def __setstate__(self, state: dict) -> None:
        # A loaded variable keeps its number, and variables made afterwards number after it,
        # as where it was pickled: rewrites order operands by creation, so a loaded graph is
        # rewritten (and compiled, a compile cache hit) exactly as the original.
        self.__dict__.update(state)
        _count_past(self.auto_name)

    def eval(self, inputs_to_values: dict | None = None) -> Any:
        """Compile (once, then cached) and evaluate this variable.

        Parameters
        ----------
        inputs_to_values : dict, optional
            Maps each input variable the expression needs to its value.

        Examples
        --------
        >>> import exprc.tensor as T
        >>> x = T.dvector('x')
        >>> (x * 2).eval({x: [1.0, 2.0]})
        array([2., 4.])
        """
        inputs_to_values = inputs_to_values or {}
        keys = tuple(inputs_to_values)
        # Kept outside the variable so that clones (which copy tags) never share it.
        cache = _EVAL_CACHE.setdefault(self, {})
        if keys not in cache:
            cache[keys] = hooks.COMPILER(list(keys), self, on_unused_input="ignore")
        return cache[keys](*[inputs_to_values[k] for k in keys])

    def get_test_value(self) -> Any:
        """This variable's test value (see ``exprc.config.compute_test_value``): its
        ``tag.test_value``, a constant's data or a shared variable's value."""
        return get_test_value(self)

    def _repr_svg_(self) -> str | None:
        """The graph computing this variable as a picture, in a notebook (needs Graphviz;
        without it the notebook shows the text form)."""
        picture = hooks.GRAPH_PICTURE.installed
        return picture(self) if picture is not None else None

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = str(self.owner.op)
            if len(self.owner.outputs) > 1:
                return f"{op}.{self.index}"
            return f"{op}.out"
        return f"<{self.type}>"


#: Compiled functions of :meth:`Variable.eval`, per variable and set of inputs.
_EVAL_CACHE: weakref.WeakKeyDictionary[Variable, dict] = weakref.WeakKeyDictionary()


class Constant(Variable):
    """A variable whose value is known when the graph is built.

    Constants are immutable: their data is a read-only array owned by the graph.
    """

    def __init__(self, type: Type, data: Any, name: str | None = None):
        super().__init__(type, name=name)
        self.data = type.filter(data, strict=False, allow_downcast=True)

    def signature(self) -> tuple:
        """A hashable key such that equal signatures mean interchangeable constants."""
        return (self.type, self.type.value_signature(self.data))

    def clone(self) -> Constant:
        return self  # constants are immutable and may be shared between graphs

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        return self.type.value_str(self.data)


class Apply:
    """One application of an op to input variables, producing output variables."""

    def __init__(self, op: Op, inputs: Sequence[Variable], outputs: Sequence[Variable]):
        self.op = op
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        for i, out in enumerate(self.outputs):
            out.owner, out.index = self, i

    def clone_with_new_inputs(self, inputs: Sequence[Variable]) -> Apply:
        """Apply the same op to ``inputs`` (re-running type inference)."""
        node = self.op.make_node(*inputs)
        for old, new in zip(self.outputs, node.outputs):
            new.name = old.name
            new.tag = Tag(**vars(old.tag))
        return node

    @property
    def out(self) -> Variable:
        """The single output of a one-output node."""
        if len(self.outputs) != 1:
            raise ExprcError(f"{self.op} has {len(self.outputs)} outputs; use node.outputs[i]")
        return self.outputs[0]

    def __repr__(self) -> str:
        return f"{self.op}({', '.join(map(repr, self.inputs))})"


class Op:
    """Base class of all operations.

    Subclasses list in ``__props__`` the attribute names that define them (for equality,
    hashing and printing) and implement :meth:`make_node`, which checks the inputs and builds
    the :class:`Apply` node with correctly typed outputs. Every concrete subclass of exprc is
    recorded in :data:`ALL_OPS` so that completeness tests can check each concern's table
    covers it. Ops written in Python carry their rules as methods instead (``perform``,
    ``grad``, ``infer_shape``, ... as in Theano; see :mod:`exprc.graph.python_op`).

    Facts that more than one concern reads are declared on the class, overriding the defaults
    below (a property where the fact depends on the op's parameters).

    Attributes
    ----------
    view_map : mapping of int to list of int
        ``{output: [input, ...]}``: outputs that may share memory with (be a view of, or be)
        those inputs. The in-place safety checker (:mod:`exprc.rewriting.destroy`) follows it,
        so an op whose result may alias an input must declare it. Default: no views.
    destroy_map : mapping of int to list of int
        ``{output: [input]}``: outputs written into the memory of that input (in-place ops,
        made only by the last rewrite pass). Default: none.
    gradient_in_output_shape : bool
        Whether the op's gradient rule may return, for an input, a gradient in the broadcast
        shape of the output rather than the input's; the reverse walk sums it back down, so
        the rule need not handle broadcasting. Default: False.
    unconditional_shape : bool
        Whether every output's shape follows from the inputs' shapes with nothing checked at
        run time, so that a rewrite may leave the node uncomputed without losing an error.
        Ops whose shape depends on how the inputs broadcast decide per node, in
        :mod:`exprc.rewriting.rules.shape_pass`. Default: False.
    """

    __props__: ClassVar[tuple[str, ...]] = ()
    ALL_OPS: ClassVar[list[type]] = []
    # Read-only, since every op without a declaration shares them.
    view_map: ClassVar[Mapping[int, list[int]]] = MappingProxyType({})
    destroy_map: Mapping[int, list[int]] = MappingProxyType({})
    gradient_in_output_shape: ClassVar[bool] = False
    unconditional_shape: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        from exprc.graph import python_op

        # Ops written in Python (a ``perform`` method) and ops defined outside exprc have no
        # rows in the tables (their methods serve instead, see exprc.graph.python_op), so the
        # completeness tests do not list them.
        if python_op.is_python_op(cls):
            python_op.adopt_defaults(cls)
        elif not cls.__dict__.get("abstract", False) and cls.__module__.startswith("exprc."):
            Op.ALL_OPS.append(cls)

    def make_node(self, *inputs: Any) -> Apply:
        """Check ``inputs`` and build the node; every op class defines it, except an op
        declaring ``itypes`` and ``otypes`` (Theano's short form), which gets this default:
        inputs checked against ``itypes``, fresh outputs of ``otypes``."""
        itypes, otypes = getattr(self, "itypes", None), getattr(self, "otypes", None)
        if itypes is None or otypes is None:
            raise NotImplementedError(f"{type(self).__name__} defines neither make_node nor "
                                      "itypes and otypes")
        from exprc.graph.python_op import declared_node

        return declared_node(self, inputs, itypes, otypes)

    def __call__(self, *inputs: Any) -> Any:
        """Apply the op; return its output (or the list of outputs for multi-output ops)."""
        node = self.make_node(*inputs)
        compute_test_values(node)
        return node.outputs[0] if len(node.outputs) == 1 else list(node.outputs)

    def _props(self) -> tuple:
        return tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self) -> int:
        return hash((type(self), self._props()))

    def __str__(self) -> str:
        if not self.__props__:
            return type(self).__name__
        args = ", ".join(f"{p}={getattr(self, p)}" for p in self.__props__)
        return f"{type(self).__name__}{{{args}}}"

    __repr__ = __str__


def _count_past(auto_name: str) -> None:
    """Make the numbers of new variables greater than the one in ``auto_name``."""
    global _ids
    number = int(auto_name[1:])
    if next(_ids) <= number:
        _ids = itertools.count(number + 1)


def type_name(value: Any) -> str:
    return type(value).__name__


def type_prefix(var: Variable) -> str:
    return "c" if isinstance(var, Constant) else "v"
