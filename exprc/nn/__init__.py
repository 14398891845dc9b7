"""The layer library: Lasagne's layers, initializers, nonlinearities, objectives,
regularization and updates, built on exprc's public API only."""
