"""The on-disk compile cache: build each C source once per machine, load it from then on.

An entry is a folder named by its key, the SHA-256 of everything that can change the built
object: the generated source, the compiler's identity and version, the flags and link
arguments, exprc's version, the contents of ``csrc/`` and ``cuda_kernels/``, and the host CPU
(``-march=native`` objects must not travel to another machine through a shared home folder)::

    <cache dir>/<key>/module.c        the source, kept for reading and for error messages
                      module.so       the shared object
                      manifest.json   key, sizes and SHA-256 of module.so; written last
                      .lock           taken while the entry is built

Several processes may ask for the same entry at once: the first takes the entry's lock and
compiles into a temporary name in the same folder, renames it into place (atomic on one file
system) and then writes the manifest; the others wait on the lock and find a finished entry.
An entry whose shared object does not match its manifest, or that the dynamic loader rejects,
is reported with a :class:`CompileCacheWarning` and rebuilt, never loaded. Within a process,
loaded modules are kept in memory, so asking again for the same source is one dict lookup.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from exprc.errors import ExprcError
from exprc.link.c.fingerprint import host_fingerprint, tree_digest
from exprc.link.c.toolchain import (
    CModule,
    Compiler,
    compile_flags,
    compile_shared,
    find_compiler,
    load_module,
)
from exprc.link.sources import source_dir

SOURCE_NAME = "module.c"
LIBRARY_NAME = "module.so"
MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".lock"

_KEY_PATTERN = re.compile(r"[0-9a-f]{64}")



class CompileCacheError(ExprcError):
    """The cache cannot be used safely (e.g. a folder owned by another user)."""


class CompileCacheWarning(UserWarning):
    """A cache entry was found damaged and is being rebuilt."""


def default_cache_dir() -> Path:
    """Where the cache lives when no folder is given.

    ``exprc.config.compiledir`` if set, else ``EXPRC_CACHE_DIR`` if set; else
    ``$XDG_CACHE_HOME/exprc`` or ``~/.cache/exprc`` on Linux, ``~/Library/Caches/exprc`` on
    macOS and ``%LOCALAPPDATA%\\exprc`` on Windows.
    """
    from exprc.configuration import config

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
        When it was built (seconds since the epoch), or the folder's time if unfinished.
    complete : bool
        Whether it has a manifest, i.e. its build finished.
    """

    key: str
    path: Path
    size: int
    created: float
    complete: bool


class CompileCache:
    """Build, verify and load shared objects, one cache entry per distinct build.

    Parameters
    ----------
    directory : path-like, optional
        The cache folder; default :func:`default_cache_dir`. Created private to the user
        (mode 0700); a folder or entry owned by another user is refused, since loading a shared
        object runs its code.
    compiler : Compiler, optional
        Default :func:`~exprc.link.c.toolchain.find_compiler`, found on first use.
    csrc_dir : path-like, optional
        Helper headers, passed as ``-I`` and hashed into every key; default the project's
        ``csrc/``.
    kernel_dir : path-like, optional
        CUDA templates hashed into every key; default the project's ``cuda_kernels/``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from exprc.link.c.toolchain import compile_flags
    >>> cache = CompileCache(tempfile.mkdtemp())
    >>> source = '''#include "exprc_common.h"
    ... EXPRC_EXPORT double total(const double *x, exprc_int n) {
    ...     double s = 0; for (exprc_int i = 0; i < n; i++) s += x[i]; return s; }'''
    >>> module = cache.load(source, "double total(const double *x, int64_t n);",
    ...                     flags=compile_flags(cache.compiler, optimize=False, openmp=False))
    >>> x = np.arange(4.0)
    >>> module.total(module.ffi.from_buffer("double[]", x), x.size)
    6.0
    >>> cache.clear()
    1
    """

    def __init__(self, directory: str | os.PathLike | None = None, *,
                 compiler: Compiler | None = None,
                 csrc_dir: str | os.PathLike | None = None,
                 kernel_dir: str | os.PathLike | None = None):
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.csrc_dir = Path(csrc_dir) if csrc_dir is not None else source_dir("csrc")
        self.kernel_dir = (Path(kernel_dir) if kernel_dir is not None
                           else source_dir("cuda_kernels"))
        self._compiler = compiler
        self._loaded: dict[tuple, CModule] = {}

    @property
    def compiler(self) -> Compiler:
        """The compiler this cache builds with."""
        if self._compiler is None:
            from exprc.configuration import config

            self._compiler = find_compiler(config.c_compiler or None)
        return self._compiler

    def key(self, source: str, flags: Sequence[str], link_args: Sequence[str] = ()) -> str:
        """The entry key of a build: SHA-256 over all its inputs (see the module docstring)."""
        import exprc  # here, not at import time: exprc's own import may lead to this module

        parts = {
            "source": source,
            "compiler": self.compiler.identity,
            "flags": list(flags),
            "link_args": list(link_args),
            "exprc": exprc.__version__,
            "csrc": tree_digest(self.csrc_dir),
            "cuda_kernels": tree_digest(self.kernel_dir),
            "host": host_fingerprint(),
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def load(self, source: str, declarations: str, flags: Sequence[str] | None = None,
             link_args: Sequence[str] = ()) -> CModule:
        """Build ``source`` if no valid entry has it, load it and return the module.

        Parameters
        ----------
        source : str
            C source; it may include the headers of ``csrc/``.
        declarations : str
            C declarations of the functions to call (see
            :func:`~exprc.link.c.toolchain.load_module`).
        flags : sequence of str, optional
            Compiler flags; default ``compile_flags(self.compiler)`` (full optimisation).
        link_args : sequence of str
            Libraries and linker options (e.g. :meth:`RuntimeLibrary.link_args`).

        Returns
        -------
        CModule

        Raises
        ------
        CompileError
            When the source does not compile.
        CompileCacheError
            When the cache folder is not the user's, or a fresh build still does not load.
        """
        flags = tuple(compile_flags(self.compiler) if flags is None else flags)
        link_args = tuple(link_args)
        memo = (source, flags, link_args, declarations)
        module = self._loaded.get(memo)
        if module is not None:
            return module
        path = self.build(source, flags, link_args)
        try:
            module = load_module(path, declarations)
        except OSError as exc:
            warnings.warn(f"compile cache entry {path.parent} does not load ({exc}); rebuilding",
                          CompileCacheWarning, stacklevel=2)
            self._invalidate(path.parent)
            path = self.build(source, flags, link_args)
            try:
                module = load_module(path, declarations)
            except OSError as again:
                raise CompileCacheError(f"freshly built {path} does not load: {again}") from again
        self._loaded[memo] = module
        return module

    def build(self, source: str, flags: Sequence[str], link_args: Sequence[str] = ()) -> Path:
        """Make sure a valid shared object for this build is in the cache; return its path.

        Compiles under the entry's lock when the entry is missing or damaged. Parameters and
        errors are those of :meth:`load`.
        """
        key = self.key(source, flags, link_args)
        entry = self._root() / key
        entry.mkdir(mode=0o700, exist_ok=True)
        self._check_owner(entry)
        if self._problem(entry, key) is None:
            return entry / LIBRARY_NAME
        with FileLock(str(entry / LOCK_NAME)):
            problem = self._problem(entry, key)
            if problem is None:
                return entry / LIBRARY_NAME
            if problem:
                warnings.warn(f"compile cache entry {entry} is damaged ({problem}); rebuilding",
                              CompileCacheWarning, stacklevel=2)
            self._compile(entry, key, source, flags, link_args)
        return entry / LIBRARY_NAME

    def entries(self) -> list[CacheEntry]:
        """The entries in the cache folder, oldest first."""
        if not self.directory.is_dir():
            return []
        self._check_owner(self.directory)
        found = []
        for entry in self.directory.iterdir():
            if not (entry.is_dir() and _KEY_PATTERN.fullmatch(entry.name)):
                continue
            files = [f for f in entry.iterdir() if f.is_file()]
            manifest = _read_manifest(entry)
            created = manifest.get("created") or entry.stat().st_mtime
            found.append(CacheEntry(entry.name, entry, sum(f.stat().st_size for f in files),
                                    float(created), bool(manifest)))
        return sorted(found, key=lambda e: e.created)

    def size(self) -> int:
        """Bytes used by all entries."""
        return sum(entry.size for entry in self.entries())

    def clear(self) -> int:
        """Remove every entry (and forget modules loaded from them); return how many.

        Meant for when no other process is compiling into the same folder.
        """
        removed = self.entries()
        for entry in removed:
            shutil.rmtree(entry.path, ignore_errors=True)
        self._loaded.clear()
        return len(removed)

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
        library = entry / LIBRARY_NAME
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

    def _compile(self, entry: Path, key: str, source: str, flags: Sequence[str],
                 link_args: Sequence[str]) -> None:
        # The manifest goes first and comes back last, so that no reader ever pairs an old
        # manifest with a new shared object or trusts one whose build did not finish.
        (entry / MANIFEST_NAME).unlink(missing_ok=True)
        source_path = entry / SOURCE_NAME
        source_path.write_text(source)
        temporary = entry / f"{LIBRARY_NAME}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        build_flags = (*flags, f"-I{self.csrc_dir}")
        try:
            compile_shared(self.compiler, source_path, temporary, build_flags, link_args)
            manifest = {
                "key": key,
                "library_size": temporary.stat().st_size,
                "library_sha256": _file_sha256(temporary),
                "source_size": len(source.encode()),
                "compiler": self.compiler.identity.splitlines()[0:2],
                "flags": list(build_flags),
                "link_args": list(link_args),
                "created": time.time(),
            }
            os.replace(temporary, entry / LIBRARY_NAME)
        finally:
            temporary.unlink(missing_ok=True)
        _write_atomic(entry / MANIFEST_NAME, json.dumps(manifest, indent=1))

    def _invalidate(self, entry: Path) -> None:
        with FileLock(str(entry / LOCK_NAME)):
            (entry / MANIFEST_NAME).unlink(missing_ok=True)


def _read_manifest(entry: Path) -> dict:
    try:
        manifest = json.loads((entry / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


_DEFAULT_CACHES: dict[tuple, CompileCache] = {}


def default_cache() -> CompileCache:
    """The process-wide cache over :func:`default_cache_dir`, keeping its loaded modules."""
    from exprc.configuration import config

    where = (default_cache_dir(), config.c_compiler)
    if where not in _DEFAULT_CACHES:
        _DEFAULT_CACHES[where] = CompileCache(where[0])
    return _DEFAULT_CACHES[where]
