"""Fingerprints of source folders and of the host, for cache keys and prebuilt objects, and
which files of ``csrc/`` make up the runtime library.

Standard library only: ``setup.py`` loads this file by path (without importing exprc) to build
the runtime library at install time from the same sources, and to stamp it with the same
fingerprints that :mod:`exprc.link.c.runtime` checks before using it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import re
from pathlib import Path

__all__ = ["CALLPATH_SOURCE", "host_fingerprint", "runtime_sources", "tree_digest"]

CALLPATH_SOURCE = "exprc_callpath.c"
"""The one C file of ``csrc/`` that is not part of the runtime library: the CPython extension
through which Python calls programs (:mod:`exprc.link.c.callpath`)."""


def runtime_sources(csrc_dir: Path) -> list[str]:
    """The file names of the runtime library's sources: every ``.c`` file of ``csrc_dir`` but
    the call path, in a fixed order."""
    return sorted(p.name for p in Path(csrc_dir).glob("*.c") if p.name != CALLPATH_SOURCE)


def tree_digest(folder: Path | None) -> str:
    """SHA-256 over the relative paths and contents of the files under ``folder``.

    Hidden files and ``__pycache__`` are skipped; a missing folder has a digest of its own.
    """
    if folder is None or not Path(folder).is_dir():
        return "absent"
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(f for f in files if not f.startswith(".")):
            path = Path(root, name)
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def host_fingerprint() -> str:
    """The machine, OS and, on Linux, the CPU model and instruction-set features."""
    parts = [platform.system(), platform.machine()]
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        cpuinfo = ""
    for field in ("model name", "flags", "Features", "CPU part"):
        match = re.search(rf"^{field}\s*:(.*)$", cpuinfo, re.MULTILINE)
        if match:
            parts.append(match.group(1).strip())
    return "\n".join(parts)
