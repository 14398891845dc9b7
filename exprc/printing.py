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
from exprc.graph.ir import Apply, Constant, Op, Variable
from exprc.graph.optable import OpTable
from exprc.graph.traversal import ancestors, toposort
from exprc.tensor.elemwise import DimShuffle, Elemwise
from exprc.tensor.extra_ops import CumOp
from exprc.tensor.reduction import Reduce

__all__ = ["debugprint", "pp", "to_dot", "pydotprint", "render", "svg_of", "PP", "Print"]

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
def _to_networkx(outputs: Sequence[Variable], names: dict | None = None) -> nx.DiGraph:
    """The bipartite graph of variables and apply nodes, with Graphviz attributes; ``names``
    (``id -> DOT name``) is filled in, and shared between the graphs of one picture."""
    dag = nx.DiGraph()
    names = {} if names is None else names

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


def to_dot(obj: Any, inner_graphs: bool = False) -> str:
    """A Graphviz DOT description of a graph.

    Apply nodes are boxes labelled with their op; variables are ellipses labelled with their
    name (or value, for constants) and type, graph inputs in green and outputs in blue. Edges
    carry the input (or output) position when a node has several.

    Parameters
    ----------
    obj : Variable, list of Variable, or Function
    inner_graphs : bool
        Also draw the graphs that loops and branches run (``Scan``, ``IfElse``,
        ``OpFromGraph``), each in a box of its own joined to its node by a dashed edge.

    Returns
    -------
    str
    """
    names: dict[int, str] = {}
    dag = _to_networkx(_outputs_of(obj), names)
    lines = ["digraph exprc {", "  rankdir=TB;", *_dot_body(dag, "  ")]
    if inner_graphs:
        holders = [node for v in ancestors(_outputs_of(obj)) if (node := v.owner) is not None
                   and getattr(node.op, "inner_graphs", None) is not None]
        shown: set = set()
        while holders:
            node = holders.pop(0)
            if id(node) in shown:
                continue
            shown.add(id(node))
            for k, graph in enumerate(node.op.inner_graphs()):
                cluster = f"cluster_{len(shown)}_{k}"
                inner = _to_networkx(graph.outputs, names)
                lines += [f"  subgraph {cluster} {{",
                          f"    label={_dot_string(f'{node.op} (inner graph {k})')};",
                          "    style=dashed;", *_dot_body(inner, "    "), "  }"]
                lines += [f"  {_dot_string(names[id(node)])} -> {_dot_string(names[id(out)])}"
                          f" [style=dashed, arrowhead=none];" for out in graph.outputs
                          if id(node) in names and id(out) in names]
                holders += [n for v in ancestors(graph.outputs) if (n := v.owner) is not None
                            and getattr(n.op, "inner_graphs", None) is not None]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_body(dag: nx.DiGraph, pad: str) -> list[str]:
    return ([f"{pad}{_dot_string(n)}{_dot_attrs(a)};" for n, a in dag.nodes(data=True)]
            + [f"{pad}{_dot_string(u)} -> {_dot_string(v)}{_dot_attrs(a)};"
               for u, v, a in dag.edges(data=True)])


#: The formats pydotprint writes, by file extension.
_FORMATS = {".dot": "dot", ".gv": "dot", ".png": "png", ".svg": "svg", ".pdf": "pdf"}

_NEEDS_GRAPHVIZ = ("Graphviz's 'dot' program, which is not on PATH: install Graphviz (Debian/"
                   "Ubuntu: apt install graphviz; conda: conda install graphviz; macOS: brew "
                   "install graphviz), and `pip install graphviz` for its Python interface")


def render(dot_text: str, format: str) -> bytes:
    """``dot_text`` drawn by Graphviz in ``format`` ('png', 'svg' or 'pdf').

    Uses the ``graphviz`` Python package when it is installed, else the ``dot`` program
    directly; both need Graphviz itself.

    Raises
    ------
    ExprcError
        When Graphviz is not installed (the message says how to install it), or fails.
    """
    if shutil.which("dot") is None:
        raise ExprcError(f"drawing a graph as {format} needs {_NEEDS_GRAPHVIZ}; or write DOT "
                         "text (pydotprint(..., format='dot'))")
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is not None:
        try:
            return graphviz.Source(dot_text).pipe(format=format)
        except Exception as exc:  # graphviz.ExecutableNotFound, CalledProcessError
            raise ExprcError(f"Graphviz failed to draw the graph: {exc}") from None
    result = subprocess.run([shutil.which("dot"), f"-T{format}"], input=dot_text.encode(),
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise ExprcError(f"Graphviz failed to draw the graph: "
                         f"{result.stderr.decode(errors='replace')}")
    return result.stdout


def pydotprint(obj: Any, outfile: str | None = None, format: str | None = None,
               scan_graphs: bool = False, print_output_file: bool = False,
               return_image: bool = False, **theano_options: Any) -> Any:
    """Draw the graph of ``obj`` to ``outfile`` with Graphviz (PNG, SVG or PDF), or write its
    DOT text.

    Parameters
    ----------
    obj : Variable, list of Variable, or Function
    outfile : str or path, optional
        Default ``graph.<format>`` in the current directory.
    format : {'png', 'svg', 'pdf', 'dot'}, optional
        Default: from ``outfile``'s extension (``.png``, ``.svg``, ``.pdf``, ``.dot``/``.gv``),
        else 'png' (Theano's default). Every format but 'dot' needs Graphviz (see
        :func:`render`).
    scan_graphs : bool
        Also draw the inner graphs of loops and branches (Theano's option).
    print_output_file : bool
        Print where the file was written (Theano printed it by default).
    return_image : bool
        Return the image's bytes (DOT text for 'dot') instead of writing a file.
    **theano_options
        Theano's styling options (``compact``, ``with_ids``, ``high_contrast``,
        ``colorCodes``, ``max_label_size``, ``var_with_name_simple``, ``cond_highlight``)
        are accepted and have no effect.

    Returns
    -------
    str or bytes
        ``outfile``, or the image with ``return_image``.
    """
    known = {"compact", "with_ids", "high_contrast", "colorCodes", "max_label_size",
             "var_with_name_simple", "cond_highlight"}
    unknown = set(theano_options) - known
    if unknown:
        raise ExprcTypeError(f"pydotprint: unknown options {sorted(unknown)}")
    if format is None:
        suffix = "" if outfile is None else str(outfile)[str(outfile).rfind("."):].lower()
        format = _FORMATS.get(suffix, "png")
    if format not in ("dot", "svg", "png", "pdf"):
        raise ExprcTypeError(f"pydotprint: format must be 'png', 'svg', 'pdf' or 'dot', got "
                             f"{format!r}")
    text = to_dot(obj, inner_graphs=scan_graphs)
    image = text.encode() if format == "dot" else render(text, format)
    if return_image:
        return image if format != "dot" else text
    outfile = str(outfile) if outfile is not None else f"graph.{format}"
    with open(outfile, "wb") as f:
        f.write(image)
    if print_output_file:
        print(f"The output file is available at {outfile}")
    return outfile


def svg_of(obj: Any) -> str | None:
    """The graph of ``obj`` as SVG text, or None when Graphviz is not installed (what a
    notebook shows for a variable or a compiled function, see ``_repr_svg_``)."""
    if shutil.which("dot") is None:
        return None
    try:
        return render(to_dot(obj), "svg").decode("utf-8")
    except ExprcError:
        return None


hooks.GRAPH_PRINTER.install(debugprint)
hooks.GRAPH_PICTURE.install(svg_of)


# --------------------------------------------------------------------------- Print
def _print_attributes(op: Print, value: Any) -> None:
    """Theano's default: ``message attr = value`` for each attribute named in ``op.attrs``
    (a method is called), written to standard output."""
    for attr in op.attrs:
        shown = getattr(value, attr)
        if callable(shown):
            shown = shown()
        print(op.message, attr, "=", shown)


class Print(Op):
    """An identity that prints its input's value each time the compiled function computes it
    (Theano's ``theano.printing.Print``).

    ``Print("h")(h)`` is ``h``, and running it prints ``h __str__ = [...]``. The node runs in
    Python (compiled functions call back into the interpreter for it, see
    ``f.placement()``); only a value something needs is computed, so print what an output
    depends on. Gradients and shapes go through unchanged.

    Parameters
    ----------
    message : str
        Printed first.
    attrs : tuple of str
        Attributes (or methods, which are called) of the NumPy value to print, e.g.
        ``("shape", "__str__")``.
    global_fn : callable, optional
        ``global_fn(op, value)`` does the printing instead (e.g. to log or to collect values).
    """

    __props__ = ("message", "attrs", "global_fn")
    view_map = {0: [0]}  # the output is the input itself

    def __init__(self, message: str = "", attrs: Sequence[str] = ("__str__",),
                 global_fn: Callable[[Print, Any], None] = _print_attributes):
        if not isinstance(message, str):
            raise ExprcTypeError(f"Print: message must be a str, got {type(message).__name__}")
        attrs = (attrs,) if isinstance(attrs, str) else tuple(attrs)
        if not all(isinstance(a, str) for a in attrs):
            raise ExprcTypeError(f"Print: attrs must be attribute names, got {attrs!r}")
        # global_fn is one of the op's __props__, hashed whenever the op is compared: say so
        # here rather than with a bare "unhashable type" from deep inside compilation.
        if not callable(global_fn) or getattr(type(global_fn), "__hash__", None) is None:
            raise ExprcTypeError(f"Print: global_fn must be a hashable callable (a function or "
                                 f"a bound method), got {global_fn!r}")
        self.message = message
        self.attrs = attrs
        self.global_fn = global_fn

    def make_node(self, x: Any) -> Apply:
        from exprc.tensor.variable import as_tensor_variable

        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        (value,) = inputs
        self.global_fn(self, value)
        output_storage[0][0] = value

    def grad(self, inputs: list, output_grads: list) -> list:
        return list(output_grads)

    def R_op(self, inputs: list, eval_points: list) -> list:
        return list(eval_points)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return list(input_shapes)

    def do_constant_folding(self, node: Apply) -> bool:
        return False  # print when the function runs, not once while compiling

    def __str__(self) -> str:
        return f"Print{{{self.message}}}"
