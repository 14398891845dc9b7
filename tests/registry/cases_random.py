"""Registry cases of random number generation (RandomStreams' counter-based generator)."""
