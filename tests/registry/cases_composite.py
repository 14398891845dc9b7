"""Registry cases of ``Composite`` (fused elementwise programs)."""

import numpy as np

import exprc.tensor as T
from exprc.tensor.composite import compose
from tests.registry import Arg, Case, add


def _fused(fn, dtypes, ndim):
    """An op computing ``fn`` over inputs of ``dtypes`` and rank ``ndim``, as one Composite.

    ``fn`` returns one expression or a list; the case's build applies the op to its inputs.
    """
    templates = [T.TensorType(d, shape=(None,) * ndim)() for d in dtypes]
    outs = fn(*templates)
    op = compose(templates, outs if isinstance(outs, list) else [outs])
    return op


_EXP_MUL_ADD = _fused(lambda a, b, c: T.exp(a) * b + c, ["float64"] * 3, 2)
_RELU_MASK = _fused(lambda a, b: [T.maximum(a + b, 0.0), T.ge(a + b, 0.0)], ["float64"] * 2, 2)
_TANH_SQR = _fused(lambda a, b: [T.tanh(a * b), T.sqr(a * b) * 0.5], ["float64"] * 2, 1)
_MIXED = _fused(lambda i, x: T.cast(i, "float32") * x / 3, ["int32", "float32"], 1)
_SWITCH = _fused(lambda c, a: T.switch(T.gt(c, 0), a * c, -a), ["float64"] * 2, 0)


def _relu_mask(a, b):
    return [np.maximum(a + b, 0.0), a + b >= 0.0]


add(Case("composite/exp_mul_add", _EXP_MUL_ADD, lambda a, b, c: np.exp(a) * b + c,
         [Arg((3, 4)), Arg((3, 4)), Arg((3, 4))]),
    Case("composite/runtime_broadcast", _EXP_MUL_ADD, lambda a, b, c: np.exp(a) * b + c,
         [Arg((3, 1)), Arg((1, 4)), Arg((3, 4))]),
    Case("composite/empty", _EXP_MUL_ADD, lambda a, b, c: np.exp(a) * b + c,
         [Arg((0, 4)), Arg((1, 4)), Arg((0, 1))]),
    Case("composite/multi_output", _RELU_MASK, _relu_mask, [Arg((3, 4)), Arg((1, 4))],
         grad="two outputs; composite/multi_output_sum differentiates both"),
    Case("composite/multi_output_sum", lambda a, b: T.add(*_TANH_SQR(a, b)),
         lambda a, b: np.tanh(a * b) + np.square(a * b) * 0.5, [Arg((5,)), Arg((5,))]),
    Case("composite/mixed_dtypes", _MIXED,
         lambda i, x: i.astype("float32") * x / np.float32(3),
         [Arg((6,), "int32", -5, 5), Arg((6,), "float32")], rtol=1e-6,
         grad="integer and float32 inputs"),
    Case("composite/switch_0d", _SWITCH, lambda c, a: np.where(c > 0, a * c, -a),
         [Arg((), gen=lambda rng: rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2)), Arg(())]))
