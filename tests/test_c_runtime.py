"""The runtime library: which build programs link against, and that it is used correctly."""

from __future__ import annotations

import importlib.machinery
import json
import shutil

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.cache.fingerprint import host_fingerprint, tree_digest
from exprc.cache.store import CompileCache
from exprc.link.c import runtime
from exprc.link.c.toolchain import CToolchain


@pytest.fixture
def package(tmp_path):
    """A folder standing in for the installed package, holding a runtime library build."""
    folder = tmp_path / "package"
    folder.mkdir()
    built = runtime.runtime_library(CompileCache(tmp_path / "cache", CToolchain()),
                                    openmp=True).path
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    shutil.copy(built, folder / f"{runtime.PREBUILT_NAME}{suffix}")
    return folder


def _stamp(folder, **fields):
    (folder / f"{runtime.PREBUILT_NAME}.json").write_text(json.dumps(fields))


def test_prebuilt_library_used_only_while_its_stamp_matches(package, tmp_path):
    cache = CompileCache(tmp_path / "cache", CToolchain())
    current = {"csrc": tree_digest(cache.toolchain.csrc_dir), "host": host_fingerprint()}
    _stamp(package, **current)
    assert runtime._prebuilt(cache, package).parent == package
    # An edited csrc/ (an editable install) or another CPU makes it unusable.
    _stamp(package, **{**current, "csrc": "0" * 64})
    assert runtime._prebuilt(cache, package) is None
    _stamp(package, **{**current, "host": "another machine"})
    assert runtime._prebuilt(cache, package) is None
    # So does a missing or unreadable stamp.
    (package / f"{runtime.PREBUILT_NAME}.json").write_text("{not json")
    assert runtime._prebuilt(cache, package) is None
    (package / f"{runtime.PREBUILT_NAME}.json").unlink()
    assert runtime._prebuilt(cache, package) is None


def test_library_without_openmp_is_built_into_the_cache(tmp_path):
    cache = CompileCache(tmp_path, CToolchain())
    library = runtime.runtime_library(cache, openmp=False)
    assert not library.prebuilt
    assert library.path.parent.parent == tmp_path
    assert runtime.runtime_library(cache, openmp=False) is library  # loaded once


def test_programs_run_against_a_library_built_in_the_cache(tmp_path):
    x, w = T.matrix("x"), T.matrix("w")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 3)).astype(x.dtype)
    b = rng.standard_normal((3, 4)).astype(x.dtype)
    with exprc.config.change_flags(compiledir=str(tmp_path), openmp=False):
        f = exprc.function([x, w], [T.dot(x, w), (x * 2).sum(axis=0)])
    product, total = f(a, b)
    np.testing.assert_allclose(product, a @ b, rtol=1e-5)
    np.testing.assert_allclose(total, (a * 2).sum(axis=0), rtol=1e-5)
    cache = CompileCache(tmp_path, CToolchain())
    assert runtime.runtime_library(cache, openmp=False).path.is_relative_to(tmp_path)
