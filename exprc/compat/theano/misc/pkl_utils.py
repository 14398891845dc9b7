"""``theano.misc.pkl_utils``: ``dump`` and ``load``.

Theano wrote a zip archive (a pickle with each array stored beside it as a ``.npy`` file);
here the file holds one plain pickle, arrays inside, which ``load`` (or ``pickle.load``)
reads back. Files written by Theano itself cannot be read: they hold Theano's objects.
Compiled functions pickle as the graph they are built from and are compiled again on loading
(see ``docs/debugging.md``).
"""

from __future__ import annotations

import os
import pickle
from typing import Any, BinaryIO

from exprc.compile.recipe import FunctionPickleError

__all__ = ["PickleLoadError", "dump", "load"]


class PickleLoadError(FunctionPickleError):
    """The file does not hold a whole pickle (truncated, damaged, or not a pickle)."""


def dump(obj: Any, file_handler: BinaryIO | str | os.PathLike,
         protocol: int = pickle.DEFAULT_PROTOCOL, persistent_id=None) -> None:
    """Pickle ``obj`` into ``file_handler`` (an open binary file or a path).

    ``persistent_id``, when given, is the pickler's (Theano's default stored shared values in
    the zip archive; here they are pickled in line).
    """
    if isinstance(file_handler, (str, os.PathLike)):
        with open(file_handler, "wb") as handle:
            dump(obj, handle, protocol, persistent_id)
        return
    pickler = pickle.Pickler(file_handler, protocol=protocol)
    if persistent_id is not None:
        pickler.persistent_id = persistent_id
    pickler.dump(obj)


def load(f: BinaryIO | str | os.PathLike, persistent_load=None) -> Any:
    """The object pickled in ``f`` (an open binary file or a path) by :func:`dump`.

    Raises
    ------
    PickleLoadError
        When the file does not hold a whole pickle; a damaged pickled function raises its
        own :class:`~exprc.compile.recipe.FunctionPickleError`.
    """
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as handle:
            return load(handle, persistent_load)
    unpickler = pickle.Unpickler(f)
    if persistent_load is not None:
        unpickler.persistent_load = persistent_load
    try:
        return unpickler.load()
    except FunctionPickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            ImportError, IndexError, KeyError) as exc:
        name = getattr(f, "name", "the file")
        raise PickleLoadError(f"{name} does not hold a whole pickle written by dump() (it is "
                              f"truncated, damaged or of another format): "
                              f"{type(exc).__name__}: {exc}") from exc
