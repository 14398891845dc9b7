"""Two-level hierarchical softmax (Theano's ``T.nnet.h_softmax``)."""

from __future__ import annotations

from typing import Any

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.tensor.basic import arange
from exprc.tensor.linalg import dot, tensordot
from exprc.tensor.math import int_div, mod
from exprc.tensor.nnet.softmax import softmax
from exprc.tensor.reduction import sum as reduce_sum
from exprc.tensor.type import INTEGER_DTYPES
from exprc.tensor.variable import as_tensor_variable

__all__ = ["h_softmax"]


def h_softmax(x: Any, batch_size: Any, n_outputs: int, n_classes: int,
              n_outputs_per_class: int, W1: Any, b1: Any, W2: Any, b2: Any,
              target: Any = None):
    """A two-level hierarchical softmax over ``n_outputs`` outputs (Theano's signature).

    The outputs are split into ``n_classes`` classes of ``n_outputs_per_class`` outputs each
    (``n_classes * n_outputs_per_class >= n_outputs``). The probability of output ``t`` is
    that of its class, ``softmax(x W1 + b1)[t // n_outputs_per_class]``, times its probability
    within the class, ``softmax(x W2[c] + b2[c])[t % n_outputs_per_class]``.

    Parameters
    ----------
    x : matrix (batch_size, n_in)
        The inputs.
    batch_size : int or integer scalar
        The number of rows of ``x``.
    n_outputs, n_classes, n_outputs_per_class : int
        The sizes above.
    W1, b1 : matrix (n_in, n_classes) and vector (n_classes,)
        The first level's weights and biases.
    W2, b2 : tensor3 (n_classes, n_in, n_outputs_per_class) and matrix
        (n_classes, n_outputs_per_class)
        The second level's, one set per class.
    target : integer vector (batch_size,), optional
        The outputs whose probabilities are wanted (training computes only those).

    Returns
    -------
    TensorVariable
        With ``target``, the vector of each row's probability of its target; without, the
        matrix (batch_size, n_outputs) of every output's probability.
    """
    x, W1, b1, W2, b2 = (as_tensor_variable(v) for v in (x, W1, b1, W2, b2))
    for var, ndim, what in [(x, 2, "x"), (W1, 2, "W1"), (b1, 1, "b1"), (W2, 3, "W2"),
                            (b2, 2, "b2")]:
        if var.ndim != ndim:
            raise build_error(ExprcShapeError, "h_softmax", f"{what} must have {ndim} "
                              f"dimensions, got {var} of type {var.type}")
    if n_classes * n_outputs_per_class < n_outputs:
        raise build_error(ExprcShapeError, "h_softmax", f"{n_classes} classes of "
                          f"{n_outputs_per_class} outputs cannot hold {n_outputs} outputs")
    class_probs = softmax(dot(x, W1) + b1)
    if target is None:
        # (batch, n_classes, n_outputs_per_class): every class's distribution for every row.
        output_probs = softmax(tensordot(x, W2, axes=[[1], [1]]) + b2, axis=-1)
        joint = class_probs.dimshuffle(0, 1, "x") * output_probs
        flat = joint.reshape((batch_size, n_classes * n_outputs_per_class))
        return flat[:, :n_outputs]
    target = as_tensor_variable(target)
    if target.ndim != 1 or target.dtype not in INTEGER_DTYPES:
        raise build_error(ExprcTypeError, "h_softmax", f"target must be an integer vector, "
                          f"got {target} of type {target.type}")
    target_classes = int_div(target, n_outputs_per_class)
    in_class = mod(target, n_outputs_per_class)
    # Only the target class's second level is computed for each row.
    activations = reduce_sum(x.dimshuffle(0, 1, "x") * W2[target_classes], axis=1)
    output_probs = softmax(activations + b2[target_classes])
    rows = arange(target.shape[0])
    return class_probs[rows, target_classes] * output_probs[rows, in_class]
