"""One table per concern: where the facts about ops live.

Each concern (NumPy reference implementation, gradient, R-op, shape inference, C code, CUDA
code) is an :class:`OpTable` keyed by op class. Rules are registered with a decorator next to
the other rules of the same concern, and an op that deliberately has no rule records a written
reason with :meth:`OpTable.exempt`. The completeness test walks ``Op.ALL_OPS`` and fails when
an op has neither a rule nor a reason in a table.

Ops written outside exprc carry their implementation as methods instead, as Theano's ops do
(``perform``, ``grad``, ``infer_shape``, see ``docs/python_ops.md``). Each table may have one
*fallback* (:meth:`OpTable.register_fallback`): asked for an op class without a registered
rule, it returns a rule adapting the op's method, or None. Only :meth:`OpTable.find` and
lookups through it consult the fallback; :meth:`OpTable.registered` and
:meth:`OpTable.uncovered` see registered rules only, so exprc's own ops still need rows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from exprc.errors import ExprcError


class MissingRuleError(ExprcError, NotImplementedError):
    """An op has no rule in a table (and no written reason why not)."""


class OpTable:
    """A mapping from op class to the rule implementing one concern for it.

    Lookup walks the op's class hierarchy, so a rule registered for a base class serves its
    subclasses unless they register their own.
    """

    def __init__(self, concern: str):
        self.concern = concern
        self._rules: dict[type, Callable] = {}
        self._reasons: dict[type, str] = {}
        self._origins: dict[type, str] = {}
        self._fallback: Callable[[type], Callable | None] | None = None

    def register(self, *op_classes: type) -> Callable[[Callable], Callable]:
        """Decorator: register ``fn`` as this concern's rule for ``op_classes``.

        The module that calls ``register`` is recorded as the rule's origin (see
        :meth:`origin`), so a test can check that each rule sits in its op's family module.
        """
        caller = sys._getframe(1).f_globals.get("__name__", "?")

        def decorate(fn: Callable) -> Callable:
            for cls in op_classes:
                if cls in self._rules:
                    raise ExprcError(f"{self.concern} rule for {cls.__name__} registered twice")
                self._rules[cls] = fn
                self._origins[cls] = caller
            return fn

        return decorate

    def exempt(self, op_class: type, reason: str) -> None:
        """Record that ``op_class`` deliberately has no rule here, and why."""
        self._reasons[op_class] = reason
        self._origins[op_class] = sys._getframe(1).f_globals.get("__name__", "?")

    def register_fallback(self, fallback: Callable[[type], Callable | None]) -> Callable:
        """Decorator: ``fallback(op_class)`` gives the rule of an op class that has no
        registered rule (an adapter of one of its methods), or None. One per table; its
        ``hint`` attribute, if any, ends the error for an op it cannot serve either (what
        method to define)."""
        if self._fallback is not None:
            raise ExprcError(f"{self.concern}: a fallback is registered twice")
        self._fallback = fallback
        return fallback

    def registered(self, op: Any) -> Callable | None:
        """The rule registered for ``op`` (an op instance or class) or a base class, or None."""
        cls = op if isinstance(op, type) else type(op)
        for klass in cls.__mro__:
            if klass in self._rules:
                return self._rules[klass]
        return None

    def find(self, op: Any) -> Callable | None:
        """The rule for ``op`` (an op instance or class): the registered one, else the
        fallback's (see :meth:`register_fallback`), else None."""
        rule = self.registered(op)
        if rule is None and self._fallback is not None and self.reason(op) is None:
            rule = self._fallback(op if isinstance(op, type) else type(op))
        return rule

    def origin(self, op_class: type) -> str | None:
        """The module that registered ``op_class``'s own rule or exemption (None if neither)."""
        return self._origins.get(op_class)

    def exempted(self) -> dict[type, str]:
        """The op classes exempted from this table, with their reasons."""
        return dict(self._reasons)

    def reason(self, op: Any) -> str | None:
        """The written reason ``op`` has no rule, or None."""
        cls = op if isinstance(op, type) else type(op)
        for klass in cls.__mro__:
            if klass in self._reasons:
                return self._reasons[klass]
        return None

    def __getitem__(self, op: Any) -> Callable:
        rule = self.find(op)
        if rule is None:
            cls = op if isinstance(op, type) else type(op)
            why = self.reason(op)
            detail = f": {why}" if why else ""
            hint = getattr(self._fallback, "hint", None)
            if not why and hint:
                detail = f" ({hint})"
            raise MissingRuleError(f"{cls.__name__} has no {self.concern}{detail}")
        return rule

    def uncovered(self, op_classes: list[type]) -> list[type]:
        """The classes among ``op_classes`` with neither a registered rule nor a reason (a
        fallback does not count)."""
        return [c for c in op_classes if self.registered(c) is None and self.reason(c) is None]
