"""Reference implementation of ``Composite``: its scalar program, one NumPy call per step.

Each step is computed exactly as the ``Elemwise`` node it replaced (same NumPy function, same
dtype handling, through :func:`~exprc.link.reference.elemwise.apply_scalar_op`), so fusing
never changes a result, not even by rounding.
"""

from __future__ import annotations

import numpy as np

from exprc.link.reference.elemwise import apply_scalar_op
from exprc.link.reference.table import REFERENCE
from exprc.tensor.composite import Composite, constant_value


@REFERENCE.register(Composite)
def composite(node, *inputs):
    op = node.op
    dtypes = op.step_dtypes([x.dtype.name for x in inputs])
    temps: list[np.ndarray] = []
    for (sop, args), dtype in zip(op.steps, dtypes):
        operands = [inputs[r[1]] if r[0] == "i" else temps[r[1]] if r[0] == "t"
                    else constant_value(r) for r in args]
        temps.append(apply_scalar_op(sop, dtype, operands))
    np.broadcast_shapes(*(x.shape for x in inputs))  # all inputs must broadcast together
    results = []
    for step, deps in zip(op.outputs, op.output_inputs()):
        # Each output has the broadcast shape of the inputs it depends on, in its own buffer.
        shape = np.broadcast_shapes(*(inputs[k].shape for k in deps), (1,) * node.inputs[0].ndim)
        out = np.empty(shape, dtype=dtypes[step])
        out[...] = temps[step]
        results.append(out)
    return results
