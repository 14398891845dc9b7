"""Where the hand-written native sources are: ``csrc/`` (the C runtime library and headers)
and ``cuda_kernels/`` (the CUDA ones), shared by every backend and by the compile cache's key."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]


def source_dir(name: str) -> Path:
    """The folder ``csrc`` or ``cuda_kernels``: inside the installed package
    (``exprc/_csrc``, where a wheel puts it) or at the top of a source checkout."""
    packaged = _PACKAGE / f"_{name}"
    return packaged if packaged.is_dir() else _PACKAGE.parent / name
