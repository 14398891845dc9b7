"""Penalties on parameters (Lasagne's ``lasagne.regularization``).

>>> import exprc.nn as nn
>>> l_in = nn.layers.InputLayer((None, 4))
>>> l_out = nn.layers.DenseLayer(l_in, 3)
>>> penalty = nn.regularization.regularize_network_params(l_out, nn.regularization.l2)
>>> penalty.ndim   # sum of squares of W only: biases are not regularizable
0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import exprc.tensor as T
from exprc.nn.layers import Layer, get_all_params

__all__ = [
    "apply_penalty",
    "l1",
    "l2",
    "regularize_layer_params",
    "regularize_layer_params_weighted",
    "regularize_network_params",
]


def l1(x: Any) -> T.TensorVariable:
    """The sum of absolute values of ``x``."""
    return T.sum(abs(x))


def l2(x: Any) -> T.TensorVariable:
    """The sum of squares of ``x`` (no factor 1/2)."""
    return T.sum(x ** 2)


def apply_penalty(tensor_or_tensors: Any, penalty: Callable, **kwargs) -> T.TensorVariable:
    """``penalty`` of one tensor, or the sum of ``penalty`` over a list of tensors."""
    if isinstance(tensor_or_tensors, T.TensorVariable):
        return penalty(tensor_or_tensors, **kwargs)
    return sum(penalty(x, **kwargs) for x in tensor_or_tensors)


def regularize_layer_params(layer: Any, penalty: Callable,
                            tags: Mapping[str, bool] | None = None, **kwargs):
    """The penalty on the parameters of one layer or a list of layers (not their inputs).

    ``tags`` selects the parameters, ``{'regularizable': True}`` by default.
    """
    tags = {"regularizable": True} if tags is None else tags
    layers = [layer] if isinstance(layer, Layer) else layer
    params = [p for lay in layers for p in lay.get_params(**tags)]
    return apply_penalty(params, penalty, **kwargs)


def regularize_layer_params_weighted(layers: Mapping[Any, float], penalty: Callable,
                                     tags: Mapping[str, bool] | None = None, **kwargs):
    """``sum(coeff * penalty(params of layer))`` over a ``{layer: coeff}`` mapping."""
    tags = {"regularizable": True} if tags is None else tags
    return sum(coeff * apply_penalty(layer.get_params(**tags), penalty, **kwargs)
               for layer, coeff in layers.items())


def regularize_network_params(layer: Any, penalty: Callable,
                              tags: Mapping[str, bool] | None = None, **kwargs):
    """The penalty on the parameters of every layer below ``layer`` (itself included)."""
    tags = {"regularizable": True} if tags is None else tags
    return apply_penalty(get_all_params(layer, **tags), penalty, **kwargs)
