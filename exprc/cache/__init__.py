"""The on-disk compile cache, shared by every backend, and its command line.

:mod:`exprc.cache.store` keeps built libraries keyed by everything that can change them; a
backend supplies the toolchain that builds and loads them (the C backend's is
:class:`~exprc.link.c.toolchain.CToolchain`, and :func:`exprc.link.c.toolchain.default_cache`
is its process-wide cache). :mod:`exprc.cache.fingerprint` digests source folders and the host
for the keys. ``python -m exprc.cache list|size|clear`` inspects and clears the cache. See
``docs/compile_cache.md``.
"""

from exprc.cache.fingerprint import host_fingerprint, tree_digest
from exprc.cache.store import (
    CacheEntry,
    CompileCache,
    CompileCacheError,
    CompileCacheWarning,
    Toolchain,
    default_cache_dir,
)

__all__ = ["CacheEntry", "CompileCache", "CompileCacheError", "CompileCacheWarning",
           "Toolchain", "default_cache_dir", "host_fingerprint", "tree_digest"]
