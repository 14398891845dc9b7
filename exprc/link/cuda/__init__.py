"""The CUDA backend: a compiled function's graph runs on an NVIDIA GPU.

``device.py`` is the device interface (memory, copies, kernels, cuBLAS) and the GPU array
type; ``driver.py`` the real device (pycuda, cuBLAS through cffi in ``cublas.py``, CUDA
graph capture in ``graphs.py``), ``emulator.py`` a CPU
emulation of the same interface that runs the generated kernels in tests; ``toolchain.py``
builds CUDA sources with nvcc through the compile cache; ``program.py`` turns a rewritten
graph into kernels and a plan of steps (the ``CUDA_CODE`` table, filled by ``ops/``). See
``docs/cuda.md``.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator

from exprc.configuration import config
from exprc.link.cuda.device import CudaError, Device, DeviceArray

__all__ = ["CudaError", "Device", "DeviceArray", "default_device", "device_ordinal",
           "using_device"]

_override = threading.local()


def device_ordinal(flag: str | None = None) -> int:
    """The GPU number a ``device`` flag value names: ``cuda`` and ``gpu`` are 0, ``cuda2`` 2."""
    match = re.fullmatch(r"(?:cuda|gpu)([0-9]*)", flag if flag is not None else config.device)
    if match is None:
        raise ValueError(f"device {flag!r} is not a CUDA device")
    return int(match.group(1) or 0)


def default_device() -> Device:
    """The device CUDA programs compiled now run on: the one :func:`using_device` set in this
    thread, else the GPU the ``device`` flag names (raising
    :class:`~exprc.link.cuda.driver.CudaUnavailable`, which says why, when there is none)."""
    device = getattr(_override, "device", None)
    if device is not None:
        return device
    from exprc.link.cuda.driver import cuda_device  # pycuda is imported only when asked for

    flag = config.device
    return cuda_device(device_ordinal(flag) if flag != "cpu" else 0)


@contextlib.contextmanager
def using_device(device: Device) -> Iterator[Device]:
    """Compile CUDA programs for ``device`` in this thread while the block runs (the tests run
    the backend on :class:`~exprc.link.cuda.emulator.EmulatedDevice` this way)."""
    previous = getattr(_override, "device", None)
    _override.device = device
    try:
        yield device
    finally:
        _override.device = previous
