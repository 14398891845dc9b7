"""The layers of exprc import one way, and no two packages import each other.

Every module's imports are read from its source (an AST walk, so imports inside functions
count too) and each import is checked against the layer order of ``docs/architecture.md``::

    base      errors, configuration, hooks, _version, cache
    graph     the IR
    tensor    types, variables, op classes and the numpy-style API
    gradient  GRAD and the reverse walk
    rewriting shape inference, rules, pipeline
    link      reference executor, backend-neutral code generation, the C backend
    compile   function(), modes, profiling
    top       nn, printing, datasets, the exprc package itself

A module may import from its own layer and the layers below. A lower layer that needs a
service of a higher one calls a hook of :mod:`exprc.hooks` instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "exprc"

LAYERS = [
    ("base", ["exprc.errors", "exprc.configuration", "exprc.hooks", "exprc._version",
              "exprc.cache"]),
    ("graph", ["exprc.graph"]),
    ("tensor", ["exprc.tensor"]),
    ("gradient", ["exprc.gradient"]),
    ("rewriting", ["exprc.rewriting"]),
    ("link", ["exprc.link"]),
    ("compile", ["exprc.compile"]),
    ("top", ["exprc.nn", "exprc.printing", "exprc.datasets", "exprc.scan_module", "exprc.compat",
             "exprc.sparse", "exprc.export", "exprc"]),
]

#: Packages whose subpackages are checked for circles among themselves too: the backends and
#: the code they share must not lean on each other both ways.
SPLIT_PACKAGES = ("exprc.link",)


def layer_of(module: str) -> int:
    """Index in LAYERS of the longest prefix naming ``module``'s layer."""
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    if best is None:
        raise AssertionError(f"{module} is in no layer; add it to LAYERS in tests/test_layers.py")
    return best


def package_of(module: str) -> str:
    """The unit circles are checked between: ``exprc.<package>``, or one level deeper inside
    the split packages (``exprc.link.c``)."""
    parts = module.split(".")
    for split in SPLIT_PACKAGES:
        if module.startswith(split + "."):
            return ".".join(parts[:split.count(".") + 2])
    return ".".join(parts[:2])


def read_sources(root: Path = PACKAGE_ROOT) -> dict[str, str]:
    """Module name -> source of every module under ``root`` (a package folder)."""
    sources = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        sources[".".join(parts)] = path.read_text()
    return sources


def imports_of(module: str, source: str, known: set[str]) -> set[str]:
    """Modules of ``known`` that ``module``'s source imports, wherever the import is."""
    is_package = any(k.startswith(module + ".") for k in known)
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                name = f"{base}.{alias.name}"
                found.add(name if name in known else base)
    return {name for name in found if name in known}


def violations(sources: dict[str, str]) -> list[str]:
    """Every import that runs up the layers, and every circle between packages."""
    known = set(sources)
    problems = []
    packages = nx.DiGraph()
    for module, source in sorted(sources.items()):
        for target in sorted(imports_of(module, source, known)):
            if layer_of(target) > layer_of(module):
                problems.append(f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} "
                                f"({LAYERS[layer_of(target)][0]}), a higher layer")
            source_package, target_package = package_of(module), package_of(target)
            if source_package != target_package and module != "exprc":
                packages.add_edge(source_package, target_package)
    for cycle in nx.simple_cycles(packages):
        problems.append("packages import each other in a circle: " + " -> ".join(cycle))
    return problems


def test_imports_run_down_the_layers_and_packages_form_no_circle():
    problems = violations(read_sources())
    assert not problems, "\n".join(problems)


def test_an_upward_import_is_reported():
    """The check above can fail: a tensor module importing the compiler is caught, lazy or
    not."""
    sources = read_sources()
    before = set(violations(sources))
    sources["exprc.tensor.variable"] += (
        "\n\ndef compile_me(x):\n    from exprc.compile.function import function\n"
        "    return function([], x)\n")
    new = set(violations(sources)) - before
    assert ("exprc.tensor.variable (tensor) imports exprc.compile.function (compile), a higher "
            "layer") in new
    # ... and, since compile imports tensor, it closes a circle between the two packages.
    assert any("circle" in p and "exprc.tensor" in p and "exprc.compile" in p for p in new)


def test_a_circle_between_packages_is_reported():
    sources = read_sources()
    before = set(violations(sources))
    sources["exprc.link.codegen.loops"] += "\nfrom exprc.link.c import program\n"
    problems = set(violations(sources)) - before
    assert any("circle" in p and "exprc.link.c" in p and "exprc.link.codegen" in p
               for p in problems), problems


@pytest.mark.parametrize("statement, expected", [
    ("import exprc.tensor.math as M", {"exprc.tensor.math"}),
    ("from exprc.tensor import basic", {"exprc.tensor.basic"}),
    ("from exprc.tensor.basic import arange", {"exprc.tensor.basic"}),
    ("from . import basic", {"exprc.tensor.basic"}),
    ("from .math import add", {"exprc.tensor.math"}),
    ("def f():\n    import exprc.compile.function", {"exprc.compile.function"}),
])
def test_imports_are_read_in_every_form(statement, expected):
    known = {"exprc.tensor", "exprc.tensor.math", "exprc.tensor.basic", "exprc.tensor.shape",
             "exprc.compile.function"}
    assert imports_of("exprc.tensor.shape", statement, known) == expected
