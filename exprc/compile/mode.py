"""Compilation modes: which rewrites run and which executor runs the result."""

from __future__ import annotations

from dataclasses import dataclass

from exprc.configuration import config
from exprc.errors import ExprcError


@dataclass(frozen=True)
class Mode:
    """How ``function`` compiles a graph.

    Parameters
    ----------
    linker : str
        The executor: ``'c'`` (default) compiles the whole graph to one C function called
        once per call; ``'reference'`` evaluates each op with NumPy, as a specification.
    optimizer : str
        The rewrite pipeline: ``'fast_run'`` (all passes), ``'fast_compile'`` (cheap passes)
        or ``'none'``.
    exclude : tuple of str
        Names of passes or rules to skip (see ``exprc.rewriting.PIPELINE``).
    """

    linker: str = "c"
    optimizer: str = "fast_run"
    exclude: tuple = ()

    def excluding(self, *names: str) -> Mode:
        """This mode without the named passes or rules."""
        return Mode(self.linker, self.optimizer, tuple(self.exclude) + names)

    def including(self, *names: str) -> Mode:
        """This mode with the named passes or rules no longer excluded."""
        return Mode(self.linker, self.optimizer, tuple(e for e in self.exclude
                                                      if e not in names))

    def __post_init__(self):
        if self.linker not in LINKERS:
            raise ExprcError(f"unknown linker {self.linker!r}; known: {sorted(LINKERS)}")
        if self.optimizer not in OPTIMIZERS:
            raise ExprcError(f"unknown optimizer {self.optimizer!r}; known: {sorted(OPTIMIZERS)}")


LINKERS = {"reference", "c"}
OPTIMIZERS = {"fast_run", "fast_compile", "none"}

PREDEFINED = {
    "FAST_RUN": Mode("c", "fast_run"),
    "FAST_COMPILE": Mode("reference", "fast_compile"),
    "REFERENCE": Mode("reference", "none"),
}


def get_mode(mode: str | Mode | None) -> Mode:
    """The :class:`Mode` for a name, a Mode, or None (``exprc.config.mode``)."""
    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if mode in PREDEFINED:
        return PREDEFINED[mode]
    raise ExprcError(f"unknown mode {mode!r}; known modes: {sorted(PREDEFINED)} or a Mode()")
