"""``theano.compile.nanguardmode``: ``NanGuardMode`` with Theano's signature, over exprc's
:class:`~exprc.compile.nanguardmode.NanGuardMode`."""

from __future__ import annotations

from exprc.compat.theano.compile.mode import TheanoRewriteNames, exprc_optimizer
from exprc.compile.nanguardmode import NanGuardError
from exprc.compile.nanguardmode import NanGuardMode as _NanGuardMode

__all__ = ["NanGuardError", "NanGuardMode"]


class NanGuardMode(TheanoRewriteNames, _NanGuardMode):
    """Raise at the first node computing a NaN, an Inf or an absolute value over 1e10
    (Theano's ``NanGuardMode``; see :class:`exprc.compile.nanguardmode.NanGuardMode`).

    Each check left at None is on (Theano's ``config.NanGuardMode`` defaults); ``optimizer``
    takes Theano's names (``'default'`` is ``config.optimizer``). ``linker`` is accepted and
    ignored: the nodes run on exprc's reference executor. The error raised,
    :class:`NanGuardError`, is an ``AssertionError`` as Theano's was.
    """

    def __init__(self, nan_is_error=None, inf_is_error=None, big_is_error=None,
                 optimizer="default", linker=None):
        super().__init__(nan_is_error, inf_is_error, big_is_error,
                         optimizer=exprc_optimizer(optimizer))
