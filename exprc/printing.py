"""Looking at graphs: an indented tree (:func:`debugprint`), an infix formula (:func:`pp`) and a
Graphviz description (:func:`to_dot`, :func:`pydotprint`).

Each function accepts a variable, a list of variables, or a compiled
:class:`~exprc.compile.function.Function` (whose ``graph_outputs`` are shown).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

import networkx as nx

from exprc import hooks
from exprc.errors import ExprcError, ExprcTypeError
from exprc.graph.ir import Apply, Constant, Variable
from exprc.graph.optable import OpTable
from exprc.graph.traversal import ancestors, toposort
from exprc.tensor.elemwise import DimShuffle, Elemwise
from exprc.tensor.extra_ops import CumOp
from exprc.tensor.reduction import Reduce

__all__ = ["debugprint", "pp", "to_dot", "pydotprint", "PP"]

ID_STYLES = ("CHAR", "int", "id", "")


def _outputs_of(obj: Any) -> list[Variable]:
    graph_outputs = getattr(obj, "graph_outputs", None)
    if graph_outputs is not None:  # a compiled function (duck-typed: compile is above us)
        return list(graph_outputs)
    if isinstance(obj, Variable):
        return [obj]
    if isinstance(obj, Apply):
        return list(obj.outputs)
    if isinstance(obj, (list, tuple)) and all(isinstance(v, Variable) for v in obj):
        return list(obj)
    raise ExprcTypeError(f"expected a variable, a list of variables or a compiled Function, "
                         f"got {type(obj).__name__}")


def _char_id(number: int) -> str:
    """Spreadsheet-like ids in base 26 with A as the zero digit: A, B, ..., Z, BA, BB, ..."""
    digits = ""
    while True:
        number, remainder = divmod(number, 26)
        digits = chr(ord("A") + remainder) + digits
        if number == 0:
            return digits


class _Ids:
    """Gives each apply node (or ownerless variable) an id the first time it is printed."""

    def __init__(self, style: str):
        if style not in ID_STYLES:
            raise ExprcTypeError(f"ids must be one of {ID_STYLES}, got {style!r}")
        self.style = style
        self.known: dict[int, str] = {}

    def __call__(self, obj: Any) -> str:
        if self.style == "":
            return ""
        if id(obj) not in self.known:
            n = len(self.known)
            self.known[id(obj)] = {"CHAR": _char_id(n), "int": str(n),
                                   "id": str(id(obj))}[self.style]
        return f" [id {self.known[id(obj)]}]"


def _leaf_label(var: Variable) -> str:
    if isinstance(var, Constant) and var.name is None:
        return f"{type(var).__name__}{{{var}}}"
    return str(var)


def debugprint(obj: Any, file: Any = None, ids: str = "CHAR", print_type: bool = False,
               depth: int = -1) -> Any:
    """Print a graph as an indented tree, one line per variable.

    A computed variable shows its op (``Op.i`` for output ``i`` of a multi-output op), its id
    and its name; a graph input shows its name (or type) and its id. A node reached a second
    time is shown by its line only, with the same id, and not expanded again. The graphs that
    loops and branches run (``Scan``, ``IfElse``, ``OpFromGraph``) follow under "Inner
    graphs:", each line marked ``>``, their inputs being the op's placeholders.

    Parameters
    ----------
    obj : Variable, list of Variable, or Function
    file : None, 'str' or file-like
        None prints to ``sys.stdout``; ``'str'`` returns the text.
    ids : {'CHAR', 'int', 'id', ''}
        Id style: letters (``[id A]``), counters, Python ids, or none.
    print_type : bool
        Append each variable's type.
    depth : int
        Print this many levels (-1: all).

    Returns
    -------
    str or file
        The text when ``file='str'``, else the file written to.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x, y = T.dvector('x'), T.dvector('y')
    >>> print(debugprint(x + T.exp(y), file='str'))
    Elemwise{add} [id A]
     |x [id B]
     |Elemwise{exp} [id C]
       |y [id D]
    """
    lines: list[str] = []
    id_of = _Ids(ids)
    expanded: set[int] = set()

    def visit(var: Variable, line_prefix: str, child_prefix: str, levels: int) -> None:
        if levels == 0:
            return
        node = var.owner
        if node is None:
            text = f"{_leaf_label(var)}{id_of(var)}"
        else:
            op = str(node.op) + (f".{var.index}" if len(node.outputs) > 1 else "")
            text = op + id_of(node) + (f" '{var.name}'" if var.name is not None else "")
        lines.append(line_prefix + text + (f" <{var.type}>" if print_type else ""))
        if node is None or id(node) in expanded:
            return
        expanded.add(id(node))
        if getattr(node.op, "inner_graphs", None) is not None:
            holders.append(node)
        for i, inp in enumerate(node.inputs):
            last = i == len(node.inputs) - 1
            visit(inp, child_prefix + " |", child_prefix + ("  " if last else " |"),
                  levels - 1)

    holders: list = []  # nodes running graphs of their own (loops, branches), in order met
    for out in _outputs_of(obj):
        visit(out, "", "", depth)
    # Each inner graph after the outer one, its lines marked ">"; nested ones follow in turn.
    shown = 0
    while shown < len(holders):
        node = holders[shown]
        shown += 1
        if shown == 1:
            lines += ["", "Inner graphs:"]
        lines += ["", str(node.op) + id_of(node)]
        for graph in node.op.inner_graphs():
            for out in graph.outputs:
                visit(out, " >", " >", depth)
    text = "\n".join(lines)
    if file == "str":
        return text
    stream = sys.stdout if file is None else file
    stream.write(text + "\n")
    return stream


# --------------------------------------------------------------------------- pp
#: Pretty-printing rules, keyed by op class: ``rule(node, input_texts) -> str``. Ops without a
#: rule print as ``name(inputs, prop=value, ...)``.
PP = OpTable("pretty-printing rule")


@PP.register(Elemwise)
def _pp_elemwise(node: Apply, args: list[str]) -> str:
    sop = node.op.scalar_op
    if sop.symbol is not None and len(args) == 2:
        return f"({args[0]} {sop.symbol} {args[1]})"
    if sop.symbol is not None and len(args) == 1:
        return f"({sop.symbol}{args[0]})"
    return f"{sop}({', '.join(args)})"


@PP.register(DimShuffle)
def _pp_dimshuffle(node: Apply, args: list[str]) -> str:
    order = node.op.new_order
    added = len(order) - node.inputs[0].ndim
    # New leading axes are implicit in NumPy broadcasting, so a formula leaves them out.
    if added >= 0 and order == ("x",) * added + tuple(range(node.inputs[0].ndim)):
        return args[0]
    return f"dimshuffle({args[0]}, {order!r})"


_REDUCE_NAMES = {"add": "sum", "mul": "prod", "maximum": "max", "minimum": "min",
                 "and_": "all", "or_": "any"}


@PP.register(Reduce)
def _pp_reduce(node: Apply, args: list[str]) -> str:
    name = _REDUCE_NAMES.get(node.op.scalar_op.name, str(node.op.scalar_op))
    return f"{name}({args[0]}, axis={node.op.axis!r})"


@PP.register(CumOp)
def _pp_cumop(node: Apply, args: list[str]) -> str:
    name = "cumsum" if node.op.mode == "add" else "cumprod"
    reverse = ", reverse=True" if node.op.reverse else ""
    return f"{name}({args[0]}, axis={node.op.axis!r}{reverse})"


def _pp_generic(node: Apply, args: list[str]) -> str:
    props = [f"{p}={getattr(node.op, p)!r}" for p in node.op.__props__]
    return f"{type(node.op).__name__.lower()}({', '.join(args + props)})"


def pp(var: Variable) -> str:
    """An infix formula for ``var``, e.g. ``(x + (y * 2.0))`` or ``exp(x)``.

    Shared subexpressions are written out at each use; graph inputs print as their names (or
    types, when unnamed) and constants as their values.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x, y = T.dvector('x'), T.dvector('y')
    >>> pp(x + y * 2.0)
    '(x + (y * 2.0))'
    """
    if not isinstance(var, Variable):
        raise ExprcTypeError(f"pp expects a variable, got {type(var).__name__}")
    memo: dict[int, str] = {}
    for node in toposort([var]):
        rule: Callable = PP.find(node.op) or _pp_generic
        text = rule(node, [memo.get(id(i)) or str(i) for i in node.inputs])
        for out in node.outputs:
            memo[id(out)] = text + (f"[{out.index}]" if len(node.outputs) > 1 else "")
    return memo.get(id(var)) or str(var)


# --------------------------------------------------------------------------- DOT
def _to_networkx(outputs: Sequence[Variable]) -> nx.DiGraph:
    """The bipartite graph of variables and apply nodes, with Graphviz attributes."""
    dag = nx.DiGraph()
    names: dict[int, str] = {}

    def key(obj: Any, prefix: str) -> str:
        return names.setdefault(id(obj), f"{prefix}{len(names)}")

    output_ids = {id(o) for o in outputs}
    for var in ancestors(outputs):
        label = f"{_leaf_label(var) if var.owner is None else var.name or ''}\n{var.type}"
        attrs = {"label": label.lstrip("\n"), "shape": "ellipse"}
        if var.owner is None or id(var) in output_ids:
            attrs.update(style="filled", fillcolor="lightblue" if var.owner else "lightgreen")
        dag.add_node(key(var, "v"), **attrs)
        node = var.owner
        if node is None:
            continue
        dag.add_node(key(node, "n"), label=str(node.op), shape="box")
        out_label = {"label": str(var.index)} if len(node.outputs) > 1 else {}
        dag.add_edge(key(node, "n"), key(var, "v"), **out_label)
        for i, inp in enumerate(node.inputs):
            in_label = {"label": str(i)} if len(node.inputs) > 1 else {}
            dag.add_edge(key(inp, "v"), key(node, "n"), **in_label)
    return dag


def _dot_string(text: str) -> str:
    """``text`` as a double-quoted DOT string: backslashes and quotes escaped, line breaks as
    ``\\n`` and other control characters dropped, so no label can break out of its quotes."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + "".join(c for c in text if c >= " ") + '"'


def _dot_attrs(attrs: dict) -> str:
    if not attrs:
        return ""
    return " [" + ", ".join(f"{k}={_dot_string(str(v))}" for k, v in attrs.items()) + "]"


def to_dot(obj: Any) -> str:
    """A Graphviz DOT description of a graph.

    Apply nodes are boxes labelled with their op; variables are ellipses labelled with their
    name (or value, for constants) and type, graph inputs in green and outputs in blue. Edges
    carry the input (or output) position when a node has several.

    Parameters
    ----------
    obj : Variable, list of Variable, or Function

    Returns
    -------
    str
    """
    dag = _to_networkx(_outputs_of(obj))
    lines = ["digraph exprc {", "  rankdir=TB;"]
    lines += [f"  {_dot_string(n)}{_dot_attrs(a)};" for n, a in dag.nodes(data=True)]
    lines += [f"  {_dot_string(u)} -> {_dot_string(v)}{_dot_attrs(a)};"
              for u, v, a in dag.edges(data=True)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def pydotprint(obj: Any, outfile: str, format: str = "dot") -> str:
    """Write the graph of ``obj`` to ``outfile`` as DOT text, SVG or PNG.

    Parameters
    ----------
    obj : Variable, list of Variable, or Function
    outfile : str or path
    format : {'dot', 'svg', 'png'}
        'svg' and 'png' run Graphviz's ``dot`` program, which must be on PATH.

    Returns
    -------
    str
        ``outfile``.
    """
    if format not in ("dot", "svg", "png"):
        raise ExprcTypeError(f"pydotprint: format must be 'dot', 'svg' or 'png', got {format!r}")
    text = to_dot(obj)
    if format == "dot":
        with open(outfile, "w", encoding="utf-8") as f:
            f.write(text)
        return outfile
    program = shutil.which("dot")
    if program is None:
        raise ExprcError(f"pydotprint: format {format!r} needs Graphviz's 'dot' program, which "
                         f"is not on PATH; install Graphviz or use format='dot'")
    result = subprocess.run([program, f"-T{format}", "-o", str(outfile)], input=text.encode(),
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise ExprcError(f"pydotprint: dot failed: {result.stderr.decode(errors='replace')}")
    return outfile


hooks.GRAPH_PRINTER.install(debugprint)
