"""Registry cases of ops made from graphs (``exprc.OpFromGraph``): one and several outputs,
nested, inline, a constant read inside, and an output passed through unchanged. (Shared
variables read inside are tested in ``tests/test_opfromgraph.py``: registry graphs read only
their inputs and constants.)"""

import numpy as np

import exprc
import exprc.tensor as T
from tests.registry import Arg, Case, add

_x, _y = T.dmatrix("x"), T.dmatrix("y")
_v = T.dvector("v")
_W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
_w = T.constant(_W)

SIMPLE = exprc.OpFromGraph([_x, _y], [_x * _y + T.exp(_x)], name="simple")
SEVERAL = exprc.OpFromGraph([_x, _y], [T.tanh(_x) - _y, (_x * _x).sum(axis=1), _y],
                            name="several")
NESTED = exprc.OpFromGraph([_x, _y], [SIMPLE(_x, SIMPLE(_y, _x)) * 0.5], name="nested")
INLINE = exprc.OpFromGraph([_x, _y], [T.sqr(_x - _y).sum()], inline=True, name="inline")
WITH_CONSTANT = exprc.OpFromGraph([_v], [T.dot(_w, _v) + _w.sum()], name="with_constant")


def _simple(x, y):
    return x * y + np.exp(x)


add(
    Case("opfromgraph/simple", SIMPLE, _simple, [Arg((2, 3)), Arg((2, 3))]),
    Case("opfromgraph/broadcast_static", lambda x, y: SIMPLE(x, y), _simple,
         [Arg((1, 3), static=(1, 3)), Arg((4, 3))]),
    Case("opfromgraph/twice", lambda x, y: SIMPLE(SIMPLE(x, y), y),
         lambda x, y: _simple(_simple(x, y), y), [Arg((2, 2)), Arg((2, 2))]),
    Case("opfromgraph/several", SEVERAL,
         lambda x, y: [np.tanh(x) - y, (x * x).sum(axis=1), y.copy()],
         [Arg((3, 2)), Arg((3, 2))],
         grad="several outputs; their gradient is checked in tests/test_opfromgraph.py"),
    Case("opfromgraph/several/combined", lambda x, y: sum(o.sum() for o in SEVERAL(x, y)),
         lambda x, y: (np.tanh(x) - y).sum() + (x * x).sum() + y.sum(),
         [Arg((3, 2)), Arg((3, 2))]),
    Case("opfromgraph/nested", NESTED, lambda x, y: _simple(x, _simple(y, x)) * 0.5,
         [Arg((2, 3)), Arg((2, 3))]),
    Case("opfromgraph/inline", INLINE, lambda x, y: np.array(((x - y) ** 2).sum()),
         [Arg((3, 3)), Arg((3, 3))]),
    Case("opfromgraph/constant_inside", WITH_CONSTANT, lambda v: _W @ v + _W.sum(),
         [Arg((3,))]),
    Case("opfromgraph/empty", SIMPLE, _simple, [Arg((0, 3)), Arg((0, 3))]),
)
