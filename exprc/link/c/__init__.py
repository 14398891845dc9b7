"""The C backend's foundation: compiler driver, OpenBLAS flags and its compile cache.

Generated C exports plain functions over raw pointers and integer shapes; this package turns
such a source into a loaded module whose functions Python calls through cffi::

    cache = default_cache()
    module = cache.load(source, "void f(const float *x, float *out, int64_t n);")
    module.f(module.ffi.from_buffer("float[]", x), module.ffi.from_buffer("float[]", out), n)

The cache itself is the backend-neutral :class:`exprc.cache.CompileCache` (re-exported here);
:class:`CToolchain` is how it builds and loads C. See ``docs/compile_cache.md``.
"""

from exprc.cache.store import (
    CacheEntry,
    CompileCache,
    CompileCacheError,
    CompileCacheWarning,
    default_cache_dir,
)
from exprc.link.c.blas import BlasLibrary, find_openblas, get_num_threads, set_num_threads
from exprc.link.c.toolchain import (
    CModule,
    CompileError,
    Compiler,
    CToolchain,
    compile_flags,
    compile_shared,
    default_cache,
    find_compiler,
    load_module,
)

__all__ = [
    "BlasLibrary", "CModule", "CToolchain", "CacheEntry", "CompileCache", "CompileCacheError",
    "CompileCacheWarning", "CompileError", "Compiler", "compile_flags", "compile_shared",
    "default_cache", "default_cache_dir", "find_compiler", "find_openblas", "get_num_threads",
    "load_module", "set_num_threads",
]
