"""``NanGuardMode``: stop at the first node that computes a NaN, an Inf or a huge value.

The rewritten graph is evaluated node by node with the reference executor's rules; the values
of the call's inputs (arguments and shared variables) and every node's outputs are checked, and
the first bad one raises a :class:`NanGuardError` naming the node, its op, the variable and the
user's line that created it, with a summary of the node's inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from exprc.compile.mode import Mode
from exprc.compile.watch import (
    Observer,
    WatchedProgram,
    describe_input,
    describe_node,
    describe_value,
    describe_variable,
)
from exprc.errors import ExprcError
from exprc.graph.ir import Apply, Variable

__all__ = ["BIG", "NanGuardError", "NanGuardMode"]

#: Absolute values above this count as "big".
BIG = 1e10


class NanGuardError(ExprcError, AssertionError):
    """A value checked by :class:`NanGuardMode` holds a NaN, an Inf or a big value.

    Also an ``AssertionError``, what Theano's NanGuardMode raised.
    """


@dataclass(frozen=True, init=False)
class NanGuardMode(Mode):
    """Evaluate node by node and raise :class:`NanGuardError` at the first NaN, Inf or value
    of magnitude over ``1e10``.

    Parameters
    ----------
    nan_is_error, inf_is_error, big_is_error : bool
        Which problems to look for (None means True, as Theano's defaults). Only floating-point
        (and complex) values are checked: integers cannot hold NaN or Inf, and integer data
        such as indices and random generator states may be large on purpose.
    optimizer : str
        The rewrites that run first (``'fast_run'``, ``'fast_compile'`` or ``'none'``); the
        checks see the nodes that run, so with fusion a node may be a fused ``Composite`` of
        several operations (exclude ``'fusion'`` to see them one by one).
    exclude : tuple of str
        Passes or rules not to run.

    Examples
    --------
    >>> import numpy as np, exprc, exprc.tensor as T
    >>> from exprc.compile import NanGuardMode
    >>> x = T.dvector('x')
    >>> f = exprc.function([x], T.log(x), mode=NanGuardMode())
    >>> f(np.array([0.0]))
    Traceback (most recent call last):
    ...
    exprc.compile.nanguardmode.NanGuardError: NanGuardMode: Inf in output 0 of node 0, ...
    """

    nan_is_error: bool = True
    inf_is_error: bool = True
    big_is_error: bool = True

    def __init__(self, nan_is_error: bool | None = True, inf_is_error: bool | None = True,
                 big_is_error: bool | None = True, optimizer: str = "fast_run",
                 exclude: Sequence[str] = ()):
        settings = {"linker": "reference", "optimizer": optimizer, "exclude": tuple(exclude),
                    "nan_is_error": nan_is_error is None or bool(nan_is_error),
                    "inf_is_error": inf_is_error is None or bool(inf_is_error),
                    "big_is_error": big_is_error is None or bool(big_is_error)}
        for name, value in settings.items():
            object.__setattr__(self, name, value)  # a frozen dataclass, set once here
        self.__post_init__()

    def link(self, fgraph, original, profile):
        return WatchedProgram(fgraph, lambda: _Guard(self), profile)

    def problem(self, value: object) -> str | None:
        """What is wrong with ``value`` (``'NaN'``, ``'Inf'``, ``'a big value'``), or None."""
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "fc" or not value.size:
            return None
        if self.nan_is_error and np.isnan(value).any():
            return "NaN"
        if self.inf_is_error and np.isinf(value).any():
            return "Inf"
        if self.big_is_error:
            magnitude = np.abs(value[np.isfinite(value)])
            if magnitude.size and magnitude.max() > BIG:
                return f"a big value ({magnitude.max():.6g}, over {BIG:g})"
        return None


class _Guard(Observer):
    def __init__(self, mode: NanGuardMode):
        self.mode = mode

    def start(self, inputs: Sequence[Variable], values: Sequence[np.ndarray]) -> None:
        for var, value in zip(inputs, values):
            problem = self.mode.problem(value)
            if problem is not None:
                raise NanGuardError(f"NanGuardMode: {problem} in the value of "
                                    f"{describe_input(var)} ({describe_value(value)}), given "
                                    "to the call")

    def after(self, k: int, node: Apply, args: list, results: list) -> list:
        for j, (var, value) in enumerate(zip(node.outputs, results)):
            problem = self.mode.problem(value)
            if problem is not None:
                inputs = "; ".join(f"{i}: {describe_value(a)}" for i, a in enumerate(args))
                raise NanGuardError(
                    f"NanGuardMode: {problem} in output {j} of {describe_node(k, node)}, the "
                    f"variable {describe_variable(var)}: {describe_value(value)}. The node's "
                    f"inputs were {inputs or 'none'}")
        return results
