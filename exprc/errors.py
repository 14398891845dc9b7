"""Exception types and the helper that points errors at the user's own source line.

Every error exprc raises about a graph names the op, the input, what was given and what was
expected. Errors raised while building a graph also carry the file and line of the user's code
that made the call, found by walking the stack past exprc's own frames.
"""

from __future__ import annotations

import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class ExprcError(Exception):
    """Base class of all errors raised by exprc."""


class ExprcTypeError(ExprcError, TypeError):
    """A wrong dtype, rank or kind of argument."""


class ExprcValueError(ExprcError, ValueError):
    """An argument or run-time value is not acceptable (a loop's step count, say)."""


class ExprcShapeError(ExprcError, ValueError):
    """Shapes that do not fit together, found at graph-building time or at run time."""


class DisconnectedInputError(ExprcError, ValueError):
    """``grad`` was asked for the gradient of a cost w.r.t. a variable it does not depend on."""


class NullGradError(ExprcError, TypeError):
    """A gradient was asked for through an op whose gradient is undefined."""


class UnusedInputError(ExprcError, ValueError):
    """An input given to ``function`` is not needed to compute any output."""


_in_package: dict[str, bool] = {}
_tracing = [True]


def user_frame() -> str:
    """Return ``"file:line"`` of the innermost stack frame outside the exprc package.

    Used to stamp variables with where the user created them, and to point build-time errors
    at the user's line rather than at exprc's internals. While the optimizer runs no user code
    is on the stack, so tracing is switched off there (see :func:`tracing_off`).
    """
    if not _tracing[0]:
        return "<rewritten>"
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        inside = _in_package.get(filename)
        if inside is None:
            inside = _in_package[filename] = os.path.abspath(filename).startswith(
                _PACKAGE_DIR + os.sep)
        if not inside:
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning issued by the caller point at the innermost
    frame outside the exprc package (the user's line that called into exprc)."""
    frame, level = sys._getframe(1), 1
    while frame is not None:
        filename = frame.f_code.co_filename
        inside = _in_package.get(filename)
        if inside is None:
            inside = _in_package[filename] = os.path.abspath(filename).startswith(
                _PACKAGE_DIR + os.sep)
        if not inside:
            return level
        frame, level = frame.f_back, level + 1
    return level


class tracing_off:
    """Context manager: variables created inside are not stamped with a user line."""

    def __enter__(self):
        self._previous = _tracing[0]
        _tracing[0] = False

    def __exit__(self, *exc):
        _tracing[0] = self._previous


def build_error(cls: type, op: object, message: str) -> Exception:
    """An error about applying ``op``, pointing at the user line that built the node."""
    return cls(f"{op}: {message}\n    (graph built at {user_frame()})")
