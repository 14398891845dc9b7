"""The layer library: Lasagne's layers, initializers, nonlinearities, objectives,
regularization and updates, built on exprc's public API only.

>>> import exprc.nn as nn
>>> l_in = nn.layers.InputLayer((None, 2))
>>> l_out = nn.layers.DenseLayer(l_in, 1, nonlinearity=nn.nonlinearities.sigmoid)
>>> nn.layers.get_output_shape(l_out)
(None, 1)
"""

from exprc.nn import (
    init,
    layers,
    nonlinearities,
    objectives,
    random,
    regularization,
    updates,
    utils,
)

__all__ = ["init", "layers", "nonlinearities", "objectives", "random", "regularization",
           "updates", "utils"]
