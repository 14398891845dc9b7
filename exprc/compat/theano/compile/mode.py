"""``theano.compile.mode``: ``Mode(linker, optimizer)`` with Theano's names for both.

Theano's linkers that run C code (``'c'``, ``'cvm'``, ``'c|py'``, ``'vm'`` with C thunks ...)
map to exprc's C backend; the pure-Python ones (``'py'``, ``'vm_nogc'`` ...) to exprc's NumPy
reference executor. Optimizer ``None``/``'None'``/``'merge'`` runs no rewrites.
"""

from __future__ import annotations

from exprc.compile.mode import Mode as _Mode
from exprc.compile.mode import get_mode as _get_mode

__all__ = ["FAST_COMPILE", "FAST_RUN", "Mode", "get_mode", "predefined_modes", "to_exprc_mode"]

_LINKERS = {
    "c": "c", "cvm": "c", "c|py": "c", "c|py_nogc": "c", "cvm_nogc": "c", "vm": "c",
    "vm_nogc": "c", "py": "reference", "reference": "reference",
}
_OPTIMIZERS = {
    "fast_run": "fast_run", "fast_compile": "fast_compile", None: "none", "None": "none",
    "none": "none", "merge": "none", "o4": "fast_run", "o3": "fast_run",
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


def to_exprc_mode(mode):
    """The mode to hand to exprc for a Theano mode argument: None (``config.mode``), a name
    (``'FAST_RUN'``, ``'FAST_COMPILE'``; ``'Mode'`` is Theano's name of the default) or a
    Mode."""
    if mode == "Mode":
        return "FAST_RUN"
    return mode


def get_mode(mode):
    """The Mode for a name, a Mode or None (Theano's ``get_mode``)."""
    return _get_mode(to_exprc_mode(mode))
