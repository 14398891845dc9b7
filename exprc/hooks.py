"""Services that a lower layer uses and a higher layer provides.

The layers of exprc import one way (``graph`` <- ``tensor`` <- ``gradient`` <- ``rewriting``
<- ``link`` <- ``compile``; see ``docs/architecture.md``), yet a few conveniences of a lower
layer need something built above it: ``Variable.eval`` and ``verify_grad`` compile functions,
constant folding runs one node on the reference executor, and the pipeline's debug output
prints graphs. Each such service is a :class:`Hook` here; the layer that provides it installs
it when it is imported (``import exprc`` imports them all), and the layer that uses it calls
the hook without importing the provider.

``COMPILER(inputs, outputs, **options)``
    Installed by :mod:`exprc.compile.function`: :func:`exprc.function`.
``NODE_EVALUATOR(node, input_values)``
    Installed by :mod:`exprc.link.reference`: the NumPy values of ``node``'s outputs.
``GRAPH_PRINTER(outputs, file)``
    Installed by :mod:`exprc.printing`: writes a readable listing of a graph.
``GRAPH_PICTURE(obj)``
    Installed by :mod:`exprc.printing`: the graph as SVG text, or None without Graphviz
    (what notebooks show for a variable or a compiled function).

A test or an embedding application may install its own provider (``Hook.install``) and put
the previous one back afterwards (``Hook.installed``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from exprc.errors import ExprcError


class Hook:
    """A named service: installed once by its provider, called by its users."""

    def __init__(self, name: str, provider: str):
        self.name = name
        self.provider = provider
        self.installed: Callable | None = None

    def install(self, implementation: Callable | None) -> Callable | None:
        """Make ``implementation`` the service; return it (usable as a decorator)."""
        self.installed = implementation
        return implementation

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.installed is None:
            raise ExprcError(f"no {self.name} is installed: import {self.provider} (importing "
                             "exprc does) before using it")
        return self.installed(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<hook {self.name}: {self.installed!r}>"


COMPILER = Hook("compiler", "exprc.compile.function")
NODE_EVALUATOR = Hook("node evaluator", "exprc.link.reference")
GRAPH_PRINTER = Hook("graph printer", "exprc.printing")
GRAPH_PICTURE = Hook("graph picture", "exprc.printing")
