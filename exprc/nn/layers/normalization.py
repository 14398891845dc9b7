"""Normalization layers: :class:`LocalResponseNormalization2DLayer`, batch normalization
(:class:`BatchNormLayer` and the :func:`batch_norm` helper) and :class:`StandardizationLayer`
with its helpers :func:`instance_norm` and :func:`layer_norm`."""

from __future__ import annotations

from typing import Any

import exprc.tensor as T
from exprc.nn import init, nonlinearities
from exprc.nn.extensions import pad
from exprc.nn.layers.base import Layer

__all__ = [
    "BatchNormLayer",
    "LocalResponseNormalization2DLayer",
    "StandardizationLayer",
    "batch_norm",
    "instance_norm",
    "layer_norm",
]


class LocalResponseNormalization2DLayer(Layer):
    """Cross-channel local response normalization (Krizhevsky et al., 2012), position by
    position:

    .. math::

        y_c = x_c \\left(k + \\alpha \\sum_{c'=\\max(0, c - n//2)}^{\\min(C - 1, c + n//2)}
        x_{c'}^2\\right)^{-\\beta}

    over the ``n`` channels centred on ``c`` (fewer at the first and last channels). As in
    Lasagne, ``alpha`` multiplies the sum itself (it is not divided by ``n``).

    Parameters
    ----------
    incoming : Layer or tuple
        ``(batch, channels, rows, columns)`` (any rank >= 2 works: axis 1 is normalized).
    alpha, k, beta : float
    n : int
        The number of channels summed over; odd.
    """

    def __init__(self, incoming: Any, alpha: float = 1e-4, k: float = 2, beta: float = 0.75,
                 n: int = 5, **kwargs):
        super().__init__(incoming, **kwargs)
        if len(self.input_shape) < 2:
            raise ValueError(f"LocalResponseNormalization2DLayer needs a channel axis (axis "
                             f"1), got input shape {self.input_shape}")
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        if n % 2 == 0:
            raise NotImplementedError("Only works with odd n")
        self.alpha = alpha
        self.k = k
        self.beta = beta
        self.n = n

    def get_output_for(self, input, **kwargs):
        half = self.n // 2
        squares = pad(T.sqr(input), [(half, half)], batch_ndim=1)
        # The window of channel c starts at c in the padded squares.
        total = None
        for i in range(self.n):
            rest = self.n - 1 - i
            window = squares[:, i:(-rest if rest else None)]
            total = window if total is None else total + window
        return input / (self.k + self.alpha * total) ** self.beta


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


class StandardizationLayer(Layer):
    """Normalizes its input to zero mean and unit variance over ``axes``, per example:
    ``(x - mean) / sqrt(var + epsilon)``, the statistics of each input over ``axes``.

    Unlike batch normalization it keeps no running averages and learns nothing: training and
    evaluation compute the same thing.

    Parameters
    ----------
    incoming : Layer or tuple
    axes : 'auto', 'spatial', 'features', int or tuple of int
        'spatial': all axes after 1 (instance normalization); 'features': all axes after 0
        (layer normalization); 'auto': the last axis of a 2D input, otherwise 'spatial'.
    epsilon : float
        Added to the variance.
    """

    def __init__(self, incoming: Any, axes: Any = "auto", epsilon: float = 1e-4, **kwargs):
        super().__init__(incoming, **kwargs)
        ndim = len(self.input_shape)
        if axes == "auto":
            axes = (1,) if ndim == 2 else tuple(range(2, ndim))
        elif axes == "spatial":
            axes = tuple(range(2, ndim))
        elif axes == "features":
            axes = tuple(range(1, ndim))
        elif isinstance(axes, int):
            axes = (axes,)
        axes = tuple(axes)
        if not axes or any(not -ndim <= a < ndim for a in axes):
            raise ValueError(f"axes {axes} are not axes of an input of shape "
                             f"{self.input_shape}")
        self.axes = tuple(a % ndim for a in axes)
        self.epsilon = epsilon

    def get_output_for(self, input, **kwargs):
        mean = input.mean(self.axes, keepdims=True)
        std = T.sqrt(input.var(self.axes, keepdims=True) + self.epsilon)
        return (input - mean) / std


def _take_nonlinearity_and_bias(layer: Layer):
    """Remove ``layer``'s nonlinearity (returned) and bias, for a normalization after it."""
    nonlinearity = getattr(layer, "nonlinearity", None)
    if nonlinearity is not None:
        layer.nonlinearity = nonlinearities.identity
    if getattr(layer, "b", None) is not None:
        del layer.params[layer.b]
        layer.b = None
    return nonlinearity


def _normalized(layer: Layer, axes: str, learn_scale: bool, learn_bias: bool, suffix: str,
                kwargs: dict) -> Layer:
    from exprc.nn.layers.special import BiasLayer, NonlinearityLayer, ScaleLayer

    nonlinearity = _take_nonlinearity_and_bias(layer)
    name = kwargs.pop("name", None) or (layer.name and layer.name + suffix)
    layer = StandardizationLayer(layer, axes=axes, name=name, **kwargs)
    if learn_scale:
        layer = ScaleLayer(layer, shared_axes="auto", name=name and name + "_scale")
    if learn_bias:
        layer = BiasLayer(layer, shared_axes="auto", name=name and name + "_bias")
    if nonlinearity is not None:
        layer = NonlinearityLayer(layer, nonlinearity, name=name and name + "_nonlin")
    return layer


def instance_norm(layer: Layer, learn_scale: bool = True, learn_bias: bool = True,
                  **kwargs) -> Layer:
    """Insert instance normalization (Ulyanov et al., 2016) after ``layer``, before its
    nonlinearity: a :class:`StandardizationLayer` over the spatial axes, a per-channel
    :class:`~exprc.nn.layers.ScaleLayer` and :class:`~exprc.nn.layers.BiasLayer` (unless
    turned off), then the nonlinearity.

    ``layer`` loses its nonlinearity and its bias. Keyword arguments go to the
    :class:`StandardizationLayer`; its name defaults to the layer's name plus ``'_in'``.

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, Conv2DLayer, instance_norm, get_all_layers
    >>> l2 = instance_norm(Conv2DLayer(InputLayer((10, 3, 28, 28)), 64, 3))
    >>> [type(l).__name__ for l in get_all_layers(l2)][1:]
    ['Conv2DLayer', 'StandardizationLayer', 'ScaleLayer', 'BiasLayer', 'NonlinearityLayer']
    """
    return _normalized(layer, "spatial", learn_scale, learn_bias, "_in", kwargs)


def layer_norm(layer: Layer, **kwargs) -> Layer:
    """Insert layer normalization (Ba et al., 2016) after ``layer``, before its nonlinearity:
    a :class:`StandardizationLayer` over all axes but the batch, a per-feature
    :class:`~exprc.nn.layers.ScaleLayer` and :class:`~exprc.nn.layers.BiasLayer`, then the
    nonlinearity.

    ``layer`` loses its nonlinearity and its bias. Keyword arguments go to the
    :class:`StandardizationLayer`; its name defaults to the layer's name plus ``'_ln'``.
    """
    return _normalized(layer, "features", True, True, "_ln", kwargs)
