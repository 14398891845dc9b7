"""Functions over whole networks: outputs, shapes, parameters and their values."""

from __future__ import annotations

import os
from collections import deque
from difflib import get_close_matches
from itertools import chain
from typing import Any
from warnings import warn

import numpy as np

from exprc.nn.layers.base import Layer, MergeLayer
from exprc.nn.layers.input import InputLayer
from exprc.nn.utils import as_exprc_expression, inspect_kwargs, unique

__all__ = [
    "count_params",
    "get_all_layers",
    "get_all_param_values",
    "get_all_params",
    "get_output",
    "get_output_shape",
    "load_params",
    "save_params",
    "set_all_param_values",
]


def get_all_layers(layer: Any, treat_as_input: Any = None) -> list:
    """Every layer that ``layer`` (or a list of layers) depends on, inputs first.

    Parameters
    ----------
    layer : Layer or list of Layer
    treat_as_input : iterable of Layer, optional
        Layers whose own inputs are not followed.

    Returns
    -------
    list of Layer
        In topological order: each layer comes after all layers it depends on, and the
        given layers come last (in their order, when independent of each other).
    """
    queue = deque(layer) if isinstance(layer, (list, tuple)) else deque([layer])
    seen = set(treat_as_input) if treat_as_input is not None else set()
    done, result = set(), []
    while queue:
        layer = queue[0]
        if layer is None:
            queue.popleft()      # an input_layer that is None: a shape was given instead
        elif layer not in seen:
            # First visit: queue its inputs in front, to be collected before it.
            seen.add(layer)
            if hasattr(layer, "input_layers"):
                queue.extendleft(reversed(layer.input_layers))
            elif hasattr(layer, "input_layer"):
                queue.appendleft(layer.input_layer)
        else:
            queue.popleft()
            if layer not in done:
                result.append(layer)
                done.add(layer)
    return result


def _initial_outputs(all_layers: list, inputs: Any, treat_as_input: list) -> dict:
    """Map each input layer of the network to its expression, from ``inputs`` if given."""
    outputs = {layer: layer.input_var for layer in all_layers
               if isinstance(layer, InputLayer) and layer not in treat_as_input}
    if isinstance(inputs, dict):
        outputs.update((layer, as_exprc_expression(expr)) for layer, expr in inputs.items())
    elif inputs is not None:
        if len(outputs) > 1:
            raise ValueError("get_output() was called with a single input expression on a "
                             "network with multiple input layers. Please call it with a "
                             "dictionary of input expressions instead.")
        for input_layer in outputs:
            outputs[input_layer] = as_exprc_expression(inputs)
    return outputs


def _layer_inputs(layer: Layer, outputs: dict) -> Any:
    try:
        if isinstance(layer, MergeLayer):
            return [outputs[incoming] for incoming in layer.input_layers]
        return outputs[layer.input_layer]
    except KeyError:
        raise ValueError(f"get_output() was called without giving an input expression for "
                         f"the free-floating layer {layer!r}. Please call it with a "
                         f"dictionary mapping this layer to an input expression.") from None


def _warn_unused(kwargs: dict, accepted: set) -> None:
    unused = set(kwargs) - accepted
    if not unused:
        return
    lines = []
    for kwarg in sorted(unused):
        suggestion = get_close_matches(kwarg, accepted)
        lines.append(f"{kwarg} (perhaps you meant {suggestion[0]})" if suggestion else kwarg)
    warn("get_output() was called with unused kwargs:\n\t" + "\n\t".join(lines), stacklevel=2)


def get_output(layer_or_layers: Any, inputs: Any = None, deterministic: bool = False,
               **kwargs) -> Any:
    """The output expression(s) of a network.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
        The layers whose outputs to compute.
    inputs : expression, array or dict, optional
        By default each :class:`InputLayer` gives its ``input_var``. One expression (or
        array) replaces the input of a network with a single input layer; a dict maps layers
        (input layers, or any layer, whose inputs are then not followed) to expressions.
    deterministic : bool
        Evaluation mode: no dropout noise, batch normalization with running averages.
    **kwargs
        Passed to every layer's ``get_output_for``; a warning names those no layer takes.

    Returns
    -------
    TensorVariable or list of TensorVariable

    Examples
    --------
    >>> import exprc.tensor as T
    >>> from exprc.nn.layers import InputLayer, DenseLayer, get_output
    >>> l_out = DenseLayer(InputLayer((None, 4)), num_units=3)
    >>> get_output(l_out).ndim, get_output(l_out, T.matrix('x')).ndim
    (2, 2)
    """
    kwargs["deterministic"] = deterministic
    accepted = {"deterministic"}
    treat_as_input = list(inputs.keys()) if isinstance(inputs, dict) else []
    all_layers = get_all_layers(layer_or_layers, treat_as_input)
    outputs = _initial_outputs(all_layers, inputs, treat_as_input)
    for layer in all_layers:
        if layer in outputs:
            continue
        outputs[layer] = layer.get_output_for(_layer_inputs(layer, outputs), **kwargs)
        accepted.update(inspect_kwargs(layer.get_output_for))
        accepted.update(layer.get_output_kwargs)
    _warn_unused(kwargs, accepted)
    if isinstance(layer_or_layers, (list, tuple)):
        return [outputs[layer] for layer in layer_or_layers]
    return outputs[layer_or_layers]


def get_output_shape(layer_or_layers: Any, input_shapes: Any = None) -> Any:
    """The output shape(s) of a network, optionally for other input shapes.

    ``input_shapes`` is one shape (for a network with one input layer) or a dict mapping
    layers to shapes, as ``inputs`` in :func:`get_output`.
    """
    if input_shapes is None:
        if isinstance(layer_or_layers, (list, tuple)):
            return [layer.output_shape for layer in layer_or_layers]
        return layer_or_layers.output_shape
    treat_as_input = list(input_shapes.keys()) if isinstance(input_shapes, dict) else []
    all_layers = get_all_layers(layer_or_layers, treat_as_input)
    shapes = {layer: layer.shape for layer in all_layers
              if isinstance(layer, InputLayer) and layer not in treat_as_input}
    if isinstance(input_shapes, dict):
        shapes.update(input_shapes)
    else:
        if len(shapes) > 1:
            raise ValueError("get_output_shape() was called with a single input shape on a "
                             "network with multiple input layers. Please call it with a "
                             "dictionary of input shapes instead.")
        for input_layer in shapes:
            shapes[input_layer] = input_shapes
    for layer in all_layers:
        if layer not in shapes:
            shapes[layer] = layer.get_output_shape_for(_layer_inputs(layer, shapes))
    if isinstance(layer_or_layers, (list, tuple)):
        return [shapes[layer] for layer in layer_or_layers]
    return shapes[layer_or_layers]


def get_all_params(layer: Any, unwrap_shared: bool = True, **tags) -> list:
    """The parameters of every layer below ``layer`` (itself included), without repeats.

    Tags filter as in :meth:`Layer.get_params`: ``get_all_params(l, trainable=True)`` gives
    what to train, ``regularizable=True`` what to penalize.
    """
    layers = get_all_layers(layer)
    params = chain.from_iterable(lay.get_params(unwrap_shared=unwrap_shared, **tags)
                                 for lay in layers)
    return unique(params)


def count_params(layer: Any, **tags) -> int:
    """The number of parameter values (scalars) in the network, filtered by tags."""
    params = get_all_params(layer, **tags)
    return int(sum(np.prod(p.get_value(borrow=True).shape) for p in params))


def get_all_param_values(layer: Any, **tags) -> list[np.ndarray]:
    """Copies of the values of :func:`get_all_params`, in the same order."""
    return [p.get_value() for p in get_all_params(layer, **tags)]


def set_all_param_values(layer: Any, values: list, **tags) -> None:
    """Set the parameters of :func:`get_all_params` to ``values``, in order.

    Raises ``ValueError`` when the number of values or any shape does not match.
    """
    params = get_all_params(layer, **tags)
    if len(params) != len(values):
        raise ValueError(f"mismatch: got {len(values)} values to set {len(params)} "
                         f"parameters")
    for param, value in zip(params, values):
        current = param.get_value(borrow=True).shape
        if current != np.shape(value):
            raise ValueError(f"mismatch: parameter {param} has shape {current} but value to "
                             f"set has shape {np.shape(value)}")
        param.set_value(value)


def save_params(layer: Any, path: str | os.PathLike, **tags) -> None:
    """Save the values of :func:`get_all_params` to a ``.npz`` file (exprc's addition).

    The arrays are stored as ``arr_0, arr_1, ...`` in parameter order, the layout of
    Lasagne's recipe ``np.savez(path, *get_all_param_values(layer))``, so files written by
    either load with the other.
    """
    np.savez(path, *get_all_param_values(layer, **tags))


def load_params(layer: Any, path: str | os.PathLike, **tags) -> None:
    """Set the parameters of ``layer`` from a file of :func:`save_params` (exprc's addition).

    The network must have the same architecture (same parameters in the same order and
    shapes) as the one saved; a mismatch raises ``ValueError``.
    """
    with np.load(path) as data:
        values = [data[f"arr_{i}"] for i in range(len(data.files))]
    set_all_param_values(layer, values, **tags)
