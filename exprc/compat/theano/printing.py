"""``theano.printing``: debugprint, pp and pydotprint with Theano's signatures."""

from __future__ import annotations

from typing import Any

from exprc import printing as _printing
from exprc.printing import Print, pp, pydotprint

__all__ = ["Print", "debugprint", "pp", "pprint", "pydotprint"]

#: Theano's pretty printer; ``theano.pp`` (and ``printing.pp``) is its short name.
pprint = pp


def debugprint(obj: Any, depth: int = -1, print_type: bool = False, file: Any = None,
               ids: str = "CHAR", stop_on_name: bool = False, done: Any = None,
               print_storage: bool = False, print_clients: bool = False,
               used_ids: Any = None) -> Any:
    """Print a graph as an indented tree (Theano's argument order). ``file='str'`` returns
    the text; ``file=None`` prints to standard output. ``stop_on_name``, ``done``,
    ``print_storage``, ``print_clients`` and ``used_ids`` are accepted and ignored."""
    return _printing.debugprint(obj, file=file, ids=ids, print_type=print_type, depth=depth)
