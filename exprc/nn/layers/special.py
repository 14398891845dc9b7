"""Layers applying a fixed function or a few parameters: :class:`NonlinearityLayer`,
:class:`BiasLayer`, :class:`ScaleLayer` (and :func:`standardize`), :class:`ExpressionLayer`,
:class:`InverseLayer`, :class:`ParametricRectifierLayer` (:func:`prelu`) and
:class:`RandomizedRectifierLayer` (:func:`rrelu`).

The spatial transformers, which Lasagne also counts as special-purpose layers, are in
:mod:`exprc.nn.layers.transformer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import exprc
import exprc.tensor as T
from exprc.gradient import grad
from exprc.nn import init, nonlinearities
from exprc.nn.layers.base import Layer, MergeLayer
from exprc.nn.layers.noise import _random_streams
from exprc.nn.utils import floatX

__all__ = [
    "BiasLayer",
    "ExpressionLayer",
    "InverseLayer",
    "NonlinearityLayer",
    "ParametricRectifierLayer",
    "RandomizedRectifierLayer",
    "ScaleLayer",
    "prelu",
    "rrelu",
    "standardize",
]


class NonlinearityLayer(Layer):
    """Applies ``nonlinearity`` (default rectify; None means linear) to its input."""

    def __init__(self, incoming: Any, nonlinearity: Callable | None = nonlinearities.rectify,
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity

    def get_output_for(self, input, **kwargs):
        return self.nonlinearity(input)


def _shared_axes(input_shape: tuple, shared_axes: Any) -> tuple:
    """``shared_axes`` ('auto', 'all', an int or ints) as a tuple of axes >= 0."""
    ndim = len(input_shape)
    if shared_axes == "auto":
        # Share over the batch and the spatial axes of (batch, channels, rows, ...).
        shared_axes = (0,) + tuple(range(2, ndim))
    elif shared_axes == "all":
        shared_axes = tuple(range(ndim))
    elif isinstance(shared_axes, (int, np.integer)):
        shared_axes = (shared_axes,)
    shared_axes = tuple(shared_axes)
    if any(not -ndim <= a < ndim for a in shared_axes):
        raise ValueError(f"shared_axes {shared_axes} are not axes of an input of shape "
                         f"{input_shape}")
    return tuple(sorted({int(a) % ndim for a in shared_axes}))


def _param_axes(input_shape: tuple, shared_axes: Any) -> tuple[tuple, tuple]:
    """The axes a per-position parameter shares, and the parameter's shape."""
    shared_axes = _shared_axes(input_shape, shared_axes)
    shape = tuple(size for axis, size in enumerate(input_shape) if axis not in shared_axes)
    if any(size is None for size in shape):
        raise ValueError("the input sizes must be known on all axes that are not shared")
    return tuple(shared_axes), shape


def _broadcast_param(param: T.TensorVariable, ndim: int, shared_axes: tuple):
    axes = iter(range(param.ndim))
    pattern = ["x" if axis in shared_axes else next(axes) for axis in range(ndim)]
    return param.dimshuffle(pattern)


class BiasLayer(Layer):
    """Adds a learned bias ``b`` (not regularizable), shared over ``shared_axes``.

    ``shared_axes='auto'`` shares over axis 0 and the axes after 1 (one bias per channel).
    """

    def __init__(self, incoming: Any, b: Any = init.Constant(0),  # noqa: B008
                 shared_axes: Any = "auto",
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.shared_axes, shape = _param_axes(self.input_shape, shared_axes)
        self.b = None if b is None else self.add_param(b, shape, "b", regularizable=False)

    def get_output_for(self, input, **kwargs):
        if self.b is None:
            return input
        return input + _broadcast_param(self.b, input.ndim, self.shared_axes)


class ScaleLayer(Layer):
    """Multiplies by a learned ``scales`` (not regularizable), shared over ``shared_axes``."""

    def __init__(self, incoming: Any, scales: Any = init.Constant(1),  # noqa: B008
                 shared_axes: Any = "auto",
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.shared_axes, shape = _param_axes(self.input_shape, shared_axes)
        self.scales = self.add_param(scales, shape, "scales", regularizable=False)

    def get_output_for(self, input, **kwargs):
        return input * _broadcast_param(self.scales, input.ndim, self.shared_axes)


def standardize(layer: Any, offset: Any, scale: Any, shared_axes: Any = "auto") -> Layer:
    """Subtract a fixed ``offset`` and divide by a fixed ``scale``, e.g. training-set
    statistics: a :class:`BiasLayer` of ``-offset`` and a :class:`ScaleLayer` of ``1 /
    scale``, neither trainable.

    Parameters
    ----------
    layer : Layer or tuple
    offset, scale : array or shared variable
        Shaped like the input without the ``shared_axes``; arrays are cast to ``floatX``.
    shared_axes : 'auto', int or tuple of int
        As for :class:`BiasLayer`.

    Examples
    --------
    >>> import numpy as np
    >>> from exprc.nn.layers import InputLayer, standardize, get_output
    >>> data = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> l_std = standardize(InputLayer((None, 2)), data.mean(0), data.std(0), shared_axes=0)
    >>> get_output(l_std, data).eval()
    array([[-1., -1.],
           [ 1.,  1.]])
    """
    if isinstance(offset, np.ndarray):
        offset = floatX(offset)
    if isinstance(scale, np.ndarray):
        scale = floatX(scale)
    layer = BiasLayer(layer, -offset, shared_axes)
    layer.params[layer.b].discard("trainable")
    layer = ScaleLayer(layer, floatX(1.) / scale, shared_axes)
    layer.params[layer.scales].discard("trainable")
    return layer


class ExpressionLayer(Layer):
    """Applies ``function`` to its input.

    Parameters
    ----------
    incoming : Layer or tuple
    function : callable
        Maps the input expression to the output expression.
    output_shape : None, tuple, callable or 'auto'
        The output shape, or a function of the input shape; by default the input shape.
        'auto' infers it by applying ``function`` to an input of the input shape: sizes the
        graph's shape inference cannot fix are evaluated on zeros, as Lasagne does (unknown
        input sizes taken as 0, and output sizes of 0 reported as None).

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, ExpressionLayer
    >>> ExpressionLayer(InputLayer((32, 100, 20)), lambda x: x.mean(-1), 'auto').output_shape
    (32, 100)
    """

    def __init__(self, incoming: Any, function: Callable, output_shape: Any = None,
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.function = function
        self._output_shape = output_shape
        # Shapes inferred for 'auto', per input shape: output_shape is asked for often, and
        # the inference may compile a function.
        self._inferred_shapes: dict = {}

    def get_output_shape_for(self, input_shape):
        if self._output_shape is None:
            return input_shape
        if isinstance(self._output_shape, str):
            if self._output_shape != "auto":
                raise ValueError(f"output_shape must be None, a tuple, a callable or 'auto', "
                                 f"got {self._output_shape!r}")
            return self._infer_shape(tuple(input_shape))
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        return tuple(self._output_shape)

    def _infer_shape(self, input_shape: tuple) -> tuple:
        if input_shape not in self._inferred_shapes:
            self._inferred_shapes[input_shape] = self._evaluate_shape(input_shape)
        return self._inferred_shapes[input_shape]

    def _evaluate_shape(self, input_shape: tuple) -> tuple:
        static = T.tensor(exprc.config.floatX, shape=input_shape)
        shape = self.function(static).type.shape
        if None not in shape:
            return tuple(int(s) for s in shape)
        zeros = T.alloc(T.constant(0, dtype=exprc.config.floatX),
                        *[0 if s is None else s for s in input_shape])
        try:
            values = exprc.function([], self.function(zeros).shape, mode="FAST_COMPILE")()
        except Exception as exc:
            raise ValueError(f"ExpressionLayer could not infer its output shape for input "
                             f"shape {input_shape} by applying its function to zeros ({exc}); "
                             f"give output_shape as a tuple or a callable") from exc
        return tuple(int(s) if s else None for s in values)

    def get_output_for(self, input, **kwargs):
        return self.function(input)


class InverseLayer(MergeLayer):
    """The backward pass of ``layer``: the gradient of ``layer``'s output w.r.t. its input,
    given ``incoming`` as the gradient of its output (a transposed dense layer for a
    :class:`~exprc.nn.layers.DenseLayer`, a transposed convolution for a convolution, an
    unpooling for a max pooling, ...). The nonlinearity and the bias of ``layer``, if any, are
    part of what is differentiated.

    Parameters
    ----------
    incoming : Layer or tuple
        Shaped like ``layer``'s output.
    layer : Layer
        The layer to invert, with one input layer.

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, DenseLayer, InverseLayer
    >>> l_in = InputLayer((None, 20))
    >>> l_hid = DenseLayer(l_in, num_units=5)
    >>> InverseLayer(l_hid, l_hid).output_shape
    (None, 20)
    """

    def __init__(self, incoming: Any, layer: Layer, **kwargs):
        if getattr(layer, "input_layer", None) is None:
            raise ValueError(f"InverseLayer needs a layer with an input layer, got {layer!r}")
        super().__init__([incoming, layer, layer.input_layer], **kwargs)

    def get_output_shape_for(self, input_shapes):
        return input_shapes[2]

    def get_output_for(self, inputs, **kwargs):
        input, layer_out, layer_in = inputs
        return grad(None, wrt=layer_in, known_grads={layer_out: input})


class ParametricRectifierLayer(Layer):
    """Parametric rectifier (He et al., 2015): ``max(x, 0) + alpha * min(x, 0)`` with learned
    slopes ``alpha`` (not regularizable).

    Parameters
    ----------
    incoming : Layer or tuple
    alpha : initializer, array or expression
        Shaped like the input without the ``shared_axes``; default ``Constant(0.25)``.
    shared_axes : 'auto', 'all', int or tuple of int
        The axes sharing one slope: 'auto' shares over all axes but 1 (one slope per
        channel), 'all' over all of them (one slope).

    Examples
    --------
    >>> from exprc.nn.layers import ParametricRectifierLayer
    >>> ParametricRectifierLayer((20, 3, 28, 28), shared_axes=(0, 3)).alpha.get_value().shape
    (3, 28)
    """

    def __init__(self, incoming: Any, alpha: Any = init.Constant(0.25),  # noqa: B008
                 shared_axes: Any = "auto", **kwargs):
        super().__init__(incoming, **kwargs)
        self.shared_axes, shape = _param_axes(self.input_shape, shared_axes)
        self.alpha = self.add_param(alpha, shape, name="alpha", regularizable=False)

    def get_output_for(self, input, **kwargs):
        alpha = _broadcast_param(self.alpha, input.ndim, self.shared_axes)
        return T.nnet.relu(input, alpha)


def _steal_nonlinearity(layer: Layer) -> None:
    if getattr(layer, "nonlinearity", None) is not None:
        layer.nonlinearity = nonlinearities.identity


def prelu(layer: Layer, **kwargs) -> ParametricRectifierLayer:
    """Replace ``layer``'s nonlinearity by a :class:`ParametricRectifierLayer` on top of it
    (``layer`` becomes linear). Keyword arguments go to the new layer."""
    _steal_nonlinearity(layer)
    return ParametricRectifierLayer(layer, **kwargs)


class RandomizedRectifierLayer(Layer):
    """Randomized leaky rectifier (Xu et al., 2015): during training ``x`` where ``x > 0``,
    else ``a * x`` with slopes ``a`` drawn from U(lower, upper); with
    ``deterministic=True`` the slope is ``(lower + upper) / 2``.

    Parameters
    ----------
    incoming : Layer or tuple
    lower, upper : float or symbolic scalar
        The range of the slopes (``lower <= upper``).
    shared_axes : 'auto', 'all', int or tuple of int
        The axes sharing one random slope; 'auto': all but axis 1.
    """

    def __init__(self, incoming: Any, lower: Any = 0.3, upper: Any = 0.8,
                 shared_axes: Any = "auto", **kwargs):
        super().__init__(incoming, **kwargs)
        self._srng = _random_streams()
        numbers = (int, float, np.number)
        if isinstance(lower, numbers) and isinstance(upper, numbers) and lower > upper:
            raise ValueError("Upper bound for RandomizedRectifierLayer needs to be higher than "
                             "lower bound.")
        self.lower = lower
        self.upper = upper
        self.shared_axes = _shared_axes(self.input_shape, shared_axes)

    def get_output_for(self, input, deterministic=False, **kwargs):
        same = all(isinstance(v, (int, float)) for v in (self.lower, self.upper)) and (
            self.lower == self.upper)
        if deterministic or same:
            return T.nnet.relu(input, (self.upper + self.lower) / 2.0)
        shape = list(self.input_shape)
        if any(s is None for s in shape):
            shape = [input.shape[a] for a in range(input.ndim)]
        for axis in self.shared_axes:
            shape[axis] = 1
        slopes = self._srng.uniform(tuple(shape), low=self.lower, high=self.upper,
                                    dtype=input.dtype)
        return T.nnet.relu(input, slopes)


def rrelu(layer: Layer, **kwargs) -> RandomizedRectifierLayer:
    """Replace ``layer``'s nonlinearity by a :class:`RandomizedRectifierLayer` on top of it
    (``layer`` becomes linear). Keyword arguments go to the new layer."""
    _steal_nonlinearity(layer)
    return RandomizedRectifierLayer(layer, **kwargs)
