"""Registry cases of pooling (pool_2d and its gradients)."""
