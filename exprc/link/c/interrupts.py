"""Ctrl-C during a compiled call.

A call runs the whole graph in one native function with the GIL released, so Python alone
would see a Ctrl-C only once the call returned. When the first program is loaded, the runtime
library (``csrc/exprc_runtime.c``, "interrupts") puts a SIGINT handler in front of the one it
finds, normally Python's (a SIGINT that is ignored, or has its default action, is left
alone): the handler lets the displaced one record the signal, then marks it pending, and the
program looks at the mark before each node. In the main thread (the only one in which Python
runs signal handlers) the program then calls back into Python, which runs its handlers at once,
as it would between two bytecodes. When one raises (Python's default handler raises
``KeyboardInterrupt``) the call stops there: the program releases what it holds and shared
variables keep their values, since a function stores their new values only after a complete
call. When the handlers return, the call goes on. Calls in other threads never stop.

Python's ``signal.signal`` puts its own C-level handler back; the next call made in the main
thread at least one clock tick (a few milliseconds) after the previous look puts exprc's in
front of it again, and so does loading a program.

This module loads the runtime library's interrupt functions, makes every runtime library of
the process share one hub (the pending mark, the displaced handler, the main thread), so that
only one exprc handler is ever installed, and gives the call paths what they call before each
call: the address of ``exprc_interrupt_arm`` for the native call path
(:mod:`exprc.link.c.callpath`), :func:`arm_cffi_call` and :func:`take_raised` for the cffi one.
"""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path

from exprc.link.c.toolchain import CModule, load_module

__all__ = ["INTERRUPTED", "arm_cffi_call", "attach", "take_raised"]

INTERRUPTED = 4
"""The error kind of a call stopped by a raising signal handler (``EXPRC_INTERRUPTED``)."""

_DECLARATIONS = """
typedef int (*exprc_interrupt_fn)(void *context);
void *exprc_interrupt_hub(void);
int exprc_interrupt_join(void *hub);
int exprc_interrupt_setup(unsigned long main_thread);
void exprc_interrupt_arm(exprc_interrupt_fn callback, void *context);
"""

_lock = threading.Lock()
_owner: CModule | None = None   # the runtime library whose hub the others joined
_libraries: dict[str, CModule] = {}
_callback = None                # the cffi path's callback, kept alive with the owner
_raised: list[BaseException] = []


def attach(library: Path) -> int:
    """Let programs linked against the runtime library ``library`` stop on Ctrl-C.

    Loads the library's interrupt functions (once), joins it to the process's hub, and
    (re)installs the SIGINT handler when called from the main thread.

    Parameters
    ----------
    library : pathlib.Path
        The runtime library's shared object.

    Returns
    -------
    int
        The address of ``exprc_interrupt_arm``, for the native call path to call before each
        call.
    """
    global _owner, _callback
    with _lock:
        module = _libraries.get(str(library))
        if module is None:
            module = load_module(library, _DECLARATIONS)
            if _owner is None:
                _callback = module.ffi.callback("exprc_interrupt_fn", _run_signal_handlers,
                                                error=1, onerror=_keep_raised)
                _owner = module
                os.register_at_fork(after_in_child=_setup)
            else:
                # A library of another layout keeps its own hub: its programs run to their end.
                module.exprc_interrupt_join(_owner.exprc_interrupt_hub())
            _libraries[str(library)] = module
        _setup()
        return int(_owner.ffi.cast("uintptr_t", _owner.exprc_interrupt_arm))


def _setup() -> None:
    # Also run in a child process after fork, whose main thread is the one that forked.
    if _owner is not None:
        _owner.exprc_interrupt_setup(threading.main_thread().ident)


def arm_cffi_call() -> None:
    """Prepare a call made through cffi (see ``exprc_interrupt_arm``); any thread."""
    owner = _owner
    if owner is not None:
        _raised.clear()  # what an earlier, nested call left is not this call's
        owner.exprc_interrupt_arm(_callback, owner.ffi.NULL)


def take_raised() -> BaseException | None:
    """What a signal handler raised during the last interrupted cffi call, once."""
    raised = _raised[-1] if _raised else None
    _raised.clear()
    return raised


def _run_signal_handlers(_context) -> int:
    # Called by the program in the main thread (cffi takes the GIL): run Python's handlers now.
    try:
        ctypes.pythonapi.PyErr_CheckSignals()
    except BaseException as exc:  # whatever a handler raises stops the call and is re-raised
        _raised.append(exc)
        return 1
    return 0


def _keep_raised(_type, value, _traceback) -> None:
    # A handler that ran as the callback was entered, before its ``try``: the call stops
    # (the callback's ``error`` value).
    _raised.append(value)
