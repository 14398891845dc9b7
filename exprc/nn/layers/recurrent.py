"""Recurrent layers (Lasagne's ``lasagne.layers.recurrent``): :class:`CustomRecurrentLayer`,
:class:`RecurrentLayer`, :class:`LSTMLayer` and :class:`GRULayer`, with :class:`Gate` to set
up each gate's parameters.

A recurrent layer reads an input of shape ``(batch_size, sequence_length, num_inputs...)``
and gives the hidden state at every step, ``(batch_size, sequence_length, num_units)``, or
with ``only_return_final=True`` the state after the last step, ``(batch_size, num_units)``.
The loop is :func:`exprc.scan`, or with ``unroll_scan=True`` a loop written out step by step
in the graph (:func:`exprc.nn.utils.unroll_scan`; the sequence length must then be known).

Sequences of different lengths share a batch through a mask: ``mask_input`` is a layer giving
a ``(batch_size, sequence_length)`` matrix, 1 where a step belongs to the sequence and 0 after
its end; at a step with mask 0 the state is carried over unchanged, so the last state is the
one after the sequence's last real step.

>>> from exprc.nn.layers import InputLayer, LSTMLayer, DenseLayer
>>> l_in = InputLayer((None, None, 10))
>>> l_lstm = LSTMLayer(l_in, num_units=12, only_return_final=True)
>>> l_out = DenseLayer(l_lstm, num_units=5)
>>> l_lstm.output_shape, l_out.output_shape
((None, 12), (None, 5))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import exprc
import exprc.tensor as T
from exprc.gradient import grad_clip
from exprc.nn import init, nonlinearities
from exprc.nn.layers import helper
from exprc.nn.layers.base import Layer, MergeLayer
from exprc.nn.layers.dense import DenseLayer
from exprc.nn.layers.input import InputLayer
from exprc.nn.utils import inspect_kwargs, unique, unroll_scan

__all__ = ["CustomRecurrentLayer", "GRULayer", "Gate", "LSTMLayer", "RecurrentLayer"]


def _describe(cls_name: str, name: str | None) -> str:
    return cls_name if name is None else f"{cls_name} {name!r}"


def _check_input_shape(input_shape: tuple, who: str, flat_features: bool) -> None:
    """Raise ``ValueError`` unless ``input_shape`` is (batch, time, features...), with the
    feature sizes known when the layer flattens them into a weight matrix's rows."""
    if len(input_shape) < 3:
        raise ValueError(f"{who} needs an input of shape (batch_size, sequence_length, "
                         f"num_inputs, ...), of 3 or more dimensions, but got input_shape="
                         f"{input_shape}")
    if flat_features and any(s is None for s in input_shape[2:]):
        raise ValueError(f"{who} needs the sizes after the sequence axis known, to size its "
                         f"input weights, but got input_shape={input_shape}")


def _masked(step: Callable, n_states: int) -> Callable:
    """``step`` with a mask: where the mask is 0, each state keeps its previous value."""

    def masked_step(input_n, mask_n, *states_and_args):
        new = step(input_n, *states_and_args)
        new = [new] if isinstance(new, T.TensorVariable) else list(new)
        previous = states_and_args[:n_states]
        return [T.switch(mask_n, n, p) for n, p in zip(new, previous)]

    return masked_step


def _slice_units(x: Any, n: int, num_units: int) -> Any:
    """The ``n``-th block of ``num_units`` columns of ``x``: one gate of a stacked product."""
    return x[:, n * num_units:(n + 1) * num_units]


class _RecurrentBase(MergeLayer):
    """What the recurrent layers share: their incomings (the input, the mask and the initial
    states given as layers), the checks of the options, the loop and the shape of its result.

    ``states`` maps the name of each initial-state argument (``"hid_init"``, ``"cell_init"``)
    to its value; a :class:`Layer` becomes an incoming, whose index is kept in
    ``<name>_incoming_index`` (-1 when the state is a parameter), as in Lasagne.
    """

    #: Whether the sizes after the sequence axis are flattened into weight rows, so must
    #: be known.
    _flat_features = False

    def __init__(self, incoming: Any, mask_input: Any, states: dict, backwards: bool,
                 learn_init: bool, gradient_steps: int, grad_clipping: float,
                 unroll_scan: bool, precompute_input: bool, only_return_final: bool,
                 **kwargs):
        incomings = [incoming]
        self.mask_incoming_index = -1
        if mask_input is not None:
            incomings.append(mask_input)
            self.mask_incoming_index = len(incomings) - 1
        for state, value in states.items():
            setattr(self, f"{state}_incoming_index", -1)
            if isinstance(value, Layer):
                incomings.append(value)
                setattr(self, f"{state}_incoming_index", len(incomings) - 1)
        super().__init__(incomings, **kwargs)
        self.backwards = backwards
        self.learn_init = learn_init
        self.gradient_steps = gradient_steps
        self.grad_clipping = grad_clipping
        self.unroll_scan = unroll_scan
        self.precompute_input = precompute_input
        self.only_return_final = only_return_final
        _check_input_shape(self.input_shapes[0], self._who, self._flat_features)
        self._check_options()

    @property
    def _who(self) -> str:
        return _describe(type(self).__name__, self.name)

    def _check_options(self) -> None:
        input_shape = self.input_shapes[0]
        if self.unroll_scan and self.gradient_steps != -1:
            raise ValueError(f"{self._who}: gradient_steps must be -1 when unroll_scan is "
                             f"True (the unrolled loop always backpropagates through the "
                             f"whole sequence), got gradient_steps={self.gradient_steps}")
        if self.unroll_scan and input_shape[1] is None:
            raise ValueError(f"{self._who}: the input sequence length cannot be None when "
                             f"unroll_scan is True (the loop is unrolled when the graph is "
                             f"built), but input_shape={input_shape}")
        if self.mask_incoming_index > 0:
            mask_shape = self.input_shapes[self.mask_incoming_index]
            if len(mask_shape) != 2 or not all(
                    a is None or b is None or a == b
                    for a, b in zip(mask_shape, input_shape[:2])):
                raise ValueError(f"{self._who}: mask_input must give a (batch_size, "
                                 f"sequence_length) matrix matching the input, but its "
                                 f"output shape is {mask_shape} and input_shape="
                                 f"{input_shape}")

    def _check_state_layer(self, state: str, expected: tuple) -> None:
        """Raise ``ValueError`` when the layer given for ``state`` has the wrong shape."""
        index = getattr(self, f"{state}_incoming_index")
        if index < 0:
            return
        shape = self.input_shapes[index]
        if len(shape) != len(expected) or not all(
                a is None or b is None or a == b for a, b in zip(shape, expected)):
            raise ValueError(f"{self._who}: the layer given as {state} must have output "
                             f"shape {expected} (batch_size, state sizes), but has {shape}")

    def _unpack(self, inputs: list, states: tuple) -> tuple:
        """The input (checked), the mask (or None) and each state given by a layer (or
        None), from ``inputs`` of :meth:`get_output_for`."""
        input = inputs[0]
        expected = len(self.input_shapes[0])
        if input.ndim != expected:
            raise ValueError(f"{self._who} expects a {expected}-dimensional input "
                             f"(batch_size, sequence_length, ...) as its input_shape "
                             f"{self.input_shapes[0]} says, but got a {input.ndim}-"
                             f"dimensional one")
        mask = None
        if self.mask_incoming_index > 0:
            mask = inputs[self.mask_incoming_index]
            if mask.ndim != 2:
                raise ValueError(f"{self._who} expects a mask of shape (batch_size, "
                                 f"sequence_length), but got a {mask.ndim}-dimensional one")
        given = []
        for state in states:
            index = getattr(self, f"{state}_incoming_index")
            given.append(inputs[index] if index > 0 else None)
        return input, mask, given

    def _loop(self, step: Callable, input: Any, mask: Any, outputs_info: list,
              non_sequences: list) -> list:
        """Run ``step`` over the first axis of ``input`` (time first), masked by ``mask``
        (batch, time) when given; one stacked result per state, in the order of the steps."""
        sequences = [input]
        if mask is not None:
            # Time first, and a broadcastable axis for each state axis after the batch.
            state_ndim = outputs_info[0].ndim
            sequences.append(mask.dimshuffle(1, 0, *["x"] * (state_ndim - 1)))
            step = _masked(step, len(outputs_info))
        if self.unroll_scan:
            return unroll_scan(step, sequences, outputs_info, non_sequences,
                               n_steps=self.input_shapes[0][1], go_backwards=self.backwards)
        # strict=True, as Lasagne: every shared variable the step reads is listed.
        outputs, _ = exprc.scan(step, sequences=sequences, outputs_info=outputs_info,
                                non_sequences=non_sequences, go_backwards=self.backwards,
                                truncate_gradient=self.gradient_steps, strict=True,
                                return_list=True)
        return outputs

    def _result(self, hid_out: Any) -> Any:
        """The layer's output from the stacked states (time first, in the order of the
        steps): the last one, or all of them batch first and in the input's time order."""
        if self.only_return_final:
            return hid_out[-1]
        hid_out = hid_out.dimshuffle(1, 0, *range(2, hid_out.ndim))
        return hid_out[:, ::-1] if self.backwards else hid_out

    def _clip(self, x: Any) -> Any:
        if not self.grad_clipping:
            return x
        return grad_clip(x, -self.grad_clipping, self.grad_clipping)


def _initial_state(param: Any, given: Any, num_batch: Any) -> Any:
    """The initial state of the loop: the output of the layer given for it, else the
    parameter of shape ``(1, ...)`` repeated for each sequence of the batch."""
    return given if given is not None else T.repeat(param, num_batch, axis=0)


class CustomRecurrentLayer(_RecurrentBase):
    """A recurrent layer with connections given as layers:
    ``h_t = nonlinearity(f_i(x_t) + f_h(h_{t-1}))``.

    Parameters
    ----------
    incoming : Layer or tuple
        The input, of shape ``(batch_size, sequence_length, trailing sizes...)``.
    input_to_hidden : Layer
        ``f_i``: a network (of one or more layers) above its own :class:`InputLayer`, which
        receives one time step ``(batch_size, trailing sizes...)``, or with
        ``precompute_input`` all steps at once ``(batch_size * sequence_length, ...)``.
    hidden_to_hidden : Layer
        ``f_h``: a network above its own :class:`InputLayer`, which receives the previous
        state; its output shape after the first axis is the state's shape.
    nonlinearity : callable or None
        Default :func:`~exprc.nn.nonlinearities.rectify`; None means the identity.
    hid_init : initializer, array, expression or Layer
        The initial state ``h_0``: a parameter of shape ``(1,) + state shape`` (repeated for
        every sequence), or a layer giving ``(batch_size,) + state shape``.
        Default ``Constant(0.)``.
    backwards : bool
        Run from the end of the sequences to their start; the output is still in the
        input's time order.
    learn_init : bool
        Tag ``hid_init`` trainable (when it is a parameter). It is never regularizable.
    gradient_steps : int
        Backpropagate through this many steps only (truncated BPTT); -1 means all.
    grad_clipping : float
        When nonzero, clip the gradient flowing into the pre-activation of every step to
        ``[-grad_clipping, grad_clipping]`` (Graves 2013); the forward pass is unchanged.
    unroll_scan : bool
        Write the loop out step by step instead of using :func:`exprc.scan`; needs a known
        sequence length and ``gradient_steps=-1``.
    precompute_input : bool
        Apply ``input_to_hidden`` to all steps at once before the loop (faster, more memory).
    mask_input : Layer, optional
        Gives the ``(batch_size, sequence_length)`` mask of sequences of different lengths.
    only_return_final : bool
        Output only the last state, ``(batch_size,) + state shape``.
    **kwargs
        ``name``.

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, DenseLayer, CustomRecurrentLayer
    >>> l_in = InputLayer((2, 3, 4))
    >>> l_in_hid = DenseLayer(InputLayer((None, 4)), 5)
    >>> l_hid_hid = DenseLayer(InputLayer((None, 5)), 5)
    >>> l_rec = CustomRecurrentLayer(l_in, l_in_hid, l_hid_hid)
    >>> l_rec.output_shape, len(l_rec.get_params(trainable=True))
    ((2, 3, 5), 4)
    """

    def __init__(self, incoming: Any, input_to_hidden: Layer, hidden_to_hidden: Layer,
                 nonlinearity: Callable | None = nonlinearities.rectify,
                 hid_init: Any = init.Constant(0.),  # noqa: B008
                 backwards: bool = False, learn_init: bool = False, gradient_steps: int = -1,
                 grad_clipping: float = 0, unroll_scan: bool = False,
                 precompute_input: bool = True, mask_input: Layer | None = None,
                 only_return_final: bool = False, **kwargs):
        super().__init__(incoming, mask_input, {"hid_init": hid_init}, backwards, learn_init,
                         gradient_steps, grad_clipping, unroll_scan, precompute_input,
                         only_return_final, **kwargs)
        self.input_to_hidden = input_to_hidden
        self.hidden_to_hidden = hidden_to_hidden
        self._check_connections()
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity
        state_shape = tuple(hidden_to_hidden.output_shape[1:])
        self._check_state_layer("hid_init", (self.input_shapes[0][0],) + state_shape)
        self.hid_init = hid_init if isinstance(hid_init, Layer) else self.add_param(
            hid_init, (1,) + state_shape, name="hid_init", trainable=learn_init,
            regularizable=False)
        # get_output() keyword arguments the connections understand (e.g. deterministic).
        self._connection_kwargs = unique(
            kwarg for layer in helper.get_all_layers([input_to_hidden, hidden_to_hidden])
            for kwarg in inspect_kwargs(layer.get_output_for) + layer.get_output_kwargs)
        self.get_output_kwargs = list(self._connection_kwargs)

    def _check_connections(self) -> None:
        input_shape = self.input_shapes[0]
        i2h, h2h = self.input_to_hidden.output_shape, self.hidden_to_hidden.output_shape

        def agree(a, b):
            return all(s1 is None or s2 is None or s1 == s2 for s1, s2 in zip(a, b))

        if (self.precompute_input and None not in (i2h[0], input_shape[0], input_shape[1])
                and i2h[0] != input_shape[0] * input_shape[1]):
            raise ValueError(f"{self._who}: when precompute_input is True, "
                             f"input_to_hidden.output_shape[0] must be None or "
                             f"batch_size * sequence_length = "
                             f"{input_shape[0] * input_shape[1]}, but input_to_hidden."
                             f"output_shape={i2h} and input_shape={input_shape}")
        if not self.precompute_input and not agree(i2h[:1], h2h[:1]):
            raise ValueError(f"{self._who}: when precompute_input is False, "
                             f"input_to_hidden.output_shape[0] must equal hidden_to_hidden."
                             f"output_shape[0], but they are {i2h} and {h2h}")
        if len(i2h) != len(h2h) or not agree(i2h[1:], h2h[1:]):
            raise ValueError(f"{self._who}: the output shapes of input_to_hidden and "
                             f"hidden_to_hidden must be equal after the first dimension, "
                             f"but input_to_hidden.output_shape={i2h} and hidden_to_hidden."
                             f"output_shape={h2h}")
        h2h_input = helper.get_all_layers(self.hidden_to_hidden)[0].output_shape
        if len(h2h_input) != len(h2h) or not agree(h2h[1:], h2h_input[1:]):
            raise ValueError(f"{self._who}: hidden_to_hidden must take the state it gives, "
                             f"but its input shape is {h2h_input} and its output shape "
                             f"{h2h}")

    def get_params(self, unwrap_shared: bool = True, **tags) -> list:
        """The layer's own parameters (``hid_init``) and those of its two connections."""
        params = super().get_params(unwrap_shared=unwrap_shared, **tags)
        for connection in (self.input_to_hidden, self.hidden_to_hidden):
            params += helper.get_all_params(connection, unwrap_shared=unwrap_shared, **tags)
        return unique(params)

    def get_output_shape_for(self, input_shapes):
        input_shape = input_shapes[0]
        state_shape = tuple(self.hidden_to_hidden.output_shape[1:])
        if self.only_return_final:
            return (input_shape[0],) + state_shape
        return (input_shape[0], input_shape[1]) + state_shape

    def get_output_for(self, inputs, **kwargs):
        """The states for ``inputs``: the input, then the mask and the initial state when
        given as layers (in that order)."""
        input, mask, (hid_init,) = self._unpack(inputs, ("hid_init",))
        kwargs = {k: v for k, v in kwargs.items() if k in self._connection_kwargs}
        input = input.dimshuffle(1, 0, *range(2, input.ndim))   # time first
        seq_len, num_batch = input.shape[0], input.shape[1]
        if self.precompute_input:
            flat = T.reshape(input, (seq_len * num_batch,)
                             + tuple(input.shape[k] for k in range(2, input.ndim)))
            flat = helper.get_output(self.input_to_hidden, flat, **kwargs)
            input = T.reshape(flat, (seq_len, num_batch)
                              + tuple(flat.shape[k] for k in range(1, flat.ndim)))
        # What the step reads from outside, named for scan: the connections' parameters
        # (shared variables, or expressions given in their place).
        connections = [self.hidden_to_hidden]
        if not self.precompute_input:
            connections.append(self.input_to_hidden)
        non_sequences = [param for connection in connections for unwrap in (False, True)
                         for param in helper.get_all_params(connection, unwrap_shared=unwrap)]

        def step(input_n, hid_previous, *args):
            hid_pre = helper.get_output(self.hidden_to_hidden, hid_previous, **kwargs)
            if not self.precompute_input:
                input_n = helper.get_output(self.input_to_hidden, input_n, **kwargs)
            return self.nonlinearity(self._clip(hid_pre + input_n))

        hid_init = _initial_state(self.hid_init, hid_init, num_batch)
        [hid_out] = self._loop(step, input, mask, [hid_init], unique(non_sequences))
        return self._result(hid_out)


class RecurrentLayer(CustomRecurrentLayer):
    """A fully connected recurrent layer:
    ``h_t = nonlinearity(x_t W_in_to_hid + h_{t-1} W_hid_to_hid + b)``.

    A :class:`CustomRecurrentLayer` whose connections are two :class:`DenseLayer`: named
    ``input_to_hidden`` (with the bias) and ``hidden_to_hidden`` (without), prefixed with
    the layer's name; their parameters are also the attributes ``W_in_to_hid``,
    ``W_hid_to_hid`` and ``b``. Trailing input sizes after the sequence axis are flattened.

    Parameters
    ----------
    incoming : Layer or tuple
        The input, of shape ``(batch_size, sequence_length, num_inputs...)``.
    num_units : int
        The number of hidden units.
    W_in_to_hid : initializer, array or expression
        ``(num_inputs, num_units)``; default ``Uniform()``.
    W_hid_to_hid : initializer, array or expression
        ``(num_units, num_units)``; default ``Uniform()``.
    b : initializer, array, expression or None
        ``(num_units,)``, not regularizable; default ``Constant(0.)``; None for no bias.
    nonlinearity : callable or None
        Default :func:`~exprc.nn.nonlinearities.rectify`; None means the identity.
    hid_init, backwards, learn_init, gradient_steps, grad_clipping, unroll_scan, \
precompute_input, mask_input, only_return_final, **kwargs
        As for :class:`CustomRecurrentLayer`; ``hid_init`` has shape ``(1, num_units)``.

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, RecurrentLayer
    >>> l_rec = RecurrentLayer(InputLayer((None, 7, 3)), num_units=4, name="rnn")
    >>> l_rec.output_shape, [p.name for p in l_rec.get_params()]
    ((None, 7, 4), ['rnn.hid_init', 'rnn.input_to_hidden.W', 'rnn.input_to_hidden.b', \
'rnn.hidden_to_hidden.W'])
    """

    def __init__(self, incoming: Any, num_units: int,
                 W_in_to_hid: Any = init.Uniform(),  # noqa: B008
                 W_hid_to_hid: Any = init.Uniform(),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.rectify,
                 hid_init: Any = init.Constant(0.),  # noqa: B008
                 backwards: bool = False, learn_init: bool = False, gradient_steps: int = -1,
                 grad_clipping: float = 0, unroll_scan: bool = False,
                 precompute_input: bool = True, mask_input: Layer | None = None,
                 only_return_final: bool = False, **kwargs):
        input_shape = incoming if isinstance(incoming, tuple) else incoming.output_shape
        name = kwargs.get("name")
        _check_input_shape(input_shape, _describe(type(self).__name__, name),
                           flat_features=True)
        prefix = "" if name is None else f"{name}."
        in_to_hid = DenseLayer(InputLayer((None,) + tuple(input_shape[2:])), num_units,
                               W=W_in_to_hid, b=b, nonlinearity=None,
                               name=f"{prefix}input_to_hidden")
        hid_to_hid = DenseLayer(InputLayer((None, num_units)), num_units, W=W_hid_to_hid,
                                b=None, nonlinearity=None, name=f"{prefix}hidden_to_hidden")
        self.W_in_to_hid = in_to_hid.W
        self.W_hid_to_hid = hid_to_hid.W
        self.b = in_to_hid.b
        super().__init__(incoming, in_to_hid, hid_to_hid, nonlinearity=nonlinearity,
                         hid_init=hid_init, backwards=backwards, learn_init=learn_init,
                         gradient_steps=gradient_steps, grad_clipping=grad_clipping,
                         unroll_scan=unroll_scan, precompute_input=precompute_input,
                         mask_input=mask_input, only_return_final=only_return_final,
                         **kwargs)


class Gate:
    """The parameters of one gate of an :class:`LSTMLayer` or :class:`GRULayer`.

    Each argument is an initializer, an array or an expression, used for a parameter of the
    layer that receives the gate (``W_in_to_<gate>`` of shape ``(num_inputs, num_units)``,
    ``W_hid_to_<gate>`` ``(num_units, num_units)``, ``b_<gate>`` ``(num_units,)`` and,
    for an LSTM's peepholes, ``W_cell_to_<gate>`` ``(num_units,)``).

    Parameters
    ----------
    W_in : default ``Normal(0.1)``
    W_hid : default ``Normal(0.1)``
    W_cell : default ``Normal(0.1)``; None for a gate without a cell (peephole) connection
    b : default ``Constant(0.)``
    nonlinearity : callable or None
        Default :func:`~exprc.nn.nonlinearities.sigmoid`; None means the identity.

    Examples
    --------
    >>> from exprc.nn.layers import Gate
    >>> from exprc.nn import init, nonlinearities
    >>> forget = Gate(b=init.Constant(1.))   # the common forget-gate bias of 1
    >>> cell = Gate(W_cell=None, nonlinearity=nonlinearities.tanh)
    >>> cell.W_cell is None, cell.nonlinearity is nonlinearities.tanh
    (True, True)
    """

    def __init__(self, W_in: Any = init.Normal(0.1),  # noqa: B008
                 W_hid: Any = init.Normal(0.1),  # noqa: B008
                 W_cell: Any = init.Normal(0.1),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.sigmoid):
        self.W_in = W_in
        self.W_hid = W_hid
        self.W_cell = W_cell
        self.b = b
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity


class _GatedBase(_RecurrentBase):
    """The part :class:`LSTMLayer` and :class:`GRULayer` share: gates as parameters of the
    layer itself, their stacking into one matrix, and the initial states."""

    _flat_features = True
    #: The gates in the order of their columns in the stacked weights (set by subclasses).
    _gate_names: tuple = ()

    def _init_gated(self, num_units: int, gates: dict, states: dict) -> None:
        """Create each gate's parameters, in the order of ``gates``, and remember the
        initial states for :meth:`_init_states`."""
        self.num_units = num_units
        num_inputs = int(np.prod(self.input_shapes[0][2:]))
        for gate_name, gate in gates.items():
            setattr(self, f"W_in_to_{gate_name}", self.add_param(
                gate.W_in, (num_inputs, num_units), name=f"W_in_to_{gate_name}"))
            setattr(self, f"W_hid_to_{gate_name}", self.add_param(
                gate.W_hid, (num_units, num_units), name=f"W_hid_to_{gate_name}"))
            setattr(self, f"b_{gate_name}", self.add_param(
                gate.b, (num_units,), name=f"b_{gate_name}", regularizable=False))
        self._states = states

    def _init_states(self) -> None:
        """Create each initial state's parameter (when not given as a layer)."""
        for state, value in self._states.items():
            self._check_state_layer(state, (self.input_shapes[0][0], self.num_units))
            setattr(self, state, value if isinstance(value, Layer) else self.add_param(
                value, (1, self.num_units), name=state, trainable=self.learn_init,
                regularizable=False))

    def _stacked(self) -> tuple:
        """The gates' input weights, hidden weights and biases, each concatenated over the
        gates (in their order) so that one product computes every gate."""
        names = self._gate_names
        W_in = T.concatenate([getattr(self, f"W_in_to_{g}") for g in names], axis=1)
        W_hid = T.concatenate([getattr(self, f"W_hid_to_{g}") for g in names], axis=1)
        b = T.concatenate([getattr(self, f"b_{g}") for g in names], axis=0)
        return W_in, W_hid, b

    def get_output_shape_for(self, input_shapes):
        input_shape = input_shapes[0]
        if self.only_return_final:
            return (input_shape[0], self.num_units)
        return (input_shape[0], input_shape[1], self.num_units)

    def _run(self, inputs: list, step: Callable, extra_non_sequences: list) -> list:
        """Prepare the input, run ``step`` with the states and return the stacked states.

        ``step(input_n, *states, W_hid, *extra_non_sequences[, W_in, b])`` receives the
        input's product with the stacked input weights plus the biases when
        ``precompute_input``, the raw input step (and the weights) otherwise.
        """
        input, mask, given = self._unpack(inputs, tuple(self._states))
        if input.ndim > 3:
            input = T.flatten(input, 3)
        input = input.dimshuffle(1, 0, 2)   # time first
        num_batch = input.shape[1]
        W_in, W_hid, b = self._stacked()
        non_sequences = [W_hid] + extra_non_sequences
        if self.precompute_input:
            input = T.dot(input, W_in) + b
        else:
            non_sequences += [W_in, b]
        outputs_info = [_initial_state(getattr(self, state), value, num_batch)
                        for state, value in zip(self._states, given)]
        return self._loop(step, input, mask, outputs_info, non_sequences)


class LSTMLayer(_GatedBase):
    r"""A long short-term memory layer, with optional peephole connections:

    .. math::
        i_t &= \sigma_i(x_t W_{xi} + h_{t-1} W_{hi} + w_{ci} \odot c_{t-1} + b_i) \\
        f_t &= \sigma_f(x_t W_{xf} + h_{t-1} W_{hf} + w_{cf} \odot c_{t-1} + b_f) \\
        c_t &= f_t \odot c_{t-1} + i_t \odot \sigma_c(x_t W_{xc} + h_{t-1} W_{hc} + b_c) \\
        o_t &= \sigma_o(x_t W_{xo} + h_{t-1} W_{ho} + w_{co} \odot c_t + b_o) \\
        h_t &= o_t \odot \sigma_h(c_t)

    (the :math:`w_c` terms only with ``peepholes``). The output is :math:`h`.

    Parameters
    ----------
    incoming : Layer or tuple
        The input, ``(batch_size, sequence_length, num_inputs...)``; trailing sizes are
        flattened.
    num_units : int
        The number of hidden units (and cells).
    ingate, forgetgate, cell, outgate : Gate
        The parameters of each gate; the defaults are ``Gate()``, except
        ``cell=Gate(W_cell=None, nonlinearity=tanh)``. They become the parameters
        ``W_in_to_<gate>``, ``W_hid_to_<gate>``, ``b_<gate>`` and, with ``peepholes``,
        ``W_cell_to_<gate>`` for ``ingate``, ``forgetgate`` and ``outgate``.
    nonlinearity : callable or None
        :math:`\sigma_h`; default :func:`~exprc.nn.nonlinearities.tanh`; None: the identity.
    cell_init, hid_init : initializer, array, expression or Layer
        Initial cell and hidden states: parameters of shape ``(1, num_units)``, or layers
        giving ``(batch_size, num_units)``. Default ``Constant(0.)``.
    peepholes : bool
        Add the cell-to-gate connections (vectors, i.e. elementwise). Default True.
    backwards, learn_init, gradient_steps, grad_clipping, unroll_scan
        As for :class:`CustomRecurrentLayer`; gradients are clipped at the gates'
        pre-activations, and ``learn_init`` applies to both initial states.
    precompute_input, mask_input, only_return_final, **kwargs
        As for :class:`CustomRecurrentLayer`.

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, LSTMLayer, Gate
    >>> from exprc.nn import init
    >>> l_lstm = LSTMLayer(InputLayer((None, 28, 28)), 16,
    ...                    forgetgate=Gate(b=init.Constant(1.)), only_return_final=True)
    >>> l_lstm.output_shape, l_lstm.W_in_to_ingate.get_value().shape
    ((None, 16), (28, 16))
    """

    _gate_names = ("ingate", "forgetgate", "cell", "outgate")

    def __init__(self, incoming: Any, num_units: int,
                 ingate: Gate = Gate(),  # noqa: B008
                 forgetgate: Gate = Gate(),  # noqa: B008
                 cell: Gate = Gate(W_cell=None, nonlinearity=nonlinearities.tanh),  # noqa: B008
                 outgate: Gate = Gate(),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.tanh,
                 cell_init: Any = init.Constant(0.),  # noqa: B008
                 hid_init: Any = init.Constant(0.),  # noqa: B008
                 backwards: bool = False, learn_init: bool = False, peepholes: bool = True,
                 gradient_steps: int = -1, grad_clipping: float = 0,
                 unroll_scan: bool = False, precompute_input: bool = True,
                 mask_input: Layer | None = None, only_return_final: bool = False, **kwargs):
        # Lasagne's incoming order: input, mask, hid_init, cell_init; parameter order: the
        # gates, the peepholes, cell_init, hid_init.
        super().__init__(incoming, mask_input, {"hid_init": hid_init, "cell_init": cell_init},
                         backwards, learn_init, gradient_steps, grad_clipping, unroll_scan,
                         precompute_input, only_return_final, **kwargs)
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity
        self.peepholes = peepholes
        self._init_gated(num_units, {"ingate": ingate, "forgetgate": forgetgate,
                                     "cell": cell, "outgate": outgate},
                         {"cell_init": cell_init, "hid_init": hid_init})
        self.nonlinearity_ingate = ingate.nonlinearity
        self.nonlinearity_forgetgate = forgetgate.nonlinearity
        self.nonlinearity_cell = cell.nonlinearity
        self.nonlinearity_outgate = outgate.nonlinearity
        if peepholes:
            for gate_name, gate in (("ingate", ingate), ("forgetgate", forgetgate),
                                    ("outgate", outgate)):
                if gate.W_cell is None:
                    raise ValueError(f"{self._who}: peepholes=True needs a W_cell for the "
                                     f"{gate_name}, but its Gate has W_cell=None")
                setattr(self, f"W_cell_to_{gate_name}", self.add_param(
                    gate.W_cell, (num_units,), name=f"W_cell_to_{gate_name}"))
        self._init_states()

    def _step(self, input_n, cell_previous, hid_previous, W_hid, *args):
        """One step: the new cell and hidden states (see the class's equations)."""
        if self.peepholes:
            w_ingate, w_forgetgate, w_outgate, *args = args
        if not self.precompute_input:
            W_in, b = args
            input_n = T.dot(input_n, W_in) + b
        gates = self._clip(input_n + T.dot(hid_previous, W_hid))
        ingate, forgetgate, cell_input, outgate = (
            _slice_units(gates, n, self.num_units) for n in range(4))
        if self.peepholes:
            ingate = ingate + cell_previous * w_ingate
            forgetgate = forgetgate + cell_previous * w_forgetgate
        ingate = self.nonlinearity_ingate(ingate)
        forgetgate = self.nonlinearity_forgetgate(forgetgate)
        cell = forgetgate * cell_previous + ingate * self.nonlinearity_cell(cell_input)
        if self.peepholes:
            outgate = outgate + cell * w_outgate
        hid = self.nonlinearity_outgate(outgate) * self.nonlinearity(cell)
        return [cell, hid]

    def get_output_for(self, inputs, **kwargs):
        """The hidden states for ``inputs``: the input, then the mask, ``hid_init`` and
        ``cell_init`` when given as layers (in that order)."""
        peepholes = ([self.W_cell_to_ingate, self.W_cell_to_forgetgate,
                      self.W_cell_to_outgate] if self.peepholes else [])
        _, hid_out = self._run(inputs, self._step, peepholes)
        return self._result(hid_out)


class GRULayer(_GatedBase):
    r"""A gated recurrent unit layer (Cho et al. 2014):

    .. math::
        r_t &= \sigma_r(x_t W_{xr} + h_{t-1} W_{hr} + b_r) \\
        u_t &= \sigma_u(x_t W_{xu} + h_{t-1} W_{hu} + b_u) \\
        c_t &= \sigma_c(x_t W_{xc} + r_t \odot (h_{t-1} W_{hc}) + b_c) \\
        h_t &= (1 - u_t) \odot h_{t-1} + u_t \odot c_t

    Parameters
    ----------
    incoming : Layer or tuple
        The input, ``(batch_size, sequence_length, num_inputs...)``; trailing sizes are
        flattened.
    num_units : int
        The number of hidden units.
    resetgate, updategate : Gate
        Default ``Gate(W_cell=None)``.
    hidden_update : Gate
        Default ``Gate(W_cell=None, nonlinearity=tanh)``. The gates give the parameters
        ``W_in_to_<gate>``, ``W_hid_to_<gate>`` and ``b_<gate>`` (``W_cell`` is not used).
    hid_init : initializer, array, expression or Layer
        The initial state: a parameter of shape ``(1, num_units)`` or a layer giving
        ``(batch_size, num_units)``. Default ``Constant(0.)``.
    backwards, learn_init, gradient_steps, grad_clipping, unroll_scan
        As for :class:`CustomRecurrentLayer`; gradients are clipped at the input and hidden
        contributions and at the hidden update's pre-activation.
    precompute_input, mask_input, only_return_final, **kwargs
        As for :class:`CustomRecurrentLayer`.

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, GRULayer
    >>> l_gru = GRULayer(InputLayer((None, None, 3)), num_units=6, backwards=True)
    >>> l_gru.output_shape, l_gru.W_hid_to_resetgate.get_value().shape
    ((None, None, 6), (6, 6))
    """

    _gate_names = ("resetgate", "updategate", "hidden_update")

    def __init__(self, incoming: Any, num_units: int,
                 resetgate: Gate = Gate(W_cell=None),  # noqa: B008
                 updategate: Gate = Gate(W_cell=None),  # noqa: B008
                 hidden_update: Gate = Gate(W_cell=None,  # noqa: B008
                                            nonlinearity=nonlinearities.tanh),
                 hid_init: Any = init.Constant(0.),  # noqa: B008
                 backwards: bool = False, learn_init: bool = False, gradient_steps: int = -1,
                 grad_clipping: float = 0, unroll_scan: bool = False,
                 precompute_input: bool = True, mask_input: Layer | None = None,
                 only_return_final: bool = False, **kwargs):
        super().__init__(incoming, mask_input, {"hid_init": hid_init}, backwards, learn_init,
                         gradient_steps, grad_clipping, unroll_scan, precompute_input,
                         only_return_final, **kwargs)
        # Lasagne's parameter order: the update gate's first (the stacking order differs).
        self._init_gated(num_units, {"updategate": updategate, "resetgate": resetgate,
                                     "hidden_update": hidden_update},
                         {"hid_init": hid_init})
        self.nonlinearity_resetgate = resetgate.nonlinearity
        self.nonlinearity_updategate = updategate.nonlinearity
        self.nonlinearity_hid = hidden_update.nonlinearity
        self._init_states()

    def _step(self, input_n, hid_previous, W_hid, *args):
        """One step: the new hidden state (see the class's equations)."""
        hid_input = T.dot(hid_previous, W_hid)
        input_n = self._clip(input_n)
        hid_input = self._clip(hid_input)
        if not self.precompute_input:
            W_in, b = args
            input_n = T.dot(input_n, W_in) + b
        units = self.num_units
        resetgate = self.nonlinearity_resetgate(
            _slice_units(hid_input, 0, units) + _slice_units(input_n, 0, units))
        updategate = self.nonlinearity_updategate(
            _slice_units(hid_input, 1, units) + _slice_units(input_n, 1, units))
        hidden_update = (_slice_units(input_n, 2, units)
                         + resetgate * _slice_units(hid_input, 2, units))
        hidden_update = self.nonlinearity_hid(self._clip(hidden_update))
        return (1 - updategate) * hid_previous + updategate * hidden_update

    def get_output_for(self, inputs, **kwargs):
        """The hidden states for ``inputs``: the input, then the mask and ``hid_init`` when
        given as layers (in that order)."""
        [hid_out] = self._run(inputs, self._step, [])
        return self._result(hid_out)
