"""The nvcc toolchain of the CUDA backend: finding nvcc, building through the compile cache,
and ptxas's resource report.

Finding nvcc and the command lines it is given are checked with small shell scripts standing
in for nvcc (they log their arguments and print a version), so those tests run everywhere; the
builds and resource checks need a real nvcc and are skipped without one.
"""

from __future__ import annotations

import os
import shlex
import struct
import time
from pathlib import Path

import pytest

from exprc.cache.store import CompileCache
from exprc.configuration import config
from exprc.errors import ExprcValueError
from exprc.link.c.toolchain import CompileError
from exprc.link.cuda import toolchain as tc
from exprc.link.cuda.toolchain import (
    CudaCompileError,
    KernelUsage,
    Nvcc,
    NvccNotFound,
    NvccToolchain,
    compile_check,
    cuda_cache,
    find_nvcc,
    nvcc_available,
)
from exprc.link.sources import source_dir

requires_nvcc = pytest.mark.skipif(not nvcc_available(), reason="nvcc not found")

ELF_MAGIC = b"\x7fELF"
EM_CUDA = 190  # e_machine of NVIDIA CUDA objects in the ELF specification's registry


def fake_nvcc(path: Path, version: str = "12.4.131", sleep: float = 0) -> Path:
    """A shell script that logs its arguments (one a line, then ``--``) to ``<path>.log``,
    answers ``--version`` with ``version`` and otherwise writes a fake ELF file to the
    ``-o`` target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    log = shlex.quote(f"{path}.log")
    release = ".".join(version.split(".")[:2])
    path.write_text(f"""#!/bin/sh
for a in "$@"; do printf '%s\\n' "$a" >> {log}; done
printf -- '--\\n' >> {log}
{f'sleep {sleep}' if sleep else ''}
for a in "$@"; do last="$a"; done
if [ "$last" = "--version" ]; then
    echo "nvcc: NVIDIA (R) Cuda compiler driver"
    echo "Cuda compilation tools, release {release}, V{version}"
    exit 0
fi
out=""
while [ $# -gt 0 ]; do
    if [ "$1" = "-o" ]; then out="$2"; fi
    shift
done
printf '\\177ELF fake cubin' > "$out"
""")
    path.chmod(0o755)
    return path


def calls(script: Path) -> list[list[str]]:
    """The argument lists the fake nvcc was run with."""
    log = Path(f"{script}.log")
    if not log.exists():
        return []
    runs, current = [], []
    for line in log.read_text().splitlines():
        if line == "--":
            runs.append(current)
            current = []
        else:
            current.append(line)
    return runs


@pytest.fixture
def no_search(monkeypatch, tmp_path):
    """No nvcc anywhere the search looks, until a test puts one there."""
    monkeypatch.delenv("CUDA_HOME", raising=False)
    monkeypatch.delenv("CUDA_PATH", raising=False)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(tc, "DEFAULT_INSTALL", str(tmp_path / "usr-local-cuda" / "bin" / "nvcc"))
    monkeypatch.setattr(tc, "_VERSIONED_INSTALLS", str(tmp_path / "cuda-*" / "bin" / "nvcc"))
    with config.change_flags(nvcc=""):
        yield tmp_path


# --------------------------------------------------------------------------- finding nvcc
def test_not_found_names_every_place_and_the_setting(no_search):
    with pytest.raises(NvccNotFound) as info:
        find_nvcc()
    message = str(info.value)
    for place in ("$CUDA_HOME", "$CUDA_PATH", "nvcc on PATH", tc.DEFAULT_INSTALL,
                  tc._VERSIONED_INSTALLS, "exprc.config.nvcc", "CUDA_HOME="):
        assert place in message, place


def test_search_order(no_search, monkeypatch):
    """Each step puts an nvcc in a place searched before the ones already there."""
    fake_nvcc(no_search / "cuda-12.9" / "bin" / "nvcc", "12.9.0")
    newest = fake_nvcc(no_search / "cuda-12.10" / "bin" / "nvcc", "12.10.0")
    found = find_nvcc()  # 12.10 is newer than 12.9, though it sorts first as text
    assert (found.path, found.version) == (newest, "12.10.0")

    default = fake_nvcc(Path(tc.DEFAULT_INSTALL), "12.4.4")
    assert find_nvcc().path == default

    on_path = fake_nvcc(no_search / "on-path" / "nvcc", "12.3.3")
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert find_nvcc().path == on_path

    cuda_path = fake_nvcc(no_search / "cuda-path" / "bin" / "nvcc", "12.2.2")
    monkeypatch.setenv("CUDA_PATH", str(cuda_path.parent.parent))
    assert find_nvcc().path == cuda_path

    home = fake_nvcc(no_search / "home" / "bin" / "nvcc", "12.1.1")
    monkeypatch.setenv("CUDA_HOME", str(home.parent.parent))
    found = find_nvcc()
    assert (found.path, found.version, found.command) == (home, "12.1.1", (str(home),))


def test_cuda_home_without_nvcc_falls_through_to_the_next_place(no_search, monkeypatch):
    monkeypatch.setenv("CUDA_HOME", str(no_search / "nothing-here"))
    with pytest.raises(NvccNotFound, match="nothing-here"):
        find_nvcc()
    on_path = fake_nvcc(no_search / "on-path" / "nvcc")
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert find_nvcc().path == on_path


def test_the_flag_wins_over_the_search(no_search, monkeypatch):
    home = fake_nvcc(no_search / "home" / "bin" / "nvcc", "12.1.1")
    monkeypatch.setenv("CUDA_HOME", str(home.parent.parent))
    chosen = fake_nvcc(no_search / "chosen" / "nvcc", "11.8.89")
    with config.change_flags(nvcc=str(chosen)):
        found = find_nvcc()
    assert (found.path, found.version) == (chosen, "11.8.89")
    # An explicit argument wins over the flag.
    assert find_nvcc(str(home)).path == home


def test_a_flag_naming_no_nvcc_is_an_error_not_a_fallback(no_search, monkeypatch):
    home = fake_nvcc(no_search / "home" / "bin" / "nvcc")
    monkeypatch.setenv("CUDA_HOME", str(home.parent.parent))
    with config.change_flags(nvcc=str(no_search / "missing-nvcc")):
        with pytest.raises(NvccNotFound, match="exprc.config.nvcc.*missing-nvcc"):
            find_nvcc()
    with pytest.raises(NvccNotFound, match="does not split"):
        find_nvcc("nvcc 'unclosed")


def test_version_is_probed_once_per_process(no_search):
    script = fake_nvcc(no_search / "once" / "nvcc", "12.6.77")
    for _ in range(3):
        assert find_nvcc(str(script)).version == "12.6.77"
    assert calls(script) == [["--version"]]


def test_an_nvcc_that_reports_no_version_is_refused(no_search):
    script = no_search / "silent" / "nvcc"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho hello\n")
    script.chmod(0o755)
    with pytest.raises(NvccNotFound, match="did not report a CUDA version.*hello"):
        find_nvcc(str(script))


def test_a_hostile_flag_is_split_into_words_and_never_run_by_a_shell(no_search, monkeypatch):
    monkeypatch.chdir(no_search)
    script = fake_nvcc(no_search / "dir with space" / "nv'cc")
    value = f"{shlex.quote(str(script))} -ccbin '$(touch PWNED1)' ; touch PWNED2 `touch PWNED3`"
    with config.change_flags(nvcc=value):
        found = find_nvcc()
    words = ("-ccbin", "$(touch PWNED1)", ";", "touch", "PWNED2", "`touch", "PWNED3`")
    assert found.command == (str(script), *words)
    assert calls(script) == [[*words, "--version"]]
    # The same words reach every build, one argument each.
    source = no_search / "a b;$(x).cu"
    source.write_text("// nothing\n")
    out = no_search / "out.cubin"
    NvccToolchain("sm_80", nvcc=found).build(source, out, ("-O3",))
    assert calls(script)[-1][:len(words)] == list(words)
    assert calls(script)[-1][-1] == str(source)
    assert not list(no_search.glob("PWNED*"))


# --------------------------------------------------------------------------- the toolchain
def fake(tmp_path: Path) -> Nvcc:
    script = fake_nvcc(tmp_path / "fake" / "nvcc")
    return find_nvcc(str(script))


@pytest.mark.parametrize("arch", ["sm_80", "sm_90a", "compute_90", "sm_100f"])
def test_architectures_accepted(arch, tmp_path):
    assert f"-arch={arch}" in NvccToolchain(arch, nvcc=fake(tmp_path)).default_flags()


@pytest.mark.parametrize("arch", ["sm80", "sm_90 -o /tmp/x", "sm_90;rm", "-arch=sm_90", "",
                                  "compute_", "SM_90", "sm_90\n"])
def test_architectures_refused(arch):
    with pytest.raises(ExprcValueError, match="architecture"):
        NvccToolchain(arch)


def test_default_flags_have_no_fast_math(tmp_path):
    flags = NvccToolchain("sm_90", nvcc=fake(tmp_path)).default_flags()
    assert flags == ("-O3", "--std=c++17", "-arch=sm_90")


def test_build_command(tmp_path):
    nvcc = fake(tmp_path)
    toolchain = NvccToolchain("sm_86", nvcc=nvcc)
    source, out = tmp_path / "module.cu", tmp_path / "module.cubin"
    source.write_text("// nothing\n")
    used = toolchain.build(source, out, ("-O3", "--std=c++17"))
    includes = (f"-I{source_dir('csrc')}", f"-I{source_dir('cuda_kernels')}")
    assert tuple(used) == ("-cubin", "-O3", "--std=c++17", "-arch=sm_86", *includes)
    assert calls(nvcc.path)[-1] == [*used, "-o", str(out), str(source)]
    assert out.read_bytes().startswith(ELF_MAGIC)
    # Flags naming the architectures themselves get no -arch added.
    gencode = ("-gencode", "arch=compute_86,code=sm_86")
    assert tuple(toolchain.build(source, out, gencode)) == ("-cubin", *gencode, *includes)
    # A virtual architecture builds PTX.
    ptx = NvccToolchain("compute_90", nvcc=nvcc)
    assert ptx.library_name == "module.ptx"
    assert ptx.build(source, out, ptx.default_flags())[0] == "-ptx"
    with pytest.raises(ExprcValueError, match="links nothing"):
        toolchain.build(source, out, (), ["-lcudart"])


def test_load_without_a_loader_checks_the_cubin_and_with_one_calls_it(tmp_path):
    nvcc = fake(tmp_path)
    cubin, junk = tmp_path / "good.cubin", tmp_path / "junk.cubin"
    cubin.write_bytes(ELF_MAGIC + b"rest")
    junk.write_bytes(b"not an ELF file")
    assert NvccToolchain("sm_80", nvcc=nvcc).load(cubin, "") == ELF_MAGIC + b"rest"
    with pytest.raises(OSError, match="not a cubin"):
        NvccToolchain("sm_80", nvcc=nvcc).load(junk, "")
    seen = []
    loaded = NvccToolchain("sm_80", loader=lambda p: seen.append(p) or "module",
                           nvcc=nvcc).load(cubin, "")
    assert (loaded, seen) == ("module", [cubin])


def test_identity_and_keys_change_with_arch_and_extra_identity(tmp_path):
    nvcc = fake(tmp_path)
    source = 'extern "C" __global__ void k(float *x) { x[0] = 1; }'

    def key(*args, **kwargs):
        toolchain = NvccToolchain(*args, nvcc=nvcc, **kwargs)
        return toolchain.identity, CompileCache(tmp_path / "c", toolchain).key(source, ())

    base = key("sm_80")
    assert key("sm_80") == base
    others = [key("sm_90"), key("sm_80", extra_identity="driver 12040"),
              key("sm_80", extra_identity="driver 12080")]
    assert len({base, *others}) == 4
    assert len({identity for identity, _ in [base, *others]}) == 4
    assert "12.4.131" in base[0] and str(nvcc.path) in base[0]


def test_cuda_cache_uses_the_default_folder(tmp_path):
    toolchain = NvccToolchain("sm_80", nvcc=fake(tmp_path))
    with config.change_flags(compiledir=str(tmp_path / "shared")):
        cache = cuda_cache(toolchain)
    assert cache.directory == tmp_path / "shared"
    assert cache.toolchain is toolchain


def test_a_build_past_the_timeout_is_stopped(tmp_path):
    slow = fake_nvcc(tmp_path / "slow" / "nvcc", sleep=30)
    toolchain = NvccToolchain("sm_80", nvcc=Nvcc((str(slow),), "12.4.131", slow))
    source = tmp_path / "module.cu"
    source.write_text("// nothing\n")
    start = time.monotonic()
    with config.change_flags(c_compile_timeout=0.5):
        with pytest.raises(CudaCompileError, match="c_compile_timeout") as info:
            toolchain.build(source, tmp_path / "module.cubin", ())
    assert time.monotonic() - start < 10
    assert info.value.source_path == source


# --------------------------------------------------------------------------- real builds
KERNEL = """#include "exprc_cuda_common.cuh"

extern "C" __global__ void exprc_test_block_sum(const float *x, float *out, exprc_int n)
{
    float value = 0.0f;
    for (exprc_int i = threadIdx.x; i < n; i += blockDim.x)
        value += x[i];
    value = exprc_block_reduce(value, exprc_add_op(), 0.0f);
    if (threadIdx.x == 0)
        out[0] = value;
}
"""


def elf_machine(data: bytes) -> int:
    """e_machine of an ELF file (little-endian, at offset 18)."""
    assert data[5] == 1, "little-endian ELF expected"
    return struct.unpack_from("<H", data, 18)[0]


@requires_nvcc
def test_build_through_the_cache_then_hit_it(tmp_path, monkeypatch):
    cache = CompileCache(tmp_path, NvccToolchain("sm_80"))
    cubin = cache.load(KERNEL, "")
    assert cubin[:4] == ELF_MAGIC
    assert elf_machine(cubin) == EM_CUDA
    assert b"exprc_test_block_sum\0" in cubin
    [entry] = cache.entries()
    assert (entry.path / "module.cu").read_text() == KERNEL
    assert (entry.path / "module.cubin").read_bytes() == cubin

    def no_nvcc(*args, **kwargs):
        raise AssertionError("nvcc ran although the cache holds the build")

    monkeypatch.setattr(tc, "_run_all", no_nvcc)
    # A new cache object remembers no module: the bytes come from the entry on disk.
    again = CompileCache(tmp_path, NvccToolchain("sm_80")).load(KERNEL, "")
    assert again == cubin
    # A different architecture is another entry, so it must build (and here cannot).
    with pytest.raises(AssertionError, match="nvcc ran"):
        CompileCache(tmp_path, NvccToolchain("sm_90")).load(KERNEL, "")


@requires_nvcc
def test_virtual_architecture_builds_ptx(tmp_path):
    ptx = CompileCache(tmp_path, NvccToolchain("compute_80")).load(KERNEL, "").decode()
    assert ".entry exprc_test_block_sum(" in ptx
    assert ".target sm_80" in ptx


@requires_nvcc
def test_syntax_error_names_the_source_and_shows_nvccs_message(tmp_path):
    broken = KERNEL + "\nextern \"C\" __global__ void broken(float *x)\n{\n    x[0] = ;\n}\n"
    line = broken.splitlines().index("    x[0] = ;") + 1
    cache = CompileCache(tmp_path, NvccToolchain("sm_80"))
    with pytest.raises(CompileError) as info:
        cache.load(broken, "")
    error = info.value
    assert isinstance(error, CudaCompileError)
    assert error.source_path.name == "module.cu"
    assert error.source_path.read_text() == broken
    assert f"{error.source_path}({line}): error" in error.stderr
    assert str(error.source_path) in str(error) and error.stderr.strip() in str(error)
    assert not [entry for entry in cache.entries() if entry.complete]


CHECKED = KERNEL + """
/* 160 values live across a loop, at most 64 registers a thread (1024 threads a block): spills. */
extern "C" __global__ void __launch_bounds__(1024) exprc_test_spill(const float *x, float *y, int n)
{
    float a[160];
#pragma unroll
    for (int i = 0; i < 160; i++)
        a[i] = x[i * n + threadIdx.x];
    for (int j = 0; j < n; j++) {
#pragma unroll
        for (int i = 0; i < 160; i++)
            a[i] = a[i] * a[(i + 1) % 160] + x[j];
    }
    float s = 0.0f;
#pragma unroll
    for (int i = 0; i < 160; i++)
        s += a[i];
    y[threadIdx.x] = s;
}

/* An array indexed at run time lives on the stack. */
extern "C" __global__ void exprc_test_local(const int *index, float *y)
{
    float a[256];
    for (int i = 0; i < 256; i++)
        a[i] = (float)i;
    y[threadIdx.x] = a[index[threadIdx.x] & 255];
}
"""


@requires_nvcc
def test_compile_check_reports_registers_spills_shared_memory_and_stack():
    report = compile_check(CHECKED, archs=("sm_80", "sm_90"))
    assert set(report) == {"sm_80", "sm_90"}
    for arch, kernels in report.items():
        usage = {k.name: k for k in kernels}
        assert set(usage) == {"exprc_test_block_sum", "exprc_test_spill", "exprc_test_local"}
        for kernel in kernels:
            assert 0 < kernel.registers <= 255, (arch, kernel)
        block_sum = usage["exprc_test_block_sum"]
        # exprc_block_reduce's only shared memory: float partial[32].
        assert block_sum.shared_bytes == 32 * 4
        assert not block_sum.spills and block_sum.stack_frame == 0
        spill = usage["exprc_test_spill"]
        assert spill.registers <= 65536 // 1024  # the register file shared by 1024 threads
        assert spill.spills and spill.spill_stores > 0 and spill.spill_loads > 0
        assert spill.shared_bytes == 0
        local = usage["exprc_test_local"]
        assert local.stack_frame >= 256 * 4
        assert local.shared_bytes == 0


@requires_nvcc
def test_compile_check_failure_keeps_the_source():
    broken = "extern \"C\" __global__ void broken(float *x)\n{\n    x[0] = ;\n}\n"
    with pytest.raises(CudaCompileError) as info:
        compile_check(broken, archs=("sm_80",))
    kept = info.value.source_path
    try:
        assert kept.read_text() == broken
        assert str(kept) in str(info.value)
        assert f"{kept}(3): error" in info.value.stderr
        assert not list(kept.parent.glob("*.fatbin"))
    finally:
        kept.unlink()
        kept.parent.rmdir()


@pytest.mark.parametrize("archs", [(), ("compute_80",), ("sm_80", "bogus")])
def test_compile_check_refuses_bad_architectures(archs):
    with pytest.raises(ExprcValueError):
        compile_check("", archs=archs, nvcc=Nvcc(("nvcc",), "0", Path("nvcc")))


def test_ptxas_report_is_parsed_per_kernel_and_architecture():
    # The layout of ptxas -v (CUDA 11-13); the callee's properties between an entry's lines
    # are not the entry's.
    report = """ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'first' for 'sm_80'
ptxas info    : Function properties for first
    16 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Function properties for helper
    48 bytes stack frame, 8 bytes spill stores, 4 bytes spill loads
ptxas info    : Used 40 registers, used 1 barriers, 16 bytes cumulative stack size, 2048 bytes smem, 376 bytes cmem[0]
ptxas info    : Compile time = 2.000 ms
ptxas info    : Compiling entry function '_Z6secondPf' for 'sm_90'
ptxas info    : Function properties for _Z6secondPf
    0 bytes stack frame, 12 bytes spill stores, 20 bytes spill loads
ptxas info    : Used 255 registers, used 0 barriers
"""  # noqa: E501
    assert tc._parse_ptxas(report) == {
        "sm_80": [KernelUsage("first", 40, 0, 0, 2048, 16)],
        "sm_90": [KernelUsage("_Z6secondPf", 255, 12, 20, 0, 0)],
    }


def test_nvcc_available_follows_the_search(no_search, monkeypatch):
    assert not nvcc_available()
    monkeypatch.setenv("CUDA_HOME", os.fspath(fake_nvcc(no_search / "h" / "bin" / "nvcc")
                                              .parent.parent))
    assert nvcc_available()
