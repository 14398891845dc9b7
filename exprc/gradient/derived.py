"""Products with the Jacobian and second derivatives, all built on :func:`grad`.

``Lop`` is reverse mode with a given output gradient (vector-Jacobian product). ``Rop``
(Jacobian-vector product) is derived from two reverse passes: ``Lop(f, x, u)`` is linear in
``u``, so differentiating ``<Lop(f, x, u), v>`` with respect to ``u`` gives ``J v`` exactly,
with no per-op forward rule to keep in sync. Only ops written in Python may bring one
(``R_op``, see :mod:`exprc.gradient.python_op`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exprc.errors import ExprcTypeError
from exprc.gradient.python_op import forward_rop, has_r_op
from exprc.gradient.walk import grad
from exprc.graph import testvalues
from exprc.graph.ir import Variable
from exprc.graph.traversal import clone_replace
from exprc.tensor.math import fill
from exprc.tensor.variable import as_tensor_variable, constant


def _listify(x: Any) -> tuple[list, bool]:
    if isinstance(x, (list, tuple)):
        return list(x), False
    return [x], True


def _zeros_like(x):
    return fill(x, constant(0, dtype=x.dtype))


def Lop(f: Any, wrt: Any, eval_points: Any, consider_constant: Sequence[Variable] | None = None,
        disconnected_inputs: str = "raise"):
    """Vector-Jacobian product: ``sum_i eval_points[i] . d f[i] / d wrt``.

    Parameters
    ----------
    f : Variable or list of Variable
        Outputs (any shapes).
    wrt : Variable or list of Variable
    eval_points : array-like or Variable, or a list matching ``f``
        The vectors multiplying the Jacobian from the left, shaped like ``f``.

    Returns
    -------
    Variable or list, structured like ``wrt``.
    """
    fs, _ = _listify(f)
    points, _ = _listify(eval_points)
    if len(fs) != len(points):
        raise ExprcTypeError(f"Lop: {len(fs)} outputs but {len(points)} eval_points")
    known = {fi: as_tensor_variable(p) for fi, p in zip(fs, points)}
    return grad(None, wrt, consider_constant=consider_constant, known_grads=known,
                disconnected_inputs=disconnected_inputs, add_names=False)


def Rop(f: Any, wrt: Any, eval_points: Any):
    """Jacobian-vector product: ``sum_j d f / d wrt[j] . eval_points[j]``.

    Parameters
    ----------
    f : Variable or list of Variable
    wrt : Variable or list of Variable
    eval_points : Variable or list matching ``wrt``, shaped like ``wrt``.

    Returns
    -------
    Variable or list, structured like ``f``.

    Examples
    --------
    >>> import numpy as np, exprc, exprc.tensor as T
    >>> x = T.dvector('x'); v = T.dvector('v')
    >>> jv = exprc.gradient.Rop(x ** 2, x, v)
    >>> jv.eval({x: [1.0, 2.0], v: [1.0, 1.0]})
    array([2., 4.])
    """
    fs, single_f = _listify(f)
    wrts, _ = _listify(wrt)
    points, _ = _listify(eval_points)
    if len(wrts) != len(points):
        raise ExprcTypeError(f"Rop: {len(wrts)} wrt variables but {len(points)} eval_points")
    points = [as_tensor_variable(p) for p in points]
    for w, p in zip(wrts, points):
        if p.ndim != w.ndim:
            raise ExprcTypeError(f"Rop: eval point {p} of type {p.type} does not match {w} of "
                                 f"type {w.type}")
    if has_r_op(fs):  # an op written in Python brings its own forward rule
        jvps = forward_rop(fs, wrts, points)
        return jvps[0] if single_f else jvps
    dummies = [fi.type() for fi in fs]
    vjps = Lop(fs, wrts, dummies, disconnected_inputs="ignore")
    jvps = Lop(vjps, dummies, points, disconnected_inputs="ignore")
    # The result is independent of the dummies' values; any value of the right shape does.
    jvps = clone_replace(jvps, {u: _zeros_like(fi) for u, fi in zip(dummies, fs)})
    testvalues.fill_test_values([j for j in jvps if isinstance(j, Variable)])  # cloned anew
    return jvps[0] if single_f else jvps


def jacobian(expression: Any, wrt: Any, consider_constant: Sequence[Variable] | None = None,
             disconnected_inputs: str = "raise"):
    """The Jacobian of a vector (or scalar) ``expression`` with respect to ``wrt``.

    The result for each ``w`` in ``wrt`` has shape ``expression.shape + w.shape``. Each row is
    one reverse pass: unrolled when the length of ``expression`` is known when the graph is
    built, else computed by a loop over the rows (:func:`exprc.scan`), as Theano does.
    """
    from exprc.tensor.basic import arange, stack
    from exprc.tensor.scan_builder import scan

    expression = as_tensor_variable(expression)
    wrts, single = _listify(wrt)
    if expression.ndim == 0:
        rows = grad(expression, wrts, consider_constant=consider_constant,
                    disconnected_inputs=disconnected_inputs)
        return rows[0] if single else rows
    if expression.ndim != 1:
        raise ExprcTypeError(f"jacobian: expression must be a vector or scalar, got "
                             f"{expression.type}; flatten it first")
    n = expression.type.shape[0]
    if n is None:
        def row(i, *_):
            return grad(expression[i], wrts, consider_constant=consider_constant,
                        disconnected_inputs=disconnected_inputs)

        result, _ = scan(row, sequences=arange(expression.shape[0]),
                         non_sequences=[expression, *wrts], name="jacobian", return_list=True)
        # A loop runs at least once: an empty expression gets its empty Jacobian from the
        # other branch of a (lazy) conditional instead.
        from exprc.tensor.basic import zeros
        from exprc.tensor.ifelse import ifelse

        empty = [zeros((0, *[w.shape[d] for d in range(w.ndim)]), dtype=r.dtype)
                 for w, r in zip(wrts, result)]
        result = ifelse(expression.shape[0] > 0, result, empty, name="jacobian rows")
        result = result if isinstance(result, list) else [result]
        return result[0] if single else result
    per_row = [grad(expression[i], wrts, consider_constant=consider_constant,
                    disconnected_inputs=disconnected_inputs) for i in range(n)]
    result = [stack([row[k] for row in per_row]) for k in range(len(wrts))]
    return result[0] if single else result


def hessian(cost: Any, wrt: Any, consider_constant: Sequence[Variable] | None = None,
            disconnected_inputs: str = "raise"):
    """The Hessian of a scalar ``cost`` with respect to each vector in ``wrt``."""
    wrts, single = _listify(wrt)
    result = []
    for w in wrts:
        if w.ndim != 1:
            raise ExprcTypeError(f"hessian: wrt must be vectors, got {w} of type {w.type}")
        g = grad(cost, w, consider_constant=consider_constant,
                 disconnected_inputs=disconnected_inputs)
        from exprc.tensor.shape import specify_shape

        g = specify_shape(g, w.type.shape)  # the gradient has w's static length
        result.append(jacobian(g, w, consider_constant=consider_constant,
                               disconnected_inputs=disconnected_inputs))
    return result[0] if single else result
