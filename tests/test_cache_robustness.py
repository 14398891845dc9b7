"""The C toolchain and the compile cache under stress: hostile paths and flags, a compiler that
never returns, an interrupted build, the cache cleared under a running process, many functions
compiled and dropped, and cache folders that cannot be used. Each test is a regression test for
a failure once seen (see docs/reliability.md)."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.cache.__main__ import main as cache_cli
from exprc.cache.store import MANIFEST_NAME, CompileCache, CompileCacheError
from exprc.configuration import Config
from exprc.link.c import runtime
from exprc.link.c.toolchain import (
    PARTS_MARKER,
    CompileError,
    CToolchain,
    compile_flags,
    default_cache,
    find_compiler,
)

REPO = Path(__file__).resolve().parents[1]
SOURCE = """
#include "exprc_common.h"
EXPRC_EXPORT exprc_int add_one(exprc_int x) { return x + 1; }
"""
DECL = "int64_t add_one(int64_t x);"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(scope="module")
def flags():
    return compile_flags(find_compiler(), optimize=False, openmp=False)


@pytest.fixture
def cache(tmp_path):
    return CompileCache(tmp_path / "cache", CToolchain())


# ---------------------------------------------------------------- paths and flags (item 1)


def test_relative_cache_folder_starting_with_a_dash(tmp_path, monkeypatch, flags):
    """``cc`` read the relative path ``-cache/<key>/module.c`` as an option."""
    monkeypatch.chdir(tmp_path)
    cache = CompileCache("-cache", CToolchain())
    assert cache.load(SOURCE, DECL, flags).add_one(41) == 42
    assert cache.directory == tmp_path / "-cache"


def test_compiler_flags_never_reach_a_shell(tmp_path):
    marker = tmp_path / "ran"
    x = T.vector("x")
    hostile = f"-DX=1 ; touch {marker} ; $(touch {marker}) `touch {marker}`"
    with exprc.config.change_flags(c_flags=hostile):
        with pytest.raises(CompileError):
            exprc.function([x], x * 3)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["c_flags", "c_compiler"])
def test_flags_that_do_not_split_into_words_are_refused_when_set(name):
    previous = getattr(exprc.config, name)
    try:
        with pytest.raises(ValueError, match=name):
            setattr(exprc.config, name, "-DNAME='unclosed")
    finally:
        setattr(exprc.config, name, previous)


def test_compile_timeout_flag():
    assert exprc.config.c_compile_timeout > 0
    assert Config("c_compile_timeout=2.5").c_compile_timeout == 2.5
    assert Config("c_compile_timeout=0").c_compile_timeout == 0
    for bad in ("-1", "nan", "inf"):
        with pytest.raises(ValueError, match="c_compile_timeout"):
            Config(f"c_compile_timeout={bad}")
    with pytest.raises(ValueError, match="c_compile_timeout"):
        exprc.config.c_compile_timeout = True


# ---------------------------------------------------------------- a compiler that hangs (5, 7)

HANGING_CC = """#!/bin/sh
# Answers --version like the real compiler; builds like it unless {hang} exists, in which case
# it records its own pid and its child's, and never finishes.
for arg in "$@"; do
    if [ "$arg" = --version ]; then exec {cc} --version; fi
done
if [ ! -e {hang} ]; then exec {cc} "$@"; fi
echo $$ >> {pids}
sleep 1000 &
echo $! >> {pids}
wait
"""

PARTS = 3
PARTS_SOURCE = f"""{PARTS_MARKER}
/* parts: {PARTS} */
#include "exprc_common.h"
#if EXPRC_PART == 1
EXPRC_EXPORT exprc_int add_one(exprc_int x) {{ return x + 1; }}
#else
static int unused_part;
#endif
"""

BUILD_CHILD = """
import sys
import exprc
from exprc.cache.store import CompileCache
from exprc.link.c.toolchain import CompileError, CToolchain, compile_flags, find_compiler

folder, compiler, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
if timeout:
    exprc.config.c_compile_timeout = timeout
flags = compile_flags(find_compiler(), optimize=False, openmp=False)
cache = CompileCache(folder, CToolchain(find_compiler(compiler)))
try:
    module = cache.load(SOURCE, "int64_t add_one(int64_t x);", flags)
except CompileError as exc:
    print("CompileError:", exc)
else:
    print("built:", module.add_one(41))
"""


class HangingCompiler:
    """A compiler wrapper that hangs while ``hang`` exists, and the processes it started."""

    def __init__(self, folder: Path):
        self.hang = folder / "hang"
        self.pid_file = folder / "pids"
        self.path = folder / "hanging-cc"
        cc = find_compiler().command[0]
        self.path.write_text(HANGING_CC.format(cc=cc, hang=self.hang, pids=self.pid_file))
        self.path.chmod(0o755)
        self.hang.touch()

    def pids(self) -> list[int]:
        if not self.pid_file.exists():
            return []
        return [int(line) for line in self.pid_file.read_text().split()]

    def survivors(self) -> list[int]:
        """The recorded processes still alive (a zombie waiting to be reaped is not)."""
        alive = []
        for pid in self.pids():
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state not in ("Z", "X"):
                alive.append(pid)
        return alive

    def kill_survivors(self) -> None:
        for pid in self.survivors():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def hanging(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc to find the compiler processes")
    compiler = HangingCompiler(tmp_path)
    yield compiler
    compiler.kill_survivors()  # only ever needed when the code under test failed


def _build_child(tmp_path, compiler: HangingCompiler, timeout: float) -> subprocess.Popen:
    script = tmp_path / "build.py"
    script.write_text(f"SOURCE = {PARTS_SOURCE!r}\n{BUILD_CHILD}")
    return subprocess.Popen(
        [sys.executable, "-W", "always::ResourceWarning", str(script), str(tmp_path / "cache"),
         str(compiler.path), str(timeout)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)})


def _leftovers(folder: Path) -> list[str]:
    """Files a build leaves only when it is abandoned half-way."""
    return [p.name for p in folder.rglob("*") if p.suffix in (".o", ".tmp")]


def _wait_for(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_compiler_that_never_returns_times_out(tmp_path, hanging):
    child = _build_child(tmp_path, hanging, timeout=2)
    try:
        out, err = child.communicate(timeout=120)  # only a hang reaches this limit
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert out.startswith("CompileError:") and "c_compile_timeout" in out, out
    assert "did not finish within 2 s" in out
    assert len(hanging.pids()) == 2 * PARTS  # every part was started side by side ...
    assert _wait_for(lambda: not hanging.survivors(), 10), hanging.survivors()  # ... and killed
    assert _leftovers(tmp_path / "cache") == []
    assert "ResourceWarning" not in err


def test_an_interrupted_build_stops_its_compilers_and_leaves_no_temporaries(tmp_path, hanging):
    child = _build_child(tmp_path, hanging, timeout=0)
    try:
        assert _wait_for(lambda: len(hanging.pids()) == 2 * PARTS, 60), "compilers not started"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert "KeyboardInterrupt" in err
    assert _wait_for(lambda: not hanging.survivors(), 10), hanging.survivors()
    assert _leftovers(tmp_path / "cache") == []
    assert "ResourceWarning" not in err, err
    (entry,) = CompileCache(tmp_path / "cache").entries()
    assert not entry.complete and not (entry.path / MANIFEST_NAME).exists()
    # The next attempt rebuilds the unfinished entry.
    hanging.hang.unlink()
    child = _build_child(tmp_path, hanging, timeout=0)
    out, err = child.communicate(timeout=120)
    assert out.strip() == "built: 42", err
    (entry,) = CompileCache(tmp_path / "cache").entries()
    assert entry.complete


# ---------------------------------------------------------------- clearing while running (6)


@pytest.mark.parametrize(("openmp", "clear"), [(False, "by hand"), (True, "command line")])
def test_a_running_process_survives_its_cache_being_cleared(tmp_path, monkeypatch, openmp,
                                                            clear):
    """With the runtime library in the cache, every new function() failed with
    ``ld: cannot find ...`` once the cache was cleared."""
    monkeypatch.setattr(runtime, "_prebuilt", lambda cache, package=None: None)
    # The runtime library is built twice here: quickly, as the suite builds programs.
    monkeypatch.setattr(runtime, "compile_flags",
                        lambda compiler, optimize, openmp: compile_flags(
                            compiler, optimize=False, openmp=openmp))
    folder = tmp_path / "cache"
    x = T.vector("x")
    v = np.arange(5, dtype=exprc.config.floatX)
    with exprc.config.change_flags(compiledir=str(folder), openmp=openmp):
        before = exprc.function([x], x * 2)
        library = runtime.runtime_library(default_cache(), openmp)
        assert library.path.is_relative_to(folder)
        if clear == "by hand":
            shutil.rmtree(folder)
        else:
            assert cache_cli(["--dir", str(folder), "clear"]) == 0
        assert not library.path.exists()
        after = exprc.function([x], T.exp(x).sum())
        assert runtime.runtime_library(default_cache(), openmp).on_disk()
    np.testing.assert_allclose(after(v), np.exp(v).sum(), rtol=1e-12)
    np.testing.assert_array_equal(before(v), v * 2)


# ---------------------------------------------------------------- memory (9)


def _mapped_files() -> set[str]:
    """The files mapped into this process."""
    with open("/proc/self/maps") as maps:
        return {fields[5].strip() for fields in (line.split(maxsplit=5) for line in maps)
                if len(fields) == 6}


@pytest.fixture
def maps():
    if not os.path.exists("/proc/self/maps"):
        pytest.skip("reads /proc/self/maps")


def _library_of_function(k: int) -> str:
    """Compile a function of its own, check it, and return its library's path."""
    x = T.vector("x")
    f = exprc.function([x], x * (k + 0.5) - 1.25)
    v = np.arange(3, dtype=exprc.config.floatX)
    np.testing.assert_allclose(f(v), v * (k + 0.5) - 1.25)
    return os.path.realpath(f.program.module.path)


def test_dropped_functions_do_not_stay_mapped(maps):
    """200 functions compiled and dropped kept 200 libraries mapped."""
    libraries = {_library_of_function(k) for k in range(3 * CompileCache.recent_modules)}
    gc.collect()
    assert len(libraries & _mapped_files()) <= CompileCache.recent_modules


@pytest.mark.parametrize("call_path", ["native", "cffi"])
def test_outputs_of_a_dropped_function_stay_valid(maps, call_path):
    v = np.linspace(-1, 1, 1000).astype(exprc.config.floatX)
    x = T.vector("x")
    f = exprc.function([x], [T.tanh(x) * 7, x + 1])
    if call_path == "cffi":
        f._native = f.program.native = None
    library = os.path.realpath(f.program.module.path)
    first, second = f(v)
    del f
    for k in range(CompileCache.recent_modules + 2):  # pushes f out of the recent few
        _library_of_function(k)
    gc.collect()
    assert library in _mapped_files()  # its outputs still use it
    np.testing.assert_allclose(first, np.tanh(v) * 7, rtol=1e-6)
    np.testing.assert_array_equal(second, v + 1)
    first[:] = 3.0  # the memory is still the array's
    np.testing.assert_array_equal(first, 3.0)
    del first, second  # their buffers go back through the (still loaded) runtime library
    gc.collect()
    assert library not in _mapped_files()


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def _library_of(ffi, function) -> str:
    info = _DlInfo()
    dladdr = ctypes.CDLL(None).dladdr
    dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
    assert dladdr(int(ffi.cast("uintptr_t", function)), ctypes.byref(info))
    return os.path.realpath(info.dli_fname.decode())


def test_what_outlives_a_program_runs_in_the_runtime_library(maps):
    """A program's library may be unloaded while its state is being cleared and its outputs
    given back: those functions must not be the program's own."""
    x = T.vector("x")
    program = exprc.function([x], x * 2).program
    ffi, lib = program.module.ffi, program.module._lib
    own = os.path.realpath(program.module.path)
    assert _library_of(ffi, lib.exprc_run) == own
    for name in ("exprc_state_clear", "exprc_give_back", "exprc_free"):
        assert _library_of(ffi, getattr(lib, name)) != own, name


class _Text:
    """A toolchain whose modules are strings (which cannot be referenced weakly)."""

    identity, source_trees = "text 1.0", {}
    source_name, library_name = "module.txt", "module.out"

    def default_flags(self):
        return ()

    def build(self, source_path, output_path, flags, link_args):
        output_path.write_text(source_path.read_text())
        return flags

    def load(self, path, declarations):
        return path.read_text()


def test_the_memo_keeps_live_and_recent_modules_only(tmp_path, flags):
    text = CompileCache(tmp_path / "text", _Text())
    for k in range(3 * CompileCache.recent_modules):
        assert text.load(f"source {k}", "") == f"source {k}"
    assert len(text._loaded) == CompileCache.recent_modules
    cache = CompileCache(tmp_path / "c", CToolchain())
    live = cache.load(SOURCE, DECL, flags)
    for k in range(CompileCache.recent_modules + 1):
        cache.load(SOURCE.replace("+ 1", f"+ {k + 2}"), DECL, flags)
    assert cache.load(SOURCE, DECL, flags) is live  # still in use: still remembered
    assert len(cache._loaded) <= CompileCache.recent_modules + 1


# ---------------------------------------------------------------- unusable folders (14)


@contextlib.contextmanager
def read_only(path: Path):
    """Make ``path`` read-only for this user, root included (root ignores permission bits, not
    the immutable attribute)."""
    if IS_ROOT:
        if shutil.which("chattr") is None or subprocess.run(
                ["chattr", "+i", str(path)], capture_output=True).returncode != 0:
            pytest.skip("running as root, where only an immutable folder (chattr +i, not "
                        "available here) is read-only")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = stat.S_IMODE(path.stat().st_mode)
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(mode)


def test_read_only_cache_folder(cache, flags):
    cache.directory.mkdir()
    with read_only(cache.directory):
        with pytest.raises(CompileCacheError, match="writable|read-only") as info:
            cache.load(SOURCE, DECL, flags)
    assert str(cache.directory) in str(info.value)
    assert cache.load(SOURCE, DECL, flags).add_one(1) == 2  # fine once writable again


def test_cache_path_that_is_a_file(cache, flags, capsys):
    cache.directory.write_text("not a folder")
    with pytest.raises(CompileCacheError, match="a file stands where the cache needs a folder"):
        cache.load(SOURCE, DECL, flags)
    with pytest.raises(CompileCacheError, match="remove it"):
        cache.entries()
    assert cache_cli(["--dir", str(cache.directory), "list"]) == 1
    assert "error: the compile cache cannot use" in capsys.readouterr().err


def test_lock_that_is_a_folder(cache, flags):
    entry = cache.directory / cache.key(SOURCE, flags)
    (entry / ".lock").mkdir(parents=True)
    with pytest.raises(CompileCacheError, match="a folder stands where the cache needs a file"):
        cache.load(SOURCE, DECL, flags)
    assert cache.clear() == 1
    assert cache.load(SOURCE, DECL, flags).add_one(1) == 2


def test_entry_that_is_a_file(cache, flags, capsys):
    cache.directory.mkdir()
    entry = cache.directory / cache.key(SOURCE, flags)
    entry.write_text("not an entry")
    with pytest.raises(CompileCacheError, match="exprc.cache clear"):
        cache.load(SOURCE, DECL, flags)
    assert cache_cli(["--dir", str(cache.directory), "list"]) == 0
    assert "(not a folder)" in capsys.readouterr().out
    assert cache.clear() == 1
    assert cache.load(SOURCE, DECL, flags).add_one(1) == 2


def test_compiler_that_writes_no_library(tmp_path, flags):
    cache = CompileCache(tmp_path, CToolchain(find_compiler("/bin/true")))
    with pytest.raises(CompileCacheError, match="wrote no library.*c_compiler"):
        cache.load(SOURCE, DECL, flags)
    (entry,) = cache.entries()
    assert not entry.complete
    x = T.vector("x")
    with exprc.config.change_flags(compiledir=str(tmp_path / "f"), c_compiler="/bin/true"):
        with pytest.raises(CompileCacheError, match="wrote no library"):
            exprc.function([x], x + 1)


def _two_entries(cache, flags):
    cache.build(SOURCE, flags)
    cache.build(SOURCE.replace("+ 1", "+ 2"), flags)
    return [entry.path for entry in cache.entries()]


def test_unreadable_entry_is_marked_by_list_and_removed_by_clear(cache, flags, capsys,
                                                                 monkeypatch):
    bad, good = _two_entries(cache, flags)
    listing = Path.iterdir

    def refuse(path):
        if path == bad:
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr(Path, "iterdir", refuse)
    assert cache_cli(["--dir", str(cache.directory), "list"]) == 0
    out = capsys.readouterr().out
    assert "(unreadable: Permission denied)" in out and "2 entries" in out
    assert cache.clear() == 2


@pytest.mark.skipif(IS_ROOT, reason="root reads folders whatever their permission bits")
def test_unreadable_entry_by_its_permissions(cache, flags, capsys):
    bad, good = _two_entries(cache, flags)
    bad.chmod(0)
    try:
        assert cache_cli(["--dir", str(cache.directory), "list"]) == 0
        assert "(unreadable: Permission denied)" in capsys.readouterr().out
        with pytest.raises(CompileCacheError, match=f"not 1: {re.escape(str(bad))}"):
            cache.clear()
        assert not good.exists()
    finally:
        bad.chmod(0o700)


def test_entry_that_cannot_be_removed(cache, flags):
    bad, good = _two_entries(cache, flags)
    with read_only(bad):
        with pytest.raises(CompileCacheError,
                           match=f"removed 1 .* not 1: {re.escape(str(bad))}"):
            cache.clear()
    assert not good.exists()
    assert cache.clear() == 1


def test_manifest_whose_creation_time_is_not_a_number(cache, flags, capsys):
    (path, _) = _two_entries(cache, flags)
    manifest = json.loads((path / MANIFEST_NAME).read_text())
    (path / MANIFEST_NAME).write_text(json.dumps({**manifest, "created": "yesterday"}))
    assert cache_cli(["--dir", str(cache.directory), "list"]) == 0
    out = capsys.readouterr().out
    assert "(damaged manifest)" in out and "2 entries" in out
    created = {entry.path: entry.created for entry in cache.entries()}
    assert created[path] == pytest.approx(path.stat().st_mtime)
