"""Gradient rules, one module per op family; importing this package fills ``GRAD``."""

from exprc.gradient.rules import elemwise  # noqa: F401
from exprc.gradient.rules import shape  # noqa: F401
from exprc.gradient.rules import basic  # noqa: F401
from exprc.gradient.rules import subtensor  # noqa: F401
from exprc.gradient.rules import reduction  # noqa: F401
from exprc.gradient.rules import linalg  # noqa: F401
from exprc.gradient.rules import sort  # noqa: F401
from exprc.gradient.rules import extra_ops  # noqa: F401
from exprc.gradient.rules import composite  # noqa: F401
from exprc.gradient.rules import blas  # noqa: F401
from exprc.gradient.rules import nnet  # noqa: F401
from exprc.gradient.rules import conv  # noqa: F401
from exprc.gradient.rules import pool  # noqa: F401
from exprc.gradient.rules import random  # noqa: F401
