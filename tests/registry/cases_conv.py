"""Registry cases of convolution (conv2d and its gradients)."""
