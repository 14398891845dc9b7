"""Reference implementations of the indexing ops: NumPy indexing itself.

Reading returns NumPy's result (a view for basic indices); setting and incrementing work on a
copy, so no input is ever modified.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from exprc.link.reference.table import REFERENCE
from exprc.tensor.subtensor import (
    SCALAR,
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    IncSubtensor,
    SliceSpec,
    Subtensor,
)


def numpy_index(idx_list: tuple, index_values: list[np.ndarray]) -> tuple:
    """The NumPy index that ``idx_list`` describes, given the values of its index inputs."""
    values: Iterator[np.ndarray] = iter(index_values)

    def component(part: Any) -> Any:
        return int(next(values)) if part == SCALAR else part

    index = []
    for entry in idx_list:
        if isinstance(entry, SliceSpec):
            index.append(slice(*map(component, entry)))
        elif isinstance(entry, str):
            index.append(component(entry) if entry == SCALAR else next(values))
        else:
            index.append(entry)
    return tuple(index)


@REFERENCE.register(Subtensor, AdvancedSubtensor)
def subtensor(node, x, *index_values):
    return [np.asarray(x[numpy_index(node.op.idx_list, list(index_values))])]


@REFERENCE.register(IncSubtensor, AdvancedIncSubtensor)
def inc_subtensor(node, x, y, *index_values):
    op = node.op
    index = numpy_index(op.idx_list, list(index_values))
    out = x.copy()
    if op.set_instead_of_inc:
        out[index] = y
    elif isinstance(op, IncSubtensor) or op.ignore_duplicates:
        # Basic indices never repeat a position, so a plain += is exact for them.
        out[index] += y
    else:
        np.add.at(out, index, y)
    return [out]
