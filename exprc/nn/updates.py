"""Update rules for training (Lasagne's ``lasagne.updates``).

Each rule takes a scalar loss (or a list of gradients, one per parameter) and the shared
parameters, and returns an ``OrderedDict`` mapping every shared variable to its new value,
ready for ``exprc.function(..., updates=...)``. Rules with state (momentum, Adam, ...) create
the shared variables holding it, initialised to zeros of each parameter's shape and dtype.
Hyperparameters may be numbers or symbolic scalars (e.g. a shared learning rate).

>>> import numpy as np, exprc, exprc.tensor as T
>>> from exprc.nn.updates import sgd
>>> w = exprc.shared(np.array([1.0, -2.0]), name='w')
>>> step = exprc.function([], updates=sgd((w ** 2).sum(), [w], learning_rate=0.25))
>>> _ = step()
>>> w.get_value().tolist()
[0.5, -1.0]
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import numpy as np

import exprc
import exprc.tensor as T
from exprc.nn.utils import floatX

__all__ = [
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "apply_momentum",
    "apply_nesterov_momentum",
    "get_or_compute_grads",
    "momentum",
    "nesterov_momentum",
    "norm_constraint",
    "rmsprop",
    "sgd",
    "total_norm_constraint",
]


def get_or_compute_grads(loss_or_grads: Any, params: list) -> list:
    """``loss_or_grads`` when it is a list of gradients, else ``exprc.grad(loss, params)``.

    Raises ``ValueError`` when a parameter is not a shared variable (it could not be updated)
    or when the number of gradients differs from the number of parameters.
    """
    if any(not isinstance(p, exprc.SharedVariable) for p in params):
        raise ValueError("params must contain shared variables only; the parameters of an "
                         "expression can be found with exprc.nn.utils.collect_shared_vars()")
    if isinstance(loss_or_grads, list):
        if len(loss_or_grads) != len(params):
            raise ValueError(f"Got {len(loss_or_grads)} gradient expressions for "
                             f"{len(params)} parameters")
        return loss_or_grads
    return exprc.grad(loss_or_grads, params)


def _zeros_like(param: exprc.SharedVariable) -> exprc.SharedVariable:
    """A new shared variable of zeros with the shape, dtype and static sizes of ``param``."""
    value = param.get_value(borrow=True)
    return exprc.shared(np.zeros(value.shape, dtype=value.dtype),
                        broadcastable=param.broadcastable)


def sgd(loss_or_grads: Any, params: list, learning_rate: Any) -> OrderedDict:
    """Stochastic gradient descent: ``param := param - learning_rate * grad``."""
    grads = get_or_compute_grads(loss_or_grads, params)
    return OrderedDict((param, param - learning_rate * grad)
                       for param, grad in zip(params, grads))


def apply_momentum(updates: OrderedDict, params: Iterable | None = None,
                   momentum: Any = 0.9) -> OrderedDict:
    """Add momentum to existing updates (a copy is returned).

    ``velocity := momentum * velocity + updates[param] - param`` and
    ``param := param + velocity``, for each of ``params`` (default: all keys of updates).
    """
    params = list(updates.keys()) if params is None else params
    updates = OrderedDict(updates)
    for param in params:
        velocity = _zeros_like(param)
        x = momentum * velocity + updates[param]
        updates[velocity] = x - param
        updates[param] = x
    return updates


def momentum(loss_or_grads: Any, params: list, learning_rate: Any,
             momentum: Any = 0.9) -> OrderedDict:
    """SGD with momentum: ``v := momentum * v - learning_rate * grad``, ``param += v``."""
    updates = sgd(loss_or_grads, params, learning_rate)
    return apply_momentum(updates, momentum=momentum)


def apply_nesterov_momentum(updates: OrderedDict, params: Iterable | None = None,
                            momentum: Any = 0.9) -> OrderedDict:
    """Add Nesterov momentum to existing updates (a copy is returned).

    ``velocity := momentum * velocity + updates[param] - param`` and
    ``param := param + momentum * velocity + updates[param] - param``: the formulation that
    evaluates the gradient at the current parameters (pylearn2's).
    """
    params = list(updates.keys()) if params is None else params
    updates = OrderedDict(updates)
    for param in params:
        velocity = _zeros_like(param)
        x = momentum * velocity + updates[param] - param
        updates[velocity] = x
        updates[param] = momentum * x + updates[param]
    return updates


def nesterov_momentum(loss_or_grads: Any, params: list, learning_rate: Any,
                      momentum: Any = 0.9) -> OrderedDict:
    """SGD with Nesterov momentum (see :func:`apply_nesterov_momentum`)."""
    updates = sgd(loss_or_grads, params, learning_rate)
    return apply_nesterov_momentum(updates, momentum=momentum)


def adagrad(loss_or_grads: Any, params: list, learning_rate: Any = 1.0,
            epsilon: Any = 1e-6) -> OrderedDict:
    """Adagrad: ``acc := acc + g**2``, ``param -= learning_rate * g / sqrt(acc + epsilon)``."""
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OrderedDict()
    for param, grad in zip(params, grads):
        accu = _zeros_like(param)
        accu_new = accu + grad ** 2
        updates[accu] = accu_new
        updates[param] = param - learning_rate * grad / T.sqrt(accu_new + epsilon)
    return updates


def rmsprop(loss_or_grads: Any, params: list, learning_rate: Any = 1.0, rho: Any = 0.9,
            epsilon: Any = 1e-6) -> OrderedDict:
    """RMSProp: ``r := rho r + (1 - rho) g**2``, ``param -= learning_rate g / sqrt(r + eps)``."""
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OrderedDict()
    for param, grad in zip(params, grads):
        accu = _zeros_like(param)
        accu_new = rho * accu + (1 - rho) * grad ** 2
        updates[accu] = accu_new
        updates[param] = param - learning_rate * grad / T.sqrt(accu_new + epsilon)
    return updates


def adadelta(loss_or_grads: Any, params: list, learning_rate: Any = 1.0, rho: Any = 0.95,
             epsilon: Any = 1e-6) -> OrderedDict:
    """Adadelta (Zeiler, 2012).

    ``r := rho r + (1 - rho) g**2``; ``u = g sqrt(s + eps) / sqrt(r + eps)`` with the old
    ``s``; ``param -= learning_rate * u``; ``s := rho s + (1 - rho) u**2``.
    """
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OrderedDict()
    for param, grad in zip(params, grads):
        accu = _zeros_like(param)          # running average of squared gradients
        delta_accu = _zeros_like(param)    # running average of squared steps
        accu_new = rho * accu + (1 - rho) * grad ** 2
        updates[accu] = accu_new
        update = grad * T.sqrt(delta_accu + epsilon) / T.sqrt(accu_new + epsilon)
        updates[param] = param - learning_rate * update
        updates[delta_accu] = rho * delta_accu + (1 - rho) * update ** 2
    return updates


def _step_counter() -> tuple[exprc.SharedVariable, T.TensorVariable]:
    """A shared step count t (0 before the first step) and the expression t + 1.

    The count is ``floatX``, as in Lasagne; the rules cast the step size derived from it to
    each parameter's dtype, so float32 parameters keep float32 updates whatever floatX is.
    """
    t_prev = exprc.shared(floatX(0.))
    return t_prev, t_prev + 1


def adam(loss_or_grads: Any, params: list, learning_rate: Any = 0.001, beta1: Any = 0.9,
         beta2: Any = 0.999, epsilon: Any = 1e-8) -> OrderedDict:
    """Adam (Kingma and Ba, 2014), with the bias correction folded into the step size.

    ``m := beta1 m + (1 - beta1) g``, ``v := beta2 v + (1 - beta2) g**2``,
    ``param -= lr sqrt(1 - beta2**t) / (1 - beta1**t) * m / (sqrt(v) + epsilon)``.
    """
    all_grads = get_or_compute_grads(loss_or_grads, params)
    t_prev, t = _step_counter()
    a_t = learning_rate * T.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    updates = OrderedDict()
    for param, g_t in zip(params, all_grads):
        m_prev, v_prev = _zeros_like(param), _zeros_like(param)
        m_t = beta1 * m_prev + (1 - beta1) * g_t
        v_t = beta2 * v_prev + (1 - beta2) * g_t ** 2
        updates[m_prev] = m_t
        updates[v_prev] = v_t
        updates[param] = param - T.cast(a_t, param.dtype) * m_t / (T.sqrt(v_t) + epsilon)
    updates[t_prev] = t
    return updates


def adamax(loss_or_grads: Any, params: list, learning_rate: Any = 0.002, beta1: Any = 0.9,
           beta2: Any = 0.999, epsilon: Any = 1e-8) -> OrderedDict:
    """Adamax, Adam's variant with the infinity norm.

    ``m := beta1 m + (1 - beta1) g``, ``u := max(beta2 u, |g|)``,
    ``param -= lr / (1 - beta1**t) * m / (u + epsilon)``.
    """
    all_grads = get_or_compute_grads(loss_or_grads, params)
    t_prev, t = _step_counter()
    a_t = learning_rate / (1 - beta1 ** t)
    updates = OrderedDict()
    for param, g_t in zip(params, all_grads):
        m_prev, u_prev = _zeros_like(param), _zeros_like(param)
        m_t = beta1 * m_prev + (1 - beta1) * g_t
        u_t = T.maximum(beta2 * u_prev, abs(g_t))
        updates[m_prev] = m_t
        updates[u_prev] = u_t
        updates[param] = param - T.cast(a_t, param.dtype) * m_t / (u_t + epsilon)
    updates[t_prev] = t
    return updates


def norm_constraint(tensor_var: Any, max_norm: float, norm_axes: Iterable[int] | None = None,
                    epsilon: float = 1e-7) -> T.TensorVariable:
    """Rescale the slices of ``tensor_var`` whose norm exceeds ``max_norm`` down to it.

    Parameters
    ----------
    tensor_var : tensor
        A parameter, its update or its gradient.
    max_norm : float
    norm_axes : sequence of int, optional
        Axes of each norm. By default (0,) for a matrix (a dense layer's incoming weights
        per unit) and all axes but 0 for ranks 3 to 5 (a convolution's filters).
    epsilon : float
        Keeps the division finite for zero norms.
    """
    ndim = tensor_var.ndim
    if norm_axes is not None:
        sum_over = tuple(norm_axes)
    elif ndim == 2:
        sum_over = (0,)
    elif ndim in (3, 4, 5):
        sum_over = tuple(range(1, ndim))
    else:
        raise ValueError(f"Unsupported tensor dimensionality {ndim}. Must specify `norm_axes`")
    dtype = np.dtype(exprc.config.floatX).type
    norms = T.sqrt(T.sum(T.sqr(tensor_var), axis=sum_over, keepdims=True))
    target_norms = T.clip(norms, 0, dtype(max_norm))
    return tensor_var * (target_norms / (dtype(epsilon) + norms))


def total_norm_constraint(tensor_vars: list, max_norm: float, epsilon: float = 1e-7,
                          return_norm: bool = False):
    """Rescale all ``tensor_vars`` together so that their joint norm is at most ``max_norm``.

    Returns the rescaled list, and with ``return_norm=True`` also the joint norm before
    rescaling (useful to monitor gradient clipping).
    """
    norm = T.sqrt(sum(T.sum(tensor ** 2) for tensor in tensor_vars))
    dtype = np.dtype(exprc.config.floatX).type
    target_norm = T.clip(norm, 0, dtype(max_norm))
    multiplier = target_norm / (dtype(epsilon) + norm)
    scaled = [step * multiplier for step in tensor_vars]
    return (scaled, norm) if return_norm else scaled
