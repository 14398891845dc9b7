"""``theano.compile.debugmode``: ``DebugMode`` with Theano's signature, over exprc's
:class:`~exprc.compile.debugmode.DebugMode`."""

from __future__ import annotations

from exprc.compat.theano.compile.mode import TheanoRewriteNames, exprc_optimizer
from exprc.compile.debugmode import DebugMode as _DebugMode
from exprc.compile.debugmode import DebugModeError, InvalidValueError

__all__ = ["DebugMode", "DebugModeError", "InvalidValueError"]


class DebugMode(TheanoRewriteNames, _DebugMode):
    """Compare every call of the compiled program with the reference executor (Theano's
    ``DebugMode``; see :class:`exprc.compile.debugmode.DebugMode`).

    ``optimizer`` takes Theano's names (``'default'`` is ``config.optimizer``) and
    ``check_isfinite`` defaults to True as in Theano. ``stability_patience``, ``check_c_code``,
    ``check_py_code``, ``check_preallocated_output``, ``require_matching_strides`` and
    ``linker`` are accepted and ignored: exprc always runs the compiled C program and the NumPy
    reference and compares them, and its compiled code allocates its own outputs.
    """

    def __init__(self, optimizer="fast_run", stability_patience=None, check_c_code=None,
                 check_py_code=None, check_isfinite=None, check_preallocated_output=None,
                 require_matching_strides=None, linker=None):
        super().__init__(optimizer=exprc_optimizer(optimizer),
                         check_isfinite=True if check_isfinite is None else check_isfinite)
