"""Small utilities shared by the layer library (Lasagne's ``lasagne.utils``)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

import exprc
import exprc.tensor as T

__all__ = [
    "as_exprc_expression",
    "as_tuple",
    "collect_shared_vars",
    "create_param",
    "floatX",
    "inspect_kwargs",
    "unique",
]


def floatX(arr: Any) -> np.ndarray:
    """``arr`` as a NumPy array of dtype ``exprc.config.floatX``.

    >>> floatX([1, 2]).dtype == np.dtype(exprc.config.floatX)
    True
    """
    return np.asarray(arr, dtype=exprc.config.floatX)


def as_tuple(x: Any, n: int, t: type | tuple | None = None) -> tuple:
    """``x`` repeated ``n`` times, or ``tuple(x)`` when it is already an iterable of length n.

    Raises ``ValueError`` for an iterable of another length and ``TypeError`` when ``t`` is
    given and an element is not an instance of it.
    """
    try:
        result = tuple(x)
    except TypeError:
        result = (x,) * n
    if len(result) != n:
        raise ValueError(f"expected a single value or an iterable of length {n}, got {x!r}")
    if t is not None and not all(isinstance(v, t) for v in result):
        raise TypeError(f"expected a single value or an iterable of {t}, got {x!r}")
    return result


def unique(items: Any) -> list:
    """The items in their first order of appearance, without repetitions."""
    seen, result = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


def collect_shared_vars(expressions: Any) -> list:
    """The shared variables that ``expressions`` (one or a list) depend on, in order."""
    if isinstance(expressions, T.TensorVariable):
        expressions = [expressions]
    found = []
    for expr in expressions:
        found.extend(_shared_ancestors(expr))
    return unique(found)


def _shared_ancestors(expr: Any) -> list:
    stack, result, seen = [expr], [], set()
    while stack:
        var = stack.pop()
        if id(var) in seen:
            continue
        seen.add(id(var))
        if isinstance(var, exprc.SharedVariable):
            result.append(var)
        elif var.owner is not None:
            stack.extend(reversed(var.owner.inputs))
    return result


def as_exprc_expression(value: Any) -> T.TensorVariable:
    """``value`` as a symbolic tensor: variables pass through, arrays become constants."""
    if isinstance(value, T.TensorVariable):
        return value
    try:
        return T.constant(value)
    except Exception as exc:
        raise TypeError(f"input of type {type(value).__name__} cannot be converted to an "
                        f"exprc expression") from exc


def inspect_kwargs(func: Callable) -> list[str]:
    """The names of the keyword arguments with defaults that ``func`` accepts."""
    params = inspect.signature(func).parameters.values()
    return [p.name for p in params
            if p.default is not inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def create_param(spec: Any, shape: tuple, name: str | None = None) -> T.TensorVariable:
    """A parameter of the given shape from a specification (Lasagne's ``create_param``).

    Parameters
    ----------
    spec : SharedVariable, TensorVariable, numpy.ndarray or callable
        A symbolic variable or expression is used as is (its rank must match ``shape``).
        An array becomes a new shared variable (its shape must match). A callable, usually
        an :mod:`exprc.nn.init` initializer, is called with ``shape`` and its result is
        treated as above.
    shape : tuple of int
        The expected shape; every size must be a positive integer.
    name : str, optional
        The name of a new shared variable.

    Returns
    -------
    TensorVariable
        A shared variable, or ``spec`` itself when it was symbolic.
    """
    shape = tuple(shape)
    if not all(isinstance(s, (int, np.integer)) and s > 0 for s in shape):
        raise ValueError(f"cannot create param {name!r} with shape {shape}: all sizes must "
                         f"be positive integers (the input shape may be unknown)")
    if callable(spec) and not isinstance(spec, T.TensorVariable):
        spec = spec(shape)
    if isinstance(spec, T.TensorVariable):
        if spec.ndim != len(shape):
            raise ValueError(f"parameter {name!r} has {spec.ndim} dimensions, should be "
                             f"{len(shape)}")
        if name is not None and spec.name is None:
            spec.name = name
        return spec
    if isinstance(spec, np.ndarray):
        if spec.shape != shape:
            raise ValueError(f"parameter {name!r} has shape {spec.shape}, should be {shape}")
        return exprc.shared(spec, name=name,
                            broadcastable=tuple(s == 1 for s in shape))
    raise ValueError(f"cannot initialize parameter {name!r}: spec must be a numpy array, an "
                     f"exprc expression or a callable, got {type(spec).__name__}")
