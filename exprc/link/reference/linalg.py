"""Reference implementations of ``Dot`` and ``BatchedDot``."""

from __future__ import annotations

import numpy as np

from exprc.link.reference.table import REFERENCE
from exprc.tensor.linalg import BatchedDot, Dot


@REFERENCE.register(Dot)
def dot(node, a, b):
    dtype = node.outputs[0].dtype
    # np.dot raises ValueError when the inner sizes differ at run time.
    return [np.asarray(np.dot(a.astype(dtype, copy=False), b.astype(dtype, copy=False)))]


@REFERENCE.register(BatchedDot)
def batched_dot(node, a, b):
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"batched_dot: batch sizes differ: a has shape {a.shape}, b has "
                         f"shape {b.shape}")
    if a.shape[2] != b.shape[1]:
        raise ValueError(f"batched_dot: inner dimensions differ: a has shape {a.shape}, b has "
                         f"shape {b.shape}")
    dtype = node.outputs[0].dtype
    return [np.matmul(a.astype(dtype, copy=False), b.astype(dtype, copy=False))]
