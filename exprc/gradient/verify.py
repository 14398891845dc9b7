"""``verify_grad``: check symbolic gradients against central finite differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from exprc import hooks
from exprc.errors import ExprcError, ExprcTypeError
from exprc.gradient.walk import grad
from exprc.tensor.type import TensorType

#: Default step and tolerances per dtype (central differences have O(eps**2) error).
_EPS = {"float64": 1e-6, "float32": 1e-3}
_TOL = {"float64": 1e-4, "float32": 1e-2}


class GradientError(ExprcError, AssertionError):
    """The analytic and numeric directional derivatives of an input disagree."""

    def __init__(self, arg: int, analytic: float, numeric: float, abs_tol: float,
                 rel_tol: float):
        self.arg, self.analytic, self.numeric = arg, analytic, numeric
        self.abs_err = abs(analytic - numeric)
        self.rel_err = self.abs_err / max(abs(analytic), abs(numeric), 1e-300)
        super().__init__(
            f"gradient mismatch for input {arg}: along a random direction the symbolic "
            f"gradient gives {analytic!r} but central finite differences give {numeric!r} "
            f"(abs err {self.abs_err:.3g} > {abs_tol:.3g} and rel err {self.rel_err:.3g} > "
            f"{rel_tol:.3g})")


def verify_grad(fun: Callable[..., Any], pt: Sequence[Any], n_tests: int = 2, rng: Any = None,
                eps: float | None = None, abs_tol: float | None = None,
                rel_tol: float | None = None, mode: Any = None) -> None:
    """Check the gradient of ``fun`` at ``pt`` by central finite differences.

    ``fun`` maps symbolic inputs (one per element of ``pt``) to a symbolic output of any shape.
    Each test projects the output onto a random array to get a scalar cost ``C``, then for
    each input ``i`` compares ``<dC/dx_i, d>`` with ``(C(x_i + eps d) - C(x_i - eps d)) / (2
    eps)`` along a random direction ``d``.

    Parameters
    ----------
    fun : callable
    pt : list of array-like
        The point; float arrays (float64 recommended).
    n_tests : int
        Number of random projections and directions.
    rng : numpy Generator, RandomState, int seed or None
    eps : float, optional
        Finite-difference step (default 1e-6 in float64, 1e-3 in float32).
    abs_tol, rel_tol : float, optional
        A test passes when either error is within its tolerance (default 1e-4 in float64,
        1e-2 in float32).
    mode : optional
        Compilation mode of the functions evaluated.

    Raises
    ------
    GradientError
        With the input, the analytic and the numeric values, when they disagree.

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> from exprc.gradient import verify_grad
    >>> verify_grad(lambda x: T.tanh(x) * x, [np.array([0.3, -1.2])], rng=0)
    """
    function = hooks.COMPILER

    points = [_float_array(p, k) for k, p in enumerate(pt)]
    dtype = np.result_type(*points).name
    eps = eps or _EPS[dtype]
    abs_tol = abs_tol if abs_tol is not None else _TOL[dtype]
    rel_tol = rel_tol if rel_tol is not None else _TOL[dtype]
    generator = _generator(rng)
    symbols = [TensorType(p.dtype, shape=(None,) * p.ndim)(f"verify_grad_input_{k}")
               for k, p in enumerate(points)]
    out = fun(*symbols)
    out_value = function(symbols, out, mode=mode, on_unused_input="ignore")(*points)
    for _ in range(n_tests):
        # Discrete outputs (comparisons, casts to int) are projected in the points' dtype: their
        # gradient must then come out zero.
        proj_dtype = out.dtype if out.dtype in _EPS else dtype
        projection = generator.uniform(-1, 1, np.shape(out_value)).astype(proj_dtype)
        cost = (out * projection).sum() if out.ndim else out * projection
        grads = grad(cost, symbols, disconnected_inputs="ignore")
        f_cost = function(symbols, cost, mode=mode, on_unused_input="ignore")
        analytic_grads = function(symbols, grads, mode=mode, on_unused_input="ignore")(*points)
        for k, (p, g) in enumerate(zip(points, analytic_grads)):
            direction = generator.normal(size=p.shape).astype(p.dtype)
            analytic = float(np.sum(g * direction))
            numeric = float(f_cost(*_moved(points, k, eps * direction))
                            - f_cost(*_moved(points, k, -eps * direction))) / (2 * eps)
            err = GradientError(k, analytic, numeric, abs_tol, rel_tol)
            if not (err.abs_err <= abs_tol or err.rel_err <= rel_tol):
                raise err


def _float_array(value: Any, k: int) -> np.ndarray:
    array = np.array(value)
    if array.dtype.name not in _EPS:
        raise ExprcTypeError(f"verify_grad: point {k} must be float32 or float64, got dtype "
                             f"{array.dtype}")
    return array


def _generator(rng: Any):
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    if isinstance(rng, (np.random.Generator, np.random.RandomState)):
        if isinstance(rng, np.random.RandomState):
            return _LegacyAdapter(rng)
        return rng
    raise ExprcTypeError(f"verify_grad: rng must be a numpy Generator, RandomState or seed, "
                         f"got {type(rng).__name__}")


class _LegacyAdapter:
    """Gives a RandomState the two Generator methods used here."""

    def __init__(self, state: np.random.RandomState):
        self.state = state

    def uniform(self, low, high, size):
        return self.state.uniform(low, high, size)

    def normal(self, size):
        return self.state.normal(size=size)


def _moved(points: list[np.ndarray], k: int, delta: np.ndarray) -> list[np.ndarray]:
    moved = list(points)
    moved[k] = points[k] + delta
    return moved
