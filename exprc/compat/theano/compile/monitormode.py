"""``theano.compile.monitormode``: ``MonitorMode`` with Theano's signature, over exprc's
:class:`~exprc.compile.monitormode.MonitorMode`."""

from __future__ import annotations

from exprc.compat.theano.compile.mode import TheanoRewriteNames, exprc_optimizer
from exprc.compile.monitormode import MonitorMode as _MonitorMode

__all__ = ["MonitorMode"]


class MonitorMode(TheanoRewriteNames, _MonitorMode):
    """Call ``pre_func(i, node, fn)`` before and ``post_func(i, node, fn)`` after each node
    (Theano's ``MonitorMode``; see :class:`exprc.compile.monitormode.MonitorMode`).

    ``optimizer`` takes Theano's names (``'default'`` is ``config.optimizer``);
    ``excluding`` takes Theano's rewrite names (``'local_elemwise_fusion'``, ``'inplace'``).
    As in Theano, no linker may be given.
    """

    def __init__(self, pre_func=None, post_func=None, optimizer="default", linker=None):
        super().__init__(pre_func, post_func, optimizer=exprc_optimizer(optimizer),
                         linker=linker)
