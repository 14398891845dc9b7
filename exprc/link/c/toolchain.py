"""The C toolchain: find the system compiler, build shared objects, load them with cffi.

Everything here is stateless apart from small per-process memos (the compiler's identity, which
optional flags it accepts). Built objects are kept on disk by the backend-neutral compile cache
(:mod:`exprc.cache.store`); :class:`CToolchain` is what it needs to know of the C compiler, and
:func:`default_cache` is the C backend's process-wide cache.

Commands are always run as argument lists, never through a shell, so paths with spaces or
quotes in them are passed through unchanged and nothing in a source or path can run a command;
every path given to the compiler is absolute, so none can be read as an option. Each compiler
runs in its own process group, which is stopped as a whole when a build takes longer than
``exprc.config.c_compile_timeout`` or is interrupted (Ctrl-C), and its output goes to temporary
files rather than pipes, so an abandoned build leaves no process, pipe or object file behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import platform
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
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
    try:
        command = tuple(shlex.split(spec))
    except ValueError as exc:
        raise CompileError([spec], f"the C compiler command {spec!r} does not split into words "
                           f"({exc}): fix exprc.config.c_compiler or CC") from None
    if not command:
        raise CompileError([spec], "the C compiler command is empty: set "
                           "exprc.config.c_compiler or CC to a compiler")
    return _probe_compiler(command)


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
    [(returncode, out, err)] = _run_compilers([[*command, "--version"]], _deadline())
    if returncode != 0:
        raise CompileError([*command, "--version"], err or out)
    _PROBES.put(memo_key, out.strip())
    return Compiler((resolved, *command[1:]), out.strip())


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
        [(returncode, _, _)] = _run_compilers([command], _deadline())
    return returncode == 0


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
    # Absolute paths: a relative one starting with "-" would be read as an option.
    source_path = Path(os.path.abspath(source_path))
    output_path = Path(os.path.abspath(output_path))
    if config.debug >= 3:
        print(f"exprc: C source {source_path}:\n{source_path.read_text()}", file=sys.stderr)
    deadline = _deadline()
    parts = _parts(source_path)
    if parts:
        _compile_parts(compiler, source_path, output_path, flags, link_args, parts, deadline)
        return
    command = [*compiler.command, *flags, "-o", str(output_path), str(source_path), *link_args]
    _run_all([command], source_path, deadline)


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
                   flags: Sequence[str], link_args: Sequence[str], parts: int,
                   deadline: float | None) -> None:
    """Compile part 1 with ``flags`` and the glue parts quickly, side by side, then link."""
    glue_flags = [GLUE_OPTIMIZATION if f in ("-O2", "-O3") else f for f in flags]
    objects = [output_path.with_name(f"{output_path.name}.part{k}.o")
               for k in range(1, parts + 1)]
    compiles = [[*compiler.command, *(flags if k == 1 else glue_flags), f"-DEXPRC_PART={k}",
                 "-c", "-o", str(obj), str(source_path)]
                for k, obj in enumerate(objects, start=1)]
    try:
        _run_all(compiles, source_path, deadline)
        _run_all([[*compiler.command, *flags, "-o", str(output_path),
                   *map(str, objects), *link_args]], source_path, deadline)
    finally:
        # Also after a timeout or Ctrl-C: the compilers are stopped by then.
        for obj in objects:
            obj.unlink(missing_ok=True)


def _deadline() -> float | None:
    """When a build starting now must end (``time.monotonic``), or None for no limit."""
    timeout = config.c_compile_timeout
    return time.monotonic() + timeout if timeout > 0 else None


def _run_all(commands: Sequence[Sequence[str]], source_path: Path,
             deadline: float | None) -> None:
    """Run the compiler commands at the same time; raise CompileError for the first failure."""
    for command in commands:
        if config.debug >= 4:
            print(f"exprc: {shlex.join(command)}", file=sys.stderr)
    results = _run_compilers(commands, deadline, source_path)
    failure = None
    for command, (returncode, out, err) in zip(commands, results):
        if returncode != 0 and failure is None:
            failure = CompileError(command, err or out, source_path)
        elif config.debug >= 4 and err:
            print(err, file=sys.stderr, end="")
    if failure is not None:
        raise failure


def _run_compilers(commands: Sequence[Sequence[str]], deadline: float | None,
                   source_path: Path | None = None) -> list[tuple[int, str, str]]:
    """Run compiler commands side by side and wait for all of them.

    Each command runs without a shell, with no input, in a process group of its own, its
    output collected in temporary files (a pipe that nobody reads would block a talkative
    compiler, and one left open would leak). Whatever ends the wait early (the deadline, an
    exception such as ``KeyboardInterrupt``) kills every process group still running and
    reaps its leader before it propagates, so no compiler outlives the call.

    Parameters
    ----------
    commands : sequence of sequence of str
    deadline : float or None
        ``time.monotonic()`` value by which every command must have finished (see
        :func:`_deadline`); None for no limit.
    source_path : pathlib.Path, optional
        The source being built, named by the errors.

    Returns
    -------
    list of (int, str, str)
        Each command's exit status, standard output and standard error.

    Raises
    ------
    CompileError
        When a command cannot be started, or the deadline passes (naming
        ``exprc.config.c_compile_timeout``).
    """
    started: list[_CompilerRun] = []
    # The deadline is kept by a timer that kills the compilers, not by waiting with a timeout:
    # Popen.wait(timeout) polls with sleeps of up to 50 ms, which a build would pay each time,
    # while a plain wait returns the moment the compiler exits.
    expired = threading.Event()

    def expire() -> None:
        if any([job.kill() for job in list(started)]):
            expired.set()

    timer = None
    if deadline is not None:
        timer = threading.Timer(max(deadline - time.monotonic(), 0.0), expire)
        timer.daemon = True
    try:
        for command in commands:
            job = _CompilerRun(command, source_path)
            started.append(job)  # before it starts, so that it is stopped whatever happens
            job.start()
        if timer is not None:
            timer.start()
        for job in started:
            job.process.wait()
        if timer is not None:
            timer.cancel()
            timer.join()  # a timer that already fired has finished killing
        # A build whose compilers all succeeded stands even if the timer fired as they ended.
        if expired.is_set() and any(job.process.returncode != 0 for job in started):
            if hasattr(os, "killpg"):
                for job in started:
                    _wait_for_group(job.process.pid)
            timeout = config.c_compile_timeout
            raise CompileError(
                started[0].command,
                f"the C compiler did not finish within {timeout:g} s and was stopped: raise "
                "exprc.config.c_compile_timeout (EXPRC_FLAGS=c_compile_timeout=<seconds>; 0 "
                "waits forever) if this build needs longer, or check the compiler",
                source_path)
        return [job.result() for job in started]
    finally:
        if timer is not None:
            timer.cancel()
        for job in started:
            job.stop()


class _CompilerRun:
    """One compiler process in its own process group, writing to temporary files."""

    def __init__(self, command: Sequence[str], source_path: Path | None):
        self.command = list(command)
        self.source_path = source_path
        self.process: subprocess.Popen | None = None
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()

    def start(self) -> None:
        try:
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err,
                start_new_session=True)
        except OSError as exc:
            raise CompileError(self.command, f"cannot run the C compiler: {exc}",
                               self.source_path) from None

    def kill(self) -> bool:
        """Kill the process group if its leader has not been reaped yet (from any thread);
        return whether a signal was sent."""
        process = self.process
        if process is None or process.returncode is not None:
            return False
        # The leader is not reaped yet, so its group id is no one else's. (The thread that
        # waits may reap it between the check and the kill: the group id could then be reused
        # in that instant, a window of microseconds once per expired build.)
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            if hasattr(os, "killpg"):
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            return True
        return False

    def result(self) -> tuple[int, str, str]:
        return self.process.returncode, _read(self._out), _read(self._err)

    def stop(self) -> None:
        """Kill the process group if its leader still runs, reap the leader, close the files."""
        process = self.process
        try:
            if process is not None and process.returncode is None:
                self.kill()
                process.wait()
                if hasattr(os, "killpg"):
                    _wait_for_group(process.pid)
        finally:
            self._close()

    def _close(self) -> None:
        self._out.close()
        self._err.close()


def _read(stream) -> str:
    stream.seek(0)
    return stream.read().decode("utf-8", "replace")


def _wait_for_group(group: int, limit: float = 1.0) -> None:
    """Wait (briefly) until the killed group's other members (``cc1``, ``as``...) have
    stopped, so that none writes a file after the caller removed it."""
    end = time.monotonic() + limit
    while time.monotonic() < end and _group_runs(group):
        time.sleep(0.005)


def _group_runs(group: int) -> bool:
    """Whether a process of ``group`` still runs. A killed member stays in its group as a
    zombie until its new parent reaps it, which may take long: zombies do not count."""
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(group, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    with os.scandir("/proc") as entries:
        for entry in entries:
            if entry.name.isdigit() and _running_in(entry.name, group):
                return True
    return False


def _running_in(pid: str, group: int) -> bool:
    """Whether process ``pid`` (a /proc name) belongs to ``group`` and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            fields = stream.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return False  # gone meanwhile
    return int(fields[2]) == group and fields[0] not in (b"Z", b"X")


class CModule:
    """A loaded shared object: its exported functions are attributes.

    The library stays loaded as long as this object lives (and everything holding it: a
    compiled function, its native entry point, its output arrays); once it is gone the
    library may be unloaded, so keep the module, not only functions taken from it, for as long
    as you call them.

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
    lib = ffi.dlopen(str(path))
    # Only a library whose dependencies are pinned may be unloaded (see _pin).
    if _pin(_needed_libraries(path)):
        _let_go(ffi, lib)
    return CModule(ffi, lib, path)


_pinned: dict[str, ctypes.CDLL] = {}


def _pin(names: Sequence[str] | None) -> bool:
    """Keep loaded for good the libraries a module depends on; whether all of them are.

    The first module that depends on a library (libgomp, for OpenMP) is the one that loads it,
    and unloading that module would unload the library too, pulling its code from under its
    idle worker threads. A dependency that cannot be pinned (or a module whose dependencies
    are unknown, ``None``) keeps the module itself loaded for good.
    """
    if names is None:
        return False
    mode = os.RTLD_NOW | getattr(os, "RTLD_NOLOAD", 0) | getattr(os, "RTLD_NODELETE", 0)
    for name in names:
        if name not in _pinned:
            try:
                _pinned[name] = ctypes.CDLL(name, mode=mode)  # ctypes never closes a library
            except OSError:
                return False
    return True


_ELF_LAYOUTS = {  # ELF class: (header after e_ident up to e_phnum, program header, dynamic entry)
    1: ("HHIIIIIHHH", "IIIIIIII", "iI"),
    2: ("HHIQQQIHHH", "IIQQQQQQ", "qQ"),
}
_PT_LOAD, _PT_DYNAMIC = 1, 2
_DT_NULL, _DT_NEEDED, _DT_STRTAB, _DT_STRSZ = 0, 1, 5, 10


def _needed_libraries(path: Path) -> list[str] | None:
    """The libraries an ELF shared object names as its dependencies (``DT_NEEDED``), or None
    when it cannot be read as ELF (another platform's format)."""
    try:
        with open(path, "rb") as stream:
            return _elf_needed(stream)
    except (OSError, ValueError, KeyError, IndexError, struct.error, UnicodeDecodeError):
        return None


def _elf_needed(stream) -> list[str] | None:
    ident = stream.read(16)
    if ident[:4] != b"\x7fELF" or ident[4] not in _ELF_LAYOUTS or ident[5] not in (1, 2):
        return None
    order = "<" if ident[5] == 1 else ">"
    header, program, dynamic = (order + layout for layout in _ELF_LAYOUTS[ident[4]])
    fields = struct.unpack(header, stream.read(struct.calcsize(header)))
    phoff, phentsize, phnum = fields[4], fields[8], fields[9]
    segments = [_segment(ident[4], struct.unpack(program, _read_at(
        stream, phoff + k * phentsize, struct.calcsize(program)))) for k in range(phnum)]
    (table,) = [_read_at(stream, offset, size)
                for kind, offset, _, size in segments if kind == _PT_DYNAMIC]
    entries = []
    for tag, value in struct.iter_unpack(dynamic, table[:len(table) - len(table)
                                                         % struct.calcsize(dynamic)]):
        if tag == _DT_NULL:
            break
        entries.append((tag, value))
    tags = dict(entries)
    strings = _read_at(stream, _file_offset(segments, tags[_DT_STRTAB]), tags[_DT_STRSZ])
    return [strings[value:strings.index(b"\0", value)].decode()
            for tag, value in entries if tag == _DT_NEEDED]


def _read_at(stream, offset: int, size: int) -> bytes:
    stream.seek(offset)
    data = stream.read(size)
    if len(data) != size:
        raise ValueError("truncated ELF file")
    return data


def _segment(elf_class: int, fields: tuple) -> tuple[int, int, int, int]:
    """(type, file offset, address, size in the file) of a program header."""
    if elf_class == 2:
        return fields[0], fields[2], fields[3], fields[5]
    return fields[0], fields[1], fields[2], fields[4]


def _file_offset(segments, address: int) -> int:
    """Where the loadable segment holding ``address`` keeps it in the file."""
    for kind, offset, start, size in segments:
        if kind == _PT_LOAD and start <= address < start + size:
            return address - start + offset
    raise ValueError(f"address {address:#x} is in no loadable segment")


def _let_go(ffi: cffi.FFI, lib: object) -> None:
    """Stop ``ffi`` from keeping ``lib`` loaded for as long as the FFI lives.

    cffi's FFI records every library it opens, and one FFI serves every module with the same
    declarations (:func:`declared`), so without this each program loaded in a process would stay
    mapped for good. Afterwards the library lives as long as the returned module's ``lib``
    object, and cffi closes it when that is collected. The two lists are cffi's internals: if
    they ever change, libraries merely stay loaded as they did before.
    """
    with getattr(ffi, "_lock", contextlib.nullcontext()):
        for name, item in (("_libraries", lib), ("_function_caches", vars(lib))):
            held = getattr(ffi, name, None)
            if isinstance(held, list):
                held[:] = [other for other in held if other is not item]


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
        used = (*flags, f"-I{os.path.abspath(self.csrc_dir)}")
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
