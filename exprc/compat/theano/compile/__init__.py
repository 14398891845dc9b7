"""``theano.compile``: function(), shared variables, In/Out and modes."""

from exprc.compat.theano.compile import (
                                         debugmode,
                                         io,
                                         mode,
                                         monitormode,
                                         nanguardmode,
                                         ops,
                                         profiling,
                                         sharedvalue,
)
from exprc.compat.theano.compile.debugmode import DebugMode
from exprc.compat.theano.compile.function_module import function
from exprc.compat.theano.compile.io import In, Out, Param
from exprc.compat.theano.compile.mode import FAST_COMPILE, FAST_RUN, Mode, get_mode
from exprc.compat.theano.compile.monitormode import MonitorMode
from exprc.compat.theano.compile.profiling import ProfileStats
from exprc.compat.theano.compile.sharedvalue import SharedVariable, shared

__all__ = ["FAST_COMPILE", "FAST_RUN", "DebugMode", "In", "Mode", "MonitorMode", "Out", "Param",
           "ProfileStats", "SharedVariable", "debugmode", "function", "get_mode", "io", "mode",
           "monitormode", "nanguardmode", "ops", "profiling", "shared", "sharedvalue"]
