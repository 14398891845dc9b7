"""``theano.function`` with Theano's signature, over :func:`exprc.function`."""

from __future__ import annotations

import time
from typing import Any

from exprc.compat.theano.compile.mode import to_exprc_mode
from exprc.compat.theano.compile.profiling import ProfileStats
from exprc.compile.function import Function
from exprc.compile.function import function as _function

__all__ = ["Function", "function"]


def function(inputs: Any, outputs: Any = None, mode: Any = None, updates: Any = None,
             givens: Any = None, no_default_updates: Any = False, accept_inplace: bool = False,
             name: str | None = None, rebuild_strict: bool = True,
             allow_input_downcast: bool | None = None, profile: Any = None,
             on_unused_input: str | None = None) -> Function:
    """Compile ``outputs`` as a function of ``inputs`` (Theano's ``theano.function``).

    ``accept_inplace`` and ``rebuild_strict`` are accepted for Theano's signature and have no
    effect (exprc's graphs carry no in-place ops before compilation, and ``givens`` are always
    type-checked by the ops that consume them). ``profile`` may be a bool, a
    :class:`~exprc.compat.theano.compile.profiling.ProfileStats` that gathers the function's
    profile, or a string naming a new one.
    """
    stats = ProfileStats(message=profile) if isinstance(profile, str) else profile
    started = time.perf_counter()
    built = _function(inputs, outputs, mode=to_exprc_mode(mode), updates=updates, givens=givens,
                      no_default_updates=no_default_updates, name=name,
                      allow_input_downcast=allow_input_downcast,
                      on_unused_input=on_unused_input,
                      profile=True if isinstance(stats, ProfileStats) else profile)
    if isinstance(stats, ProfileStats):
        stats.add(built, time.perf_counter() - started)
    return built
