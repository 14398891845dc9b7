#!/usr/bin/env bash
# Run Lasagne 0.1's own test suite (732 tests, from its PyPI sdist, unchanged) on exprc through
# exprc.compat.install_theano(), and optionally on real Theano 1.0.5 as the reference.
#
#   tools/lasagne_suite.sh [exprc|theano|both] [extra pytest arguments]
#
# WORK (default: lasagne-suite beside the repository) receives the sdist, a shim folder and
# one virtual environment per side:
#   WORK/exprc-venv   pytest 7, mock and exprc (editable, from this checkout)
#   THEANO_VENV       (default: theanovenv beside the repository, made by tools/setup_peers.sh)
#                     gets pytest 7 and mock added
# Lasagne's tests run from the unpacked sdist (the installed package has no tests). Its
# setup.cfg has a [pytest] section (pep8 and coverage options) that pytest 7+ rejects, so an
# empty ini file is passed with -c and the sdist folder with --rootdir. Its conftest.py uses the
# `path` hook argument that pytest 8 removed: hence pytest 7.
#
# The exprc side gets a sitecustomize.py that calls install_theano() before anything imports
# theano. The Theano side gets one that adds theano.tensor.signal.downsample (removed in
# Theano 1.0; Lasagne 0.1 imports max_pool_2d from it) as an alias of pool.pool_2d.
# The counts and wall times are printed at the end; docs/compat.md records them.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${WORK:-$(dirname "$REPO")/lasagne-suite}
THEANO_VENV=${THEANO_VENV:-$(dirname "$REPO")/theanovenv}
PYTHON=${PYTHON:-python3.11}
WHICH=${1:-exprc}
shift || true

mkdir -p "$WORK"
cd "$WORK"
if [ ! -d Lasagne-0.1 ]; then
    "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: "Lasagne==0.1" -d .
    tar xzf Lasagne-0.1.tar.gz
fi
: > empty.ini

# ------------------------------------------------------------------------------ shims
mkdir -p shim-exprc shim-theano
cat > shim-exprc/sitecustomize.py <<'PY'
from exprc.compat import install_theano

install_theano()
PY
cat > shim-theano/sitecustomize.py <<'PY'
# theano.tensor.signal.downsample was removed in Theano 1.0; Lasagne 0.1 imports
# max_pool_2d(input, ds, ignore_border, st, padding, mode) from it. Provide it, lazily, as an
# alias of pool.pool_2d (ds -> ws, st -> stride, padding -> pad).
import importlib.abc
import importlib.util
import sys

NAME = "theano.tensor.signal.downsample"


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        return None

    def exec_module(self, module):
        from theano.tensor.signal import pool

        def max_pool_2d(input, ds, ignore_border=None, st=None, padding=(0, 0), mode="max"):
            return pool.pool_2d(input, ws=ds, ignore_border=ignore_border, stride=st,
                                pad=padding, mode=mode)

        module.max_pool_2d = max_pool_2d
        module.DownsampleFactorMax = pool.Pool


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname == NAME:
            return importlib.util.spec_from_loader(fullname, _Loader())
        return None


sys.meta_path.append(_Finder())
PY

run_suite() {  # name python shim
    local name=$1 python=$2 shim=$3 started ended
    shift 3
    echo "== Lasagne 0.1 tests on $name ($("$python" --version))"
    started=$(date +%s)
    (cd Lasagne-0.1 && PYTHONPATH="$WORK/$shim" THEANO_FLAGS="${THEANO_FLAGS:-blas.ldflags=-lopenblas}" \
        "$python" -m pytest -c "$WORK/empty.ini" --rootdir . -p no:cacheprovider -q \
        lasagne/tests "$@" 2>&1 | tee "$WORK/$name.log" | tail -n 15) || true
    ended=$(date +%s)
    echo "== $name: $(tail -n 1 "$WORK/$name.log") ($((ended - started)) s wall)"
}

if [ "$WHICH" = exprc ] || [ "$WHICH" = both ]; then
    if [ ! -x exprc-venv/bin/python ]; then
        "$PYTHON" -m venv exprc-venv
        exprc-venv/bin/python -m pip install --quiet "pytest>=7,<8" mock
        exprc-venv/bin/python -m pip install --quiet -e "$REPO"
    fi
    run_suite exprc "$WORK/exprc-venv/bin/python" shim-exprc "$@"
fi

if [ "$WHICH" = theano ] || [ "$WHICH" = both ]; then
    if [ ! -x "$THEANO_VENV/bin/python" ]; then
        echo "no Theano environment at $THEANO_VENV: run tools/setup_peers.sh first" >&2
        exit 1
    fi
    "$THEANO_VENV/bin/python" -m pip install --quiet "pytest>=7,<8" mock
    run_suite theano "$THEANO_VENV/bin/python" shim-theano "$@"
fi
