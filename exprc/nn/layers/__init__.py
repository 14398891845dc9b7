"""Layers (Lasagne's ``lasagne.layers``): the building blocks of networks and the functions
that work on whole networks.

>>> import exprc.nn as nn
>>> l_in = nn.layers.InputLayer((None, 784))
>>> l_hid = nn.layers.DenseLayer(l_in, num_units=100)
>>> l_out = nn.layers.DenseLayer(l_hid, num_units=10, nonlinearity=nn.nonlinearities.softmax)
>>> nn.layers.get_output_shape(l_out), nn.layers.count_params(l_out)
((None, 10), 79510)
"""

from exprc.nn.layers.base import *
from exprc.nn.layers.conv import *
from exprc.nn.layers.dense import *
from exprc.nn.layers.embedding import *
from exprc.nn.layers.helper import *
from exprc.nn.layers.input import *
from exprc.nn.layers.local import *
from exprc.nn.layers.merge import *
from exprc.nn.layers.noise import *
from exprc.nn.layers.normalization import *
from exprc.nn.layers.pool import *
from exprc.nn.layers.recurrent import *
from exprc.nn.layers.shape import *
from exprc.nn.layers.special import *
from exprc.nn.layers.transformer import *
from exprc.nn.layers.upscale import *
