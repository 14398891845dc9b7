"""Gradient rules of convolution (conv2d and its gradients)."""
