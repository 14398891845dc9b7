"""The ONNX export table: for each op class, the rule writing its nodes as ONNX operators.

A rule is ``rule(b, node, inputs) -> outputs``: ``b`` is the
:class:`~exprc.export.onnx.OnnxBuilder` of the model being written, ``node`` the exprc node
and ``inputs`` the names of its input values; it emits ONNX nodes through ``b`` and returns
one value name per output of ``node``, of exactly the output's dtype and shape (the exporter
checks). A rule may return an input's name for an output equal to it (an identity).

A rule computes what the op's NumPy reference (:mod:`exprc.link.reference`) computes: where
an ONNX operator differs (a dtype ONNX Runtime has no kernel for, NaN, division by zero,
integer overflow), the rule builds the exact result from several operators, and where none
can, it raises ``b.fail(reason)``, an :class:`~exprc.export.graph.ExportError` naming the
node. Op classes that never have a rule are exempted with the reason a user reads in the
error. One module per op family (see :mod:`exprc.tensor.families`); none imports ``onnx``.
"""

from __future__ import annotations

from exprc.graph.optable import OpTable
from exprc.tensor.families import load_rules

__all__ = ["INT64_MIN", "ONNX"]

ONNX = OpTable("ONNX export")

#: The end bound ONNX ``Slice`` takes for "past the start" of an axis walked backwards.
INT64_MIN = -(2 ** 63)

load_rules(__name__)
