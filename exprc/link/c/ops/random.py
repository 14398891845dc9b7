"""C rules of random number generation (RandomStreams' counter-based generator)."""
