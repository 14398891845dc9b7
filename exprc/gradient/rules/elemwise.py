"""Gradient rules of Elemwise and DimShuffle."""
