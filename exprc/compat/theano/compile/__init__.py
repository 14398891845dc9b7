"""``theano.compile``: function(), shared variables, In/Out and modes."""

from exprc.compat.theano.compile import io, mode, sharedvalue
from exprc.compat.theano.compile.function_module import function
from exprc.compat.theano.compile.io import In, Out, Param
from exprc.compat.theano.compile.mode import FAST_COMPILE, FAST_RUN, Mode, get_mode
from exprc.compat.theano.compile.sharedvalue import SharedVariable, shared

__all__ = ["FAST_COMPILE", "FAST_RUN", "In", "Mode", "Out", "Param", "SharedVariable",
           "function", "get_mode", "io", "mode", "shared", "sharedvalue"]
