"""The on-disk compile cache: keys, reuse, concurrency, self-healing, ownership, the CLI, and
the store's independence from the C backend that is its main user."""

import hashlib
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

import exprc
import exprc._version
import exprc.link.c.toolchain as toolchain_module
from exprc.cache import store
from exprc.cache.__main__ import main as cache_cli
from exprc.cache.fingerprint import tree_digest
from exprc.cache.store import (
    MANIFEST_NAME,
    CompileCache,
    CompileCacheError,
    CompileCacheWarning,
    default_cache_dir,
)
from exprc.link.c.toolchain import (
    CompileError,
    CToolchain,
    compile_flags,
    default_cache,
    find_compiler,
)

REPO = Path(__file__).resolve().parents[1]
SOURCE_NAME = CToolchain.source_name
LIBRARY_NAME = CToolchain.library_name
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
    return CompileCache(tmp_path / "compile cache", CToolchain())


@pytest.fixture
def compiles(monkeypatch):
    """Count the compiler runs made through the cache in this process."""
    calls = []
    original = toolchain_module.compile_shared

    def counted(*args, **kwargs):
        calls.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(toolchain_module, "compile_shared", counted)
    return calls


def test_load_compiles_once_then_reuses(cache, flags, compiles):
    module = cache.load(SOURCE, DECL, flags)
    assert module.add_one(41) == 42
    assert cache.load(SOURCE, DECL, flags) is module
    assert len(compiles) == 1
    fresh = CompileCache(cache.directory, CToolchain())
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
    assert manifest["library_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    # The manifest records the flags the compiler was given, headers folder included.
    assert manifest["flags"] == [*flags, f"-I{cache.toolchain.csrc_dir}"]


def test_default_location(monkeypatch, tmp_path):
    monkeypatch.delenv("EXPRC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert default_cache_dir() == tmp_path / "xdg" / "exprc"
    monkeypatch.setenv("EXPRC_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    assert default_cache().directory == tmp_path / "mine"
    assert default_cache() is default_cache()
    assert isinstance(default_cache().toolchain, CToolchain)
    # The compiler's probes are remembered beside the cache.
    assert toolchain_module._PROBES._path().parent == tmp_path / "mine"


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
                    library_sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    manifest_path.write_text(json.dumps(manifest))
    with pytest.warns(CompileCacheWarning, match="does not load"):
        module = cache.load(SOURCE, DECL, flags)
    assert module.add_one(3) == 4
    assert len(compiles) == 2


def test_changed_csrc_header_invalidates(tmp_path, flags, compiles):
    csrc = tmp_path / "csrc copy"
    shutil.copytree(REPO / "csrc", csrc)
    cache = CompileCache(tmp_path / "cache", CToolchain(csrc_dir=csrc))
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
        CompileCache(cache.directory, CToolchain()).load(SOURCE, DECL, flags)
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
        CompileCache(cache.directory, CToolchain()).load(SOURCE, DECL, flags)


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
import exprc.link.c.toolchain as toolchain_module
from exprc.cache.store import CompileCache
from exprc.link.c.toolchain import CToolchain, compile_flags

cache_dir, log, rendezvous = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
original = toolchain_module.compile_shared

def logged(*args, **kwargs):
    with open(log, "a") as stream:
        stream.write(f"{os.getpid()}\\n")
    time.sleep(0.3)  # keep the lock long enough for the other process to queue on it
    return original(*args, **kwargs)

toolchain_module.compile_shared = logged
cache = CompileCache(cache_dir, CToolchain())
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


class UpperCase:
    """A toolchain with no compiler: "builds" by upper-casing the source, "loads" by reading
    the result back. It stands for any backend the store knows nothing about."""

    source_name, library_name = "module.txt", "module.out"

    def __init__(self, identity="upper-case 1.0", trees=None):
        self.identity = identity
        self.source_trees = trees or {}
        self.builds = 0

    def default_flags(self):
        return ("--default",)

    def build(self, source_path, output_path, flags, link_args):
        self.builds += 1
        output_path.write_text(source_path.read_text().upper())
        return (*flags, "--extra")

    def load(self, path, declarations):
        return path.read_text()


def test_store_builds_through_any_toolchain(tmp_path):
    tool = UpperCase()
    cache = CompileCache(tmp_path, tool)
    assert cache.load("hello", "") == "HELLO"
    assert CompileCache(tmp_path, UpperCase()).load("hello", "") == "HELLO"  # from disk
    assert tool.builds == 1
    (entry,) = cache.entries()
    assert sorted(p.name for p in entry.path.iterdir()) == sorted(
        [".lock", "module.txt", "module.out", MANIFEST_NAME])
    manifest = json.loads((entry.path / MANIFEST_NAME).read_text())
    assert manifest["flags"] == ["--default", "--extra"]
    assert manifest["compiler"] == ["upper-case 1.0"]


def test_key_covers_identity_version_and_source_trees(tmp_path, monkeypatch):
    tree = tmp_path / "headers"
    tree.mkdir()
    (tree / "a.h").write_text("int a;")
    cache = CompileCache(tmp_path / "cache", UpperCase(trees={"headers": tree}))
    key = cache.key("x", ())
    parts = {"source": "x", "compiler": "upper-case 1.0", "flags": [], "link_args": [],
             "exprc": exprc.__version__, "host": store.host_fingerprint(),
             "headers": tree_digest(tree)}
    assert key == hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    assert CompileCache(tmp_path / "cache", UpperCase("upper-case 2.0",
                                                      {"headers": tree})).key("x", ()) != key
    (tree / "a.h").write_text("int b;")
    assert cache.key("x", ()) != key
    changed = cache.key("x", ())
    monkeypatch.setattr(store, "__version__", "999")
    assert cache.key("x", ()) != changed


def test_changed_cuda_kernels_invalidate_c_builds(tmp_path, flags):
    kernels = tmp_path / "kernels"
    kernels.mkdir()
    cache = CompileCache(tmp_path / "cache", CToolchain(kernel_dir=kernels))
    key = cache.key(SOURCE, flags)
    (kernels / "k.cu").write_text("__global__ void k() {}\n")
    assert cache.key(SOURCE, flags) != key


def test_cache_without_toolchain_lists_but_does_not_build(cache, flags):
    cache.build(SOURCE, flags)
    bare = CompileCache(cache.directory)
    assert [e.key for e in bare.entries()] == [e.key for e in cache.entries()]
    with pytest.raises(CompileCacheError, match="without a toolchain"):
        bare.build(SOURCE, flags)


def test_one_version_string():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 on
    assert exprc.__version__ == exprc._version.__version__
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"]
    assert "version" not in project["project"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "exprc._version.__version__"}
