"""Batch normalization (``T.nnet.bn``), built from primitives so that gradients follow.

The three functions keep Theano's names, signatures and conventions:

- ``axes`` names the axes normalized over: ``'per-activation'`` is ``(0,)`` (one mean per
  feature, for dense layers), ``'spatial'`` is ``(0, 2, 3, ...)`` (one mean per channel of an
  ``(n, c, h, w)`` input, shared over the image), or any tuple of axes.
- Parameters (``gamma``, ``beta``, means and variances) either have the input's rank, with
  size 1 on the normalized axes (checked at run time), or leave those axes out, holding only
  the kept ones in order (e.g. a vector of ``c`` values for ``'spatial'`` on 4-d inputs).
  Statistics returned by :func:`batch_normalization_train` come in the layout of ``gamma``.

Everything is composed from means, variances and elementwise ops: the fusion pass makes the
normalization one loop, and the gradient (through the batch statistics too) comes from the
primitives' rules, so no op of its own is needed. Theano's abstract ops existed to swap in
cuDNN, which a rewrite can still do by recognising this composition.

One difference from Theano: ``epsilon`` may be any non-negative number (Theano required at
least 1e-5, a cuDNN limit).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.tensor.math import cast, reciprocal, sqrt, true_div
from exprc.tensor.reduction import mean as reduce_mean
from exprc.tensor.reduction import reduced_count
from exprc.tensor.reduction import var as reduce_var
from exprc.tensor.shape import addbroadcast, dimshuffle
from exprc.tensor.type import FLOAT_DTYPES
from exprc.tensor.variable import as_tensor_variable

__all__ = ["batch_normalization", "batch_normalization_test", "batch_normalization_train"]


def _normalization_axes(axes: Any, ndim: int, where: str) -> tuple[tuple, tuple]:
    """The sorted normalized axes and the kept ones, from Theano's ``axes`` argument."""
    if isinstance(axes, str):
        if axes == "per-activation":
            chosen = (0,)
        elif axes == "spatial":
            chosen = (0,) + tuple(range(2, ndim))
        else:
            raise build_error(ExprcTypeError, where, f"axes must be 'per-activation', "
                              f"'spatial' or a tuple of ints, got {axes!r}")
    elif isinstance(axes, (tuple, list, np.ndarray)) and all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
        chosen = tuple(sorted({int(a) for a in axes}))
    else:
        raise build_error(ExprcTypeError, where, f"axes must be 'per-activation', 'spatial' "
                          f"or a tuple of ints, got {axes!r}")
    if not chosen:
        raise build_error(ExprcShapeError, where, "there must be at least one normalized axis")
    if chosen[0] < 0 or chosen[-1] >= ndim:
        raise build_error(ExprcShapeError, where, f"axes {chosen} must lie in [0, {ndim}) "
                          f"for inputs of rank {ndim}")
    return chosen, tuple(d for d in range(ndim) if d not in chosen)


def _check_epsilon(epsilon: Any, where: str) -> float:
    if isinstance(epsilon, bool) or not isinstance(epsilon, (numbers.Real, np.floating)) \
            or not epsilon >= 0:
        raise build_error(ExprcTypeError, where, f"epsilon must be a non-negative number, "
                          f"got {epsilon!r}")
    return float(epsilon)


def _float_inputs(inputs: Any, where: str):
    inputs = as_tensor_variable(inputs)
    if inputs.dtype not in FLOAT_DTYPES:
        raise build_error(ExprcTypeError, where, f"inputs {inputs} must be float32 or "
                          f"float64, got {inputs.type}; cast them first")
    return inputs


class _Layout:
    """How parameters of rank ``len(kept)`` or ``ndim`` line up with the inputs' axes."""

    def __init__(self, ndim: int, axes: tuple, kept: tuple, full_rank: bool):
        self.ndim, self.axes, self.kept, self.full_rank = ndim, axes, kept, full_rank
        self.rank = ndim if full_rank else len(kept)

    @classmethod
    def of(cls, inputs, gamma, axes: Any, where: str) -> _Layout:
        axes, kept = _normalization_axes(axes, inputs.ndim, where)
        return cls(inputs.ndim, axes, kept, gamma.ndim == inputs.ndim)

    def check(self, where: str, **params) -> None:
        for name, p in params.items():
            if p.ndim != self.rank:
                raise build_error(ExprcShapeError, where, f"{name} {p} has rank {p.ndim}; it "
                                  f"must have the inputs' rank {self.ndim} or one axis per "
                                  f"kept axis {self.kept} of the inputs (rank "
                                  f"{len(self.kept)}), like gamma (rank {self.rank})")

    def expand(self, p):
        """``p`` with the inputs' rank, statically of size 1 on the normalized axes."""
        if self.full_rank:
            return addbroadcast(p, *self.axes)
        pattern = ["x"] * self.ndim
        for i, axis in enumerate(self.kept):
            pattern[axis] = i
        return dimshuffle(p, pattern)

    def contract(self, stat):
        """A statistic computed with kept dims, in the parameters' layout."""
        return stat if self.full_rank else dimshuffle(stat, list(self.kept))


def batch_normalization_train(inputs: Any, gamma: Any, beta: Any,
                              axes: Any = "per-activation", epsilon: float = 1e-4,
                              running_average_factor: Any = 0.1, running_mean: Any = None,
                              running_var: Any = None) -> tuple:
    """Normalize ``inputs`` with the mean and variance of the batch (training time).

    Parameters
    ----------
    inputs : tensor-like
        Float activations.
    gamma, beta : tensor-like
        Scale and shift, in the layout described in the module docstring.
    axes : 'per-activation', 'spatial' or tuple of int
        The axes normalized over (see the module docstring).
    epsilon : float
        Added to the variance before the square root.
    running_average_factor : float or tensor-like
        Weight ``r`` of the batch statistics in the new running averages.
    running_mean, running_var : tensor-like or None
        Previous running averages, both given or both None (layout of ``gamma``).

    Returns
    -------
    tuple
        ``(out, mean, invstd)``, plus ``(new_running_mean, new_running_var)`` when the running
        averages are given, where::

            mean = inputs.mean(axes)          var = inputs.var(axes)
            invstd = 1 / sqrt(var + epsilon)
            out = (inputs - mean) * gamma * invstd + beta
            new_running_mean = running_mean * (1 - r) + mean * r
            new_running_var = running_var * (1 - r) + var * m / (m - 1) * r

        with ``m`` the number of values each statistic is taken over (so the running
        variance is unbiased). ``mean`` and ``invstd`` have ``gamma``'s layout.

    Examples
    --------
    >>> import numpy as np, exprc, exprc.tensor as T
    >>> x, g, b = T.dmatrix('x'), T.dvector('g'), T.dvector('b')
    >>> out, mean, invstd = T.nnet.bn.batch_normalization_train(x, g, b, epsilon=0)
    >>> f = exprc.function([x, g, b], [out, mean])
    >>> f(np.array([[1.0, 10.0], [3.0, 30.0]]), np.ones(2), np.zeros(2))
    [array([[-1., -1.],
           [ 1.,  1.]]), array([ 2., 20.])]
    """
    where = "batch_normalization_train"
    inputs = _float_inputs(inputs, where)
    gamma, beta = as_tensor_variable(gamma), as_tensor_variable(beta)
    epsilon = _check_epsilon(epsilon, where)
    layout = _Layout.of(inputs, gamma, axes, where)
    layout.check(where, gamma=gamma, beta=beta)
    if (running_mean is None) != (running_var is None):
        raise build_error(ExprcTypeError, where, "running_mean and running_var must both be "
                          "given or both be None")

    mean = reduce_mean(inputs, layout.axes, keepdims=True)
    var = reduce_var(inputs, layout.axes, keepdims=True)
    invstd = reciprocal(sqrt(var + epsilon))
    out = (inputs - mean) * (layout.expand(gamma) * invstd) + layout.expand(beta)
    results = (out, layout.contract(mean), layout.contract(invstd))
    if running_mean is None:
        return results

    running_mean, running_var = as_tensor_variable(running_mean), as_tensor_variable(running_var)
    layout.check(where, running_mean=running_mean, running_var=running_var)
    r = running_average_factor
    count = cast(reduced_count(inputs, layout.axes), inputs.dtype)
    unbiased = var * true_div(count, count - 1)
    new_mean = layout.expand(running_mean) * (1 - r) + mean * r
    new_var = layout.expand(running_var) * (1 - r) + unbiased * r
    return results + (layout.contract(new_mean), layout.contract(new_var))


def batch_normalization_test(inputs: Any, gamma: Any, beta: Any, mean: Any, var: Any,
                             axes: Any = "per-activation", epsilon: float = 1e-4):
    """Normalize ``inputs`` with given statistics (inference time, e.g. the running averages).

    Parameters
    ----------
    inputs : tensor-like
        Float activations.
    gamma, beta, mean, var : tensor-like
        Scale, shift and the statistics, all in one layout (see the module docstring).
    axes : 'per-activation', 'spatial' or tuple of int
        The axes the statistics were taken over.
    epsilon : float
        Added to ``var`` before the square root.

    Returns
    -------
    TensorVariable
        ``(inputs - mean) * gamma / sqrt(var + epsilon) + beta``.
    """
    where = "batch_normalization_test"
    inputs = _float_inputs(inputs, where)
    gamma, beta = as_tensor_variable(gamma), as_tensor_variable(beta)
    mean, var = as_tensor_variable(mean), as_tensor_variable(var)
    epsilon = _check_epsilon(epsilon, where)
    layout = _Layout.of(inputs, gamma, axes, where)
    layout.check(where, gamma=gamma, beta=beta, mean=mean, var=var)
    scale = layout.expand(gamma) * reciprocal(sqrt(layout.expand(var) + epsilon))
    return (inputs - layout.expand(mean)) * scale + layout.expand(beta)


def batch_normalization(inputs: Any, gamma: Any, beta: Any, mean: Any, std: Any,
                        mode: str = "low_mem"):
    """Theano's older batch normalization: ``(inputs - mean) * (gamma / std) + beta``.

    All five arguments broadcast elementwise (no ``axes``: give the statistics their
    broadcastable shape, e.g. with ``keepdims=True``).

    Parameters
    ----------
    inputs, gamma, beta, mean, std : tensor-like
    mode : {'low_mem', 'high_mem'}
        Theano's two evaluation orders: ``'low_mem'`` computes ``(inputs - mean) * gamma /
        std + beta`` per element; ``'high_mem'`` divides ``gamma / std`` first. Both compile
        to one fused loop; they differ only in rounding.

    Returns
    -------
    TensorVariable
    """
    if mode not in ("low_mem", "high_mem"):
        raise build_error(ExprcTypeError, "batch_normalization", f"mode must be 'low_mem' or "
                          f"'high_mem', got {mode!r}")
    centered = as_tensor_variable(inputs) - as_tensor_variable(mean)
    if mode == "low_mem":
        return true_div(centered * gamma, std) + beta
    return centered * true_div(gamma, std) + beta
