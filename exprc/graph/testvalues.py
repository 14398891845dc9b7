"""Test values: each node's result computed while the graph is built (Theano's
``compute_test_value``).

With ``exprc.config.compute_test_value`` set to ``'raise'``, ``'warn'`` or ``'ignore'``, every
op applied to variables that carry a test value (``x.tag.test_value = array``; shared
variables and constants carry theirs) computes its outputs' test values at once with the
reference executor. A shape or dtype mistake then fails on the line of the user's program that
builds the faulty node, not later inside a compiled function. What happens when an input has no
test value is what the flag says: ``'raise'`` an error naming the input, ``'warn'`` a warning,
``'ignore'`` nothing (the outputs then have no test value either). ``'off'`` (the default)
computes nothing. ``'pdb'`` is accepted as ``'raise'``.

Rewrites and compilation build nodes too; they run with test values suspended
(:func:`suspended`), as they add nothing the user needs checked.
"""

from __future__ import annotations

import copy
import inspect
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from exprc import hooks
from exprc.configuration import config
from exprc.errors import ExprcError

__all__ = ["TestValueError", "compute_test_values", "fill_test_values", "get_test_value",
           "suspended", "test_value_of"]


class TestValueError(ExprcError, AttributeError):
    """A variable has no test value where one is needed."""

    __test__ = False  # not a pytest test class


_state = threading.local()


@contextmanager
def suspended() -> Iterator[None]:
    """Compute no test values inside the block (in this thread)."""
    depth = getattr(_state, "suspended", 0)
    _state.suspended = depth + 1
    try:
        yield
    finally:
        _state.suspended = depth


def _active() -> bool:
    return config.compute_test_value != "off" and not getattr(_state, "suspended", 0)


def test_value_of(var: Any) -> Any:
    """The test value of ``var`` checked against its type, or None when it has none: a
    constant's data, a shared variable's current value, or ``var.tag.test_value``."""
    data = getattr(var, "data", None)
    if data is not None and var.owner is None and not hasattr(var, "get_value"):
        return data
    if hasattr(var, "get_value"):
        return var.get_value(borrow=True)
    value = getattr(var.tag, "test_value", None)
    if value is None:
        return None
    if "what" in inspect.signature(var.type.filter).parameters:
        return var.type.filter(value, allow_downcast=True, what=f"the test value of {var}")
    return var.type.filter(value, allow_downcast=True)


# Theano's spelling: ``theano.gof.op.get_test_value(v)`` (also a Variable method).
def get_test_value(var: Any) -> Any:
    """The test value of ``var``; :class:`TestValueError` when it has none."""
    value = test_value_of(var)
    if value is None:
        raise TestValueError(f"{var} has no test value; set {var}.tag.test_value")
    return value


def fill_test_values(outputs: list) -> None:
    """Give test values to the nodes computing ``outputs`` that lack them and whose inputs
    have theirs (for graphs built while test values were suspended)."""
    if not _active():
        return
    from exprc.graph.traversal import toposort  # traversal imports this module's users

    for node in toposort(outputs):
        if all(test_value_of(o) is not None for o in node.outputs):
            continue
        if all(test_value_of(i) is not None for i in node.inputs):
            compute_test_values(node)


def compute_test_values(node: Any) -> None:
    """Give ``node``'s outputs their test values, if the flag asks for them and every input
    has one (see the module's description for a missing input)."""
    if not _active():
        return
    values = []
    for position, var in enumerate(node.inputs):
        value = test_value_of(var)
        if value is None:
            message = (f"{node.op}: input {position} ({var}) has no test value; set "
                       f"{var}.tag.test_value, or set exprc.config.compute_test_value to "
                       "'warn' or 'ignore'")
            if config.compute_test_value in ("raise", "pdb"):
                raise TestValueError(message)
            if config.compute_test_value == "warn":
                warnings.warn(message, stacklevel=4)
            return
        values.append(value)
    # An in-place op (``destroy_map``) overwrites the inputs it names; those values are the
    # user's test values, a constant's data or a shared variable's own storage (borrowed), so
    # it gets copies: building a node must never change a shared variable's value.
    destroyed = {i for ins in getattr(node.op, "destroy_map", {}).values() for i in ins}
    for i in destroyed:
        values[i] = values[i].copy() if hasattr(values[i], "copy") else copy.deepcopy(values[i])
    try:
        with suspended():
            results = hooks.NODE_EVALUATOR(node, values)
    except Exception as exc:
        shapes = ", ".join(f"{getattr(v, 'dtype', type(v).__name__)}"
                           f"{list(getattr(v, 'shape', ()))}" for v in values)
        message = (f"{exc}\n    (computing the test value of {node.op} on inputs {shapes}: "
                   f"exprc.config.compute_test_value is {config.compute_test_value!r})")
        try:
            annotated = type(exc)(message)
        except Exception:  # an exception class with its own constructor arguments
            annotated = ExprcError(message)
        raise annotated from exc
    for var, value in zip(node.outputs, results):
        var.tag.test_value = value
