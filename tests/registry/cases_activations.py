"""Registry cases of the neural-network activations, losses and batch normalization."""
