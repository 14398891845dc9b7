"""The CUDA toolchain: find nvcc, build cubins through the compile cache, check kernels' resources.

:class:`NvccToolchain` is what the backend-neutral compile cache (:mod:`exprc.cache.store`)
needs to know of nvcc: it builds a generated ``module.cu`` into a ``module.cubin`` for one GPU
architecture, and loads it with the device's loader. Its identity holds nvcc's command and
version, the architecture and whatever the device adds (the driver's CUDA version), so builds
for different GPUs, toolkits or drivers never share a cache entry.

nvcc is run the way the C backend runs its compiler (:func:`exprc.link.c.toolchain._run_all`):
as an argument list, never through a shell, with absolute paths, in a process group of its own
that is stopped as a whole after ``exprc.config.c_compile_timeout`` seconds or on Ctrl-C.

:func:`compile_check` compiles a source for several architectures at once and reads ptxas's
report of each kernel's registers, spills, shared memory and stack frame: tests and tools use it
to check generated kernels on machines without a GPU.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exprc.cache.store import CompileCache, default_cache_dir
from exprc.configuration import config
from exprc.errors import ExprcError, ExprcValueError
from exprc.link.c.toolchain import CompileError, _deadline, _run_all, _run_compilers
from exprc.link.sources import source_dir

__all__ = ["CudaCompileError", "KernelUsage", "Nvcc", "NvccNotFound", "NvccToolchain",
           "compile_check", "cuda_cache", "find_nvcc", "nvcc_available"]

DEFAULT_INSTALL = "/usr/local/cuda/bin/nvcc"
"""Where the CUDA toolkit's installer puts nvcc by default (a link to the newest version)."""

_VERSIONED_INSTALLS = "/usr/local/cuda-*/bin/nvcc"

_ARCH = re.compile(r"(sm|compute)_(\d+)([af]?)")
"""A real (``sm_90``, ``sm_90a``, ``sm_100f``) or virtual (``compute_90``) architecture."""

_ELF_MAGIC = b"\x7fELF"


class NvccNotFound(ExprcError):
    """No working nvcc was found; the message lists where exprc looked and how to point it at
    one."""


class CudaCompileError(CompileError):
    """nvcc rejected a source (or could not be run, or took too long).

    The attributes are those of :class:`~exprc.link.c.toolchain.CompileError`: ``command``,
    ``stderr`` (nvcc's message) and ``source_path`` (the kept source).
    """

    def __init__(self, command: Sequence[str], stderr: str, source_path: Path | None = None):
        super().__init__(command, stderr, source_path)
        kept = "" if source_path is None else f"; the source is kept at {self.source_path}"
        self.args = (f"CUDA compilation failed{kept}\ncommand: {shlex.join(self.command)}\n"
                     f"{stderr.rstrip()}",)


def _cuda_error(error: CompileError) -> CudaCompileError:
    return CudaCompileError(error.command, error.stderr, error.source_path)


# --------------------------------------------------------------------------- finding nvcc
@dataclass(frozen=True)
class Nvcc:
    """An nvcc found on this machine.

    Attributes
    ----------
    command : tuple of str
        The argument list that starts it (the setting may hold several words, e.g. a wrapper
        and nvcc), its first word resolved to a path.
    version : str
        The toolkit's version as nvcc reports it, e.g. ``"13.0.88"``.
    path : pathlib.Path
        The first word of ``command``: nvcc, or a wrapper that runs it.
    """

    command: tuple[str, ...]
    version: str
    path: Path

    @property
    def identity(self) -> str:
        """The command and version together: what makes two builds comparable."""
        return f"{shlex.join(self.command)}\nnvcc {self.version}"


def _configured() -> str:
    # getattr: the flag is read the same way whether or not this configuration defines it.
    return getattr(config, "nvcc", "") or ""


def find_nvcc(command: str | None = None) -> Nvcc:
    """Find nvcc and ask it its version (once per process for each command).

    Parameters
    ----------
    command : str, optional
        An nvcc command, split like a shell command line but never run through a shell.
        Default ``exprc.config.nvcc``; when that is empty too, the first executable of
        ``$CUDA_HOME/bin/nvcc``, ``$CUDA_PATH/bin/nvcc``, ``nvcc`` on ``PATH``,
        ``/usr/local/cuda/bin/nvcc`` and the newest ``/usr/local/cuda-*/bin/nvcc``.

    Returns
    -------
    Nvcc

    Raises
    ------
    NvccNotFound
        When the command (or every place searched) has no nvcc, or the one found does not
        answer ``--version`` with a CUDA version; the message names the places looked at.
    """
    spec = command if command else _configured()
    if spec:
        origin = "the nvcc command given" if command else "exprc.config.nvcc"
        try:
            words = tuple(shlex.split(spec))
        except ValueError as exc:
            raise NvccNotFound(f"{origin} {spec!r} does not split into words ({exc}): "
                               f"{_HOW_TO_POINT}") from None
        if not words:
            raise NvccNotFound(f"{origin} {spec!r} is empty: {_HOW_TO_POINT}")
        resolved = shutil.which(words[0])
        if resolved is None:
            raise NvccNotFound(f"{origin} {spec!r} names no executable {words[0]!r} "
                               f"(looked for it as given and on PATH): {_HOW_TO_POINT}")
        return _probe((os.path.abspath(resolved), *words[1:]))
    looked = []
    for description, candidate in _candidates():
        looked.append(description)
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return _probe((os.path.abspath(candidate),))
    raise NvccNotFound("nvcc was not found; looked at " + ", ".join(looked) + "; "
                       + _HOW_TO_POINT)


_HOW_TO_POINT = ("install the CUDA toolkit, or point exprc at nvcc with exprc.config.nvcc "
                 "(EXPRC_FLAGS=nvcc=/path/to/nvcc) or CUDA_HOME=<toolkit folder>")


def _candidates() -> Iterable[tuple[str, str | None]]:
    """(description, path or None) of each place searched, in order."""
    for variable in ("CUDA_HOME", "CUDA_PATH"):
        home = os.environ.get(variable)
        if home:
            path = os.path.join(home, "bin", "nvcc")
            yield f"{path} (${variable})", path
        else:
            yield f"${variable}/bin/nvcc (${variable} is not set)", None
    on_path = shutil.which("nvcc")
    yield (f"{on_path} (nvcc on PATH)" if on_path else "nvcc on PATH (none)"), on_path
    yield DEFAULT_INSTALL, DEFAULT_INSTALL
    versioned = sorted(glob.glob(_VERSIONED_INSTALLS), key=_install_version, reverse=True)
    if versioned:
        yield f"{versioned[0]} (newest of {_VERSIONED_INSTALLS})", versioned[0]
    else:
        yield f"{_VERSIONED_INSTALLS} (none)", None


def _install_version(path: str) -> tuple[int, ...]:
    """(12, 10) for /usr/local/cuda-12.10/bin/nvcc, so that 12.10 sorts after 12.9."""
    folder = Path(path).parent.parent.name
    return tuple(int(part) for part in re.findall(r"\d+", folder))


_VERSION = re.compile(r"\bV(\d+(?:\.\d+)+)")
_RELEASE = re.compile(r"release (\d+(?:\.\d+)+)")


@functools.cache
def _probe(command: tuple[str, ...]) -> Nvcc:
    query = [*command, "--version"]
    try:
        [(returncode, out, err)] = _run_compilers([query], _deadline())
    except CompileError as exc:  # could not be started, or hung
        raise NvccNotFound(f"{shlex.join(query)} failed: {exc.stderr}; {_HOW_TO_POINT}") from None
    match = _VERSION.search(out) or _RELEASE.search(out)
    if returncode != 0 or match is None:
        said = (err or out).strip() or f"exit status {returncode}"
        raise NvccNotFound(f"{shlex.join(query)} did not report a CUDA version ({said}); "
                           f"{_HOW_TO_POINT}")
    return Nvcc(command, match.group(1), Path(command[0]))


def nvcc_available() -> bool:
    """Whether :func:`find_nvcc` finds a working nvcc (for tests' skip markers)."""
    try:
        find_nvcc()
    except NvccNotFound:
        return False
    return True


# --------------------------------------------------------------------------- the toolchain
def _check_arch(arch: str) -> re.Match:
    match = _ARCH.fullmatch(arch) if isinstance(arch, str) else None
    if match is None:
        raise ExprcValueError(f"GPU architecture {arch!r} is not of the form sm_<number> "
                              "(e.g. sm_90, sm_90a) or compute_<number>")
    return match


def _names_arch(flags: Sequence[str]) -> bool:
    return any(flag.startswith(("-arch", "--gpu-architecture", "-gencode", "--generate-code",
                                "-code", "--gpu-code"))
               for flag in flags)


class NvccToolchain:
    """nvcc as the compile cache's toolchain (see :mod:`exprc.cache.store`).

    Parameters
    ----------
    arch : str
        The GPU architecture to build for: ``sm_<number>`` (``sm_90``, ``sm_90a``) builds a
        cubin; a virtual ``compute_<number>`` builds PTX, which the driver compiles when it
        loads it (for a GPU newer than this nvcc knows).
    extra_identity : str
        Anything else that must tell builds apart (the device passes the driver's CUDA
        version); part of :attr:`identity`.
    loader : callable, optional
        ``loader(path)`` loads a built file and returns the module handed to callers (the
        pycuda device passes one calling ``pycuda.driver.module_from_buffer``); it should
        raise :class:`OSError` for a file the driver rejects, so the cache rebuilds it.
        Without one, :meth:`load` returns the file's bytes.
    nvcc : Nvcc, optional
        Default :func:`find_nvcc`, found on first use.

    Examples
    --------
    >>> import tempfile
    >>> toolchain = NvccToolchain("sm_90")
    >>> toolchain.default_flags()
    ('-O3', '--std=c++17', '-arch=sm_90')

    Without a loader, a build through the cache gives the cubin's bytes (needs nvcc):

    >>> cache = CompileCache(tempfile.mkdtemp(), toolchain)  # doctest: +SKIP
    >>> source = 'extern "C" __global__ void one(float *x) { x[0] = 1; }'
    >>> cache.load(source, declarations="")[:4]  # doctest: +SKIP
    b'\\x7fELF'
    """

    source_name = "module.cu"

    def __init__(self, arch: str, extra_identity: str = "",
                 loader: Callable[[Path], Any] | None = None, nvcc: Nvcc | None = None):
        self.virtual = _check_arch(arch).group(1) == "compute"
        self.arch = arch
        self.extra_identity = str(extra_identity)
        self.loader = loader
        self._nvcc = nvcc
        self.csrc_dir = source_dir("csrc")
        self.kernel_dir = source_dir("cuda_kernels")

    @property
    def library_name(self) -> str:
        """``module.cubin``, or ``module.ptx`` for a virtual architecture."""
        return "module.ptx" if self.virtual else "module.cubin"

    @property
    def nvcc(self) -> Nvcc:
        """The nvcc this toolchain builds with."""
        if self._nvcc is None:
            self._nvcc = find_nvcc()
        return self._nvcc

    compiler = nvcc

    @property
    def identity(self) -> str:
        """nvcc's command and version, the architecture and :attr:`extra_identity`."""
        return f"{self.nvcc.identity}\narch {self.arch}\n{self.extra_identity}"

    @property
    def source_trees(self) -> dict[str, Path]:
        """``csrc`` and ``cuda_kernels``: kernels include headers of both."""
        return {"csrc": self.csrc_dir, "cuda_kernels": self.kernel_dir}

    def default_flags(self) -> tuple[str, ...]:
        """``-O3 --std=c++17 -arch=<arch>``. Deliberately no ``--use_fast_math``: it flushes
        denormals and uses approximate division and functions, and results must match the
        reference."""
        return ("-O3", "--std=c++17", f"-arch={self.arch}")

    def build(self, source_path: Path, output_path: Path, flags: Sequence[str],
              link_args: Sequence[str] = ()) -> tuple[str, ...]:
        """Compile ``source_path`` into ``output_path`` with ``csrc/`` and ``cuda_kernels/`` on
        the include path; return the complete flags used.

        ``-arch=<arch>`` is added when ``flags`` name no architecture, so a cubin is always
        built for this toolchain's GPU. ``link_args`` must be empty: a cubin links nothing.

        Raises
        ------
        CudaCompileError
            With nvcc's command and message and the kept source path, also when nvcc takes
            longer than ``exprc.config.c_compile_timeout``.
        """
        source_path = Path(os.path.abspath(source_path))
        output_path = Path(os.path.abspath(output_path))
        if link_args:
            raise ExprcValueError(f"a CUDA module links nothing, got link arguments "
                                  f"{list(link_args)} for {source_path}")
        used = ("-ptx" if self.virtual else "-cubin", *flags)
        if not _names_arch(flags):
            used += (f"-arch={self.arch}",)
        used += self._includes()
        command = [*self.nvcc.command, *used, "-o", str(output_path), str(source_path)]
        try:
            _run_all([command], source_path, _deadline())
        except CompileError as exc:
            raise _cuda_error(exc) from None
        return used

    def _includes(self) -> tuple[str, ...]:
        return (f"-I{os.path.abspath(self.csrc_dir)}", f"-I{os.path.abspath(self.kernel_dir)}")

    def load(self, path: Path, declarations: str = "") -> Any:
        """``loader(path)`` when a loader was given, else the built file's bytes.

        Raises
        ------
        OSError
            When the file cannot be read, or (without a loader) a cubin is not an ELF file.
        """
        if self.loader is not None:
            return self.loader(Path(path))
        data = Path(path).read_bytes()
        if not self.virtual and data[:4] != _ELF_MAGIC:
            raise OSError(f"{path} is not a cubin (no ELF header)")
        return data

    def __repr__(self) -> str:
        return f"NvccToolchain({self.arch!r})"


def cuda_cache(toolchain: NvccToolchain) -> CompileCache:
    """A compile cache building with ``toolchain`` over the default cache folder.

    The folder is the C backend's (:func:`~exprc.cache.store.default_cache_dir`): entries are
    keyed by the toolchain's identity, so C and CUDA builds never mix. Keep the returned cache
    for as long as modules are loaded through it: it remembers them, so asking again for a
    source is a lookup, not a load.
    """
    return CompileCache(default_cache_dir(), toolchain)


# --------------------------------------------------------------------------- resource check
@dataclass(frozen=True)
class KernelUsage:
    """What ptxas reports of one kernel compiled for one architecture.

    Attributes
    ----------
    name : str
        The kernel's name as compiled (unmangled for ``extern "C"`` kernels).
    registers : int
        Registers per thread.
    spill_stores, spill_loads : int
        Bytes of registers spilled to local memory and loaded back.
    shared_bytes : int
        Static shared memory per block (``__shared__`` arrays; dynamic shared memory is not
        known until launch).
    stack_frame : int
        Bytes of per-thread stack (local arrays, spills).
    """

    name: str
    registers: int
    spill_stores: int = 0
    spill_loads: int = 0
    shared_bytes: int = 0
    stack_frame: int = 0

    @property
    def spills(self) -> bool:
        """Whether any register was spilled."""
        return self.spill_stores > 0 or self.spill_loads > 0


def compile_check(source: str, archs: Sequence[str] = ("sm_80", "sm_90"),
                  nvcc: Nvcc | None = None) -> dict[str, list[KernelUsage]]:
    """Compile ``source`` for each architecture and report every kernel's resources.

    All architectures are built by one nvcc run (one ``-gencode`` each, into a fatbin in a
    temporary folder) with ``-Xptxas -v``, whose report is parsed; the compile cache is not
    used.

    Parameters
    ----------
    source : str
        CUDA source; it may include the headers of ``csrc/`` and ``cuda_kernels/``.
    archs : sequence of str
        Real architectures (``sm_80``, ``sm_90a``): ptxas reports only on those.
    nvcc : Nvcc, optional
        Default :func:`find_nvcc`.

    Returns
    -------
    dict of str to list of KernelUsage
        By architecture, the kernels in the order ptxas compiled them.

    Raises
    ------
    CudaCompileError
        When nvcc rejects the source; the source is kept in a folder the message names.
    ExprcValueError
        For an architecture that is not a real ``sm_<number>`` one.
    NvccNotFound
    """
    archs = list(dict.fromkeys(archs))
    if not archs:
        raise ExprcValueError("compile_check needs at least one architecture")
    for arch in archs:
        match = _check_arch(arch)
        if match.group(1) != "sm":
            raise ExprcValueError(f"compile_check reports on real architectures (sm_<number>) "
                                  f"only, not {arch!r}: ptxas does not run for it")
    nvcc = nvcc or find_nvcc()
    includes = NvccToolchain(archs[0], nvcc=nvcc)._includes()
    gencode = [item for arch in archs for item in
               ("-gencode", f"arch=compute_{arch[len('sm_'):]},code={arch}")]
    # The folder is removed after a success; after a failure it stays, with the source the
    # error names (nvcc's messages name it too), to be read or compiled again by hand.
    folder = Path(tempfile.mkdtemp(prefix="exprc-cuda-check-"))
    source_path = folder / "check.cu"
    output_path = folder / "check.fatbin"
    keep = False
    try:
        source_path.write_text(source)
        command = [*nvcc.command, "-fatbin", "-O3", "--std=c++17", "-Xptxas", "-v", *gencode,
                   *includes, "-o", str(output_path), str(source_path)]
        try:
            [(returncode, out, err)] = _run_compilers([command], _deadline(), source_path)
        except CompileError as exc:  # nvcc could not be started, or took too long
            keep = True
            raise _cuda_error(exc) from None
        if returncode != 0:
            keep = True
            raise CudaCompileError(command, err or out, source_path)
    finally:
        output_path.unlink(missing_ok=True)
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    report = _parse_ptxas(f"{out}\n{err}")
    return {arch: report.get(arch, []) for arch in archs} | report


_ENTRY = re.compile(r"Compiling entry function '([^']+)' for '([^']+)'")
_PROPERTIES = re.compile(r"Function properties for (\S+)")
_FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_USED = re.compile(r"Used (\d+) registers")
_SMEM = re.compile(r"(\d+) bytes smem")


def _parse_ptxas(report: str) -> dict[str, list[KernelUsage]]:
    """Kernels by architecture from ptxas's ``-v`` report.

    Each entry function's report reads::

        ptxas info    : Compiling entry function 'add' for 'sm_90'
        ptxas info    : Function properties for add
            0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
        ptxas info    : Used 10 registers, used 0 barriers, 1024 bytes smem

    The properties of functions it calls (not inlined) may come in between; they are not the
    kernel's and are skipped.
    """
    kernels: dict[str, list[KernelUsage]] = {}
    entry = arch = None
    frame = (0, 0, 0)
    properties_of = None
    for line in report.splitlines():
        if match := _ENTRY.search(line):
            entry, arch = match.groups()
            frame, properties_of = (0, 0, 0), None
        elif match := _PROPERTIES.search(line):
            properties_of = match.group(1)
        elif (match := _FRAME.search(line)) and entry is not None:
            if properties_of == entry:
                frame = tuple(int(group) for group in match.groups())
            properties_of = None
        elif (match := _USED.search(line)) and entry is not None:
            smem = _SMEM.search(line)
            kernels.setdefault(arch, []).append(KernelUsage(
                name=entry, registers=int(match.group(1)), spill_stores=frame[1],
                spill_loads=frame[2], shared_bytes=int(smem.group(1)) if smem else 0,
                stack_frame=frame[0]))
            entry = arch = None
    return kernels
