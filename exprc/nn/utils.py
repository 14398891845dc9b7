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
    "unroll_scan",
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


def unroll_scan(fn: Callable, sequences: Any, outputs_info: Any, non_sequences: Any,
                n_steps: int, go_backwards: bool = False) -> list:
    """A loop of ``n_steps`` calls of ``fn`` written out in the graph, in place of ``scan``.

    The contract is that of :func:`exprc.scan` restricted to what the recurrent layers use:
    ``fn(*[s[t] for s in sequences], *previous_outputs, *non_sequences)`` returns the new
    outputs (one variable or a list), which feed the next step. Each step's outputs are
    stacked along a new first axis, in the order the steps ran (so with ``go_backwards`` the
    first row belongs to the last time step, as with ``scan``).

    Parameters
    ----------
    fn : callable
    sequences : TensorVariable or list of TensorVariable
        Iterated over their first axis, which must have at least ``n_steps`` entries.
    outputs_info : list of TensorVariable
        The initial value of each output.
    non_sequences : list
        Passed unchanged to every call.
    n_steps : int
        The number of steps: a Python integer, known when the graph is built.
    go_backwards : bool
        Run from the last entry of the sequences to the first.

    Returns
    -------
    list of TensorVariable
        One per output of ``fn``, of shape ``(n_steps,) + output shape``.

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> x = T.vector('x')
    >>> [total] = unroll_scan(lambda x_t, acc: acc + x_t, [x], [T.constant(0.0)], [], 3)
    >>> total.eval({x: np.array([1.0, 2.0, 3.0])}).tolist()
    [1.0, 3.0, 6.0]
    """
    if not isinstance(n_steps, (int, np.integer)) or n_steps <= 0:
        raise ValueError(f"unroll_scan needs a positive Python integer n_steps (the sequence "
                         f"length known when the graph is built), got {n_steps!r}")
    if not isinstance(sequences, (list, tuple)):
        sequences = [sequences]
    steps = range(n_steps - 1, -1, -1) if go_backwards else range(n_steps)
    previous = list(outputs_info)
    history = []
    for t in steps:
        new = fn(*[s[t] for s in sequences], *previous, *non_sequences)
        previous = [new] if isinstance(new, T.TensorVariable) else list(new)
        history.append(previous)
    return [T.stack([step[k] for step in history]) for k in range(len(history[0]))]
