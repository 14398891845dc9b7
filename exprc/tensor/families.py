"""The op families: the one list that names every file of every per-op table.

An op class's family is the name of the module that defines it (``exprc.tensor.sort`` defines
``Sort``, so ``Sort`` is of the ``sort`` family). Each table keeps one module per family under
its rules package, named after the family, and that module registers the rules of exactly that
family's ops::

    exprc/tensor/sort.py                      the op classes and their constructors
    exprc/link/reference/sort.py              REFERENCE  (NumPy implementation)
    exprc/gradient/rules/sort.py              GRAD       (derivatives)
    exprc/rewriting/shape_rules/sort.py       SHAPE      (shape inference)
    exprc/link/c/ops/sort.py                  C_CODE     (C code)
    tests/registry/cases_sort.py              the test cases every column is checked on

:func:`load_rules` is how every rules package fills its table: it imports that package's
module of each family, so a new family is one line here and one file per table, and no
consumer keeps its own list. ``tests/test_tables.py`` checks that each rule sits in its op's
family module and that every column covers every op.
"""

from __future__ import annotations

import importlib

FAMILIES = (
    "basic",
    "blas",
    "composite",
    "conv",
    "elemwise",
    "extra_ops",
    "gradient_filters",
    "ifelse",
    "linalg",
    "nlinalg",
    "opfromgraph",
    "pool",
    "random",
    "reduction",
    "scan",
    "shape",
    "slinalg",
    "softmax",
    "sort",
    "sparse",
    "sparse_math",
    "subtensor",
)


def family_of(op_class: type) -> str:
    """The family of an op class: the last part of the name of the module defining it."""
    return op_class.__module__.rpartition(".")[2]


def load_rules(package: str, prefix: str = "") -> None:
    """Import ``<package>.<prefix><family>`` for every family, registering their rules.

    Parameters
    ----------
    package : str
        A rules package, e.g. ``"exprc.link.c.ops"``.
    prefix : str
        Put before each family's name (the test registry's modules are ``cases_<family>``).
    """
    for family in FAMILIES:
        importlib.import_module(f"{package}.{prefix}{family}")
