"""Registry cases of Elemwise and DimShuffle (being written)."""
