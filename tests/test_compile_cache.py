"""The on-disk compile cache: keys, reuse, concurrency, self-healing, ownership, the CLI."""

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import exprc.link.c.cache as cache_module
from exprc.cache import main as cache_cli
from exprc.link.c.cache import (
    LIBRARY_NAME,
    MANIFEST_NAME,
    SOURCE_NAME,
    CompileCache,
    CompileCacheError,
    CompileCacheWarning,
    default_cache,
    default_cache_dir,
)
from exprc.link.c.toolchain import CompileError, compile_flags, find_compiler

REPO = Path(__file__).resolve().parents[1]
SOURCE = """
#include "exprc_common.h"
EXPRC_EXPORT exprc_int add_one(exprc_int x) { return x + 1; }
"""
DECL = "int64_t add_one(int64_t x);"


@pytest.fixture(scope="module")
def flags():
    return compile_flags(find_compiler(), optimize=False, openmp=False)


@pytest.fixture
def cache(tmp_path):
    return CompileCache(tmp_path / "compile cache")


@pytest.fixture
def compiles(monkeypatch):
    """Count the compiler runs made through the cache in this process."""
    calls = []
    original = cache_module.compile_shared

    def counted(*args, **kwargs):
        calls.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(cache_module, "compile_shared", counted)
    return calls


def test_load_compiles_once_then_reuses(cache, flags, compiles):
    module = cache.load(SOURCE, DECL, flags)
    assert module.add_one(41) == 42
    assert cache.load(SOURCE, DECL, flags) is module
    assert len(compiles) == 1
    fresh = CompileCache(cache.directory)
    assert fresh.load(SOURCE, DECL, flags).add_one(1) == 2
    assert len(compiles) == 1


def test_identical_sources_share_an_entry(cache, flags, compiles):
    cache.load(SOURCE, DECL, flags)
    other = cache.load(SOURCE, DECL + " // seen by another function", flags)
    assert other.add_one(0) == 1
    assert len(compiles) == 1 and len(cache.entries()) == 1


def test_key_depends_on_source_flags_and_link_args(cache, flags):
    key = cache.key(SOURCE, flags)
    assert key == cache.key(SOURCE, flags)
    assert key != cache.key(SOURCE + "\n", flags)
    assert key != cache.key(SOURCE, (*flags, "-DX"))
    assert key != cache.key(SOURCE, flags, ("-lm",))


def test_folder_and_entries_are_private(cache, flags):
    path = cache.build(SOURCE, flags)
    assert stat.S_IMODE(cache.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    manifest = json.loads((path.parent / MANIFEST_NAME).read_text())
    assert manifest["library_size"] == path.stat().st_size
    assert len(manifest["library_sha256"]) == 64


def test_default_location(monkeypatch, tmp_path):
    monkeypatch.delenv("EXPRC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert default_cache_dir() == tmp_path / "xdg" / "exprc"
    monkeypatch.setenv("EXPRC_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    assert default_cache().directory == tmp_path / "mine"
    assert default_cache() is default_cache()


def test_compile_error_keeps_source_in_entry(cache, flags):
    with pytest.raises(CompileError) as info:
        cache.load("int broken(void) { return nope; }", "int broken(void);", flags)
    assert info.value.source_path.name == SOURCE_NAME
    assert info.value.source_path.parent.parent == cache.directory
    assert "nope" in info.value.stderr


def test_truncated_library_is_rebuilt(cache, flags, compiles):
    path = cache.build(SOURCE, flags)
    with open(path, "r+b") as stream:
        stream.truncate(path.stat().st_size // 2)
    with pytest.warns(CompileCacheWarning, match="damaged"):
        module = cache.load(SOURCE, DECL, flags)
    assert module.add_one(2) == 3
    assert len(compiles) == 2


def test_library_the_loader_rejects_is_rebuilt(cache, flags, compiles):
    path = cache.build(SOURCE, flags)
    # Garbage whose manifest matches: only the dynamic loader can tell.
    path.write_bytes(b"not an ELF file" * 100)
    manifest_path = path.parent / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    manifest.update(library_size=path.stat().st_size,
                    library_sha256=cache_module._file_sha256(path))
    manifest_path.write_text(json.dumps(manifest))
    with pytest.warns(CompileCacheWarning, match="does not load"):
        module = cache.load(SOURCE, DECL, flags)
    assert module.add_one(3) == 4
    assert len(compiles) == 2


def test_changed_csrc_header_invalidates(tmp_path, flags, compiles):
    csrc = tmp_path / "csrc copy"
    shutil.copytree(REPO / "csrc", csrc)
    cache = CompileCache(tmp_path / "cache", csrc_dir=csrc)
    key = cache.key(SOURCE, flags)
    cache.build(SOURCE, flags)
    header = csrc / "exprc_common.h"
    header.write_text(header.read_text() + "\n/* changed */\n")
    assert cache.key(SOURCE, flags) != key
    cache.build(SOURCE, flags)
    assert len(compiles) == 2 and len(cache.entries()) == 2


def test_folder_of_another_user_is_refused(cache, flags, monkeypatch):
    cache.build(SOURCE, flags)
    real_stat = os.stat

    def stat_as_stranger(path, *args, **kwargs):
        result = real_stat(path, *args, **kwargs)
        if Path(path) == cache.directory:
            fields = list(result[:10])
            fields[stat.ST_UID] = os.getuid() + 1
            return os.stat_result(fields)
        return result

    monkeypatch.setattr(os, "stat", stat_as_stranger)
    with pytest.raises(CompileCacheError, match="belongs to user"):
        CompileCache(cache.directory).load(SOURCE, DECL, flags)
    with pytest.raises(CompileCacheError):
        cache.entries()


def test_entry_of_another_user_is_refused(cache, flags, monkeypatch):
    entry = cache.build(SOURCE, flags).parent
    real_stat = os.stat

    def stat_as_stranger(path, *args, **kwargs):
        result = real_stat(path, *args, **kwargs)
        if Path(path) == entry:
            fields = list(result[:10])
            fields[stat.ST_UID] = os.getuid() + 1
            return os.stat_result(fields)
        return result

    monkeypatch.setattr(os, "stat", stat_as_stranger)
    with pytest.raises(CompileCacheError, match="belongs to user"):
        CompileCache(cache.directory).load(SOURCE, DECL, flags)


def test_cli_lists_sizes_and_clears(cache, flags, capsys):
    cache.build(SOURCE, flags)
    cache.build(SOURCE.replace("+ 1", "+ 2"), flags)
    folder = str(cache.directory)
    assert cache_cli(["--dir", folder, "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"compile cache: {folder}"
    assert sum(key[:16] in out for key in (e.key for e in cache.entries())) == 2
    assert "2 entries" in out
    assert cache_cli(["--dir", folder, "size"]) == 0
    assert "2 entries" in capsys.readouterr().out
    assert cache_cli(["--dir", folder, "clear"]) == 0
    assert "removed 2 entries" in capsys.readouterr().out
    assert cache.entries() == []


def test_cli_runs_as_module(cache, flags):
    cache.build(SOURCE, flags)
    done = subprocess.run([sys.executable, "-m", "exprc.cache", "list"], capture_output=True,
                          text=True, cwd=REPO, check=True,
                          env={**os.environ, "EXPRC_CACHE_DIR": str(cache.directory)})
    assert f"compile cache: {cache.directory}" in done.stdout
    assert "1 entry," in done.stdout


CHILD = """
import os, sys, time
from pathlib import Path
import exprc.link.c.cache as cache_module
from exprc.link.c.toolchain import compile_flags

cache_dir, log, rendezvous = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
original = cache_module.compile_shared

def logged(*args, **kwargs):
    with open(log, "a") as stream:
        stream.write(f"{os.getpid()}\\n")
    time.sleep(0.3)  # keep the lock long enough for the other process to queue on it
    return original(*args, **kwargs)

cache_module.compile_shared = logged
cache = cache_module.CompileCache(cache_dir)
flags = compile_flags(cache.compiler, optimize=False, openmp=False)
(rendezvous / str(os.getpid())).touch()
deadline = time.time() + 20
while len(list(rendezvous.iterdir())) < 2 and time.time() < deadline:
    time.sleep(0.005)
print(cache.load(SOURCE, DECL, flags).add_one(41))
"""


def test_two_processes_compile_once(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(f"SOURCE = {SOURCE!r}\nDECL = {DECL!r}\n" + textwrap.dedent(CHILD))
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    log = tmp_path / "compiles.log"
    command = [sys.executable, str(script), str(tmp_path / "cache"), str(log), str(rendezvous)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=env) for _ in range(2)]
    results = [child.communicate(timeout=60) for child in children]
    for child, (out, err) in zip(children, results):
        assert child.returncode == 0, err
        assert out.strip() == "42"
    assert len(log.read_text().splitlines()) == 1
    (entry,) = CompileCache(tmp_path / "cache").entries()
    assert entry.complete
    assert sorted(p.name for p in entry.path.iterdir()) == sorted(
        [".lock", LIBRARY_NAME, MANIFEST_NAME, SOURCE_NAME])


def test_loaded_module_works_with_numpy_arrays(cache, flags):
    source = """
    #include "exprc_common.h"
    EXPRC_EXPORT void axpy(float a, const float *x, float *y, exprc_int n) {
        for (exprc_int i = 0; i < n; i++) y[i] += a * x[i];
    }
    """
    module = cache.load(source, "void axpy(float, const float *, float *, int64_t);", flags)
    x, y = np.arange(6, dtype=np.float32), np.ones(6, np.float32)
    module.axpy(2.0, module.ffi.from_buffer("float[]", x), module.ffi.from_buffer("float[]", y),
                x.size)
    np.testing.assert_array_equal(y, 1 + 2 * np.arange(6, dtype=np.float32))
