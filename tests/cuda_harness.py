"""What the CUDA tests share: the device they run on and a compile helper.

Without a GPU (CI), CUDA programs run on :class:`~exprc.link.cuda.emulator.EmulatedDevice`:
the generated kernels compiled as C++ for the CPU, with the execution model emulated. With a
GPU (tests marked ``cuda``, run by ``tools/gpu_check.sh``), they run on the real device.
"""

from __future__ import annotations

import functools
import shutil

import pytest

import exprc
from exprc.link.cuda import using_device


@functools.lru_cache(maxsize=1)
def emulated_device():
    """One emulated device per test process (its compiled modules are cached on disk)."""
    from exprc.link.cuda.emulator import EmulatedDevice

    return EmulatedDevice()


def have_compilers() -> bool:
    """Whether the emulator can build (a C++ compiler)."""
    return shutil.which("g++") is not None or shutil.which("c++") is not None


def gpu_device():
    """The real GPU, or a pytest skip saying why there is none."""
    from exprc.link.cuda.driver import cuda_device, cuda_unavailable_reason

    reason = cuda_unavailable_reason()
    if reason is not None:
        pytest.skip(f"no CUDA device: {reason}")
    return cuda_device(0)


CUDA_MODE = exprc.Mode(linker="cuda")


def cuda_function(inputs, outputs, device=None, **kwargs):
    """``exprc.function`` compiled for ``device`` (default: the emulated device)."""
    with using_device(device or emulated_device()):
        return exprc.function(inputs, outputs, mode=CUDA_MODE, **kwargs)
