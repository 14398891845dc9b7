"""What every exporter starts from: a compiled function's graph with every size known.

:func:`prepare` takes a compiled inference function and gives an :class:`ExportGraph`:

- each explicit input has a full static shape (from its type, or from ``input_shapes``);
- each shared variable is frozen to a constant holding its current value;
- the graph is rewritten by the usual pipeline (the exporter names passes to leave out);
- every node whose inputs are all constants is computed now (its results become constants),
  so what is left, :attr:`ExportGraph.nodes`, is the work that depends on the inputs;
- the size of every variable is a number, found by shape inference over the constants. A size
  that depends on the input *values* (a boolean-mask selection) cannot be planned for, and is
  an error naming the node.

Functions that update shared variables, draw random numbers or hold sparse values are refused
with an :class:`ExportError` that names the culprit and says why.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exprc.compile.function import Function
from exprc.errors import ExprcError, ExprcTypeError, ExprcValueError
from exprc.graph.fgraph import FunctionGraph
from exprc.graph.ir import Apply, Constant, Variable
from exprc.graph.traversal import clone_replace, toposort
from exprc.link.reference import evaluate_node
from exprc.rewriting.pipeline import optimize
from exprc.rewriting.rules.branches import expand_inline, sink_into_branches
from exprc.rewriting.shape_rules import shape_of
from exprc.tensor.basic import constant
from exprc.tensor.families import family_of
from exprc.tensor.type import TensorType

__all__ = ["ExportError", "ExportGraph", "c_identifier", "describe", "prepare"]

#: Op families whose nodes are never computed at export time, even on constant inputs: a
#: random draw frozen into the model would silently give every caller the same sample.
NEVER_FOLDED = frozenset({"random"})


class ExportError(ExprcError):
    """A function cannot be exported; the message names the input or node and says why."""


@dataclass
class ExportGraph:
    """A function's graph ready for an exporter.

    Attributes
    ----------
    inputs, outputs : list of Variable
        The explicit inputs (each with a full static shape) and the outputs, in the function's
        order. An output may be an input or a constant.
    input_names, output_names : list of str
        A distinct C identifier for each, made from the user's names where they are usable
        (see :func:`c_identifier`), else ``input0``, ``output1``, ...
    nodes : list of Apply
        The nodes that depend on an input, in an order that runs them.
    shapes : dict of Variable to tuple of int
        The size of every variable of :attr:`nodes`, of every input and output, and of every
        constant they read.
    values : dict of Variable to numpy.ndarray
        Every constant the nodes or outputs read: the graph's constants and the results of
        nodes computed at export time (the frozen shared values among them).
    labels : dict of Variable to str
        What the user calls each input and output (their names, as typed), for documentation;
        it reaches generated text only through an escaping function.
    """

    inputs: list[Variable]
    outputs: list[Variable]
    input_names: list[str]
    output_names: list[str]
    nodes: list[Apply]
    shapes: dict[Variable, tuple[int, ...]]
    values: dict[Variable, np.ndarray]
    labels: dict[Variable, str] = field(default_factory=dict)

    def dtype(self, var: Variable) -> str:
        """The dtype of ``var`` (a tensor)."""
        return var.type.dtype

    def is_constant(self, var: Variable) -> bool:
        """Whether ``var``'s value is known now (a constant or folded at export time)."""
        return var in self.values

    def readers(self) -> dict[Variable, list[int]]:
        """For each variable, the indices in :attr:`nodes` of the nodes reading it."""
        found: dict[Variable, list[int]] = {}
        for index, node in enumerate(self.nodes):
            for var in node.inputs:
                found.setdefault(var, []).append(index)
        return found


def describe(node: Apply) -> str:
    """How an error names ``node``: the op and, where known, the user's line that built it."""
    trace = getattr(node.outputs[0].tag, "trace", None) if node.outputs else None
    where = f" (built at {trace})" if isinstance(trace, str) and trace else ""
    return f"{node.op}{where}"


# --------------------------------------------------------------------------- names
_C_KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while _Bool _Complex _Imaginary bool true false NULL
""".split())
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")


def c_identifier(text: Any, fallback: str, max_length: int = 48) -> str:
    """A C identifier made of the ASCII letters, digits and underscores of ``text``.

    Other characters become one underscore each run; a result that is empty, starts with a
    digit or an underscore, is a C keyword, or is longer than ``max_length`` gives
    ``fallback`` instead. Nothing else of ``text`` can reach generated source this way.

    Examples
    --------
    >>> c_identifier("conv0.W", "w0")
    'conv0_W'
    >>> c_identifier("x); system(\\"rm -rf /\\");", "input0")
    'x_system_rm_rf_'
    >>> c_identifier("int", "input0")
    'input0'
    """
    if not isinstance(text, str):
        return fallback
    made = _NOT_IDENTIFIER.sub("_", text)
    if (not made or made[0].isdigit() or made[0] == "_" or made in _C_KEYWORDS
            or keyword.iskeyword(made) or len(made) > max_length):
        return fallback
    return made


def _distinct(names: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, k = name, 1
        while candidate.lower() in seen:
            candidate, k = f"{name}_{k}", k + 1
        seen.add(candidate.lower())
        result.append(candidate)
    return result


# --------------------------------------------------------------------------- prepare
def prepare(f: Function, input_shapes: Any = None, *, exclude: Sequence[str] = (),
            what: str = "export") -> ExportGraph:
    """The graph of the compiled function ``f``, ready to export.

    Parameters
    ----------
    f : Function
        A compiled inference function: no updates; inputs and outputs are tensors.
    input_shapes : sequence or mapping, optional
        The shape of each input whose type leaves a size unknown (the batch size, typically):
        a sequence with one shape per input (None for an input whose type is complete), or a
        mapping from input name, position or variable to its shape.
    exclude : sequence of str
        Rewrite passes or rules to leave out (ONNX export leaves out fusion, say).
    what : str
        The exporter's name, for error messages.

    Returns
    -------
    ExportGraph

    Raises
    ------
    ExportError
        For a function that updates shared variables, has an input with an unknown size,
        draws random numbers, holds sparse values, or has a size that depends on the data.
    """
    if not isinstance(f, Function):
        raise ExprcTypeError(f"{what} needs a compiled function (exprc.function(...)), got "
                             f"{type(f).__name__}")
    recipe = f._recipe
    outputs_before = list(recipe["graph_outputs"][:len(f.outputs)])
    for node in toposort(outputs_before):
        if family_of(type(node.op)) in NEVER_FOLDED:
            raise ExportError(_random_message(node, what))
    updated = list(recipe["update_targets"]) + [i.variable for i in recipe["state_inputs"]]
    if updated:
        names = ", ".join(str(v) for v in updated)
        raise ExportError(f"cannot {what} a function with updates (it changes {names}): "
                          "export an inference function, compiled without updates")
    explicit = [i.variable for i in f.inputs]
    labels = [i.name or i.variable.name or f"input {k}" for k, i in enumerate(f.inputs)]
    shapes = _input_shapes(explicit, labels, input_shapes)
    replace: dict[Variable, Variable] = {}
    new_inputs = []
    for var, shape in zip(explicit, shapes):
        fresh = TensorType(var.type.dtype, shape=shape)(var.name)
        replace[var] = fresh
        new_inputs.append(fresh)
    for shared in f.shared_vars:
        if not isinstance(shared.type, TensorType):
            raise ExportError(f"cannot {what} shared variable {shared}: it holds a "
                              f"{type(shared.type).__name__} value, not a dense tensor")
        replace[shared] = constant(shared.get_value(borrow=False), name=shared.name)
    outputs = clone_replace(outputs_before, replace)

    fgraph = FunctionGraph(new_inputs, outputs)
    expand_inline(fgraph)
    sink_into_branches(fgraph)
    optimize(fgraph, "fast_run", exclude)

    graph = _fold(fgraph, what)
    graph.labels = {**dict(zip(graph.inputs, labels)),
                    **{o: (getattr(o, "name", None) or f"output {k}")
                       for k, o in enumerate(graph.outputs)}}
    graph.input_names = _distinct([c_identifier(i.name, f"input{k}")
                                   for k, i in enumerate(f.inputs)])
    graph.output_names = _distinct([c_identifier(o.variable.name if hasattr(o, "variable")
                                                 else None, f"output{k}")
                                    for k, o in enumerate(f.outputs)])
    return graph


def _random_message(node: Apply, what: str) -> str:
    return (f"cannot {what} {describe(node)}: it draws random numbers, and an exported "
            "function must be deterministic (build the output with deterministic=True, "
            "without dropout or noise)")


def _input_shapes(explicit: list[Variable], labels: list[str], given: Any) -> list[tuple]:
    if given is None:
        by_index: dict[int, Any] = {}
    elif isinstance(given, Mapping):
        by_index = {}
        for key, shape in given.items():
            index = _input_index(key, explicit, labels)
            by_index[index] = shape
    elif isinstance(given, Sequence) and not isinstance(given, str):
        if len(given) != len(explicit):
            raise ExprcValueError(f"input_shapes has {len(given)} entries for "
                                  f"{len(explicit)} inputs")
        by_index = {k: s for k, s in enumerate(given) if s is not None}
    else:
        raise ExprcTypeError(f"input_shapes must be a sequence or a mapping, got "
                             f"{type(given).__name__}")
    shapes = []
    for k, (var, label) in enumerate(zip(explicit, labels)):
        if not isinstance(var.type, TensorType):
            raise ExportError(f"input {label!r} is a {type(var.type).__name__}; only dense "
                              "tensors can be exported")
        static = var.type.shape
        shape = list(static)
        if k in by_index:
            wanted = by_index[k]
            try:
                wanted = tuple(int(s) for s in wanted)
            except (TypeError, ValueError):
                raise ExprcTypeError(f"the shape given for input {label!r} is not a sequence "
                                     f"of ints: {wanted!r}") from None
            if len(wanted) != len(static):
                raise ExprcValueError(f"input {label!r} has {len(static)} axes, but the shape "
                                      f"given for it, {wanted}, has {len(wanted)}")
            for axis, (known, size) in enumerate(zip(static, wanted)):
                if size < 0:
                    raise ExprcValueError(f"input {label!r}: size {size} on axis {axis}")
                if known is not None and known != size:
                    raise ExprcValueError(f"input {label!r} has size {known} on axis {axis}, "
                                          f"but the shape given for it says {size}")
            shape = list(wanted)
        unknown = [axis for axis, s in enumerate(shape) if s is None]
        if unknown:
            raise ExportError(f"input {label!r} has an unknown size on axis {unknown[0]} "
                              f"(type {var.type}); give its shape with "
                              f"input_shapes={{{label!r}: (...)}}")
        shapes.append(tuple(shape))
    return shapes


def _input_index(key: Any, explicit: list[Variable], labels: list[str]) -> int:
    if isinstance(key, bool):
        raise ExprcTypeError(f"input_shapes key {key!r} is neither a name, a position nor "
                             "an input")
    if isinstance(key, int):
        if not 0 <= key < len(explicit):
            raise ExprcValueError(f"input_shapes names input {key}, but the function has "
                                  f"{len(explicit)} inputs")
        return key
    if isinstance(key, str):
        matches = [k for k, label in enumerate(labels) if label == key]
        if not matches:  # the C name the export gives the input
            matches = [k for k, label in enumerate(labels)
                       if c_identifier(label, f"input{k}") == key]
        if len(matches) != 1:
            raise ExprcValueError(f"input_shapes names input {key!r}, which "
                                  f"{'is ambiguous' if matches else 'is not an input'}; "
                                  f"inputs: {labels}")
        return matches[0]
    for k, var in enumerate(explicit):
        if var is key:
            return k
    raise ExprcValueError(f"input_shapes key {key!r} is not an input of the function")


# --------------------------------------------------------------------------- folding
def _fold(fgraph: FunctionGraph, what: str) -> ExportGraph:
    values: dict[Variable, np.ndarray] = {}
    nodes: list[Apply] = []
    inputs = list(fgraph.inputs)
    with np.errstate(all="ignore"):
        for node in fgraph.toposort():
            for var in node.inputs:
                if isinstance(var, Constant) and var not in values:
                    values[var] = np.asarray(var.data)
            if any(not isinstance(v.type, TensorType) for v in node.inputs + node.outputs):
                raise ExportError(f"cannot {what} {describe(node)}: it works on "
                                  "non-tensor values")
            if family_of(type(node.op)) in NEVER_FOLDED:
                raise ExportError(_random_message(node, what))
            if all(var in values for var in node.inputs):
                for out, value in zip(node.outputs, evaluate_node(node, [values[v] for v in
                                                                        node.inputs])):
                    values[out] = np.asarray(value)
            else:
                nodes.append(node)
        for out in fgraph.outputs:
            if isinstance(out, Constant) and out not in values:
                values[out] = np.asarray(out.data)

    shapes: dict[Variable, tuple[int, ...]] = {}
    for var in inputs:
        shapes[var] = tuple(int(s) for s in var.type.shape)
    memo: dict = {}
    folded: dict = {}
    for node in nodes:
        for var in node.inputs:
            if var in values:
                shapes[var] = values[var].shape
        for k, out in enumerate(node.outputs):
            sizes = []
            for axis, entry in enumerate(shape_of(out, memo)):
                size = None if entry is None else _constant_value(entry, values, folded)
                if size is None:
                    raise ExportError(
                        f"cannot {what} {describe(node)}: the size of its output {k} on axis "
                        f"{axis} depends on the input values, so no memory can be planned "
                        "for it")
                sizes.append(int(size))
            static = out.type.shape
            for axis, (known, size) in enumerate(zip(static, sizes)):
                if known is not None and known != size:
                    raise ExportError(f"cannot {what} {describe(node)}: shape inference gives "
                                      f"size {size} on axis {axis}, its type says {known}")
            shapes[out] = tuple(sizes)
    for var, value in values.items():
        shapes.setdefault(var, value.shape)
    return ExportGraph(inputs=inputs, outputs=list(fgraph.outputs), input_names=[],
                       output_names=[], nodes=nodes, shapes=shapes,
                       values={v: values[v] for v in _constants_read(nodes, fgraph.outputs,
                                                                    values)})


def _constants_read(nodes: list[Apply], outputs: list[Variable], values: dict) -> list:
    read = []
    seen: set = set()
    for var in [v for n in nodes for v in n.inputs] + list(outputs):
        if var in values and var not in seen:
            seen.add(var)
            read.append(var)
    return read


def _constant_value(var: Variable, values: dict, memo: dict) -> Any:
    """The value of ``var`` if it depends on constants only (evaluated on the reference
    executor), else None. ``memo`` caches the variables outside the graph (the shape
    expressions shape inference builds)."""
    if var in values:
        return values[var]
    if var in memo:
        return memo[var]
    stack = [var]
    while stack:
        top = stack[-1]
        if top in values or top in memo:
            stack.pop()
            continue
        if isinstance(top, Constant):
            memo[top] = np.asarray(top.data)
            stack.pop()
            continue
        node = top.owner
        if node is None or family_of(type(node.op)) in NEVER_FOLDED:
            memo[top] = None
            stack.pop()
            continue
        pending = [i for i in node.inputs if i not in values and i not in memo]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        args = [values[i] if i in values else memo[i] for i in node.inputs]
        if any(a is None for a in args):
            for out in node.outputs:
                memo[out] = None
            continue
        with np.errstate(all="ignore"):
            for out, value in zip(node.outputs, evaluate_node(node, args)):
                memo[out] = np.asarray(value)
    return memo[var]
