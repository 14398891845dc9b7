"""Registry cases of the lazy conditional (``exprc.ifelse.ifelse``): each branch taken, with
bool and integer conditions, several values, branch values of different shapes, work shared by
both branches, nesting, 0-d and empty values."""

import numpy as np

import exprc.tensor as T
from exprc.ifelse import ifelse
from tests.registry import Arg, Case, add


def _cond(value, dtype="int8"):
    return Arg((), dtype, gen=lambda rng: np.array(value), differentiable=False)


for _taken, _value in (("then", 1), ("else", 0)):
    add(Case(f"ifelse/{_taken}", lambda c, x: ifelse(c, T.exp(x), x * 2.0),
             lambda c, x: np.exp(x) if c else x * 2.0, [_cond(_value), Arg((3, 4))]))
    add(Case(f"ifelse/{_taken}/bool", lambda c, x, y: ifelse(c, T.tanh(x) * y, y - x),
             lambda c, x, y: np.tanh(x) * y if c else y - x,
             [_cond(bool(_value), "bool"), Arg((4,)), Arg((4,))]))
    add(Case(f"ifelse/{_taken}/shared_work",
             lambda c, x: ifelse(c, T.exp(x).sum(axis=0), T.exp(x).max(axis=0)),
             lambda c, x: np.exp(x).sum(axis=0) if c else np.exp(x).max(axis=0),
             [_cond(_value), Arg((3, 2))]))
    add(Case(f"ifelse/{_taken}/different_shapes", lambda c, x, y: ifelse(c, x * 3.0, y[1:]),
             lambda c, x, y: x * 3.0 if c else y[1:], [_cond(_value), Arg((2, 3)), Arg((4, 3))]))
    add(Case(f"ifelse/{_taken}/several",
             lambda c, x, y: ifelse(c, [x + 1.0, (x * y).sum()], [x * y, T.constant(0.5)]),
             lambda c, x, y: [x + 1.0, np.array((x * y).sum())] if c else [x * y,
                                                                          np.array(0.5)],
             [_cond(_value), Arg((3,)), Arg((3,))],
             grad="several outputs; their gradient is checked in tests/test_ifelse.py"))

add(
    Case("ifelse/int32_condition", lambda c, x: ifelse(c, T.sqrt(x), x),
         lambda c, x: np.sqrt(x) if c else x, [_cond(7, "int32"), Arg((5,), low=0.5, high=2.0)]),
    Case("ifelse/0d", lambda c, x, y: ifelse(c, x * y, x - y),
         lambda c, x, y: x * y if c else x - y, [_cond(0), Arg(()), Arg(())]),
    Case("ifelse/empty", lambda c, x: ifelse(c, x + 1.0, x), lambda c, x: x + 1.0 if c else x,
         [_cond(1), Arg((0, 3))]),
    Case("ifelse/nested",
         lambda c, d, x: ifelse(c, ifelse(d, T.exp(x), T.log1p(x * x)), -x),
         lambda c, d, x: (np.exp(x) if d else np.log1p(x * x)) if c else -x,
         [_cond(1), _cond(0), Arg((2, 3))]),
    Case("ifelse/integer_values", lambda c, i: ifelse(c, i * 2, i + 1),
         lambda c, i: i * 2 if c else i + 1, [_cond(0), Arg((4,), "int64", low=-5, high=5)],
         grad="integer values"),
    Case("ifelse/weak_scalar", lambda c, x: ifelse(c, x.sum(), 0.0),
         lambda c, x: np.array(x.sum() if c else 0.0, dtype="float32"),
         [_cond(0), Arg((3,), "float32")], grad="float32 values"),
)
