"""The native call path: call a compiled program from Python with no Python code per call.

A call through cffi fills each input's ``exprc_array`` field by field and wraps each output in
several steps, which costs microseconds per call. ``csrc/exprc_callpath.c`` does the same work
in C: it is a small CPython extension module, built at install time (``setup.py``) or else once
per machine, Python and NumPy version and kept in the compile cache like any program, and it
makes one ``NativeCall`` object per program (see :func:`native_entry`). When the module cannot
be built (no Python headers on the machine), programs are called through cffi instead, after
one :class:`CallPathWarning`.

The module is built in a background thread (:func:`prefetch`) while the first program compiles,
so a cold start pays for the two compilations side by side rather than one after the other.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import sysconfig
import threading
import warnings
from pathlib import Path

import numpy as np

from exprc.cache.fingerprint import CALLPATH_SOURCE
from exprc.cache.store import CompileCache
from exprc.errors import ExprcError
from exprc.link.c import background
from exprc.link.c.toolchain import BASE_FLAGS, CompileError

__all__ = ["CallPathWarning", "native_entry", "prefetch"]

MODULE_NAME = "exprc_callpath"
SOURCE_NAME = CALLPATH_SOURCE

INTERFACE = 2
"""The interface this code needs (``EXPRC_CALLPATH_INTERFACE`` in the C source); a module
built at install time from an older source declares another and is not used."""


class CallPathWarning(UserWarning):
    """The native call path is unavailable; compiled functions are called through cffi."""


_lock = threading.Lock()
_module = None            # the loaded extension, once built
_failure: str | None = None
_builder: threading.Thread | None = None


def _source(csrc_dir: Path) -> str:
    # The versions are part of the source so that they are part of the cache key: the module
    # is bound to the Python ABI and the NumPy C API it was compiled against.
    stamp = (f"/* for {sys.implementation.cache_tag} {sys.version.split()[0]} on "
             f"{sys.platform}, NumPy {np.__version__} */\n")
    return stamp + (csrc_dir / SOURCE_NAME).read_text()


def _flags() -> tuple[str, ...]:
    includes = {sysconfig.get_paths()["include"], np.get_include()}
    return (*BASE_FLAGS, "-O2", *(f"-I{path}" for path in sorted(includes)))


def _import(path: Path):
    loader = importlib.machinery.ExtensionFileLoader(MODULE_NAME, str(path))
    spec = importlib.util.spec_from_file_location(MODULE_NAME, str(path), loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _installed():
    """The module built at install time (``setup.py``), if it loads with this NumPy."""
    package = Path(__file__).resolve().parents[2]
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = package / f"{MODULE_NAME}{suffix}"
        if path.is_file():
            try:
                module = _import(path)
            except ImportError:
                return None  # built against another NumPy: build one below
            return module if getattr(module, "INTERFACE", None) == INTERFACE else None
    return None


def _build(cache: CompileCache) -> None:
    global _module, _failure
    try:
        headers = Path(sysconfig.get_paths()["include"], "Python.h")
        if not headers.is_file():
            raise ExprcError(f"the Python headers are not installed ({headers} is missing)")
        _module = _import(cache.build(_source(cache.toolchain.csrc_dir), _flags()))
    except (ExprcError, CompileError, OSError, ImportError) as exc:
        _failure = f"{type(exc).__name__}: {exc}"


def prefetch(cache: CompileCache) -> None:
    """Start building the call-path module in the background if it is not loaded yet."""
    global _builder, _module
    with _lock:
        if _module is not None or _failure is not None or _builder is not None:
            return
        _module = _installed()
        if _module is not None:
            return
        _builder = background.start(_build, "exprc-callpath", cache)


def _loaded_module(cache: CompileCache):
    prefetch(cache)
    builder = _builder
    if builder is not None:
        builder.join()
    if _module is None and _failure is not None:
        _warn_once()
    return _module


_warned = False


def _warn_once() -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(f"exprc's native call path is unavailable ({_failure}); compiled "
                      "functions are called through cffi, which adds a few microseconds per "
                      "call", CallPathWarning, stacklevel=4)


def native_entry(cache: CompileCache, *, run_address: int, free_address: int,
                 give_back_address: int, state_address: int, input_types, constants,
                 output_dtypes, on_error, keep, arm_address: int = 0):
    """The ``NativeCall`` of one program, or None when the call-path module is unavailable.

    Parameters
    ----------
    cache : CompileCache
        Where the call-path module is built and kept.
    run_address, free_address, give_back_address, state_address : int
        Addresses of the program's ``exprc_run``, ``exprc_free``, ``exprc_give_back`` and
        ``exprc_state``.
    input_types : sequence of TensorType
        The types of the program's inputs, in order.
    constants : sequence of ndarray
        Contiguous arrays passed after the inputs.
    output_dtypes : sequence of str
    on_error : callable
        ``on_error(kind, node, message: bytes)`` returns the exception to raise for a native
        error.
    keep : object
        Kept alive as long as the entry (the program's library, state and constants).
    arm_address : int, optional
        Address of the runtime library's ``exprc_interrupt_arm``, called before each call so
        that a Ctrl-C stops it between two nodes (see :mod:`exprc.link.c.interrupts`); 0: calls
        run to their end.

    Returns
    -------
    NativeCall or None
        Called with the input arrays, it returns the list of outputs, or ``NotImplemented``
        when an argument is not exactly an array of its input's type (the caller then
        converts the arguments, or raises an error naming the input).
    """
    module = _loaded_module(cache)
    if module is None:
        return None
    specs = []
    for tensor_type in input_types:
        dtype = np.dtype(tensor_type.dtype)
        shape = tuple(-1 if size is None else size for size in tensor_type.shape)
        specs.append((dtype.kind, dtype.itemsize, shape))
    return module.NativeCall(
        run=run_address, free=free_address, give_back=give_back_address,
        state=state_address, specs=specs,
        constants=tuple(constants), out_types=[np.dtype(d).num for d in output_dtypes],
        on_error=on_error, keep=keep, arm=arm_address)
