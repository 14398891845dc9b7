"""The C backend's background threads (the first-use warm-up, the call-path build), finished
before the process forks.

A child forked while such a thread holds a lock (an import lock while OpenBLAS is loaded, a
compiler's pipe) inherits the lock held forever and hangs in its first compile; data loaders
fork. Each thread does a bounded piece of set-up once per process, so the parent waits for
the running ones before any fork.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

_started: list[threading.Thread] = []


def start(target: Callable, name: str, *args) -> threading.Thread:
    """Run ``target(*args)`` in a daemon thread that a fork will wait for."""
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    _started.append(thread)
    thread.start()
    return thread


def _finish_before_fork() -> None:
    for thread in list(_started):
        if thread.is_alive() and thread is not threading.current_thread():
            thread.join()


os.register_at_fork(before=_finish_before_fork)
