"""Batch normalization: :class:`BatchNormLayer` and the :func:`batch_norm` helper."""

from __future__ import annotations

from typing import Any

import exprc.tensor as T
from exprc.nn import init, nonlinearities
from exprc.nn.layers.base import Layer

__all__ = ["BatchNormLayer", "batch_norm"]


class BatchNormLayer(Layer):
    """Normalizes its input with batch statistics (Ioffe and Szegedy, 2015).

    ``y = (x - mean) * inv_std * gamma + beta``, where during training ``mean`` and
    ``inv_std = 1 / sqrt(var + epsilon)`` are those of the mini-batch over ``axes``, and
    with ``deterministic=True`` the running averages kept in the parameters ``mean`` and
    ``inv_std``. Each training pass updates the running averages through the shared
    variables' default updates: ``avg := (1 - alpha) * avg + alpha * batch_value``, so a
    function compiled from a training output updates them on every call.

    Parameters
    ----------
    incoming : Layer or tuple
    axes : 'auto' or int or tuple of int
        The axes to normalize over; 'auto' means all but axis 1 (per feature of a dense
        layer, per channel of a convolution).
    epsilon : float
        Added to the variance (default 1e-4).
    alpha : float
        Weight of the new batch statistics in the running averages (default 0.1).
    beta, gamma : initializer, array, expression or None
        The learned shift (not regularizable) and scale; None leaves it out.
    mean, inv_std : initializer, array or expression
        The running averages (not trainable, not regularizable).

    Notes
    -----
    ``get_output`` accepts ``batch_norm_use_averages`` and ``batch_norm_update_averages``
    to override the choices made from ``deterministic``.
    """

    def __init__(self, incoming: Any, axes: Any = "auto", epsilon: float = 1e-4,
                 alpha: float = 0.1,
                 beta: Any = init.Constant(0),  # noqa: B008
                 gamma: Any = init.Constant(1),  # noqa: B008
                 mean: Any = init.Constant(0),  # noqa: B008
                 inv_std: Any = init.Constant(1),  # noqa: B008
                 **kwargs):
        super().__init__(incoming, **kwargs)
        if axes == "auto":
            axes = (0,) + tuple(range(2, len(self.input_shape)))
        elif isinstance(axes, int):
            axes = (axes,)
        self.axes = tuple(axes)
        self.epsilon = epsilon
        self.alpha = alpha
        shape = [size for axis, size in enumerate(self.input_shape) if axis not in self.axes]
        if any(size is None for size in shape):
            raise ValueError("BatchNormLayer needs specified input sizes for all axes not "
                             "normalized over.")
        self.beta = (None if beta is None else
                     self.add_param(beta, shape, "beta", trainable=True, regularizable=False))
        self.gamma = (None if gamma is None else
                      self.add_param(gamma, shape, "gamma", trainable=True,
                                     regularizable=True))
        self.mean = self.add_param(mean, shape, "mean", trainable=False, regularizable=False)
        self.inv_std = self.add_param(inv_std, shape, "inv_std", trainable=False,
                                      regularizable=False)

    def get_output_for(self, input, deterministic=False, batch_norm_use_averages=None,
                       batch_norm_update_averages=None, **kwargs):
        input_mean = input.mean(self.axes)
        input_inv_std = 1 / T.sqrt(input.var(self.axes) + self.epsilon)
        use_averages = (deterministic if batch_norm_use_averages is None
                        else batch_norm_use_averages)
        update_averages = (not deterministic if batch_norm_update_averages is None
                           else batch_norm_update_averages)
        mean, inv_std = ((self.mean, self.inv_std) if use_averages
                         else (input_mean, input_inv_std))
        if update_averages:
            mean, inv_std = self._attach_running_updates(mean, inv_std, input_mean,
                                                         input_inv_std)
        param_axes = iter(range(input.ndim - len(self.axes)))
        pattern = ["x" if axis in self.axes else next(param_axes)
                   for axis in range(input.ndim)]
        beta = 0 if self.beta is None else self.beta.dimshuffle(pattern)
        gamma = 1 if self.gamma is None else self.gamma.dimshuffle(pattern)
        mean = mean.dimshuffle(pattern)
        inv_std = inv_std.dimshuffle(pattern)
        return (input - mean) * (gamma * inv_std) + beta

    def _attach_running_updates(self, mean, inv_std, input_mean, input_inv_std):
        """Make the output depend on clones of the running averages with default updates.

        A clone of a shared variable shares its storage, so its default update writes the
        layer's ``mean`` and ``inv_std``; adding ``0 * clone`` puts the clones in the graph
        (where ``function`` finds their default updates) without changing any value, and
        the optimizer removes the dead arithmetic.
        """
        running_mean = self.mean.clone()
        running_inv_std = self.inv_std.clone()
        running_mean.default_update = ((1 - self.alpha) * running_mean
                                       + self.alpha * input_mean)
        running_inv_std.default_update = ((1 - self.alpha) * running_inv_std
                                          + self.alpha * input_inv_std)
        return mean + 0 * running_mean, inv_std + 0 * running_inv_std


def batch_norm(layer: Layer, **kwargs) -> Layer:
    """Insert batch normalization after ``layer``, before its nonlinearity.

    The layer's bias is removed (``beta`` replaces it) and its nonlinearity moves to a
    :class:`~exprc.nn.layers.NonlinearityLayer` on top of a :class:`BatchNormLayer`.
    Keyword arguments go to the :class:`BatchNormLayer`; its name defaults to the layer's
    name plus ``'_bn'``.

    Returns
    -------
    Layer
        The last layer added (the nonlinearity layer, or the batch normalization layer when
        ``layer`` has no nonlinearity).

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, DenseLayer, batch_norm
    >>> l1 = batch_norm(DenseLayer(InputLayer((None, 10)), num_units=5))
    >>> type(l1).__name__, type(l1.input_layer).__name__
    ('NonlinearityLayer', 'BatchNormLayer')
    """
    from exprc.nn.layers.special import NonlinearityLayer

    nonlinearity = getattr(layer, "nonlinearity", None)
    if nonlinearity is not None:
        layer.nonlinearity = nonlinearities.identity
    if getattr(layer, "b", None) is not None:
        del layer.params[layer.b]
        layer.b = None
    bn_name = kwargs.pop("name", None) or (layer.name and layer.name + "_bn")
    layer = BatchNormLayer(layer, name=bn_name, **kwargs)
    if nonlinearity is not None:
        layer = NonlinearityLayer(layer, nonlinearity, name=bn_name and bn_name + "_nonlin")
    return layer
