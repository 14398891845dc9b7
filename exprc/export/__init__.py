"""Export of compiled inference functions: standalone C (:func:`to_c`) and ONNX
(:func:`to_onnx`). See ``docs/export.md``."""

from __future__ import annotations

from typing import Any

__all__ = ["to_c", "to_onnx"]


def to_c(f: Any, name: str, directory: Any, **options: Any):
    """Write ``f`` as standalone C99; see :func:`exprc.export.c.to_c`."""
    from exprc.export.c import to_c as write

    return write(f, name, directory, **options)


def to_onnx(f: Any, path: Any, **options: Any):
    """Write ``f`` as an ONNX model; see :func:`exprc.export.onnx.to_onnx`."""
    from exprc.export.onnx import to_onnx as write

    return write(f, path, **options)
