"""The on-disk compile cache: build each source once per machine, load it from then on.

The store knows nothing about any compiler. A backend hands it a *toolchain*, an object with
these members (:class:`Toolchain` spells them out for type checkers):

``identity`` : str
    The compiler's command and version, part of every key: builds of two compilers never
    share an entry.
``source_trees`` : mapping of str to pathlib.Path
    The hand-written source folders its builds read (for the C backend ``csrc`` and
    ``cuda_kernels``); the digest of each folder's contents is part of every key, under its
    name.
``source_name``, ``library_name`` : str
    File names of the source and of the built library inside an entry (``module.c``,
    ``module.so``).
``default_flags()`` -> tuple of str
    The flags of a build when the caller gives none.
``build(source_path, output_path, flags, link_args)`` -> sequence of str
    Build the source file into the library file, or raise the backend's own error (which
    should name ``source_path``, kept in the entry for reading). Returns the complete flags
    it used, which the entry's manifest records.
``load(path, declarations)``
    Load a built library and return the module object handed to callers; raises
    :class:`OSError` when the platform's loader rejects the file.
``compiler`` (optional)
    Whatever the backend describes its compiler with; the store only passes it on as
    :attr:`CompileCache.compiler`, for the backend's own helpers (e.g. choosing flags).

An entry is a folder named by its key, the SHA-256 of everything that can change the built
object: the source, the compiler's identity, the flags and link arguments, exprc's version,
the contents of the toolchain's source trees, and the host CPU (``-march=native`` objects must
not travel to another machine through a shared home folder)::

    <cache dir>/<key>/module.c        the source, kept for reading and for error messages
                      module.so       the library
                      manifest.json   key, sizes and SHA-256 of the library; written last
                      .lock           taken while the entry is built

Several processes may ask for the same entry at once: the first takes the entry's lock and
builds into a temporary name in the same folder, renames it into place (atomic on one file
system) and then writes the manifest; the others wait on the lock and find a finished entry.
An entry whose library does not match its manifest, or that the loader rejects, is reported
with a :class:`CompileCacheWarning` and rebuilt, never loaded. Within a process, loaded modules
are remembered while anything uses them (and the last few asked for in any case), so asking
again for the same source is one dict lookup, while modules no live function uses can be
unloaded. A folder the cache cannot use (not writable, a file in the way, a damaged entry) is
reported with a :class:`CompileCacheError` that says what to do.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import stat
import sys
import threading
import time
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock

from exprc._version import __version__
from exprc.cache.fingerprint import host_fingerprint, tree_digest
from exprc.configuration import config
from exprc.errors import ExprcError

__all__ = ["LOCK_NAME", "MANIFEST_NAME", "CacheEntry", "CompileCache", "CompileCacheError",
           "CompileCacheWarning", "Toolchain", "default_cache_dir"]

MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".lock"

_KEY_PATTERN = re.compile(r"[0-9a-f]{64}")

# The key's own fields: a source tree named like one of them would overwrite it.
_KEY_FIELDS = frozenset({"source", "compiler", "flags", "link_args", "exprc", "host"})


class CompileCacheError(ExprcError):
    """The cache cannot be used (a folder owned by another user or not writable, a file where a
    folder should be, a build that produced nothing); the message says what to do."""


class CompileCacheWarning(UserWarning):
    """A cache entry was found damaged and is being rebuilt."""


class Toolchain(Protocol):
    """What a backend passes to :class:`CompileCache` (see the module docstring)."""

    identity: str
    source_trees: Mapping[str, Path]
    source_name: str
    library_name: str

    def default_flags(self) -> tuple[str, ...]: ...

    def build(self, source_path: Path, output_path: Path, flags: Sequence[str],
              link_args: Sequence[str]) -> Sequence[str]: ...

    def load(self, path: Path, declarations: str) -> Any: ...


def default_cache_dir() -> Path:
    """Where the cache lives when no folder is given.

    ``exprc.config.compiledir`` if set, else ``EXPRC_CACHE_DIR`` if set; else
    ``$XDG_CACHE_HOME/exprc`` or ``~/.cache/exprc`` on Linux, ``~/Library/Caches/exprc`` on
    macOS and ``%LOCALAPPDATA%\\exprc`` on Windows.
    """
    if config.compiledir:
        return Path(config.compiledir).expanduser()
    if os.environ.get("EXPRC_CACHE_DIR"):
        return Path(os.environ["EXPRC_CACHE_DIR"]).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "exprc"
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "exprc"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "exprc"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_ELSEWHERE = "point EXPRC_CACHE_DIR (or exprc.config.compiledir) at another folder"
_CLEAR = " ('python -m exprc.cache clear' removes damaged entries)"

_ADVICE = {
    errno.EACCES: f"make it writable by this user, or {_ELSEWHERE}",
    errno.EPERM: f"make it writable by this user, or {_ELSEWHERE}",
    errno.EROFS: f"the file system is read-only: {_ELSEWHERE}",
    errno.EEXIST: f"a file stands where the cache needs a folder: remove it{{clear}}, or "
                  f"{_ELSEWHERE}",
    errno.ENOTDIR: f"a file stands where the cache needs a folder: remove it{{clear}}, or "
                   f"{_ELSEWHERE}",
    errno.EISDIR: "a folder stands where the cache needs a file: remove it{clear}",
    errno.ENOSPC: "the disk is full: free some space, e.g. with 'python -m exprc.cache clear'",
}


def _cache_error(exc: OSError, directory: Path) -> CompileCacheError:
    """The :class:`CompileCacheError` for a file-system error met while using the cache."""
    where = Path(os.path.abspath(exc.filename)) if exc.filename else directory
    advice = _ADVICE.get(exc.errno, f"repair or remove it, or {_ELSEWHERE}")
    inside = directory in where.parents  # an entry or a file of one, not the folder itself
    advice = advice.format(clear=_CLEAR if inside else "")
    return CompileCacheError(f"the compile cache cannot use {where}: "
                             f"{exc.strerror or exc}; {advice}")


def _write_atomic(path: Path, data: str) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    temporary.write_text(data)
    os.replace(temporary, path)


@dataclass(frozen=True)
class CacheEntry:
    """One entry as listed by :meth:`CompileCache.entries`.

    Attributes
    ----------
    key : str
    path : pathlib.Path
        The entry's folder.
    size : int
        Bytes used by its files.
    created : float
        When it was built (seconds since the epoch), or the folder's time if unfinished or
        damaged (0 when even that cannot be read).
    complete : bool
        Whether it has a manifest, i.e. its build finished.
    problem : str
        Empty for a usable entry, else what is wrong with it (``"unreadable: ..."``, ``"not a
        folder"``, ``"damaged manifest"``); such an entry is rebuilt or refused when used, and
        :meth:`CompileCache.clear` removes it.
    """

    key: str
    path: Path
    size: int
    created: float
    complete: bool
    problem: str = ""


class _ModuleMemo:
    """The modules a cache has loaded, by build: weakly held, the last few asked for strongly.

    A module no live function uses is forgotten (and its library may be unloaded) once it is
    no longer among the ``recent`` last ones asked for; those keep a function compiled, dropped
    and compiled again in a loop from reloading its library every time. A module that cannot
    be referenced weakly is kept only while it is recent, so the memo never grows without bound.
    """

    def __init__(self, recent: int):
        self._weak: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._recent: OrderedDict = OrderedDict()
        self._size = recent
        # Reentrant: letting go of a module may run finalizers that ask for another one.
        self._lock = threading.RLock()

    def get(self, key: tuple) -> Any:
        with self._lock:
            module = self._recent.get(key)
            if module is None:
                module = self._weak.get(key)
            if module is not None:
                self._keep(key, module)
            return module

    def put(self, key: tuple, module: Any) -> None:
        with self._lock:
            with contextlib.suppress(TypeError):  # not weakly referable
                self._weak[key] = module
            self._keep(key, module)

    def clear(self) -> None:
        with self._lock:
            self._weak.clear()
            self._recent.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(set(self._weak.keys()) | set(self._recent))

    def _keep(self, key: tuple, module: Any) -> None:
        self._recent[key] = module
        self._recent.move_to_end(key)
        while len(self._recent) > self._size:
            self._recent.popitem(last=False)


class CompileCache:
    """Build, verify and load libraries, one cache entry per distinct build.

    Parameters
    ----------
    directory : path-like, optional
        The cache folder; default :func:`default_cache_dir`. Created private to the user
        (mode 0700); a folder or entry owned by another user is refused, since loading a
        library runs its code.
    toolchain : Toolchain, optional
        How to build and load (see the module docstring). Without one the cache can list,
        measure and clear its entries but not build: that is all the command line needs.

    Examples
    --------
    A toolchain that "builds" by upper-casing the text and "loads" by reading the result (the
    C backend's is :class:`~exprc.link.c.toolchain.CToolchain`):

    >>> import tempfile
    >>> class UpperCase:
    ...     identity = "upper-case 1.0"
    ...     source_trees = {}
    ...     source_name, library_name = "module.txt", "module.out"
    ...     def default_flags(self):
    ...         return ()
    ...     def build(self, source_path, output_path, flags, link_args):
    ...         output_path.write_text(source_path.read_text().upper())
    ...         return flags
    ...     def load(self, path, declarations):
    ...         return path.read_text()
    >>> cache = CompileCache(tempfile.mkdtemp(), UpperCase())
    >>> cache.load("hello", declarations="")
    'HELLO'
    >>> [entry.complete for entry in cache.entries()]
    [True]
    >>> cache.clear()
    1
    """

    recent_modules = 8
    """How many of the modules asked for last stay loaded even when no function uses them."""

    def __init__(self, directory: str | os.PathLike | None = None,
                 toolchain: Toolchain | None = None):
        # Absolute, so that no path handed to a compiler can be read as an option (a relative
        # folder named "-x") and a later chdir does not move the cache.
        folder = Path(directory) if directory is not None else default_cache_dir()
        self.directory = Path(os.path.abspath(folder))
        self._toolchain = toolchain
        self._loaded = _ModuleMemo(self.recent_modules)

    @property
    def toolchain(self) -> Toolchain:
        """The toolchain this cache builds with."""
        if self._toolchain is None:
            raise CompileCacheError(
                f"the compile cache over {self.directory} was made without a toolchain: it can "
                "list and clear entries but not build them"
            )
        return self._toolchain

    @property
    def compiler(self):
        """The toolchain's ``compiler``, for the backend's own helpers."""
        return self.toolchain.compiler

    def key(self, source: str, flags: Sequence[str], link_args: Sequence[str] = ()) -> str:
        """The entry key of a build: SHA-256 over all its inputs (see the module docstring)."""
        toolchain = self.toolchain
        parts = {
            "source": source,
            "compiler": toolchain.identity,
            "flags": list(flags),
            "link_args": list(link_args),
            "exprc": __version__,
            "host": host_fingerprint(),
        }
        for name, folder in toolchain.source_trees.items():
            if name in _KEY_FIELDS:
                raise CompileCacheError(f"source tree name {name!r} clashes with a key field")
            parts[name] = tree_digest(folder)
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def load(self, source: str, declarations: str, flags: Sequence[str] | None = None,
             link_args: Sequence[str] = ()):
        """Build ``source`` if no valid entry has it, load it and return the module.

        Parameters
        ----------
        source : str
            The source text.
        declarations : str
            What the toolchain's loader needs to know of the library (for C, the declarations
            of the functions to call, see :func:`~exprc.link.c.toolchain.load_module`).
        flags : sequence of str, optional
            Compiler flags; default the toolchain's ``default_flags()``.
        link_args : sequence of str
            Libraries and linker options (e.g. :meth:`RuntimeLibrary.link_args`).

        Returns
        -------
        object
            What the toolchain's ``load`` returns (for C, a ``CModule``).

        Raises
        ------
        CompileError
            The toolchain's error, when the source does not build.
        CompileCacheError
            When the cache folder cannot be used (not the user's, not writable, a file in the
            way), the build produced no library, or a fresh build still does not load.
        """
        flags = tuple(self.toolchain.default_flags() if flags is None else flags)
        link_args = tuple(link_args)
        memo = (source, flags, link_args, declarations)
        module = self._loaded.get(memo)
        if module is not None:
            return module
        path = self.build(source, flags, link_args)
        try:
            module = self.toolchain.load(path, declarations)
        except OSError as exc:
            warnings.warn(f"compile cache entry {path.parent} does not load ({exc}); rebuilding",
                          CompileCacheWarning, stacklevel=2)
            self._invalidate(path.parent)
            path = self.build(source, flags, link_args)
            try:
                module = self.toolchain.load(path, declarations)
            except OSError as again:
                raise CompileCacheError(f"freshly built {path} does not load: {again}") from again
        self._loaded.put(memo, module)
        return module

    def build(self, source: str, flags: Sequence[str], link_args: Sequence[str] = ()) -> Path:
        """Make sure a valid library for this build is in the cache; return its path.

        Builds under the entry's lock when the entry is missing or damaged. Parameters and
        errors are those of :meth:`load`.
        """
        key = self.key(source, flags, link_args)
        try:
            return self._build_entry(key, source, flags, link_args)
        except OSError as exc:
            raise _cache_error(exc, self.directory) from exc

    def _build_entry(self, key: str, source: str, flags: Sequence[str],
                     link_args: Sequence[str]) -> Path:
        library_name = self.toolchain.library_name
        entry = self._root() / key
        entry.mkdir(mode=0o700, exist_ok=True)
        self._check_owner(entry)
        if self._problem(entry, key) is None:
            return entry / library_name
        with FileLock(str(entry / LOCK_NAME)):
            problem = self._problem(entry, key)
            if problem is None:
                return entry / library_name
            if problem:
                warnings.warn(f"compile cache entry {entry} is damaged ({problem}); rebuilding",
                              CompileCacheWarning, stacklevel=3)
            self._build(entry, key, source, flags, link_args)
        return entry / library_name

    def entries(self) -> list[CacheEntry]:
        """The entries in the cache folder, oldest first.

        An entry that cannot be read, or that is not a folder, is listed with its
        :attr:`CacheEntry.problem` rather than failing the whole listing.

        Raises
        ------
        CompileCacheError
            When the cache folder itself is not the user's, is a file or cannot be read.
        """
        try:
            if not os.path.lexists(self.directory):
                return []
            if not self.directory.is_dir():
                raise FileExistsError(errno.EEXIST, "not a folder", str(self.directory))
            self._check_owner(self.directory)
            paths = [path for path in self.directory.iterdir()
                     if _KEY_PATTERN.fullmatch(path.name)]
        except OSError as exc:
            raise _cache_error(exc, self.directory) from exc
        return sorted(map(_describe_entry, paths), key=lambda e: e.created)

    def size(self) -> int:
        """Bytes used by all entries."""
        return sum(entry.size for entry in self.entries())

    def clear(self) -> int:
        """Remove every entry, damaged ones included (and forget modules loaded from them);
        return how many were removed.

        Meant for when no other process is building into the same folder. A process that
        keeps running (or a function compiled before) is not disturbed: loaded libraries stay
        loaded, and what is needed again is rebuilt.

        Raises
        ------
        CompileCacheError
            After removing all it could, naming the entries it could not remove and why.
        """
        removed, failed = 0, []
        for entry in self.entries():
            why = _remove(entry.path)
            if why is None:
                removed += 1
            else:
                failed.append(f"{entry.path} ({why})")
        self._loaded.clear()
        if failed:
            raise CompileCacheError(
                f"removed {removed} compile cache entries but not {len(failed)}: "
                f"{'; '.join(failed)}. Remove them by hand, as their owner or after making "
                "them writable"
            )
        return removed

    def _root(self) -> Path:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._check_owner(self.directory)
        return self.directory

    @staticmethod
    def _check_owner(path: Path) -> None:
        if not hasattr(os, "getuid"):
            return
        owner = os.stat(path).st_uid
        if owner != os.getuid():
            raise CompileCacheError(
                f"{path} belongs to user id {owner}, not to this user ({os.getuid()}); exprc "
                "will not load shared objects another user could have written. Point "
                "EXPRC_CACHE_DIR at a folder of your own."
            )

    def _problem(self, entry: Path, key: str) -> str | None:
        """``None`` for a valid entry, ``""`` for one never finished, else what is wrong."""
        manifest = _read_manifest(entry)
        library = entry / self.toolchain.library_name
        if not manifest:
            return "" if not (entry / MANIFEST_NAME).exists() else "unreadable manifest"
        if not library.is_file():
            return "shared object missing"
        self._check_owner(library)
        if manifest.get("key") != key:
            return "manifest of another key"
        if library.stat().st_size != manifest.get("library_size"):
            return f"size {library.stat().st_size} != {manifest.get('library_size')}"
        if _file_sha256(library) != manifest.get("library_sha256"):
            return "checksum mismatch"
        return None

    def _build(self, entry: Path, key: str, source: str, flags: Sequence[str],
               link_args: Sequence[str]) -> None:
        # The manifest goes first and comes back last, so that no reader ever pairs an old
        # manifest with a new library or trusts one whose build did not finish.
        toolchain = self.toolchain
        (entry / MANIFEST_NAME).unlink(missing_ok=True)
        source_path = entry / toolchain.source_name
        source_path.write_text(source)
        library = entry / toolchain.library_name
        temporary = entry / f"{library.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            used_flags = toolchain.build(source_path, temporary, flags, link_args)
            if not temporary.is_file():
                raise CompileCacheError(
                    f"building {source_path} reported success but wrote no library (with "
                    f"{toolchain.identity.splitlines()[0]!r}): check that the compiler setting "
                    "(for C: exprc.config.c_compiler or CC) names a working compiler"
                )
            manifest = {
                "key": key,
                "library_size": temporary.stat().st_size,
                "library_sha256": _file_sha256(temporary),
                "source_size": len(source.encode()),
                "compiler": toolchain.identity.splitlines()[0:2],
                "flags": list(used_flags),
                "link_args": list(link_args),
                "created": time.time(),
            }
            os.replace(temporary, library)
        finally:
            temporary.unlink(missing_ok=True)
        _write_atomic(entry / MANIFEST_NAME, json.dumps(manifest, indent=1))

    def _invalidate(self, entry: Path) -> None:
        try:
            with FileLock(str(entry / LOCK_NAME)):
                (entry / MANIFEST_NAME).unlink(missing_ok=True)
        except OSError as exc:
            raise _cache_error(exc, self.directory) from exc


def _describe_entry(path: Path) -> CacheEntry:
    """One entry of :meth:`CompileCache.entries`, marked with what is wrong if it is damaged."""
    if not path.is_dir() or path.is_symlink():
        return CacheEntry(path.name, path, _size_of(path), _mtime(path), False, "not a folder")
    try:
        size = sum(_size_of(item) for item in path.iterdir())
    except OSError as exc:
        return CacheEntry(path.name, path, 0, _mtime(path), False,
                          f"unreadable: {exc.strerror or exc}")
    manifest = _read_manifest(path)
    if not manifest:
        return CacheEntry(path.name, path, size, _mtime(path), False)
    created = manifest.get("created")
    if not _is_time(created):
        return CacheEntry(path.name, path, size, _mtime(path), True, "damaged manifest")
    return CacheEntry(path.name, path, size, float(created), True)


def _is_time(value: Any) -> bool:
    """Whether a manifest's ``created`` is a time (a finite number of seconds)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _size_of(path: Path) -> int:
    # A file may vanish between listing and measuring it (another process building or
    # clearing): it then counts for nothing.
    try:
        status = path.lstat()
    except OSError:
        return 0
    return status.st_size if stat.S_ISREG(status.st_mode) else 0


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def _remove(path: Path) -> str | None:
    """Remove an entry (a folder, or a file in its place): None when it is gone, else why not."""
    reason = "unknown"
    for _ in range(2):  # once more if a file appeared or vanished meanwhile
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError as exc:
            reason = exc.strerror or str(exc)
        if not os.path.lexists(path):
            return None
    return reason


def _read_manifest(entry: Path) -> dict:
    try:
        manifest = json.loads((entry / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}
