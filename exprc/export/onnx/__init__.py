"""Export of a compiled inference function as an ONNX model: :func:`to_onnx`.

The function's graph is prepared by :func:`exprc.export.graph.prepare` (every size known,
shared values frozen, constant work folded), without the ``fusion`` and ``inplace`` passes,
which only matter to exprc's own backends. Each remaining node is then translated by its rule
in the :data:`~exprc.export.onnx.rules.ONNX` table (one module per op family under
``exprc/export/onnx/rules/``) into standard ONNX operators.

Rules never touch ``onnx`` itself: they describe nodes and constants through an
:class:`OnnxBuilder`, which records the dtype and shape of every value it hands out (so each
rule's result is checked against the shape exprc computed for it) and knows the opset's
signatures. Only :func:`graph_to_model` turns the descriptions into protobuf messages, and
``onnx`` (and ``onnxruntime``, which the tests run the models on) is imported only there:
``pip install 'exprc[export]'`` installs it.

Every constant a node reads becomes an initializer, named after the variable where it has a
name (the frozen shared values among them). The model's inputs and outputs are named by
:attr:`ExportGraph.input_names` / ``output_names``; the names users gave, whatever characters
they hold, are kept in each input's and output's ``doc_string``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from exprc._version import __version__
from exprc.errors import ExprcTypeError, ExprcValueError
from exprc.export.graph import ExportError, ExportGraph, describe, prepare
from exprc.export.onnx.builder import WHAT, NodeSpec, OnnxBuilder
from exprc.export.onnx.rules import ONNX
from exprc.graph.ir import Apply

__all__ = ["DEFAULT_OPSET", "SUPPORTED_OPSETS", "OnnxBuilder", "graph_to_model", "to_onnx"]

#: The opsets of the default ONNX domain a model can be written for.
SUPPORTED_OPSETS = range(13, 22)
DEFAULT_OPSET = 17
#: Rewrite passes left out: fused loops and in-place updates mean nothing to an ONNX runtime.
EXCLUDED_PASSES = ("fusion", "inplace")


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise ExportError("exporting to ONNX needs the onnx package: pip install "
                          "'exprc[export]'") from None
    return onnx


def check_opset(opset: Any) -> int:
    """``opset`` as an int in :data:`SUPPORTED_OPSETS`, or an error saying which are."""
    if isinstance(opset, (bool, np.bool_)) or not isinstance(opset, (int, np.integer)):
        raise ExprcTypeError(f"opset must be an int, got {opset!r}")
    if int(opset) not in SUPPORTED_OPSETS:
        raise ExprcValueError(f"ONNX opset {int(opset)} is not supported; exprc writes opsets "
                              f"{SUPPORTED_OPSETS.start} to {SUPPORTED_OPSETS.stop - 1}")
    return int(opset)


def to_onnx(f: Any, path: Any, opset: int = DEFAULT_OPSET, *,
            input_shapes: Any = None) -> Any:
    """Write the compiled inference function ``f`` as an ONNX model.

    Parameters
    ----------
    f : Function
        A compiled function without updates, whose inputs and outputs are dense tensors.
    path : str, os.PathLike or None
        The file to write; None only returns the model.
    opset : int
        The opset of the default ONNX domain (13 to 21).
    input_shapes : sequence or mapping, optional
        The shape of each input whose type leaves a size unknown (the batch size, typically);
        see :func:`exprc.export.graph.prepare`. The model has these fixed shapes.

    Returns
    -------
    onnx.ModelProto
        The model, checked by ``onnx.checker.check_model(model, full_check=True)``.

    Raises
    ------
    ExportError
        When ``f`` cannot be exported (updates, random numbers, an unknown size, or an
        operation ONNX cannot express exactly); the message names the input or node.

    Examples
    --------
    >>> import exprc, exprc.tensor as T
    >>> x = T.matrix('x', dtype='float32')
    >>> f = exprc.function([x], T.nnet.softmax(x))  # doctest: +SKIP
    >>> model = to_onnx(f, 'softmax.onnx', input_shapes={'x': (2, 3)})  # doctest: +SKIP
    >>> [i.name for i in model.graph.input]  # doctest: +SKIP
    ['x']
    """
    _require_onnx()
    opset = check_opset(opset)
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise ExprcTypeError(f"path must be a file name or None, got {type(path).__name__}")
    graph = prepare(f, input_shapes, exclude=EXCLUDED_PASSES, what=WHAT)
    model = graph_to_model(graph, opset)
    if path is not None:
        with open(os.fspath(path), "wb") as out:
            out.write(model.SerializeToString())
    return model


# --------------------------------------------------------------------------- the model
def graph_to_model(graph: ExportGraph, opset: int = DEFAULT_OPSET) -> Any:
    """The ONNX model of a prepared graph (see :func:`exprc.export.graph.prepare`).

    :func:`to_onnx` prepares the graph and calls this; it is public so that a graph prepared
    with other passes (fused, in-place) can be written too.

    Returns
    -------
    onnx.ModelProto
        Checked by ``onnx.checker.check_model(model, full_check=True)``.
    """
    onnx = _require_onnx()
    opset = check_opset(opset)
    builder = OnnxBuilder(graph, opset)
    for node in graph.nodes:
        _translate(builder, node)
    outputs = _output_names(graph)
    for var, name in zip(graph.outputs, outputs):
        source = builder.value(var)
        builder.nodes.append(NodeSpec("Identity", [source], [name]))
        builder.info[name] = builder.info[source]
    renames = _renames(builder, outputs)
    read = {name for spec in builder.nodes for name in spec.inputs}
    for name in [n for n in builder.initializers if n not in read]:
        del builder.initializers[name]  # replaced (a flipped kernel, a converted constant)
    model = _to_proto(onnx, builder, graph, outputs, renames)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:  # the checker's classes differ between onnx versions
        raise ExportError(f"internal error: the ONNX checker refused the model: {exc}") \
            from exc
    return model


def _translate(builder: OnnxBuilder, node: Apply) -> None:
    rule = ONNX.registered(node.op)
    if rule is None:
        reason = ONNX.reason(node.op) or (
            "it has no ONNX rule (ops written in Python, with perform, cannot be exported)")
        raise ExportError(f"cannot {WHAT} {describe(node)}: {reason}")
    builder.node = node
    inputs = [builder.value(var) for var in node.inputs]
    results = rule(builder, node, inputs)
    if len(results) != len(node.outputs):
        raise builder.fail(f"internal error: the rule gave {len(results)} results for "
                           f"{len(node.outputs)} outputs")
    for var, name in zip(node.outputs, results):
        want = (var.type.dtype, tuple(builder.graph.shapes[var]))
        if builder.info[name] != want:
            raise builder.fail(f"internal error: the rule's result {builder.info[name]} is not "
                               f"the output's dtype and shape {want}")
        builder.names[var] = name
    builder.node = None


def _output_names(graph: ExportGraph) -> list[str]:
    """The output names, made distinct from the input names too (an output may share its
    user's name with an input)."""
    taken = {name.lower() for name in graph.input_names}
    names = []
    for name in graph.output_names:
        candidate, k = name, 1
        while candidate.lower() in taken:
            candidate, k = f"{name}_{k}", k + 1
        taken.add(candidate.lower())
        names.append(candidate)
    return names


def _renames(builder: OnnxBuilder, outputs: list[str]) -> dict[str, str]:
    """Where an output's Identity (the last ``len(outputs)`` nodes) reads a node's result
    that no earlier output took, the result takes the output's name and the Identity goes.
    Returns ``{internal name: output name}``."""
    first = len(builder.nodes) - len(outputs)
    produced = {name for spec in builder.nodes[:first] for name in spec.outputs}
    renames: dict[str, str] = {}
    kept = []
    for spec in builder.nodes[first:]:
        source = spec.inputs[0]
        if source in produced and source not in renames:
            renames[source] = spec.outputs[0]
        else:
            kept.append(spec)
    builder.nodes[first:] = kept
    return renames


def _to_proto(onnx: Any, builder: OnnxBuilder, graph: ExportGraph, outputs: list[str],
              renames: dict[str, str]) -> Any:
    from onnx import helper, numpy_helper

    def named(name: str) -> str:
        return renames.get(name, name)

    def elem_type(dtype: str) -> int:
        return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    def info(name: str, doc: str = "") -> Any:
        dtype, shape = builder.info[name]
        made = helper.make_tensor_value_info(named(name), elem_type(dtype), list(shape))
        if doc:
            made.doc_string = doc
        return made

    nodes = []
    for k, spec in enumerate(builder.nodes):
        attributes = {key: elem_type(value[1]) if isinstance(value, tuple) and
                      value[:1] == ("dtype",) else value
                      for key, value in spec.attributes.items()}
        nodes.append(helper.make_node(spec.op_type, [named(n) for n in spec.inputs],
                                      [named(n) for n in spec.outputs], name=f"_n{k}",
                                      **attributes))
    initializers = [numpy_helper.from_array(array, name)
                    for name, array in builder.initializers.items()]
    inputs = [info(name, graph.labels.get(var, "")) for var, name in
              zip(graph.inputs, graph.input_names)]
    output_infos = [info(name, graph.labels.get(var, "")) for var, name in
                    zip(graph.outputs, outputs)]
    boundary = set(graph.input_names) | set(outputs) | set(builder.initializers)
    inner = [info(name) for spec in builder.nodes for name in spec.outputs
             if name not in boundary and named(name) not in boundary]
    body = helper.make_graph(nodes, "exprc", inputs, output_infos, initializer=initializers,
                             value_info=inner,
                             doc_string=f"exported by exprc {__version__}")
    opsets = [helper.make_opsetid("", builder.opset)]
    model = helper.make_model(body, opset_imports=opsets, producer_name="exprc",
                              producer_version=__version__,
                              doc_string=f"exprc {__version__}: a compiled inference function "
                                         f"({len(inputs)} inputs, {len(output_infos)} outputs)",
                              ir_version=helper.find_min_ir_version_for(opsets))
    return model
