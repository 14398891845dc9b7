"""Batch normalization (``T.nnet.bn``), built from primitives so that gradients follow."""

__all__: list[str] = []
