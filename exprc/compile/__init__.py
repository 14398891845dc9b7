"""function(), shared variables, In/Out, compilation modes and the debugging modes."""

from exprc.compile.debugmode import DebugMode, DebugModeError, InvalidValueError
from exprc.compile.monitormode import MonitorMode
from exprc.compile.nanguardmode import NanGuardError, NanGuardMode
from exprc.compile.recipe import FunctionPickleError

__all__ = ["DebugMode", "DebugModeError", "FunctionPickleError", "InvalidValueError",
           "MonitorMode", "NanGuardError", "NanGuardMode"]
