"""``theano.compile.io``: ``In``, ``Out`` and the older ``Param``."""

from __future__ import annotations

from typing import Any

from exprc.compile.io import In, Out

__all__ = ["In", "Out", "Param"]


def Param(variable: Any, default: Any = None, name: str | None = None, mutable: bool = False,
          strict: bool = False, allow_downcast: bool | None = None, implicit: Any = None,
          borrow: bool | None = None) -> In:
    """Theano's deprecated ``Param``: an :class:`In` whose ``default`` is the value used when
    the argument is not given. ``strict`` and ``implicit`` are accepted and ignored."""
    return In(variable, name=name, value=default, mutable=mutable, borrow=bool(borrow),
              allow_downcast=False if strict else allow_downcast)
