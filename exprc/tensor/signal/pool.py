"""Pooling: ``pool_2d`` over the last two axes, and its gradients."""

__all__: list[str] = []
