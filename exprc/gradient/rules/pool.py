"""Gradient rules of pooling (pool_2d and its gradients)."""
