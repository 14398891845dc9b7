"""The op test registry: one or more cases per op, each with input generators.

A :class:`Case` says how to build a graph from symbolic inputs, how NumPy computes the same
thing (written independently of exprc), and how to draw inputs. The registry drives the
forward test (every backend against NumPy), the gradient test (``verify_grad`` in float64),
and the completeness test (every op class appears in some case). Family modules
(``cases_*.py``) append to :data:`CASES`; later backends only add a parametrisation.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exprc.tensor.type import TensorType


@dataclass
class Arg:
    """How to draw one input.

    Attributes
    ----------
    shape : tuple
        Run-time shape of the value.
    dtype : str
    low, high : float
        Range of uniform random values (integers: ``[low, high)``).
    static : tuple or None
        Static shape of the symbolic input; None declares every dimension unknown, so
        broadcasting of size-1 dimensions happens at run time.
    gen : callable, optional
        ``gen(rng) -> ndarray`` overriding the above (indices, permutations, masks...).
    differentiable : bool
        Whether the gradient test differentiates w.r.t. this input (float inputs only).
    """

    shape: tuple = ()
    dtype: str = "float64"
    low: float = -2.0
    high: float = 2.0
    static: tuple | None = None
    gen: Callable[[np.random.Generator], np.ndarray] | None = None
    differentiable: bool = True

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        if self.gen is not None:
            return np.asarray(self.gen(rng)).astype(self.dtype)
        if self.dtype == "bool":
            return rng.random(self.shape) < 0.5
        if self.dtype.startswith(("int", "uint")):
            return rng.integers(int(self.low), int(self.high), self.shape).astype(self.dtype)
        return rng.uniform(self.low, self.high, self.shape).astype(self.dtype)

    def symbol(self, name: str):
        static = self.static if self.static is not None else (None,) * len(self.shape)
        return TensorType(self.dtype, shape=static)(name)

    @property
    def is_float(self) -> bool:
        return self.dtype.startswith("float")


@dataclass
class Case:
    """One op test.

    Attributes
    ----------
    name : str
        Unique id, e.g. ``"exp"`` or ``"sum/axis=-1/keepdims"``.
    build : callable
        ``build(*symbolic_inputs) -> Variable or list`` using the exprc API.
    reference : callable
        ``reference(*arrays) -> ndarray or list``, with NumPy only.
    args : list of Arg
    grad : bool or str
        True to check gradients; a string gives the reason this case has none.
    rtol, atol : float
        Forward comparison tolerances.
    """

    name: str
    build: Callable[..., Any]
    reference: Callable[..., Any]
    args: Sequence[Arg]
    grad: bool | str = True
    rtol: float = 1e-6
    atol: float = 1e-8
    extra: dict = field(default_factory=dict)
    module: str = ""  # the cases_<family> module that added it (set by add)

    def symbols(self) -> list:
        return [a.symbol(f"in{i}") for i, a in enumerate(self.args)]

    def sample(self, seed: int = 0) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        return [a.sample(rng) for a in self.args]

    def __str__(self) -> str:
        return self.name


CASES: list[Case] = []


def add(*cases: Case) -> None:
    """Register cases (names must be unique), noting the module that adds them."""
    caller = sys._getframe(1).f_globals.get("__name__", "?")
    known = {c.name for c in CASES}
    for case in cases:
        case.module = caller
        if case.name in known:
            raise ValueError(f"duplicate registry case {case.name!r}")
        known.add(case.name)
        CASES.append(case)


#: Shapes that exercise broadcasting, 0-d and empty arrays for a binary elementwise op.
BINARY_SHAPES = {
    "same": [(3, 4), (3, 4)],
    "bcast_row": [(3, 4), (4,)],
    "bcast_outer": [(3, 1), (1, 4)],
    "runtime_bcast": [(2, 1, 3), (2, 4, 3)],
    "scalar": [(), (2, 3)],
    "0d": [(), ()],
    "empty": [(0, 3), (1, 3)],
}
UNARY_SHAPES = {"matrix": [(3, 4)], "0d": [()], "empty": [(0, 2)], "tensor3": [(2, 3, 2)]}


def load_all() -> list[Case]:
    """Import every family's cases and return the full registry."""
    from tests.registry import families  # noqa: F401

    return CASES
