"""CUDA rule of the gradient filters: forward, each is its input (the same device array)."""

from __future__ import annotations

from exprc.link.cuda.program import CUDA_CODE, Build
from exprc.tensor.gradient_filters import GradientFilter


@CUDA_CODE.register(GradientFilter)
def gradient_filter(node, build: Build):
    return lambda run, args: [args[0]]
