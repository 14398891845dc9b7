"""The base classes of all layers: :class:`Layer` (one input) and :class:`MergeLayer`."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import exprc.tensor as T
from exprc.nn.utils import collect_shared_vars, create_param

__all__ = ["Layer", "MergeLayer"]


def _check_sizes(shape: tuple, layer: Any) -> None:
    if any(d is not None and d <= 0 for d in shape):
        raise ValueError(f"Cannot create Layer with a non-positive input_shape dimension. "
                         f"input_shape={shape}, self.name={layer.name}")


def _static_shape(layer: Any, shape: tuple) -> tuple:
    if any(isinstance(s, T.TensorVariable) for s in shape):
        raise ValueError(f"{type(layer).__name__} returned a symbolic output shape from its "
                         f"get_output_shape_for() method: {shape}. This is not allowed; "
                         f"shapes must be tuples of integers or None.")
    return tuple(shape)


class Layer:
    """A layer with one input: a node of a network, mapping an expression to an expression.

    Parameters
    ----------
    incoming : Layer or tuple
        The layer feeding this one, or the expected input shape (``None`` for sizes unknown
        until run time) for a layer used on its own.
    name : str, optional
        Prefixes the names of the layer's parameters (``"name.W"``).

    Notes
    -----
    Subclasses implement :meth:`get_output_for` and, when the shape changes,
    :meth:`get_output_shape_for`, and create their parameters with :meth:`add_param`.
    """

    def __init__(self, incoming: Any, name: str | None = None):
        if isinstance(incoming, tuple):
            self.input_shape = incoming
            self.input_layer = None
        else:
            self.input_shape = incoming.output_shape
            self.input_layer = incoming
        self.name = name
        self.params: OrderedDict = OrderedDict()
        # Extra keyword arguments of get_output() this layer understands, for the check
        # of unused keyword arguments.
        self.get_output_kwargs: list[str] = []
        _check_sizes(self.input_shape, self)

    @property
    def output_shape(self) -> tuple:
        """The shape of the output, with ``None`` where it is unknown before run time."""
        return _static_shape(self, self.get_output_shape_for(self.input_shape))

    def get_params(self, unwrap_shared: bool = True, **tags) -> list:
        """The layer's parameters, filtered by tags.

        ``get_params(trainable=True)`` keeps the parameters with the tag,
        ``get_params(regularizable=False)`` those without it. With ``unwrap_shared``, a
        parameter given as an expression contributes the shared variables it depends on.
        """
        result = list(self.params.keys())
        only = {tag for tag, value in tags.items() if value}
        if only:
            result = [param for param in result if not only - self.params[param]]
        exclude = {tag for tag, value in tags.items() if not value}
        if exclude:
            result = [param for param in result if not self.params[param] & exclude]
        return collect_shared_vars(result) if unwrap_shared else result

    def get_output_shape_for(self, input_shape: tuple) -> tuple:
        """The output shape for an input of ``input_shape`` (the same by default)."""
        return input_shape

    def get_output_for(self, input: Any, **kwargs) -> T.TensorVariable:
        """The output expression for the input expression ``input``.

        Keyword arguments of :func:`exprc.nn.layers.get_output` (e.g. ``deterministic``) are
        passed on; a layer ignores those it does not know.
        """
        raise NotImplementedError

    def add_param(self, spec: Any, shape: tuple, name: str | None = None, **tags):
        """Create a parameter from ``spec`` and register it with its tags.

        Parameters
        ----------
        spec : initializer, numpy.ndarray, shared variable or expression
            See :func:`exprc.nn.utils.create_param`.
        shape : tuple of int
        name : str, optional
            Prefixed with the layer's name when it has one.
        **tags
            ``trainable`` and ``regularizable`` default to True; other tags are free.

        Returns
        -------
        TensorVariable
            The parameter (a shared variable unless ``spec`` was an expression).
        """
        if name is not None and self.name is not None:
            name = f"{self.name}.{name}"
        param = create_param(spec, shape, name)
        tags["trainable"] = tags.get("trainable", True)
        tags["regularizable"] = tags.get("regularizable", True)
        self.params[param] = {tag for tag, value in tags.items() if value}
        return param


class MergeLayer(Layer):
    """A layer with several inputs.

    Parameters
    ----------
    incomings : list of Layer or tuple
        The layers (or input shapes) feeding this one, in order.
    name : str, optional

    Subclasses implement ``get_output_shape_for(input_shapes)`` and
    ``get_output_for(inputs)``, each receiving a list.
    """

    def __init__(self, incomings: list, name: str | None = None):
        self.input_shapes = [incoming if isinstance(incoming, tuple) else incoming.output_shape
                             for incoming in incomings]
        self.input_layers = [None if isinstance(incoming, tuple) else incoming
                             for incoming in incomings]
        self.name = name
        self.params = OrderedDict()
        self.get_output_kwargs = []
        for shape in self.input_shapes:
            _check_sizes(shape, self)

    @property
    def output_shape(self) -> tuple:
        """The shape of the output, with ``None`` where it is unknown before run time."""
        return _static_shape(self, self.get_output_shape_for(self.input_shapes))

    def get_output_shape_for(self, input_shapes: list) -> tuple:
        """The output shape for inputs of ``input_shapes``."""
        raise NotImplementedError

    def get_output_for(self, inputs: list, **kwargs) -> T.TensorVariable:
        """The output expression for the list of input expressions ``inputs``."""
        raise NotImplementedError
