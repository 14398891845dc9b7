"""Run a Theano program on exprc: ``python -m exprc.compat program.py [arguments]``.

The program runs as ``__main__`` (as ``python program.py`` would run it) after
:func:`exprc.compat.install_theano`, so its ``import theano`` finds exprc's compatibility
package. ``python -m exprc.compat -m package.module [arguments]`` runs a module instead.
"""

from __future__ import annotations

import runpy
import sys

from exprc.compat import install_theano

USAGE = "usage: python -m exprc.compat (program.py | -m module) [arguments ...]"


def main(argv: list[str]) -> None:
    if not argv or argv[0] in ("-h", "--help") or (argv[0] == "-m" and len(argv) < 2):
        print(USAGE, file=sys.stderr if not argv or argv[0] == "-m" else sys.stdout)
        raise SystemExit(0 if argv and argv[0] in ("-h", "--help") else 2)
    install_theano()
    if argv[0] == "-m":
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = argv
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
