"""Activation functions and losses of ``T.nnet``, built from elementwise primitives."""

__all__: list[str] = []
