"""``theano.compile.mode``: ``Mode(linker, optimizer)`` with Theano's names for both.

Theano's linkers that run C code (``'c'``, ``'cvm'``, ``'c|py'``, ``'vm'`` with C thunks ...)
map to exprc's C backend; the pure-Python ones (``'py'``, ``'vm_nogc'`` ...) to exprc's NumPy
reference executor. Optimizer ``None``/``'None'``/``'merge'`` runs no rewrites. The mode
names ``'DebugMode'`` (or ``'DEBUG_MODE'``) and ``'NanGuardMode'`` give those debugging modes
with their defaults, as an argument of ``theano.function`` and as ``config.mode``.
"""

from __future__ import annotations

from exprc.compile.mode import Mode as _Mode
from exprc.compile.mode import get_mode as _get_mode
from exprc.configuration import config as _exprc_config

__all__ = ["FAST_COMPILE", "FAST_RUN", "REWRITE_NAMES", "Mode", "TheanoRewriteNames",
           "exprc_optimizer", "exprc_rewrite_names", "get_mode", "predefined_modes",
           "to_exprc_mode"]

_LINKERS = {
    "c": "c", "cvm": "c", "c|py": "c", "c|py_nogc": "c", "cvm_nogc": "c", "vm": "c",
    "vm_nogc": "c", "py": "reference", "reference": "reference",
}
# Theano's levels: o1 is fast_compile's set, o2 adds a few cheap rewrites, o3 is fast_run
# without in-place ops, o4 and unsafe are fast_run (unsafe with rewrites that assume no
# NaN), stabilize the stability rewrites. exprc's nearest pipeline for each.
_OPTIMIZERS = {
    "fast_run": "fast_run", "fast_compile": "fast_compile", None: "none", "None": "none",
    "none": "none", "merge": "none", "o1": "fast_compile", "o2": "fast_compile",
    "o3": "fast_run", "o4": "fast_run", "unsafe": "fast_run", "stabilize": "fast_run",
}


def Mode(linker: str | None = None, optimizer: str | None = "fast_run") -> _Mode:
    """An exprc :class:`~exprc.compile.mode.Mode` from Theano's linker and optimizer names
    (``linker=None``: the C backend)."""
    if linker is None:
        linker = "c"
    if linker not in _LINKERS:
        raise ValueError(f"theano.compile.Mode: unknown linker {linker!r}; known: "
                         f"{sorted(_LINKERS)}")
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"theano.compile.Mode: unknown optimizer {optimizer!r}; known: "
                         f"{sorted(str(k) for k in _OPTIMIZERS)}")
    return _Mode(_LINKERS[linker], _OPTIMIZERS[optimizer])


FAST_RUN = _get_mode("FAST_RUN")
FAST_COMPILE = _get_mode("FAST_COMPILE")
predefined_modes = {"FAST_RUN": FAST_RUN, "FAST_COMPILE": FAST_COMPILE,
                    "REFERENCE": _get_mode("REFERENCE")}


#: Theano's names of the rewrites programs exclude (``mode.excluding(...)``), and the passes of
#: exprc's pipeline doing that work.
REWRITE_NAMES = {
    "local_elemwise_fusion": ("fusion",), "elemwise_fusion": ("fusion",),
    "composite_elemwise_fusion": ("fusion",), "fusion": ("fusion",),
    "inplace": ("inplace",), "inplace_opt": ("inplace",),
    "inplace_elemwise_optimizer": ("inplace",), "BlasOpt": ("blas",),
    "gemm_optimizer": ("blas",), "merge": ("merge", "merge_again"),
}


def exprc_rewrite_names(names) -> tuple:
    """exprc's pass or rule names for Theano's (names exprc knows pass through)."""
    return tuple(exprc_name for name in names for exprc_name in REWRITE_NAMES.get(name, (name,)))


class TheanoRewriteNames:
    """Mixin of the Theano modes: ``excluding`` and ``including`` take Theano's rewrite names
    too (``MonitorMode(...).excluding('local_elemwise_fusion', 'inplace')``)."""

    def excluding(self, *names: str):
        return super().excluding(*exprc_rewrite_names(names))

    def including(self, *names: str):
        return super().including(*exprc_rewrite_names(names))


def exprc_optimizer(optimizer) -> str:
    """exprc's optimizer for a Theano optimizer name; ``'default'`` is ``config.optimizer``."""
    if optimizer == "default":
        from exprc.compat.theano.configparser import config as theano_config
        optimizer = theano_config.optimizer
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: "
                         f"{sorted(str(k) for k in _OPTIMIZERS)} or 'default'")
    return _OPTIMIZERS[optimizer]


def _debugging_mode(name: str):
    """The debugging mode Theano's ``mode=`` string names, or None."""
    if name in ("DebugMode", "DEBUG_MODE"):
        from exprc.compat.theano.compile.debugmode import DebugMode
        return DebugMode()
    if name == "NanGuardMode":
        from exprc.compat.theano.compile.nanguardmode import NanGuardMode
        return NanGuardMode()
    return None


def to_exprc_mode(mode):
    """The mode to hand to exprc for a Theano mode argument: None (``config.mode``), a name
    (``'FAST_RUN'``, ``'FAST_COMPILE'``, ``'DebugMode'`` or ``'DEBUG_MODE'``,
    ``'NanGuardMode'``; ``'Mode'`` is Theano's name of the default) or a Mode."""
    named = mode if isinstance(mode, str) else _exprc_config.mode if mode is None else None
    debugging = _debugging_mode(named) if named is not None else None
    if debugging is not None:
        return debugging
    if mode == "Mode" or (mode is None and _exprc_config.mode == "FAST_RUN"):
        # Theano's default mode: the linker and optimizer flags decide (THEANO_FLAGS).
        from exprc.compat.theano.configparser import config as theano_config
        return Mode(theano_config.linker, theano_config.optimizer)
    return mode


def get_mode(mode):
    """The Mode for a name, a Mode or None (Theano's ``get_mode``)."""
    return _get_mode(to_exprc_mode(mode))
