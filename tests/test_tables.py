"""The per-op tables line up: every column covers every op class, and each rule sits in the
module of its op's family (see :mod:`exprc.tensor.families`). The per-scalar-op tables that
``Elemwise`` reads line up the same way over the scalar ops of :mod:`exprc.tensor.scalar`."""

from __future__ import annotations

import numpy as np
import pytest

import exprc  # noqa: F401  (loads every op class and every table)
from exprc.export.c.program import EXPORT_C
from exprc.export.c.rules import __name__ as EXPORT_C_RULES
from exprc.export.onnx.rules import ONNX
from exprc.export.onnx.rules import __name__ as ONNX_RULES
from exprc.gradient import GRAD
from exprc.gradient.rules.elemwise import SCALAR_GRADS
from exprc.graph.ir import Op
from exprc.graph.traversal import toposort
from exprc.link.c.ops import __name__ as C_RULES
from exprc.link.c.program import C_CODE
from exprc.link.codegen.render import SCALAR_C
from exprc.link.cuda import ops as _cuda_ops  # noqa: F401  (fills CUDA_CODE)
from exprc.link.cuda.program import CUDA_CODE
from exprc.link.reference import REFERENCE
from exprc.link.reference.elemwise import SCALAR_NUMPY, apply_scalar_op
from exprc.rewriting.shape_rules import SHAPE
from exprc.tensor.composite import Composite
from exprc.tensor.elemwise import Elemwise
from exprc.tensor.families import FAMILIES, family_of
from exprc.tensor.scalar import SCALAR_OPS, cast_op
from tests.registry import load_all

#: Each table and the package holding its family modules.
TABLES = [
    (REFERENCE, "exprc.link.reference"),
    (GRAD, "exprc.gradient.rules"),
    (SHAPE, "exprc.rewriting.shape_rules"),
    (C_CODE, C_RULES),
    (CUDA_CODE, "exprc.link.cuda.ops"),
    (EXPORT_C, EXPORT_C_RULES),
    (ONNX, ONNX_RULES),
]
ALL_OPS = sorted(Op.ALL_OPS, key=lambda c: (c.__module__, c.__name__))


def test_every_op_class_belongs_to_a_listed_family():
    strays = [f"{c.__name__} ({c.__module__})" for c in ALL_OPS if family_of(c) not in FAMILIES]
    assert not strays, f"op classes outside exprc.tensor.families.FAMILIES: {strays}"


@pytest.mark.parametrize("table, package", TABLES, ids=lambda t: getattr(t, "concern", ""))
def test_every_op_has_a_rule_or_a_reason(table, package):
    missing = [c.__name__ for c in table.uncovered(ALL_OPS)]
    assert not missing, f"ops without a {table.concern}: {missing}"


@pytest.mark.parametrize("table, package", TABLES, ids=lambda t: getattr(t, "concern", ""))
def test_each_rule_sits_in_its_families_module(table, package):
    misplaced = []
    for cls in ALL_OPS:
        origin = table.origin(cls)
        if origin is not None and origin != f"{package}.{family_of(cls)}":
            misplaced.append(f"{cls.__name__}: registered in {origin}, expected "
                             f"{package}.{family_of(cls)}")
    assert not misplaced, "\n".join(misplaced)


def test_every_op_has_a_registry_case_in_its_familys_module():
    """``tests/registry/cases_<family>.py`` builds a graph holding each op of the family (the
    rewrites may turn it into others; the registry runs it on every backend)."""
    built: dict[str, set] = {}
    for case in load_all():
        outputs = case.build(*case.symbols())
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        built.setdefault(case.module, set()).update(type(n.op) for n in toposort(outputs))
    missing = [f"{c.__name__} (in tests/registry/cases_{family_of(c)}.py)" for c in ALL_OPS
               if c not in built.get(f"tests.registry.cases_{family_of(c)}", set())]
    assert not missing, f"ops without a registry case in their family's module: {missing}"


# ---------------------------------------------------------------------- scalar ops
#: Every scalar op an ``Elemwise`` may apply: the table's, and the casts built by ``cast_op``
#: (one name for every target dtype).
SCALAR_NAMES = sorted([*SCALAR_OPS, cast_op("float64").name])

#: Each per-scalar-op table. A scalar op without a derivative still has a row in
#: ``SCALAR_GRADS``: one returning a ``NullGrad`` that says why.
SCALAR_TABLES = [
    ("NumPy implementation", SCALAR_NUMPY),
    ("derivative", SCALAR_GRADS),
    ("C template", SCALAR_C),
]


@pytest.mark.parametrize("concern, table", SCALAR_TABLES, ids=[c for c, _ in SCALAR_TABLES])
def test_every_scalar_op_has_a_row(concern, table):
    missing = [name for name in SCALAR_NAMES if name not in table]
    assert not missing, f"scalar ops without a {concern}: {missing}"
    strays = sorted(set(table) - set(SCALAR_NAMES))
    assert not strays, f"{concern} rows for no scalar op of exprc.tensor.scalar: {strays}"


def _scalar_ops_applied(node) -> set[str]:
    """Names of the scalar ops ``node`` applies: an ``Elemwise``'s, or a ``Composite``'s
    program."""
    if isinstance(node.op, Elemwise):
        return {node.op.scalar_op.name}
    if isinstance(node.op, Composite):
        return {sop.name for sop, _ in node.op.steps}
    return set()


def test_every_scalar_op_has_a_registry_case():
    """``tests/registry/cases_elemwise.py`` builds, for each scalar op, a graph applying it (so
    the registry checks it against NumPy on every backend, and its derivative)."""
    applied: set[str] = set()
    for case in load_all():
        if case.module != "tests.registry.cases_elemwise":
            continue
        outputs = case.build(*case.symbols())
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        for node in toposort(outputs):
            applied |= _scalar_ops_applied(node)
    missing = [name for name in SCALAR_NAMES if name not in applied]
    assert not missing, f"scalar ops without a case in tests/registry/cases_elemwise.py: {missing}"


@pytest.mark.parametrize("name", [n for n, sop in SCALAR_OPS.items() if sop.nin == 2])
def test_commutative_is_declared_exactly_for_the_ops_that_commute(name):
    """Rewrite patterns match the operands of a ``commutative`` scalar op in either order, so
    the flag must be right, and is checked here against NumPy on distinct integer operands."""
    sop = SCALAR_OPS[name]
    rng = np.random.default_rng(0)
    a, b = rng.permutation(np.arange(1, 41, dtype="int64")).reshape(2, 20)
    out_dtype = sop.output_dtype(["int64", "int64"])
    forward = apply_scalar_op(sop, out_dtype, [a, b])
    swapped = apply_scalar_op(sop, out_dtype, [b, a])
    commutes = bool(np.array_equal(forward, swapped))
    assert sop.commutative == commutes, (f"{name} is declared commutative={sop.commutative}, "
                                         f"but swapping its operands changes the result: "
                                         f"{not commutes}")
