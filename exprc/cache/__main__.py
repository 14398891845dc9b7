"""Inspect and clear the compile cache from the command line.

Usage::

    python -m exprc.cache list     # entries with their sizes and ages
    python -m exprc.cache size     # total size
    python -m exprc.cache clear    # remove every entry

Each command first prints the cache folder it works on; ``--dir`` chooses another folder than
the default (``EXPRC_CACHE_DIR``, else the platform's cache folder). ``list`` marks an entry that
never finished ``(unfinished)`` and a damaged one with what is wrong (``(unreadable: ...)``,
``(not a folder)``, ``(damaged manifest)``); ``clear`` removes those too. A cache folder that
cannot be used is reported in one line with what to do, and exit status 1. See
``docs/compile_cache.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from exprc.cache.store import CacheEntry, CompileCache, CompileCacheError


def _human_size(size: float) -> str:
    units = ("B", "KiB", "MiB", "GiB")
    index = 0
    while size >= 1024 and index < len(units) - 1:
        size /= 1024
        index += 1
    return f"{size:.0f} B" if index == 0 else f"{size:.1f} {units[index]}"


def _count(number: int) -> str:
    return f"{number} {'entry' if number == 1 else 'entries'}"


def _human_age(seconds: float) -> str:
    for unit, length in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= length:
            return f"{seconds / length:.0f} {unit}"
    return f"{max(seconds, 0):.0f} s"


def _entry_line(entry: CacheEntry, now: float) -> str:
    """One line of ``list``: key, size, age and what is wrong with the entry, if anything."""
    age = f"{_human_age(now - entry.created)} old" if entry.created else "age unknown"
    state = f"  ({entry.problem})" if entry.problem else ("" if entry.complete
                                                          else "  (unfinished)")
    return f"{entry.key[:16]}  {_human_size(entry.size):>10}  {age:>11}{state}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; default ``sys.argv[1:]``.
    """
    parser = argparse.ArgumentParser(prog="python -m exprc.cache",
                                     description="Inspect and clear exprc's compile cache.")
    parser.add_argument("--dir", help="cache folder (default: EXPRC_CACHE_DIR or ~/.cache/exprc)")
    parser.add_argument("command", choices=("list", "size", "clear"))
    args = parser.parse_args(argv)
    cache = CompileCache(args.dir)
    print(f"compile cache: {cache.directory}")
    try:
        entries = cache.entries()
        if args.command == "list":
            now = time.time()
            for entry in entries:
                print(_entry_line(entry, now))
            print(f"{_count(len(entries))}, {_human_size(sum(e.size for e in entries))}")
        elif args.command == "size":
            print(f"{_count(len(entries))}, {_human_size(sum(e.size for e in entries))}")
        else:
            print(f"removed {_count(cache.clear())}")
    except CompileCacheError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
