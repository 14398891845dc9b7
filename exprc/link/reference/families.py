"""Imports every family's reference rules so that the table is complete."""

from exprc.link.reference import shape  # noqa: F401
from exprc.link.reference import basic  # noqa: F401
from exprc.link.reference import subtensor  # noqa: F401
from exprc.link.reference import reduction  # noqa: F401
from exprc.link.reference import linalg  # noqa: F401
from exprc.link.reference import sort  # noqa: F401
from exprc.link.reference import extra_ops  # noqa: F401
from exprc.link.reference import gradient  # noqa: F401
from exprc.link.reference import blas  # noqa: F401
from exprc.link.reference import composite  # noqa: F401
from exprc.link.reference import nnet  # noqa: F401
from exprc.link.reference import conv  # noqa: F401
from exprc.link.reference import pool  # noqa: F401
from exprc.link.reference import random  # noqa: F401
