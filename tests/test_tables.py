"""The per-op tables line up: every column covers every op class, and each rule sits in the
module of its op's family (see :mod:`exprc.tensor.families`)."""

from __future__ import annotations

import pytest

import exprc  # noqa: F401  (loads every op class and every table)
from exprc.gradient import GRAD
from exprc.graph.ir import Op
from exprc.graph.traversal import toposort
from exprc.link.c.ops import __name__ as C_RULES
from exprc.link.c.program import C_CODE
from exprc.link.reference import REFERENCE
from exprc.rewriting.shape_rules import SHAPE
from exprc.tensor.families import FAMILIES, family_of
from tests.registry import load_all

#: Each table and the package holding its family modules.
TABLES = [
    (REFERENCE, "exprc.link.reference"),
    (GRAD, "exprc.gradient.rules"),
    (SHAPE, "exprc.rewriting.shape_rules"),
    (C_CODE, C_RULES),
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
