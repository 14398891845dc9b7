"""Convolution: ``T.nnet.conv2d`` (NCHW) and its gradients."""

__all__: list[str] = []
