"""The C toolchain: find the system compiler, build shared objects, load them with cffi.

Everything here is stateless apart from small per-process memos (the compiler's identity, which
optional flags it accepts). Built objects are kept on disk by the backend-neutral compile cache
(:mod:`exprc.cache.store`); :class:`CToolchain` is what it needs to know of the C compiler, and
:func:`default_cache` is the C backend's process-wide cache.

Commands are always run as argument lists, never through a shell, so paths with spaces or
quotes in them are passed through unchanged and nothing in a source or path can run a command.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cffi

# cffi's C parser takes 40-60 ms to import, once per process: with exprc rather than inside the
# first compile, whose time users wait for. (Importing it parses nothing and starts nothing.)
import pycparser  # noqa: F401

from exprc.cache.store import CompileCache, default_cache_dir
from exprc.configuration import config
from exprc.errors import ExprcError
from exprc.link.sources import source_dir

BASE_FLAGS = ("-shared", "-fPIC", "-std=gnu11", "-fvisibility=hidden")
"""Flags every build uses: a position-independent shared object exporting only marked symbols."""

FAST_FLAGS = ("-O1",)
"""Quick builds for tests and ``FAST_COMPILE``: most of the speed for a fraction of the time."""

OPTIMIZED_FLAGS = ("-O2", "-fvect-cost-model=dynamic", "-fopenmp-simd", "-fno-math-errno",
                   "-fno-trapping-math")
"""Full optimisation. -O2 with -O3's vectorizer cost model (and ``omp simd`` honoured even
without OpenMP) vectorizes every loop -O3 does and measured as fast on the benchmark
workloads, at a fraction of -O3's compile time. Deliberately not
``-ffast-math``: it lets the compiler assume there are no
NaNs or infinities, which would change results (``isnan`` folded to false, ``max`` with NaN)."""

OPTIONAL_OPTIMIZED_FLAGS = ("-march=native", "-fno-semantic-interposition")
"""Added to full optimisation when the compiler accepts them (probed once per process)."""

OPENMP_FLAG = "-fopenmp"



class CompileError(ExprcError):
    """The C compiler rejected a source.

    Attributes
    ----------
    command : list of str
        The compiler command that failed.
    stderr : str
        What the compiler printed.
    source_path : pathlib.Path or None
        Where the source was kept, to be read or compiled again by hand; ``None`` when the
        compiler itself could not be run.
    """

    def __init__(self, command: Sequence[str], stderr: str, source_path: Path | None = None):
        self.command = list(command)
        self.stderr = stderr
        self.source_path = None if source_path is None else Path(source_path)
        kept = "" if source_path is None else f"; the source is kept at {self.source_path}"
        super().__init__(
            f"C compilation failed{kept}\ncommand: {shlex.join(self.command)}\n{stderr.rstrip()}"
        )


@dataclass(frozen=True)
class Compiler:
    """A C compiler found on this machine.

    Attributes
    ----------
    command : tuple of str
        The argument list that starts it (``CC`` may hold several words, e.g. ``ccache gcc``).
    version : str
        Its ``--version`` output, part of every compile-cache key.
    """

    command: tuple[str, ...]
    version: str

    @property
    def identity(self) -> str:
        """The command and version together: what makes two builds comparable."""
        return f"{shlex.join(self.command)}\n{self.version}"


def find_compiler(cc: str | None = None) -> Compiler:
    """Find the C compiler: ``cc`` if given, else the ``CC`` variable, else ``cc`` or ``gcc``.

    Parameters
    ----------
    cc : str, optional
        A compiler command, split like a shell word list (``"ccache gcc"``) but never run
        through a shell.

    Returns
    -------
    Compiler

    Raises
    ------
    CompileError
        When no compiler is found or it does not answer ``--version``.
    """
    spec = cc or os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not spec:
        raise CompileError(["cc"], "no C compiler found: set CC or install gcc")
    return _probe_compiler(tuple(shlex.split(spec)))


class _ProbeMemo:
    """What probing a compiler found, kept on disk beside the compile cache.

    Probing runs the compiler (``--version`` and a small build per optional flag), which costs
    tens of milliseconds a process; a function found in the compile cache must not pay that.
    Answers are keyed by the compiler binary's real path, size and modification time and by
    the host, so a changed or different compiler is probed afresh. An unreadable memo is
    ignored and rewritten.
    """

    FILE_NAME = "toolchain-probes.json"

    def __init__(self):
        self._entries: dict | None = None

    def _path(self) -> Path:
        return default_cache_dir() / self.FILE_NAME

    @staticmethod
    def key(executable: str, *extra: str) -> str:
        real = os.path.realpath(executable)
        try:
            stat = os.stat(real)
        except OSError:
            return ""
        return "|".join([real, str(stat.st_size), str(stat.st_mtime_ns), platform.node(),
                         *extra])

    def get(self, key: str):
        if not key:
            return None
        if self._entries is None:
            try:
                loaded = json.loads(self._path().read_text())
                self._entries = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                self._entries = {}
        return self._entries.get(key)

    def put(self, key: str, value) -> None:
        if not key:
            return
        self.get(key)
        self._entries[key] = value
        path = self._path()
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(self._entries))
            os.replace(temporary, path)
        except OSError:
            pass  # a memo that cannot be written only costs a probe next time


_PROBES = _ProbeMemo()


@functools.cache
def _probe_compiler(command: tuple[str, ...]) -> Compiler:
    resolved = shutil.which(command[0])
    if resolved is None:
        raise CompileError(command, f"C compiler {command[0]!r} not found")
    memo_key = _ProbeMemo.key(resolved, "version", *command[1:])
    version = _PROBES.get(memo_key)
    if isinstance(version, str):
        return Compiler((resolved, *command[1:]), version)
    try:
        done = subprocess.run([*command, "--version"], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise CompileError(command, f"cannot run the C compiler: {exc}") from exc
    if done.returncode != 0:
        raise CompileError([*command, "--version"], done.stderr)
    _PROBES.put(memo_key, done.stdout.strip())
    return Compiler((resolved, *command[1:]), done.stdout.strip())


@functools.cache
def accepts_flags(compiler: Compiler, flags: tuple[str, ...]) -> bool:
    """Whether ``compiler`` builds a small shared object with ``flags`` (probed once).

    OpenMP is probed with a source that includes ``omp.h`` and calls the runtime, so that a
    compiler which knows the flag but lacks the library counts as not supporting it.
    """
    memo_key = _ProbeMemo.key(compiler.command[0], "flags", *compiler.command[1:], *flags)
    known = _PROBES.get(memo_key)
    if isinstance(known, bool):
        return known
    accepted = _try_flags(compiler, flags)
    _PROBES.put(memo_key, accepted)
    return accepted


def _try_flags(compiler: Compiler, flags: tuple[str, ...]) -> bool:
    source = "int exprc_probe(int x) { return x + 1; }\n"
    if OPENMP_FLAG in flags:
        source = "#include <omp.h>\nint exprc_probe(int x) { return x + omp_get_max_threads(); }\n"
    with tempfile.TemporaryDirectory(prefix="exprc-probe-") as tmp:
        src = Path(tmp, "probe.c")
        src.write_text(source)
        command = [*compiler.command, *BASE_FLAGS, *flags, "-o", str(Path(tmp, "probe.so")),
                   str(src)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    return done.returncode == 0


def compile_flags(compiler: Compiler, optimize: bool = True, openmp: bool | None = None,
                  extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The flags for one build, before the source file.

    Parameters
    ----------
    compiler : Compiler
    optimize : bool
        Full optimisation (:data:`OPTIMIZED_FLAGS` plus the accepted
        :data:`OPTIONAL_OPTIMIZED_FLAGS`) when true, else the quick :data:`FAST_FLAGS`.
    openmp : bool, optional
        Add ``-fopenmp``; ``None`` adds it when the compiler supports it.
    extra : sequence of str
        Further flags, appended last so that they win.

    Returns
    -------
    tuple of str
    """
    flags = list(BASE_FLAGS)
    # One probe of every optional flag together answers for all of them on the usual
    # machine; each is probed alone only when that one fails.
    every = accepts_flags(compiler, (*OPTIONAL_OPTIMIZED_FLAGS, OPENMP_FLAG))
    if optimize:
        flags += OPTIMIZED_FLAGS
        flags += [f for f in OPTIONAL_OPTIMIZED_FLAGS if every or accepts_flags(compiler, (f,))]
    else:
        flags += FAST_FLAGS
    if openmp is None:
        openmp = every or accepts_flags(compiler, (OPENMP_FLAG,))
    if openmp:
        flags.append(OPENMP_FLAG)
    return (*flags, *extra)


def compile_shared(compiler: Compiler, source_path: Path, output_path: Path,
                   flags: Sequence[str], link_args: Sequence[str] = ()) -> None:
    """Compile the C file ``source_path`` into the shared object ``output_path``.

    Parameters
    ----------
    compiler : Compiler
    source_path, output_path : pathlib.Path
    flags : sequence of str
        Compiler flags, placed before the source (see :func:`compile_flags`).
    link_args : sequence of str
        Libraries and linker options, placed after the source so that linkers which drop
        libraries nobody has asked for yet (``--as-needed``) keep them.

    Raises
    ------
    CompileError
        With the command, the compiler's output and the kept source path.
    """
    if config.debug >= 3:
        print(f"exprc: C source {source_path}:\n{Path(source_path).read_text()}", file=sys.stderr)
    parts = _parts(source_path)
    if parts:
        _compile_parts(compiler, Path(source_path), Path(output_path), flags, link_args, parts)
        return
    command = [*compiler.command, *flags, "-o", str(output_path), str(source_path), *link_args]
    _run_all([command], source_path)


PARTS_MARKER = "/* exprc: program in parts */"
"""First line of a source holding a hot part and glue parts (see exprc.link.c.program); the
second line says how many parts there are: ``/* parts: 3 */``."""

GLUE_OPTIMIZATION = "-O0"
"""The glue parts only pass values to run-time functions (about one call per node): optimising
them gains nothing measurable and costs most of a program's compile time."""


def _parts(source_path: Path) -> int:
    """How many parts the source holds (0: an ordinary source)."""
    with open(source_path, encoding="utf-8", errors="replace") as handle:
        if handle.readline().rstrip("\n") != PARTS_MARKER:
            return 0
        match = re.fullmatch(r"/\* parts: (\d+) \*/", handle.readline().strip())
    return int(match.group(1)) if match else 0


def _compile_parts(compiler: Compiler, source_path: Path, output_path: Path,
                   flags: Sequence[str], link_args: Sequence[str], parts: int) -> None:
    """Compile part 1 with ``flags`` and the glue parts quickly, side by side, then link."""
    glue_flags = [GLUE_OPTIMIZATION if f in ("-O2", "-O3") else f for f in flags]
    objects = [output_path.with_name(f"{output_path.name}.part{k}.o")
               for k in range(1, parts + 1)]
    compiles = [[*compiler.command, *(flags if k == 1 else glue_flags), f"-DEXPRC_PART={k}",
                 "-c", "-o", str(obj), str(source_path)]
                for k, obj in enumerate(objects, start=1)]
    try:
        _run_all(compiles, source_path)
        _run_all([[*compiler.command, *flags, "-o", str(output_path),
                   *map(str, objects), *link_args]], source_path)
    finally:
        for obj in objects:
            obj.unlink(missing_ok=True)


def _run_all(commands: Sequence[Sequence[str]], source_path: Path) -> None:
    """Run the compiler commands at the same time; raise CompileError for the first failure."""
    for command in commands:
        if config.debug >= 4:
            print(f"exprc: {shlex.join(command)}", file=sys.stderr)
    running = [(command, subprocess.Popen(command, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
               for command in commands]
    failure = None
    for command, process in running:
        out, err = process.communicate()
        if process.returncode != 0 and failure is None:
            failure = CompileError(command, err or out, source_path)
        elif config.debug >= 4 and err:
            print(err, file=sys.stderr, end="")
    if failure is not None:
        raise failure


class CModule:
    """A loaded shared object: its exported functions are attributes.

    Attributes
    ----------
    ffi : cffi.FFI
        The FFI that declared the functions; use it to pass arrays
        (``ffi.from_buffer("float[]", array)``) or cast pointers.
    path : pathlib.Path
        The shared object.
    """

    def __init__(self, ffi: cffi.FFI, lib: object, path: Path):
        self.ffi = ffi
        self.path = Path(path)
        self._lib = lib

    def __getattr__(self, name: str):
        try:
            return getattr(self._lib, name)
        except AttributeError as exc:
            raise AttributeError(f"{self.path} exports no declared function {name!r}") from exc

    def __repr__(self) -> str:
        return f"<CModule {self.path}>"


def load_module(path: Path, declarations: str) -> CModule:
    """Load a shared object with cffi after declaring its functions.

    Parameters
    ----------
    path : pathlib.Path
        The shared object.
    declarations : str
        C declarations of the exported functions, e.g.
        ``"void add(const double *x, double *out, int64_t n);"``.

    Returns
    -------
    CModule

    Raises
    ------
    OSError
        When the dynamic loader rejects the file.
    """
    ffi = declared(declarations)
    return CModule(ffi, ffi.dlopen(str(path)), path)


@functools.lru_cache(maxsize=64)
def declared(declarations: str) -> cffi.FFI:
    """The FFI knowing ``declarations``, parsed once per process: parsing is the slow part of
    loading a module, and every module with the same declarations shares it."""
    ffi = cffi.FFI()
    ffi.cdef(declarations)
    return ffi


class CToolchain:
    """The C compiler as the compile cache's toolchain (see :mod:`exprc.cache.store`).

    Parameters
    ----------
    compiler : Compiler, optional
        Default :func:`find_compiler` with ``exprc.config.c_compiler``, found on first use.
    csrc_dir : path-like, optional
        Helper headers, passed as ``-I`` to every build and hashed into every key; default the
        project's ``csrc/``.
    kernel_dir : path-like, optional
        CUDA templates hashed into every key; default the project's ``cuda_kernels/``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> cache = CompileCache(tempfile.mkdtemp(), CToolchain())
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

    source_name = "module.c"
    library_name = "module.so"

    def __init__(self, compiler: Compiler | None = None, *,
                 csrc_dir: str | os.PathLike | None = None,
                 kernel_dir: str | os.PathLike | None = None):
        self._compiler = compiler
        self.csrc_dir = Path(csrc_dir) if csrc_dir is not None else source_dir("csrc")
        self.kernel_dir = (Path(kernel_dir) if kernel_dir is not None
                           else source_dir("cuda_kernels"))

    @property
    def compiler(self) -> Compiler:
        """The compiler this toolchain builds with."""
        if self._compiler is None:
            self._compiler = find_compiler(config.c_compiler or None)
        return self._compiler

    @property
    def identity(self) -> str:
        """The compiler's command and version."""
        return self.compiler.identity

    @property
    def source_trees(self) -> dict[str, Path]:
        """``csrc`` and ``cuda_kernels``: both are hashed into every key."""
        return {"csrc": self.csrc_dir, "cuda_kernels": self.kernel_dir}

    def default_flags(self) -> tuple[str, ...]:
        """Full optimisation (:func:`compile_flags`)."""
        return compile_flags(self.compiler)

    def build(self, source_path: Path, output_path: Path, flags: Sequence[str],
              link_args: Sequence[str] = ()) -> tuple[str, ...]:
        """Compile with :func:`compile_shared`, ``csrc/`` on the include path; return the
        flags used."""
        used = (*flags, f"-I{self.csrc_dir}")
        compile_shared(self.compiler, source_path, output_path, used, link_args)
        return used

    def load(self, path: Path, declarations: str) -> CModule:
        """:func:`load_module`."""
        return load_module(path, declarations)


_DEFAULT_CACHES: dict[tuple, CompileCache] = {}


def default_cache() -> CompileCache:
    """The C backend's process-wide cache over :func:`~exprc.cache.store.default_cache_dir`
    with ``exprc.config.c_compiler``, keeping its loaded modules."""
    where = (default_cache_dir(), config.c_compiler)
    if where not in _DEFAULT_CACHES:
        _DEFAULT_CACHES[where] = CompileCache(where[0], CToolchain())
    return _DEFAULT_CACHES[where]
