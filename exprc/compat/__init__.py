"""Compatibility packages that let programs written for other libraries run on exprc.

:mod:`exprc.compat.theano` mirrors Theano 1.0's module layout with thin adapters over exprc.
Use it either directly (``import exprc.compat.theano as theano``) or, to run a Theano program
unchanged, install it under Theano's names first::

    from exprc.compat import install_theano
    install_theano()
    import theano, theano.tensor as T      # now exprc underneath

See ``docs/compat.md`` for what is covered and the known differences from Theano.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from types import ModuleType

__all__ = ["install_theano", "uninstall_theano"]

_PACKAGE = "exprc.compat.theano"


def _theano_modules() -> dict[str, ModuleType]:
    """Every module of :mod:`exprc.compat.theano`, keyed by its Theano name."""
    root = importlib.import_module(_PACKAGE)
    modules = {"theano": root}
    for info in pkgutil.walk_packages(root.__path__, _PACKAGE + "."):
        module = importlib.import_module(info.name)
        modules["theano" + info.name[len(_PACKAGE):]] = module
    return modules


def install_theano(replace: bool = False) -> ModuleType:
    """Make ``import theano`` (and every submodule: ``theano.tensor``, ``theano.ifelse``,
    ``theano.sandbox.rng_mrg``, ...) resolve to :mod:`exprc.compat.theano`.

    The package and each of its submodules are entered in ``sys.modules`` under their Theano
    names, so a module imported both ways is one object. Modules the compatibility package does
    not provide (the GPU back ends ``theano.sandbox.cuda`` and ``theano.gpuarray`` among
    them) still raise ``ImportError``, as on a CPU-only Theano.

    Parameters
    ----------
    replace : bool
        A real ``theano`` already imported is an error unless ``replace`` is true.

    Returns
    -------
    module
        The ``theano`` package.
    """
    present = sys.modules.get("theano")
    if present is not None and not getattr(present, "__name__", "").startswith(_PACKAGE):
        if not replace:
            raise ImportError(
                f"install_theano: a module 'theano' is already imported ({present!r}); import "
                "exprc.compat and call install_theano() before anything imports theano, or "
                "pass replace=True")
        uninstall_theano()
    modules = _theano_modules()
    sys.modules.update(modules)
    from exprc.configuration import config

    config.variable_truth = "theano"  # set again after an uninstall_theano()
    return modules["theano"]


def uninstall_theano() -> None:
    """Remove ``theano`` and its submodules from ``sys.modules`` (undoes
    :func:`install_theano`; a later ``import theano`` finds the real one, if installed)."""
    for name in [n for n in sys.modules if n == "theano" or n.startswith("theano.")]:
        del sys.modules[name]
    from exprc.configuration import config

    config.variable_truth = "error"  # exprc's own rule again (the package set Theano's)
